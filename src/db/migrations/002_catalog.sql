-- Catalog: brands, products, variants, per-market prices, inventory, collections.
CREATE TABLE brands (
	id @ID@,
	name TEXT NOT NULL UNIQUE,
	slug TEXT NOT NULL UNIQUE,
	popularity_score INTEGER NOT NULL DEFAULT 0,
	quality_rating INTEGER NOT NULL DEFAULT 0,   -- tenths: 0..50 is 0.0..5.0 stars
	demographics TEXT NOT NULL DEFAULT '[]',
	created_at BIGINT NOT NULL
);

CREATE TABLE products (
	id @ID@,
	merchant_id BIGINT NOT NULL REFERENCES merchants(id),
	brand_id BIGINT REFERENCES brands(id),
	category_id BIGINT NOT NULL REFERENCES categories(id),
	name TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	tags TEXT NOT NULL DEFAULT '[]',
	status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'draft', 'archived')),
	popularity BIGINT NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE INDEX products_category ON products (category_id, status);
CREATE INDEX products_brand ON products (brand_id);
CREATE INDEX products_merchant ON products (merchant_id);
CREATE INDEX products_created ON products (created_at, id);
CREATE INDEX products_popularity ON products (popularity, id);

CREATE TABLE product_variants (
	id @ID@,
	product_id BIGINT NOT NULL REFERENCES products(id) ON DELETE CASCADE,
	sku TEXT NOT NULL UNIQUE,
	size TEXT,
	color TEXT,
	images TEXT NOT NULL DEFAULT '[]',
	created_at BIGINT NOT NULL
);
CREATE INDEX product_variants_product ON product_variants (product_id);

-- a product is sold in a market when one of its variants has a price there
CREATE TABLE product_prices (
	variant_id BIGINT NOT NULL REFERENCES product_variants(id) ON DELETE CASCADE,
	market_id BIGINT NOT NULL REFERENCES markets(id),
	price BIGINT NOT NULL CHECK (price >= 0),
	PRIMARY KEY (variant_id, market_id)
);
CREATE INDEX product_prices_market ON product_prices (market_id, price);

-- stock per variant: available = stock - reserved; sold with one conditional
-- UPDATE ... WHERE stock - reserved >= qty
CREATE TABLE inventory (
	variant_id BIGINT PRIMARY KEY REFERENCES product_variants(id) ON DELETE CASCADE,
	stock BIGINT NOT NULL DEFAULT 0 CHECK (stock >= 0),
	reserved BIGINT NOT NULL DEFAULT 0 CHECK (reserved >= 0 AND reserved <= stock),
	low_stock_threshold BIGINT NOT NULL DEFAULT 5,
	updated_at BIGINT NOT NULL
);

CREATE TABLE collections (
	id @ID@,
	name TEXT NOT NULL,
	slug TEXT NOT NULL UNIQUE,
	description TEXT NOT NULL DEFAULT '',
	starts_at BIGINT,
	ends_at BIGINT,
	created_at BIGINT NOT NULL
);

CREATE TABLE collection_products (
	collection_id BIGINT NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
	product_id BIGINT NOT NULL REFERENCES products(id) ON DELETE CASCADE,
	position INTEGER NOT NULL,
	PRIMARY KEY (collection_id, product_id)
);
