-- Foundation: markets, merchants, gateways, shipping, categories, coupons,
-- plans, alerts, job leases. Money is BIGINT minor units, rates basis points,
-- times BIGINT Unix seconds, booleans INTEGER 0/1, lists JSON text.
CREATE TABLE markets (
	id @ID@,
	code TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	currency TEXT NOT NULL,
	tax_rate_bps INTEGER NOT NULL CHECK (tax_rate_bps >= 0),
	prices_include_tax INTEGER NOT NULL,
	free_shipping_threshold BIGINT NOT NULL,
	languages TEXT NOT NULL,
	business_hours TEXT NOT NULL,
	timezone TEXT NOT NULL,
	cod_supported INTEGER NOT NULL DEFAULT 0,
	active INTEGER NOT NULL DEFAULT 1,
	created_at BIGINT NOT NULL
);

CREATE TABLE merchants (
	id @ID@,
	name TEXT NOT NULL,
	code TEXT NOT NULL UNIQUE,
	market_id BIGINT NOT NULL REFERENCES markets(id),
	integration_type TEXT NOT NULL CHECK (integration_type IN ('api', 'feed', 'manual')),
	commission_rate_bps INTEGER NOT NULL CHECK (commission_rate_bps BETWEEN 0 AND 10000),
	status TEXT NOT NULL DEFAULT 'active',
	created_at BIGINT NOT NULL
);
CREATE INDEX merchants_market ON merchants (market_id, id);

CREATE TABLE payment_gateways (
	id @ID@,
	market_id BIGINT NOT NULL REFERENCES markets(id),
	code TEXT NOT NULL,
	name TEXT NOT NULL,
	kind TEXT NOT NULL,
	priority INTEGER NOT NULL,
	enabled INTEGER NOT NULL DEFAULT 1,
	config TEXT NOT NULL DEFAULT '{}',
	success_count BIGINT NOT NULL DEFAULT 0,
	failure_count BIGINT NOT NULL DEFAULT 0,
	total_latency_us BIGINT NOT NULL DEFAULT 0,
	UNIQUE (market_id, code)
);

CREATE TABLE shipping_methods (
	id @ID@,
	market_id BIGINT NOT NULL REFERENCES markets(id),
	code TEXT NOT NULL,
	name TEXT NOT NULL,
	cost BIGINT NOT NULL CHECK (cost >= 0),
	min_days INTEGER NOT NULL,
	max_days INTEGER NOT NULL,
	carrier TEXT NOT NULL,
	position INTEGER NOT NULL DEFAULT 0,
	UNIQUE (market_id, code)
);

CREATE TABLE categories (
	id @ID@,
	slug TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	parent_id BIGINT REFERENCES categories(id),
	display_order INTEGER NOT NULL DEFAULT 0
);

-- per-market display order of categories (the handoff's categories.market_id)
CREATE TABLE category_market_order (
	category_id BIGINT NOT NULL REFERENCES categories(id),
	market_id BIGINT NOT NULL REFERENCES markets(id),
	display_order INTEGER NOT NULL,
	PRIMARY KEY (category_id, market_id)
);

CREATE TABLE coupons (
	id @ID@,
	code TEXT NOT NULL UNIQUE,
	market_id BIGINT REFERENCES markets(id),
	kind TEXT NOT NULL CHECK (kind IN ('percent', 'fixed')),
	value BIGINT NOT NULL CHECK (value > 0),
	min_subtotal BIGINT NOT NULL DEFAULT 0,
	starts_at BIGINT,
	ends_at BIGINT,
	max_uses BIGINT,
	per_user_limit BIGINT,
	uses BIGINT NOT NULL DEFAULT 0,
	active INTEGER NOT NULL DEFAULT 1,
	description TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL
);

CREATE TABLE subscription_plans (
	id @ID@,
	market_id BIGINT NOT NULL REFERENCES markets(id),
	code TEXT NOT NULL,
	name TEXT NOT NULL,
	description TEXT NOT NULL,
	price BIGINT NOT NULL CHECK (price > 0),
	interval_days INTEGER NOT NULL,
	active INTEGER NOT NULL DEFAULT 1,
	UNIQUE (market_id, code)
);

CREATE TABLE system_alerts (
	id @ID@,
	alert_type TEXT NOT NULL,
	severity TEXT NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
	message TEXT NOT NULL,
	context TEXT NOT NULL DEFAULT '{}',
	status TEXT NOT NULL DEFAULT 'open',
	dedup_key TEXT,
	created_at BIGINT NOT NULL,
	acknowledged_at BIGINT,
	resolved_at BIGINT,
	resolution TEXT
);
CREATE INDEX system_alerts_open ON system_alerts (status, dedup_key);

-- one row per background job: whoever holds an unexpired lease runs it
CREATE TABLE job_leases (
	name TEXT PRIMARY KEY,
	holder TEXT NOT NULL,
	expires_at BIGINT NOT NULL,
	last_run_at BIGINT
);
