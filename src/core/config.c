#include "core/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/strconv.h"

struct config cfg;

enum ctype { C_INT, C_BOOL, C_STR, C_ENUM, C_SECRET };

/* Checks beyond the type; return NULL when fine, else the reason. */
typedef const char *(*check_fn)(const char *value);

struct config_var {
	const char *name;
	const char *alias;      /* accepted when name is unset */
	enum ctype type;
	const char *def;        /* default as text; NULL = unset */
	int64_t min, max;       /* C_INT bounds */
	const char *choices;    /* C_ENUM: "a|b|c" */
	check_fn check;
	size_t offset;          /* into struct config */
	const char *help;
};

static const char *check_db_url(const char *v)
{
	static const char *schemes[] = {"sqlite:", "postgresql://", "postgres://"};
	for (size_t i = 0; i < 3; i++)
		if (strncmp(v, schemes[i], strlen(schemes[i])) == 0)
			return NULL;
	return "must start with sqlite:, postgresql:// or postgres://";
}

static const char *check_read_urls(const char *v)
{
	if (!*v)
		return NULL;
	const char *p = v;
	while (*p) {
		if (strncmp(p, "postgresql://", 13) != 0 && strncmp(p, "postgres://", 11) != 0)
			return "must be comma-separated postgresql:// URLs";
		p = strchr(p, ',');
		if (!p)
			break;
		p++;
	}
	return NULL;
}

static const char *check_redis_url(const char *v)
{
	return strncmp(v, "redis://", 8) == 0 || strncmp(v, "unix://", 7) == 0
		       ? NULL
		       : "must start with redis:// or unix://";
}

static const char *check_market(const char *v)
{
	if (strlen(v) != 2 || !isupper((unsigned char)v[0]) || !isupper((unsigned char)v[1]))
		return "must be a two-letter upper-case market code";
	return NULL;
}

static const char *check_markets(const char *v)
{
	size_t n = strlen(v);
	if (strcmp(v, "*") == 0)
		return NULL;
	if (n == 0)
		return "must list at least one market";
	for (size_t i = 0; i < n; i += 3) {
		if (i + 2 > n || !isupper((unsigned char)v[i]) || !isupper((unsigned char)v[i + 1]) ||
		    (i + 2 < n && v[i + 2] != ','))
			return "must be comma-separated two-letter market codes, e.g. US,IN";
	}
	return NULL;
}

static const char *check_channels(const char *v)
{
	static const char *ok[] = {"email", "slack", "sms", "webhook", "log"};
	const char *p = v;
	while (*p) {
		size_t len = strcspn(p, ",");
		bool found = false;
		for (size_t i = 0; i < 5; i++)
			if (strlen(ok[i]) == len && strncmp(ok[i], p, len) == 0)
				found = true;
		if (!found)
			return "must be a comma-separated subset of email,slack,sms,webhook,log";
		p += len;
		if (*p == ',')
			p++;
	}
	return NULL;
}

static const char *check_key_prefix(const char *v)
{
	for (const char *p = v; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			return "must not contain spaces or control characters";
	return strlen(v) <= 64 ? NULL : "must be at most 64 characters";
}

/* Comma-separated IPv4/IPv6 addresses. */
static const char *check_ip_list(const char *v)
{
	char one[64];
	for (const char *p = v; *p;) {
		size_t n = strcspn(p, ",");
		struct in6_addr a6;
		if (n == 0 || n >= sizeof(one))
			return "must be comma-separated IP addresses";
		memcpy(one, p, n);
		one[n] = '\0';
		if (inet_pton(AF_INET, one, &a6) != 1 && inet_pton(AF_INET6, one, &a6) != 1)
			return "must be comma-separated IP addresses";
		p += n;
		if (*p == ',')
			p++;
	}
	return NULL;
}

static const char *check_secret(const char *v)
{
	return strlen(v) >= 16 ? NULL : "must be at least 16 characters";
}

static const char *check_http_url(const char *v)
{
	return strncmp(v, "http://", 7) == 0 || strncmp(v, "https://", 8) == 0
		       ? NULL
		       : "must be an http:// or https:// URL";
}

static const char *check_smtp_url(const char *v)
{
	return strncmp(v, "smtp://", 7) == 0 || strncmp(v, "smtps://", 8) == 0
		       ? NULL
		       : "must be an smtp:// or smtps:// URL";
}

/* A positive decimal with at most 6 fractional digits, e.g. 83.25. */
static const char *check_rate(const char *v)
{
	int64_t micro;
	return config_parse_micro(v, &micro) && micro > 0
		       ? NULL
		       : "must be a positive decimal number with at most 6 decimals";
}

bool config_parse_micro(const char *v, int64_t *out)
{
	int64_t whole = 0, frac = 0, scale = 1000000;
	const char *p = v;
	if (!*p)
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (whole > 1000000000)
			return false;
		whole = whole * 10 + (*p - '0');
	}
	if (p == v)
		return false;
	if (*p == '.') {
		const char *f = ++p;
		for (; *p >= '0' && *p <= '9'; p++) {
			if (p - f >= 6)
				return false;
			scale /= 10;
			frac += (*p - '0') * scale;
		}
		if (p == f)
			return false;
	}
	if (*p)
		return false;
	*out = whole * 1000000 + frac;
	return true;
}

