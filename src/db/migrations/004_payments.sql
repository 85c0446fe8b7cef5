-- Payments: stored methods (gateway tokens only, never card numbers),
-- transactions, refunds, gateway attempts (health, circuit breaker),
-- webhook events, subscriptions and their invoices, fraud reviews.
-- A transaction is written before its order exists (the charge runs outside
-- the order's transaction); payment_link_order sets order_id inside it.
CREATE TABLE payment_methods (
	id @ID@,
	user_id TEXT NOT NULL,
	market_id BIGINT NOT NULL REFERENCES markets(id),
	gateway TEXT NOT NULL,
	type TEXT NOT NULL,
	token TEXT NOT NULL,
	brand TEXT NOT NULL,
	last4 TEXT NOT NULL,
	exp_month INTEGER,
	exp_year INTEGER,
	fingerprint TEXT NOT NULL,
	nickname TEXT,
	is_default INTEGER NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL
);
CREATE INDEX payment_methods_user ON payment_methods (user_id, market_id, id);

CREATE TABLE payment_transactions (
	id @ID@,
	order_id BIGINT REFERENCES orders(id),
	subscription_id BIGINT,
	user_id TEXT NOT NULL,
	market_id BIGINT NOT NULL REFERENCES markets(id),
	gateway TEXT NOT NULL,
	kind TEXT NOT NULL,
	method_id BIGINT,
	amount BIGINT NOT NULL CHECK (amount > 0),
	currency TEXT NOT NULL,
	status TEXT NOT NULL CHECK (status IN ('succeeded', 'pending', 'review', 'declined',
					       'failed', 'voided')),
	payment_status TEXT NOT NULL,
	captured BIGINT NOT NULL DEFAULT 0,
	refunded BIGINT NOT NULL DEFAULT 0,
	gateway_ref TEXT,
	decline_code TEXT,
	message TEXT,
	brand TEXT,
	last4 TEXT,
	fingerprint TEXT,
	client_ip TEXT,
	fraud_score INTEGER NOT NULL DEFAULT 0,
	fraud_reasons TEXT NOT NULL DEFAULT '[]',
	live INTEGER NOT NULL DEFAULT 0,
	processing_us BIGINT NOT NULL DEFAULT 0,
	gateway_us BIGINT NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	CHECK (refunded >= 0 AND refunded <= captured)
);
CREATE INDEX payment_transactions_order ON payment_transactions (order_id);
CREATE INDEX payment_transactions_user ON payment_transactions (user_id, created_at);
CREATE INDEX payment_transactions_ip ON payment_transactions (client_ip, created_at);
CREATE INDEX payment_transactions_card ON payment_transactions (fingerprint, created_at);
CREATE INDEX payment_transactions_market ON payment_transactions (market_id, status, created_at);
CREATE INDEX payment_transactions_ref ON payment_transactions (gateway, gateway_ref);

CREATE TABLE refunds (
	id @ID@,
	transaction_id BIGINT NOT NULL REFERENCES payment_transactions(id),
	amount BIGINT NOT NULL CHECK (amount > 0),
	currency TEXT NOT NULL,
	reason TEXT NOT NULL DEFAULT '',
	status TEXT NOT NULL,
	gateway_ref TEXT,
	created_by TEXT NOT NULL,
	created_at BIGINT NOT NULL
);
CREATE INDEX refunds_transaction ON refunds (transaction_id, id);

-- one row per call to a gateway: health (success rate, latency) and the
-- circuit breaker's window
CREATE TABLE gateway_attempts (
	id @ID@,
	market_id BIGINT NOT NULL,
	gateway TEXT NOT NULL,
	ok INTEGER NOT NULL,
	latency_us BIGINT NOT NULL,
	at BIGINT NOT NULL
);
CREATE INDEX gateway_attempts_window ON gateway_attempts (market_id, gateway, at);
CREATE INDEX gateway_attempts_gateway_id ON gateway_attempts (market_id, gateway, id);
-- payment_gateways' success/failure/latency counters are folded in from
-- gateway_attempts by the gateway_stats job (no hot row on the payment
-- path); this is the last attempt id counted
ALTER TABLE payment_gateways ADD COLUMN counted_attempt_id BIGINT NOT NULL DEFAULT 0;

CREATE TABLE webhook_events (
	id @ID@,
	gateway TEXT NOT NULL,
	event_id TEXT NOT NULL,
	type TEXT NOT NULL,
	transaction_id BIGINT,
	received_at BIGINT NOT NULL,
	UNIQUE (gateway, event_id)
);

CREATE TABLE subscriptions (
	id @ID@,
	user_id TEXT NOT NULL,
	plan_id BIGINT NOT NULL REFERENCES subscription_plans(id),
	market_id BIGINT NOT NULL REFERENCES markets(id),
	payment_method_id BIGINT NOT NULL REFERENCES payment_methods(id),
	status TEXT NOT NULL CHECK (status IN ('active', 'past_due', 'canceled')),
	current_period_start BIGINT NOT NULL,
	current_period_end BIGINT NOT NULL,
	cancel_at_period_end INTEGER NOT NULL DEFAULT 0,
	failed_attempts INTEGER NOT NULL DEFAULT 0,
	next_retry_at BIGINT,
	canceled_at BIGINT,
	created_at BIGINT NOT NULL
);
CREATE INDEX subscriptions_user ON subscriptions (user_id, id);
CREATE INDEX subscriptions_due ON subscriptions (status, current_period_end);

-- one invoice per subscription and period: the unique key is what makes a
-- renewal bill once even when two processes run the job
CREATE TABLE subscription_invoices (
	id @ID@,
	subscription_id BIGINT NOT NULL REFERENCES subscriptions(id),
	period_start BIGINT NOT NULL,
	period_end BIGINT NOT NULL,
	amount BIGINT NOT NULL,
	currency TEXT NOT NULL,
	status TEXT NOT NULL CHECK (status IN ('open', 'paid', 'failed')),
	attempts INTEGER NOT NULL DEFAULT 0,
	transaction_id BIGINT,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	UNIQUE (subscription_id, period_start)
);

CREATE TABLE fraud_reviews (
	id @ID@,
	transaction_id BIGINT NOT NULL UNIQUE REFERENCES payment_transactions(id),
	user_id TEXT NOT NULL,
	score INTEGER NOT NULL,
	reasons TEXT NOT NULL,
	status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
	decided_by TEXT,
	decided_at BIGINT,
	note TEXT,
	created_at BIGINT NOT NULL
);
CREATE INDEX fraud_reviews_status ON fraud_reviews (status, id);
