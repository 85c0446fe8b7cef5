-- Keep product_market's stock columns (008_listing_stock.sql, stock_level of
-- 090_listing_items.sql) in step with inventory: a change of a variant's
-- level (available or not, above its low-stock threshold or not) recomputes
-- its product's rows. Most stock changes cross neither and cost nothing.
CREATE OR REPLACE FUNCTION listing_stock_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'UPDATE' AND (CASE WHEN OLD.stock - OLD.reserved > OLD.low_stock_threshold THEN 2
			WHEN OLD.stock - OLD.reserved > 0 THEN 1 ELSE 0 END) =
		(CASE WHEN NEW.stock - NEW.reserved > NEW.low_stock_threshold THEN 2
			WHEN NEW.stock - NEW.reserved > 0 THEN 1 ELSE 0 END) THEN
		RETURN NULL;
	END IF;
	IF TG_OP = 'INSERT' AND NEW.stock - NEW.reserved <= 0 THEN
		RETURN NULL;
	END IF;
	UPDATE product_market l SET
		in_stock = CASE WHEN EXISTS (SELECT 1 FROM product_variants v JOIN product_prices pp
			ON pp.variant_id = v.id AND pp.market_id = l.market_id
			JOIN inventory i ON i.variant_id = v.id
			WHERE v.product_id = l.product_id AND i.stock - i.reserved > 0) THEN 1 ELSE 0 END,
		stock_level = COALESCE((SELECT MAX(CASE WHEN i.stock - i.reserved > i.low_stock_threshold
				THEN 2 WHEN i.stock - i.reserved > 0 THEN 1 ELSE 0 END)
			FROM product_variants v JOIN product_prices pp
			ON pp.variant_id = v.id AND pp.market_id = l.market_id
			JOIN inventory i ON i.variant_id = v.id
			WHERE v.product_id = l.product_id), 0),
		stock_sizes = COALESCE((SELECT '|' || string_agg(LOWER(COALESCE(v.size, '')), '|') || '|'
			FROM product_variants v JOIN product_prices pp
			ON pp.variant_id = v.id AND pp.market_id = l.market_id
			JOIN inventory i ON i.variant_id = v.id
			WHERE v.product_id = l.product_id AND i.stock - i.reserved > 0), '|'),
		stock_colors = COALESCE((SELECT '|' || string_agg(LOWER(COALESCE(v.color, '')), '|') || '|'
			FROM product_variants v JOIN product_prices pp
			ON pp.variant_id = v.id AND pp.market_id = l.market_id
			JOIN inventory i ON i.variant_id = v.id
			WHERE v.product_id = l.product_id AND i.stock - i.reserved > 0), '|')
	WHERE l.product_id = (SELECT product_id FROM product_variants WHERE id = NEW.variant_id);
	RETURN NULL;
END;
$$;

DROP TRIGGER IF EXISTS inventory_listing_stock ON inventory;
CREATE TRIGGER inventory_listing_stock
AFTER INSERT OR UPDATE OF stock, reserved, low_stock_threshold ON inventory
FOR EACH ROW EXECUTE FUNCTION listing_stock_sync();
