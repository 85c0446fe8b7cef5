/*
 * Behaviour events: validation of event types, storage in
 * user_behavior_analytics, and the daily counters (ecommerce_analytics,
 * analytics_visitor_days, analytics_product_daily, analytics_search_daily)
 * that keep funnel and dashboard reads independent of event volume. Every
 * counter is updated in the same transaction as the event it counts; the
 * server's own events reach the database in batches, within a second.
 */
#ifndef MANDI_EVENTS_H
#define MANDI_EVENTS_H
#include <stdbool.h>
#include <stdint.h>

struct db;

#define EVENTS_MAX_BATCH 100

/** One event as decoded from a client or built by the server. */
struct event {
	const char *type;       /**< one of events_types() */
	const char *user_id;    /**< JWT sub, or NULL */
	const char *session_id; /**< client session, or NULL */
	const char *visitor;    /**< who: user, else session, else client address */
	int64_t market_id;      /**< 0 = none */
	int64_t product_id;     /**< 0 = none */
	const char *query;      /**< search text, or NULL */
	int64_t results;        /**< search results; -1 = unknown */
	const char *props_json; /**< extra properties as a JSON object text, or NULL */
	int64_t at;             /**< Unix seconds */
	bool server;            /**< recorded by the server itself */
};

/** NULL-terminated list of accepted event types. */
const char *const *events_types(void);
/** Whether type is an accepted event type. */
bool events_type_ok(const char *type);

/** The funnel steps, in order (product_view → add_to_cart → checkout_start → purchase). */
extern const char *const events_funnel_steps[4];

/**
 * Take the counters' writer lock for the open transaction: every
 * transaction that writes the daily counters calls this first. Returns a db_rc.
 */
int events_lock(struct db *db) __attribute__((warn_unused_result));

/** Store up to EVENTS_MAX_BATCH events inside the caller's transaction
 * (which took events_lock): one multi-row insert, then the counters. */
int events_store_batch(struct db *db, const struct event *evs, int n)
	__attribute__((warn_unused_result));

/**
 * Start the writer that stores the server's own events in batches (the
 * server does; CLI commands store each event at once). Stop drains the
 * queue and waits for the writer.
 */
void events_writer_start(void);
void events_writer_stop(void);
/** Store this process's queued server events now (before an analytics read). */
void events_flush(struct db *db);

/**
 * The server's own events (add to cart, checkout start, purchase,
 * zero-result search) for other areas to call: json_props may be NULL.
 * Outside a transaction the event is queued for the writer; inside one it
 * is stored in it.
 * Does nothing when ANALYTICS_ENABLED is false; failures are logged, never
 * returned, so analytics can never break a sale.
 */
void analytics_record(struct db *db, const char *event_type, const char *user_id,
		      int64_t market_id, int64_t product_id, const char *json_props);
/** An order the server placed: a purchase event carrying its number and total. */
void analytics_record_purchase(struct db *db, const char *user_id, int64_t market_id,
			       const char *order_number, int64_t total, const char *currency);
/**
 * A search the server answered: counted per normalised query and day (the
 * source of top and zero-result searches; clients' search events feed only
 * the event counters), and kept as an event when it found nothing. db may
 * be NULL (no transaction): a request then needs no connection to record.
 */
void analytics_record_search(struct db *db, const char *user_id, int64_t market_id,
			     const char *query, int64_t results);

/**
 * Fixed-window limiter for the public events endpoint: true when ip may
 * send another request in the minute containing now (limit per minute).
 */
bool events_rate_allow(const char *ip, int64_t now, int64_t limit);

/** Drop visitor marks older than three days (they only dedup within a day). */
bool events_prune(struct db *db, int64_t now);

#endif
