-- Catalog additions: the merchant's own product code (feeds group variants
-- by it), a denormalised per-market listing row per product (price range and
-- sort keys, so listings walk one index), search log, recommendations.
ALTER TABLE products ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX products_external ON products (merchant_id, external_id);

-- one row per (product, market) where the product is sold (has a price);
-- rebuilt by catalog code whenever the product, its variants or prices change
CREATE TABLE product_market (
	product_id BIGINT NOT NULL REFERENCES products(id) ON DELETE CASCADE,
	market_id BIGINT NOT NULL REFERENCES markets(id),
	category_id BIGINT NOT NULL,
	brand_id BIGINT,
	price BIGINT NOT NULL,
	price_max BIGINT NOT NULL,
	popularity BIGINT NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL,
	PRIMARY KEY (product_id, market_id)
);
CREATE INDEX product_market_price ON product_market (market_id, price, product_id);
CREATE INDEX product_market_new ON product_market (market_id, created_at, product_id);
CREATE INDEX product_market_pop ON product_market (market_id, popularity, product_id);
CREATE INDEX product_market_cat ON product_market (market_id, category_id, popularity, product_id);
CREATE INDEX product_variants_size ON product_variants (size, product_id);
CREATE INDEX product_variants_color ON product_variants (color, product_id);

-- every search with how many results it found (analytics reads zero-result
-- and top searches from here)
CREATE TABLE search_log (
	id @ID@,
	market_id BIGINT NOT NULL REFERENCES markets(id),
	query TEXT NOT NULL,
	results BIGINT NOT NULL,
	user_id TEXT,
	created_at BIGINT NOT NULL
);
CREATE INDEX search_log_created ON search_log (created_at);
CREATE INDEX search_log_query ON search_log (results, query);

-- precomputed by the catalog.recommendations job; requests only read
CREATE TABLE product_recommendations (
	product_id BIGINT NOT NULL REFERENCES products(id) ON DELETE CASCADE,
	market_id BIGINT NOT NULL REFERENCES markets(id),
	recommended_id BIGINT NOT NULL REFERENCES products(id) ON DELETE CASCADE,
	score BIGINT NOT NULL,
	reason TEXT NOT NULL CHECK (reason IN ('bought_together', 'similar', 'popular')),
	computed_at BIGINT NOT NULL,
	PRIMARY KEY (product_id, market_id, recommended_id)
);
CREATE INDEX product_recommendations_read ON product_recommendations (product_id, market_id, score);
CREATE INDEX collection_products_pos ON collection_products (collection_id, position);
