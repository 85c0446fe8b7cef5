-- Listings walk a market's columns in memory, kept in each sort's order
-- (catalog/orders.c, search.c listing_run), whenever the search cache can
-- tell they are current. The database's way remains for the rest (no
-- cache, a column read in flight after a write): SQLite keeps the
-- popularity index for it, the default sort. The price, newest and brand
-- indexes were three more B-trees for every listing row a feed import or a
-- reindex writes, each at a random place (with them 16k products/s, without
-- them 23k, bench/README.md). PostgreSQL keeps all four.
DROP INDEX IF EXISTS product_market_price;
DROP INDEX IF EXISTS product_market_new;
DROP INDEX IF EXISTS product_market_brand;
