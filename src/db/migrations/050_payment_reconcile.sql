-- Payments whose outcome is unknown: a live gateway call that timed out (or
-- whose connection dropped) after the request went out. The transaction
-- stays 'pending' and one row here says how to find out what happened; the
-- payment_reconcile job asks the gateway again until it answers (bounded
-- attempts), then settles the transaction and its order.
CREATE TABLE payment_reconciliations (
	id @ID@,
	transaction_id BIGINT NOT NULL UNIQUE REFERENCES payment_transactions(id),
	gateway TEXT NOT NULL,
	-- the Idempotency-Key the first request carried (Stripe: the retry
	-- with the same key returns the original result)
	idempotency_key TEXT NOT NULL,
	-- what the gateway already told us: Razorpay's order (or Checkout
	-- payment) id, to look its payments up
	gateway_ref TEXT,
	-- the request to repeat: {"payment": {...}, "capture": true, "description": "…"}
	request TEXT NOT NULL,
	-- 1: the charge placed its order (checkout); a failure cancels that
	-- order and returns its stock. 0: paying an existing order or a
	-- subscription; a failure leaves the order payable.
	cancel_order INTEGER NOT NULL DEFAULT 0,
	status TEXT NOT NULL CHECK (status IN ('open', 'settled')),
	attempts INTEGER NOT NULL DEFAULT 0,
	next_at BIGINT NOT NULL,
	outcome TEXT,
	last_error TEXT,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE INDEX payment_reconciliations_due ON payment_reconciliations (status, next_at);
