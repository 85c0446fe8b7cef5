-- Keep product_market's stock columns (008_listing_stock.sql, stock_level of
-- 090_listing_items.sql) in step with inventory: a change of a variant's
-- level (available or not, above its low-stock threshold or not) recomputes
-- its product's rows. Most stock changes cross neither and cost nothing.
DROP TRIGGER IF EXISTS inventory_listing_stock_update;
DROP TRIGGER IF EXISTS inventory_listing_stock_insert;

CREATE TRIGGER inventory_listing_stock_update
AFTER UPDATE OF stock, reserved, low_stock_threshold ON inventory
WHEN (CASE WHEN OLD.stock - OLD.reserved > OLD.low_stock_threshold THEN 2
		WHEN OLD.stock - OLD.reserved > 0 THEN 1 ELSE 0 END) <>
	(CASE WHEN NEW.stock - NEW.reserved > NEW.low_stock_threshold THEN 2
		WHEN NEW.stock - NEW.reserved > 0 THEN 1 ELSE 0 END)
BEGIN
	UPDATE product_market SET
		in_stock = EXISTS (SELECT 1 FROM product_variants v JOIN product_prices pp
			ON pp.variant_id = v.id AND pp.market_id = product_market.market_id
			JOIN inventory i ON i.variant_id = v.id
			WHERE v.product_id = product_market.product_id AND i.stock - i.reserved > 0),
		stock_level = COALESCE((SELECT MAX(CASE WHEN i.stock - i.reserved > i.low_stock_threshold
				THEN 2 WHEN i.stock - i.reserved > 0 THEN 1 ELSE 0 END)
			FROM product_variants v JOIN product_prices pp
			ON pp.variant_id = v.id AND pp.market_id = product_market.market_id
			JOIN inventory i ON i.variant_id = v.id
			WHERE v.product_id = product_market.product_id), 0),
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
		stock_level = MAX(stock_level, CASE WHEN NEW.stock - NEW.reserved >
			NEW.low_stock_threshold THEN 2 ELSE 1 END),
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
