-- Stock on the listing row: product_market gets whether any variant sold in
-- the market has units available, and the sizes and colours of those
-- variants ('|s|m|', like sizes/colors). An in_stock listing filter is then a
-- test on the row instead of a three-table EXISTS per scanned row. Catalog
-- code fills them with the rest of the row (product_reindex); stock changes
-- made elsewhere (checkout, orders, PUT /api/inventory) keep them in step
-- through the triggers of 008_listing_stock_sync.*.sql.
ALTER TABLE product_market ADD COLUMN in_stock INTEGER NOT NULL DEFAULT 0;
ALTER TABLE product_market ADD COLUMN stock_sizes TEXT NOT NULL DEFAULT '|';
ALTER TABLE product_market ADD COLUMN stock_colors TEXT NOT NULL DEFAULT '|';
