-- product_market gets one row per (product, market, scope): scope 0 holds
-- every product, and each category on the product's path (its own and every
-- ancestor) has a row too. A listing filtered by a category — sub-categories
-- included — then walks one index in sort order with no IN list and no sort
-- step. Sizes and colours sold in the market ride along as '|a|b|' text, so
-- a size or colour filter is a LIKE on the row, not a join per row. The
-- table is derived data: 005_catalog_scope_fill.*.sql rebuilds it.
DROP TABLE product_market;
CREATE TABLE product_market (
	product_id BIGINT NOT NULL REFERENCES products(id) ON DELETE CASCADE,
	market_id BIGINT NOT NULL REFERENCES markets(id),
	scope_id BIGINT NOT NULL,          -- 0 = all products, else a category on the path
	category_id BIGINT NOT NULL,       -- the product's own category
	brand_id BIGINT,
	price BIGINT NOT NULL,
	price_max BIGINT NOT NULL,
	popularity BIGINT NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL,
	sizes TEXT NOT NULL DEFAULT '|',   -- '|s|m|l|': sizes of the variants sold in the market
	colors TEXT NOT NULL DEFAULT '|',  -- the same for colours (lower case)
	PRIMARY KEY (product_id, market_id, scope_id)
);
CREATE INDEX product_market_price ON product_market (market_id, scope_id, price, product_id);
CREATE INDEX product_market_new ON product_market (market_id, scope_id, created_at, product_id);
CREATE INDEX product_market_pop ON product_market (market_id, scope_id, popularity, product_id);
CREATE INDEX product_market_brand ON product_market (market_id, brand_id, scope_id, popularity, product_id);