#define OFF(f) offsetof(struct config, f)
static const struct config_var vars[] = {
	{"PORT", NULL, C_INT, "5006", 1, 65535, NULL, NULL, OFF(port), "HTTP port"},
	{"DATABASE_URL", "SQLALCHEMY_DATABASE_URI", C_STR, "sqlite:///mandi.db", 0, 0, NULL,
	 check_db_url, OFF(database_url), "sqlite:///FILE or postgresql://… (primary)"},
	{"DATABASE_READ_URL", NULL, C_STR, "", 0, 0, NULL, check_read_urls,
	 OFF(database_read_url), "comma-separated PostgreSQL read replicas"},
	{"REDIS_URL", NULL, C_STR, "redis://localhost:6379/0", 0, 0, NULL, check_redis_url,
	 OFF(redis_url), "Redis for CACHE_TYPE=redis (redis://[:password@]host[:port][/db] or unix:///path)"},
	{"REDIS_KEY_PREFIX", NULL, C_STR, "mandi:", 0, 0, NULL, check_key_prefix,
	 OFF(redis_key_prefix), "prefix of every Redis key (several deployments on one Redis)"},
	{"REDIS_TIMEOUT_MS", NULL, C_INT, "200", 10, 10000, NULL, NULL, OFF(redis_timeout_ms),
	 "Redis connect and command timeout; past it mandi serves from the database"},
	{"CACHE_TYPE", NULL, C_ENUM, "memory", 0, 0, "memory|simple|redis|none", NULL,
	 OFF(cache_type), "cache backend (simple = memory)"},
	{"CACHE_MAX_MB", NULL, C_INT, "16", 1, 65536, NULL, NULL, OFF(cache_max_mb),
	 "memory cache size (CACHE_TYPE=memory); least recently used entries go first"},
	{"SEARCH_SETS_MB", NULL, C_INT, "24", 0, 65536, NULL, NULL, OFF(search_sets_mb),
	 "memory for each instance's market columns (listing rows in every sort's order, which "
	 "listings walk) and search match sets (every product a search text matches in a market, "
	 "so its other filters and pages are worked out in memory); 0 = keep none"},
	{"STRIPE_SECRET_KEY", NULL, C_SECRET, "", 0, 0, NULL, NULL, OFF(stripe_secret_key),
	 "sk_live_… for live, sk_test_… or empty for sandbox"},
	{"STRIPE_PUBLISHABLE_KEY", NULL, C_STR, "", 0, 0, NULL, NULL, OFF(stripe_publishable_key),
	 "given to clients"},
	{"STRIPE_WEBHOOK_SECRET", NULL, C_SECRET, "", 0, 0, NULL, NULL, OFF(stripe_webhook_secret),
	 "whsec_… for Stripe-Signature"},
	{"STRIPE_API_BASE", NULL, C_STR, "https://api.stripe.com", 0, 0, NULL, check_http_url,
	 OFF(stripe_api_base), "Stripe API base URL"},
	{"RAZORPAY_KEY_ID", NULL, C_STR, "", 0, 0, NULL, NULL, OFF(razorpay_key_id),
	 "rzp_live_… for live, rzp_test_… or empty for sandbox"},
	{"RAZORPAY_KEY_SECRET", NULL, C_SECRET, "", 0, 0, NULL, NULL, OFF(razorpay_key_secret),
	 "Razorpay key secret"},
	{"RAZORPAY_WEBHOOK_SECRET", NULL, C_SECRET, "", 0, 0, NULL, NULL,
	 OFF(razorpay_webhook_secret), "for X-Razorpay-Signature"},
	{"RAZORPAY_API_BASE", NULL, C_STR, "https://api.razorpay.com", 0, 0, NULL, check_http_url,
	 OFF(razorpay_api_base), "Razorpay API base URL"},
	{"PERFORMANCE_MONITORING", NULL, C_BOOL, "true", 0, 0, NULL, NULL,
	 OFF(performance_monitoring), "record per-route latency"},
	{"ANALYTICS_ENABLED", NULL, C_BOOL, "true", 0, 0, NULL, NULL, OFF(analytics_enabled),
	 "record behaviour events"},
	{"ALERT_NOTIFICATIONS", NULL, C_STR, "log", 0, 0, NULL, check_channels,
	 OFF(alert_notifications), "alert channels: email,slack,sms,webhook,log"},
	{"DEFAULT_MARKET", NULL, C_STR, "US", 0, 0, NULL, check_market, OFF(default_market),
	 "market when a request names none"},
	{"SUPPORTED_MARKETS", NULL, C_STR, "*", 0, 0, NULL, check_markets,
	 OFF(supported_markets), "markets served: codes (US,IN) or * for every active market row"},
	{"CURRENCY_API_KEY", NULL, C_SECRET, "", 0, 0, NULL, NULL, OFF(currency_api_key),
	 "exchange-rate provider key (optional)"},
	{"USER_SERVICE_URL", NULL, C_STR, "", 0, 0, NULL, check_http_url, OFF(user_service_url),
	 "WS1 user service (profile, preferences); empty = not used"},
	{"AI_SERVICE_URL", NULL, C_STR, "", 0, 0, NULL, check_http_url, OFF(ai_service_url),
	 "WS2 AI styling engine; empty = not used"},
	{"VISION_SERVICE_URL", NULL, C_STR, "", 0, 0, NULL, check_http_url, OFF(vision_service_url),
	 "WS3 visual search (similar products, image search); empty = not used"},
	{"SOCIAL_SERVICE_URL", NULL, C_STR, "", 0, 0, NULL, check_http_url, OFF(social_service_url),
	 "WS4 social (trending products); empty = not used"},
	{"INTEGRATION_TIMEOUT_MS", NULL, C_INT, "800", 50, 30000, NULL, NULL,
	 OFF(integration_timeout_ms), "budget of one WS1-WS4 call, retries included"},
	{"INTEGRATION_BREAKER_FAILURES", NULL, C_INT, "5", 1, 1000, NULL, NULL,
	 OFF(integration_breaker_failures), "consecutive failures that open a service's circuit"},
	{"INTEGRATION_BREAKER_OPEN_S", NULL, C_INT, "30", 1, 3600, NULL, NULL,
	 OFF(integration_breaker_open_s), "seconds an open circuit skips the service before one trial call"},
	{"TRUSTED_PROXIES", NULL, C_STR, "", 0, 0, NULL, check_ip_list, OFF(trusted_proxies),
	 "load balancers (e.g. 127.0.0.1) whose X-Real-IP names the client; empty = none"},
	{"IMAGE_SEARCH_RATE_LIMIT", NULL, C_INT, "30", 1, 100000, NULL, NULL,
	 OFF(image_search_rate_limit), "image searches per client per minute (shared over Redis)"},
	{"JWT_SECRET", NULL, C_SECRET, "mandi-development-secret-change-me", 0, 0, NULL,
	 check_secret, OFF(jwt_secret), "HS256 secret for bearer tokens"},
	{"MANDI_THREADS", NULL, C_INT, "0", 0, 1024, NULL, NULL, OFF(threads),
	 "0 = a thread per connection; N = a pool of N threads"},
	{"MANDI_MAX_CONNECTIONS", NULL, C_INT, "2048", 1, 65536, NULL, NULL, OFF(max_connections),
	 "open connections accepted at once"},
	{"MANDI_CONNECTION_TIMEOUT", NULL, C_INT, "30", 1, 3600, NULL, NULL,
	 OFF(connection_timeout), "idle/slow connection timeout, seconds"},
	{"MANDI_DB_POOL", NULL, C_INT, "16", 1, 512, NULL, NULL, OFF(db_pool),
	 "database connections per process"},
	{"SQLITE_CACHE_MB", NULL, C_INT, "16", 1, 65536, NULL, NULL, OFF(sqlite_cache_mb),
	 "SQLite page cache of the whole process, shared out between its pooled connections"},
	{"SQLITE_STMT_CACHE_MB", NULL, C_INT, "8", 0, 65536, NULL, NULL, OFF(sqlite_stmt_cache_mb),
	 "SQLite prepared statements the process keeps, shared out between its pooled connections "
	 "(least recently used out first); 0 = no limit"},
	{"MANDI_MALLOC_ARENAS", NULL, C_INT, "0", 0, 1024, NULL, NULL, OFF(malloc_arenas),
	 "glibc malloc arenas for mandi serve; 0 = one per core (glibc's own default is 8 per core)"},
	{"MANDI_LOG_LEVEL", NULL, C_ENUM, "info", 0, 0, NULL, NULL, OFF(log_level),
	 "debug|info|warn|error"},
	{"MANDI_ACCESS_LOG", NULL, C_BOOL, "true", 0, 0, NULL, NULL, OFF(access_log),
	 "one JSON line per request"},
	{"SQLALCHEMY_TRACK_MODIFICATIONS", NULL, C_BOOL, "false", 0, 0, NULL, NULL,
	 OFF(track_modifications), "accepted for compatibility with the handoff; no effect"},
	{"SMTP_URL", NULL, C_STR, "", 0, 0, NULL, check_smtp_url, OFF(smtp_url),
	 "smtp://host:port or smtps://… for the email notification channel"},
	{"SMTP_FROM", NULL, C_STR, "mandi <noreply@mandi.local>", 0, 0, NULL, NULL, OFF(smtp_from),
	 "sender of notification mail"},
	{"NOTIFY_WEBHOOK_URL", NULL, C_STR, "", 0, 0, NULL, check_http_url,
	 OFF(notify_webhook_url), "URL the webhook notification channel POSTs JSON to"},
	{"NOTIFY_SLACK_URL", NULL, C_STR, "", 0, 0, NULL, check_http_url, OFF(notify_slack_url),
	 "Slack incoming-webhook URL (slack channel)"},
	{"NOTIFY_SMS_URL", NULL, C_STR, "", 0, 0, NULL, check_http_url, OFF(notify_sms_url),
	 "SMS provider webhook URL (sms channel)"},
	{"ORDER_NOTIFY_CHANNEL", NULL, C_ENUM, "log", 0, 0, "log|email|webhook|slack|sms", NULL,
	 OFF(order_notify_channel), "channel for order confirmation, shipping and delivery messages"},
	{"RESERVATION_TTL", NULL, C_INT, "900", 30, 86400, NULL, NULL, OFF(reservation_ttl),
	 "seconds a checkout session holds its stock"},
	{"PAYMENT_GATEWAY_TIMEOUT_MS", NULL, C_INT, "10000", 100, 120000, NULL, NULL,
	 OFF(payment_gateway_timeout_ms), "total timeout of one call to a live gateway"},
	{"PAYMENT_RECONCILE_DELAY_S", NULL, C_INT, "30", 1, 86400, NULL, NULL,
	 OFF(payment_reconcile_delay_s),
	 "wait before asking a gateway again about a payment it did not answer (doubles per attempt)"},
	{"PAYMENT_RECONCILE_ATTEMPTS", NULL, C_INT, "8", 1, 100, NULL, NULL,
	 OFF(payment_reconcile_attempts),
	 "times the gateway is asked before an unanswered payment is settled as failed (and alerted)"},
	{"PAYMENT_BREAKER_WINDOW_S", NULL, C_INT, "300", 10, 86400, NULL, NULL,
	 OFF(payment_breaker_window_s), "window over which a gateway's failure rate is measured"},
	{"PAYMENT_BREAKER_MIN_ATTEMPTS", NULL, C_INT, "20", 1, 1000000, NULL, NULL,
	 OFF(payment_breaker_min_attempts), "attempts in the window before the breaker may open"},
	{"PAYMENT_BREAKER_FAILURE_PCT", NULL, C_INT, "5", 1, 100, NULL, NULL,
	 OFF(payment_breaker_failure_pct), "failure rate (%) above which a gateway is skipped"},
	{"FRAUD_REVIEW_SCORE", NULL, C_INT, "50", 1, 100, NULL, NULL, OFF(fraud_review_score),
	 "fraud score from which a payment waits for an admin"},
	{"FRAUD_REJECT_SCORE", NULL, C_INT, "80", 1, 100, NULL, NULL, OFF(fraud_reject_score),
	 "fraud score from which a payment is refused"},
	{"FRAUD_VELOCITY_WINDOW_S", NULL, C_INT, "3600", 60, 604800, NULL, NULL,
	 OFF(fraud_velocity_window_s), "window of the velocity rules"},
	{"FRAUD_VELOCITY_USER", NULL, C_INT, "5", 1, 1000000, NULL, NULL, OFF(fraud_velocity_user),
	 "payments per user in the window before the rule fires"},
	{"FRAUD_VELOCITY_IP", NULL, C_INT, "30", 1, 1000000, NULL, NULL, OFF(fraud_velocity_ip),
	 "payments per client IP in the window before the rule fires"},
	{"FRAUD_VELOCITY_CARD", NULL, C_INT, "4", 1, 1000000, NULL, NULL, OFF(fraud_velocity_card),
	 "payments per card (instrument) in the window before the rule fires"},
	{"FRAUD_AMOUNT_MULTIPLE", NULL, C_INT, "5", 2, 1000, NULL, NULL, OFF(fraud_amount_multiple),
	 "an amount above this multiple of the market norm is suspicious"},
	{"FRAUD_NORM_US", NULL, C_INT, "10000", 1, 1000000000, NULL, NULL, OFF(fraud_norm_us),
	 "typical US payment (cents) until FRAUD_NORM_MIN_SAMPLES real ones exist"},
	{"FRAUD_NORM_IN", NULL, C_INT, "500000", 1, 1000000000, NULL, NULL, OFF(fraud_norm_in),
	 "typical IN payment (paise) until FRAUD_NORM_MIN_SAMPLES real ones exist"},
	{"FRAUD_NORM_MIN_SAMPLES", NULL, C_INT, "20", 1, 1000000000, NULL, NULL,
	 OFF(fraud_norm_min_samples), "successful payments in 30 days before their average is the norm"},
	{"FRAUD_NEW_ACCOUNT_S", NULL, C_INT, "86400", 0, 31536000, NULL, NULL,
	 OFF(fraud_new_account_s), "an account younger than this is new"},
	{"FRAUD_DECLINES", NULL, C_INT, "3", 1, 1000, NULL, NULL, OFF(fraud_declines),
	 "declines in 24 h from which the repeated-declines rule fires"},
	{"SUBSCRIPTION_RETRY_S", NULL, C_INT, "86400", 60, 2592000, NULL, NULL,
	 OFF(subscription_retry_s), "time between dunning retries of a failed renewal"},
	{"ALERT_EMAIL_TO", NULL, C_STR, "ops@mandi.local", 0, 0, NULL, NULL, OFF(alert_email_to),
	 "recipient of alert mail (medium, high and critical alerts)"},
	{"ALERT_SMS_TO", NULL, C_STR, "", 0, 0, NULL, NULL, OFF(alert_sms_to),
	 "phone number for critical alerts through the sms channel"},
	{"SLOW_QUERY_MS", NULL, C_INT, "100", 0, 600000, NULL, NULL, OFF(slow_query_ms),
	 "statements slower than this go to the slow-query log (0 logs every statement)"},
	{"EXCHANGE_RATE_USD_INR", NULL, C_STR, "83.00", 0, 0, NULL, check_rate,
	 OFF(exchange_rate_usd_inr), "rupees per US dollar for dashboard figures combined in USD"},
	{"ANALYTICS_EVENTS_PER_MINUTE", NULL, C_INT, "120", 1, 1000000, NULL, NULL,
	 OFF(analytics_events_per_minute), "POST /api/analytics/events requests per client address per minute"},
	{"ANALYTICS_FLUSH_MS", NULL, C_INT, "1000", 10, 3600000, NULL, NULL, OFF(analytics_flush_ms),
	 "longest a server event waits in its instance's queue before it is stored"},
};
#undef OFF

