-- A listing page reads product_market only, not the variants and their
-- stock per item, and finds its rows in the sort index alone:
-- * stock_level is the best stock status of the variants sold in the
--   market (2 in stock, 1 low stock, 0 out of stock), the listing item's
--   stock_status; product_reindex fills it with the rest of the row and the
--   triggers of 090_listing_items_sync.*.sql keep it in step with inventory.
-- * image is the product's first variant's images (the item's images) on
--   its scope 0 rows, the row a page reads its items from; NULL on the
--   others, where a reader falls back to the variant. "ORDER BY +v.id":
--   without statistics PostgreSQL would otherwise walk the whole primary
--   key of product_variants for each row, looking for the product's first.
-- * On SQLite the sort indexes also carry the columns the filters test
--   (090_listing_items_index.sqlite.sql).
ALTER TABLE product_market ADD COLUMN stock_level INTEGER NOT NULL DEFAULT 0;
UPDATE product_market SET stock_level = x.lvl
FROM (SELECT v.product_id, pp.market_id,
		MAX(CASE WHEN i.stock - i.reserved > i.low_stock_threshold THEN 2
			WHEN i.stock - i.reserved > 0 THEN 1 ELSE 0 END) AS lvl
	FROM product_variants v JOIN product_prices pp ON pp.variant_id = v.id
	JOIN inventory i ON i.variant_id = v.id
	GROUP BY v.product_id, pp.market_id) x
WHERE product_market.product_id = x.product_id AND product_market.market_id = x.market_id
	AND x.lvl > 0;
ALTER TABLE product_market ADD COLUMN image TEXT;
UPDATE product_market SET image = (SELECT v.images FROM product_variants v
	WHERE v.product_id = product_market.product_id ORDER BY +v.id LIMIT 1)
WHERE scope_id = 0;
