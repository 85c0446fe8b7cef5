-- Full-text index of products (FTS5, ranked with bm25). rowid = products.id.
-- Kept in step by catalog code through the driver's fts slots.
CREATE VIRTUAL TABLE product_fts USING fts5(
	name, brand, category, tags, description,
	tokenize = 'unicode61 remove_diacritics 2'
);