static bool in_choices(const char *choices, const char *v)
{
	size_t n = strlen(v);
	for (const char *p = choices; *p;) {
		size_t len = strcspn(p, "|");
		if (len == n && strncmp(p, v, n) == 0)
			return true;
		p += len;
		if (*p == '|')
			p++;
	}
	return false;
}

bool config_load(const char *(*getenv_fn)(const char *), char *err, size_t errlen)
{
	config_free();
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const struct config_var *v = &vars[i];
		const char *val = getenv_fn(v->name);
		const char *from = v->name;
		if (!val && v->alias) {
			val = getenv_fn(v->alias);
			from = v->alias;
		}
		if (!val)
			val = v->def ? v->def : "";
		void *dst = (char *)&cfg + v->offset;
		const char *why = NULL;
		switch (v->type) {
		case C_INT:
			if (!parse_i64(val, v->min, v->max, (int64_t *)dst))
				why = "must be an integer in range";
			break;
		case C_BOOL:
			if (!parse_bool(val, (bool *)dst))
				why = "must be true or false";
			break;
		case C_ENUM:
			if (v->choices && !in_choices(v->choices, val))
				why = "is not one of the allowed values";
			if (!v->choices && !in_choices("debug|info|warn|error", val))
				why = "must be debug, info, warn or error";
			*(char **)dst = xstrdup(val);
			break;
		case C_STR:
		case C_SECRET:
			*(char **)dst = xstrdup(val);
			break;
		}
		if (!why && v->check && *val)
			why = v->check(val);
		if (why) {
			if (v->type == C_SECRET)
				snprintf(err, errlen, "%s: %s", from, why);
			else
				snprintf(err, errlen, "%s=\"%s\": %s", from, val, why);
			return false;
		}
	}
	if (!config_market_supported(cfg.default_market)) {
		snprintf(err, errlen, "DEFAULT_MARKET=\"%s\": is not in SUPPORTED_MARKETS", cfg.default_market);
		return false;
	}
	return true;
}

