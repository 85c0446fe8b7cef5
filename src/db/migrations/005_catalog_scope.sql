-- product_market gets one row per (product, market, scope): scope 0 holds
-- every product, and each category on the product's path (its own and every
-- ancestor) has a row too. A listing filtered by a category — sub-categories
-- included — then walks one index in sort order with no IN list and no sort
-- step. The table is derived data: rebuilt here from the source tables.
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
	PRIMARY KEY (product_id, market_id, scope_id)
);
CREATE INDEX product_market_price ON product_market (market_id, scope_id, price, product_id);
CREATE INDEX product_market_new ON product_market (market_id, scope_id, created_at, product_id);
CREATE INDEX product_market_pop ON product_market (market_id, scope_id, popularity, product_id);
CREATE INDEX product_market_brand ON product_market (market_id, brand_id, scope_id, popularity, product_id);

INSERT INTO product_market (product_id, market_id, scope_id, category_id, brand_id, price, price_max,
	popularity, created_at)
WITH RECURSIVE up(category_id, scope_id) AS (
	SELECT id, id FROM categories
	UNION ALL
	SELECT up.category_id, c.parent_id FROM up JOIN categories c ON c.id = up.scope_id
	WHERE c.parent_id IS NOT NULL
), scopes(category_id, scope_id) AS (
	SELECT category_id, scope_id FROM up UNION ALL SELECT id, 0 FROM categories
)
SELECT x.id, x.market_id, s.scope_id, x.category_id, x.brand_id, x.price, x.price_max, x.popularity,
	x.created_at
FROM (SELECT p.id, pp.market_id, p.category_id, p.brand_id, MIN(pp.price) AS price,
		MAX(pp.price) AS price_max, p.popularity, p.created_at
	FROM products p JOIN product_variants v ON v.product_id = p.id
	JOIN product_prices pp ON pp.variant_id = v.id
	WHERE p.status = 'active'
	GROUP BY p.id, pp.market_id, p.category_id, p.brand_id, p.popularity, p.created_at) x
JOIN scopes s ON s.category_id = x.category_id;
