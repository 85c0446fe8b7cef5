-- Full-text index of products: a weighted tsvector (name A, brand B,
-- category/tags C, description D) under a GIN index; ranked with ts_rank.
ALTER TABLE products ADD COLUMN search_vector tsvector;
CREATE INDEX products_search ON products USING GIN (search_vector);
