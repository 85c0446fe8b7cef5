-- Fill product_market.in_stock / stock_sizes / stock_colors (see
-- 008_listing_stock.sql) and keep them in step with inventory: a stock or
-- reserved change that makes a variant available or unavailable recomputes
-- its product's rows. Most stock changes do not cross zero and cost nothing.
UPDATE product_market SET in_stock = 1, stock_sizes = x.sizes, stock_colors = x.colors
FROM (SELECT v.product_id, pp.market_id,
		'|' || group_concat(LOWER(COALESCE(v.size, '')), '|') || '|' AS sizes,
		'|' || group_concat(LOWER(COALESCE(v.color, '')), '|') || '|' AS colors
	FROM product_variants v JOIN product_prices pp ON pp.variant_id = v.id
	JOIN inventory i ON i.variant_id = v.id
	WHERE i.stock - i.reserved > 0
	GROUP BY v.product_id, pp.market_id) x
WHERE product_market.product_id = x.product_id AND product_market.market_id = x.market_id;

CREATE TRIGGER inventory_listing_stock_update AFTER UPDATE OF stock, reserved ON inventory
WHEN (OLD.stock - OLD.reserved > 0) <> (NEW.stock - NEW.reserved > 0)
BEGIN
	UPDATE product_market SET
		in_stock = EXISTS (SELECT 1 FROM product_variants v JOIN product_prices pp
			ON pp.variant_id = v.id AND pp.market_id = product_market.market_id
			JOIN inventory i ON i.variant_id = v.id
			WHERE v.product_id = product_market.product_id AND i.stock - i.reserved > 0),
		stock_sizes = COALESCE((SELECT '|' || group_concat(LOWER(COALESCE(v.size, '')), '|') || '|'
			FROM product_variants v JOIN product_prices pp
			ON pp.variant_id = v.id AND pp.market_id = product_market.market_id
			JOIN inventory i ON i.variant_id = v.id
			WHERE v.product_id = product_market.product_id AND i.stock - i.reserved > 0), '|'),
		stock_colors = COALESCE((SELECT '|' || group_concat(LOWER(COALESCE(v.color, '')), '|') || '|'
			FROM product_variants v JOIN product_prices pp
			ON pp.variant_id = v.id AND pp.market_id = product_market.market_id
			JOIN inventory i ON i.variant_id = v.id
			WHERE v.product_id = product_market.product_id AND i.stock - i.reserved > 0), '|')
	WHERE product_id = (SELECT product_id FROM product_variants WHERE id = NEW.variant_id);
END;

CREATE TRIGGER inventory_listing_stock_insert AFTER INSERT ON inventory
WHEN NEW.stock - NEW.reserved > 0
BEGIN
	UPDATE product_market SET in_stock = 1,
		stock_sizes = COALESCE((SELECT '|' || group_concat(LOWER(COALESCE(v.size, '')), '|') || '|'
			FROM product_variants v JOIN product_prices pp
			ON pp.variant_id = v.id AND pp.market_id = product_market.market_id
			JOIN inventory i ON i.variant_id = v.id
			WHERE v.product_id = product_market.product_id AND i.stock - i.reserved > 0), '|'),
		stock_colors = COALESCE((SELECT '|' || group_concat(LOWER(COALESCE(v.color, '')), '|') || '|'
			FROM product_variants v JOIN product_prices pp
			ON pp.variant_id = v.id AND pp.market_id = product_market.market_id
			JOIN inventory i ON i.variant_id = v.id
			WHERE v.product_id = product_market.product_id AND i.stock - i.reserved > 0), '|')
	WHERE product_id = (SELECT product_id FROM product_variants WHERE id = NEW.variant_id)
		AND EXISTS (SELECT 1 FROM product_prices pp WHERE pp.variant_id = NEW.variant_id
			AND pp.market_id = product_market.market_id);
END;
