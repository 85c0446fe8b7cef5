-- The sort indexes carry the columns the in-stock, size, colour and price
-- filters test, so a listing walks one index in sort order without reading a
-- table row per skipped row (catalog/search.c, listing_run). SQLite only:
-- stock_sizes / stock_colors can outgrow PostgreSQL's limit on an index
-- entry (a third of a page; 100 variants × 32-character colours), and
-- PostgreSQL reads the heap for visibility anyway.
DROP INDEX IF EXISTS product_market_price;
DROP INDEX IF EXISTS product_market_new;
DROP INDEX IF EXISTS product_market_pop;
CREATE INDEX product_market_price ON product_market
	(market_id, scope_id, price, product_id, in_stock, stock_sizes, stock_colors);
CREATE INDEX product_market_new ON product_market
	(market_id, scope_id, created_at, product_id, price, in_stock, stock_sizes, stock_colors);
CREATE INDEX product_market_pop ON product_market
	(market_id, scope_id, popularity, product_id, price, in_stock, stock_sizes, stock_colors);
