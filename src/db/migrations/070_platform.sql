-- Platform: the trending snapshot the trending-refresh job computes from our
-- own data, served by GET /api/social/trending-products while the social
-- service (WS4) is down.
CREATE TABLE trending_products (
	market_id BIGINT NOT NULL REFERENCES markets(id),
	rank INTEGER NOT NULL,
	product_id BIGINT NOT NULL REFERENCES products(id) ON DELETE CASCADE,
	score BIGINT NOT NULL,
	computed_at BIGINT NOT NULL,
	PRIMARY KEY (market_id, rank)
);
