-- Indexes no query reads any more, each one more B-tree for every product or
-- variant a feed import writes (checked with EXPLAIN QUERY PLAN over every
-- statement the catalog, commerce, analytics and platform API tests run).
-- products (merchant_id, external_id) already serves lookups by merchant;
-- listings sort and filter on product_market and listing_attrs, not on
-- products' created_at / popularity or variants' size / colour.
DROP INDEX IF EXISTS products_merchant;
DROP INDEX IF EXISTS products_created;
DROP INDEX IF EXISTS products_popularity;
DROP INDEX IF EXISTS product_variants_size;
DROP INDEX IF EXISTS product_variants_color;
