-- Fill product_market (see 005_catalog_scope.sql); string_agg is this engine's string aggregate.
INSERT INTO product_market (product_id, market_id, scope_id, category_id, brand_id, price, price_max,
	popularity, created_at, sizes, colors)
WITH RECURSIVE up(category_id, scope_id) AS (
	SELECT id, id FROM categories
	UNION ALL
	SELECT up.category_id, c.parent_id FROM up JOIN categories c ON c.id = up.scope_id
	WHERE c.parent_id IS NOT NULL
), scopes(category_id, scope_id) AS (
	SELECT category_id, scope_id FROM up UNION ALL SELECT id, 0 FROM categories
)
SELECT x.id, x.market_id, s.scope_id, x.category_id, x.brand_id, x.price, x.price_max, x.popularity,
	x.created_at, x.sizes, x.colors
FROM (SELECT p.id, pp.market_id, p.category_id, p.brand_id, MIN(pp.price) AS price,
		MAX(pp.price) AS price_max, p.popularity, p.created_at,
		'|' || string_agg(LOWER(COALESCE(v.size, '')), '|') || '|' AS sizes,
		'|' || string_agg(LOWER(COALESCE(v.color, '')), '|') || '|' AS colors
	FROM products p JOIN product_variants v ON v.product_id = p.id
	JOIN product_prices pp ON pp.variant_id = v.id
	WHERE p.status = 'active'
	GROUP BY p.id, pp.market_id, p.category_id, p.brand_id, p.popularity, p.created_at) x
JOIN scopes s ON s.category_id = x.category_id;