void config_free(void)
{
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		if (vars[i].type == C_STR || vars[i].type == C_SECRET || vars[i].type == C_ENUM) {
			char **p = (char **)((char *)&cfg + vars[i].offset);
			free(*p);
			*p = NULL;
		}
	}
}

/* "*" serves every active row of `markets`, so a market added as data (admin
 * endpoint or seed) goes live with no restart or configuration change; a
 * list pins the served markets, and an added market then also needs its code
 * listed. */
bool config_market_supported(const char *code)
{
	if (!code || strlen(code) != 2 || !cfg.supported_markets)
		return false;
	if (strcmp(cfg.supported_markets, "*") == 0)
		return true;
	for (const char *p = cfg.supported_markets; *p; p += 3) {
		if (strncmp(p, code, 2) == 0)
			return true;
		if (!p[2])
			break;
	}
	return false;
}

void config_describe(int fd)
{
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const struct config_var *v = &vars[i];
		dprintf(fd, "%-32s default \"%s\"%s%s  %s\n", v->name, v->def ? v->def : "",
			v->alias ? "  alias " : "", v->alias ? v->alias : "", v->help);
	}
}

bool config_proxy_trusted(const char *ip)
{
	size_t n = strlen(ip);
	for (const char *p = cfg.trusted_proxies ? cfg.trusted_proxies : ""; *p;) {
		size_t len = strcspn(p, ",");
		if (len == n && strncmp(p, ip, n) == 0)
			return true;
		p += len;
		if (*p == ',')
			p++;
	}
	return false;
}
