-- Commerce: carts, addresses, checkout sessions, stock reservations, orders,
-- coupon redemptions, idempotency keys, the notification outbox.
-- Money BIGINT minor units, times BIGINT Unix seconds, booleans INTEGER 0/1.

-- one cart per user and market; items merge on variant
CREATE TABLE carts (
	id @ID@,
	user_id TEXT NOT NULL,
	market_id BIGINT NOT NULL REFERENCES markets(id),
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	UNIQUE (user_id, market_id)
);

CREATE TABLE cart_items (
	id @ID@,
	cart_id BIGINT NOT NULL REFERENCES carts(id) ON DELETE CASCADE,
	product_id BIGINT NOT NULL REFERENCES products(id),
	variant_id BIGINT NOT NULL REFERENCES product_variants(id),
	quantity INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND 100),
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	UNIQUE (cart_id, variant_id)
);

CREATE TABLE shipping_addresses (
	id @ID@,
	user_id TEXT NOT NULL,
	name TEXT NOT NULL,
	line1 TEXT NOT NULL,
	line2 TEXT NOT NULL DEFAULT '',
	city TEXT NOT NULL,
	state TEXT NOT NULL DEFAULT '',
	postal_code TEXT NOT NULL,
	country TEXT NOT NULL,
	phone TEXT NOT NULL DEFAULT '',
	is_default INTEGER NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL
);
CREATE INDEX shipping_addresses_user ON shipping_addresses (user_id, id);

-- step: address -> shipping -> payment; status: open | completed | cancelled
CREATE TABLE checkout_sessions (
	id @ID@,
	user_id TEXT NOT NULL,
	market_id BIGINT NOT NULL REFERENCES markets(id),
	cart_id BIGINT REFERENCES carts(id),    -- NULL for a buy-now (POST /api/checkout/express)
	status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'completed', 'cancelled')),
	express INTEGER NOT NULL DEFAULT 0,
	shipping_address_id BIGINT REFERENCES shipping_addresses(id),
	shipping_address TEXT,               -- JSON snapshot of the chosen address
	shipping_method TEXT,                -- code; NULL = not chosen yet (priced as standard)
	coupon_id BIGINT REFERENCES coupons(id),
	payment_method_id BIGINT,            -- a saved method (express)
	order_id BIGINT,
	expires_at BIGINT NOT NULL,          -- when its stock reservation lapses
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE INDEX checkout_sessions_user ON checkout_sessions (user_id, id);

-- stock held for a session: inventory.reserved carries the sum of 'held' rows
CREATE TABLE stock_reservations (
	id @ID@,
	session_id BIGINT NOT NULL REFERENCES checkout_sessions(id),
	variant_id BIGINT NOT NULL REFERENCES product_variants(id),
	quantity INTEGER NOT NULL CHECK (quantity > 0),
	status TEXT NOT NULL DEFAULT 'held' CHECK (status IN ('held', 'converted', 'released')),
	expires_at BIGINT NOT NULL,
	created_at BIGINT NOT NULL
);
CREATE INDEX stock_reservations_session ON stock_reservations (session_id, status);
CREATE INDEX stock_reservations_expiry ON stock_reservations (status, expires_at);

-- status: confirmed -> shipped -> delivered, or cancelled (from confirmed)
CREATE TABLE orders (
	id @ID@,
	order_number TEXT NOT NULL UNIQUE,
	user_id TEXT NOT NULL,
	market_id BIGINT NOT NULL REFERENCES markets(id),
	session_id BIGINT REFERENCES checkout_sessions(id),
	status TEXT NOT NULL CHECK (status IN ('confirmed', 'shipped', 'delivered', 'cancelled')),
	payment_status TEXT NOT NULL,
	currency TEXT NOT NULL,
	subtotal BIGINT NOT NULL,
	discount BIGINT NOT NULL,
	shipping BIGINT NOT NULL,
	tax BIGINT NOT NULL,
	total BIGINT NOT NULL,
	coupon_code TEXT,
	shipping_method TEXT NOT NULL,
	shipping_address TEXT NOT NULL DEFAULT '{}',
	gateway TEXT NOT NULL,
	transaction_id BIGINT,
	carrier TEXT,
	tracking_number TEXT,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE INDEX orders_user ON orders (user_id, id);
CREATE INDEX orders_market_created ON orders (market_id, created_at);
CREATE INDEX orders_created ON orders (created_at);

-- frozen at purchase: what the customer saw is what stays
CREATE TABLE order_items (
	id @ID@,
	order_id BIGINT NOT NULL REFERENCES orders(id),
	product_id BIGINT NOT NULL,
	variant_id BIGINT NOT NULL,
	merchant_id BIGINT NOT NULL,
	sku TEXT NOT NULL,
	name TEXT NOT NULL,
	quantity INTEGER NOT NULL CHECK (quantity > 0),
	unit_price BIGINT NOT NULL,
	line_total BIGINT NOT NULL
);
CREATE INDEX order_items_order ON order_items (order_id);
CREATE INDEX order_items_product ON order_items (product_id);
CREATE INDEX order_items_merchant ON order_items (merchant_id, order_id);

-- status history (tracking)
CREATE TABLE order_events (
	id @ID@,
	order_id BIGINT NOT NULL REFERENCES orders(id),
	status TEXT NOT NULL,
	note TEXT NOT NULL DEFAULT '',
	actor TEXT NOT NULL,
	created_at BIGINT NOT NULL
);
CREATE INDEX order_events_order ON order_events (order_id, id);

-- per-user coupon counter: one conditional upsert keeps per_user_limit under concurrency
CREATE TABLE coupon_user_uses (
	coupon_id BIGINT NOT NULL REFERENCES coupons(id),
	user_id TEXT NOT NULL,
	uses BIGINT NOT NULL,
	PRIMARY KEY (coupon_id, user_id)
);

CREATE TABLE coupon_redemptions (
	id @ID@,
	coupon_id BIGINT NOT NULL REFERENCES coupons(id),
	user_id TEXT NOT NULL,
	order_id BIGINT NOT NULL REFERENCES orders(id),
	discount BIGINT NOT NULL,
	created_at BIGINT NOT NULL
);
CREATE INDEX coupon_redemptions_coupon ON coupon_redemptions (coupon_id);

-- CONTRACT §1: the row is inserted before the handler runs; a duplicate
-- waits for state 'done' and replays status + body
CREATE TABLE idempotency_keys (
	id @ID@,
	user_id TEXT NOT NULL,
	idem_key TEXT NOT NULL,
	route TEXT NOT NULL,
	request_hash TEXT NOT NULL,
	state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done')),
	response_status INTEGER,
	response_body TEXT,
	created_at BIGINT NOT NULL,
	UNIQUE (user_id, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- outbox: written in the business transaction, delivered by a job with retries
CREATE TABLE notifications (
	id @ID@,
	kind TEXT NOT NULL,
	channel TEXT NOT NULL,
	recipient TEXT NOT NULL,
	subject TEXT NOT NULL,
	body TEXT NOT NULL,
	status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
	attempts INTEGER NOT NULL DEFAULT 0,
	next_attempt_at BIGINT NOT NULL,
	last_error TEXT,
	created_at BIGINT NOT NULL,
	sent_at BIGINT
);
CREATE INDEX notifications_due ON notifications (status, next_attempt_at);
