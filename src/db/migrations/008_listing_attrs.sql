-- Which products of each category have a size or a colour ('s:m', 'c:red',
-- lower case, any variant): a listing filtered by a size or colour that few
-- products of the scope have walks these rows instead of the whole scope in
-- sort order (catalog/search.c). Derived data, rebuilt with product_market
-- by product_reindex.
CREATE TABLE listing_attrs (
	category_id BIGINT NOT NULL,
	attr TEXT NOT NULL,
	product_id BIGINT NOT NULL REFERENCES products(id) ON DELETE CASCADE,
	PRIMARY KEY (category_id, attr, product_id)
);
CREATE INDEX listing_attrs_product ON listing_attrs (product_id);
INSERT INTO listing_attrs (category_id, attr, product_id)
SELECT p.category_id, 's:' || LOWER(COALESCE(v.size, '')), p.id
FROM products p JOIN product_variants v ON v.product_id = p.id WHERE p.status = 'active'
UNION
SELECT p.category_id, 'c:' || LOWER(COALESCE(v.color, '')), p.id
FROM products p JOIN product_variants v ON v.product_id = p.id WHERE p.status = 'active';
