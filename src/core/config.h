/*
 * Configuration from the environment, described by one declarative table in
 * config.c (Redis' createIntConfig style): name, type, default, bounds, and
 * where it is stored. A bad value stops start-up naming the variable.
 */
#ifndef MANDI_CONFIG_H
#define MANDI_CONFIG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** The running configuration (read-only after config_load). */
struct config {
	int64_t port;
	char *database_url;
	char *database_read_url;
	char *redis_url;
	char *redis_key_prefix;
	int64_t redis_timeout_ms;
	char *cache_type;
	int64_t cache_max_mb;
	int64_t search_sets_mb;
	char *stripe_secret_key;
	char *stripe_publishable_key;
	char *stripe_webhook_secret;
	char *stripe_api_base;
	char *razorpay_key_id;
	char *razorpay_key_secret;
	char *razorpay_webhook_secret;
	char *razorpay_api_base;
	bool performance_monitoring;
	bool analytics_enabled;
	char *alert_notifications;
	char *default_market;
	char *supported_markets;
	char *currency_api_key;
	char *user_service_url;
	char *ai_service_url;
	char *vision_service_url;
	char *social_service_url;
	int64_t integration_timeout_ms;
	int64_t integration_breaker_failures;
	int64_t integration_breaker_open_s;
	int64_t image_search_rate_limit;
	char *trusted_proxies;
	char *jwt_secret;
	int64_t threads;
	int64_t max_connections;
	int64_t connection_timeout;
	int64_t db_pool;
	int64_t sqlite_cache_mb;
	int64_t sqlite_stmt_cache_mb;
	int64_t malloc_arenas;
	char *log_level;
	bool access_log;
	bool track_modifications;
	char *smtp_url;            /**< notifications: smtp(s)://host:port for the email channel */
	char *smtp_from;
	char *notify_webhook_url;  /**< the webhook channel's URL */
	char *notify_slack_url;    /**< slack channel: an incoming-webhook URL */
	char *notify_sms_url;      /**< sms channel: the SMS provider's webhook URL */
	char *order_notify_channel; /**< channel for order messages (log, email, webhook…) */
	int64_t reservation_ttl;   /**< seconds a checkout holds stock */
	/* payments (issue 5) */
	int64_t payment_gateway_timeout_ms;
	int64_t payment_reconcile_delay_s;  /**< first look at an unknown outcome; doubles */
	int64_t payment_reconcile_attempts; /**< looks before it is settled as failed */
	int64_t payment_breaker_window_s;
	int64_t payment_breaker_min_attempts;
	int64_t payment_breaker_failure_pct;
	int64_t fraud_review_score;
	int64_t fraud_reject_score;
	int64_t fraud_velocity_window_s;
	int64_t fraud_velocity_user;
	int64_t fraud_velocity_ip;
	int64_t fraud_velocity_card;
	int64_t fraud_amount_multiple;
	int64_t fraud_norm_us;
	int64_t fraud_norm_in;
	int64_t fraud_norm_min_samples;
	int64_t fraud_new_account_s;
	int64_t fraud_declines;
	int64_t subscription_retry_s;
	char *alert_email_to;      /**< alert mail recipient */
	char *alert_sms_to;        /**< alert SMS recipient */
	int64_t slow_query_ms;     /**< slow-query log threshold */
	char *exchange_rate_usd_inr; /**< INR per USD, decimal text */
	int64_t analytics_events_per_minute; /**< events endpoint limit per client address */
	int64_t analytics_flush_ms;          /**< longest wait of a queued server event */
};

extern struct config cfg;

/**
 * Load every variable through getenv_fn (getenv in production, a table in
 * tests). On a bad value writes "NAME: reason" into err and returns false.
 */
bool config_load(const char *(*getenv_fn)(const char *), char *err, size_t errlen);
/** Free the strings config_load allocated. */
void config_free(void);
/** Parse a non-negative decimal with up to 6 fractional digits into millionths. */
bool config_parse_micro(const char *v, int64_t *out);
/** Whether code (e.g. "US") is served: listed in SUPPORTED_MARKETS, or that is "*". */
bool config_market_supported(const char *code);
/** Whether ip is listed in TRUSTED_PROXIES. */
bool config_proxy_trusted(const char *ip);
/** Write "NAME=value (default …)" lines describing the table, for `mandi config`. */
void config_describe(int fd);

#endif
