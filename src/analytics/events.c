#include "analytics/events.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/config.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "db/db.h"

static const char *const types[] = {
	"page_view",	    "product_view", "search",	   "add_to_cart", "remove_from_cart",
	"checkout_start", "purchase",	  "wishlist_add", "share",	     "click",
	NULL,
};

const char *const events_funnel_steps[4] = {"product_view", "add_to_cart", "checkout_start",
					    "purchase"};

const char *const *events_types(void)
{
	return types;
}

bool events_type_ok(const char *type)
{
	for (int i = 0; types[i]; i++)
		if (strcmp(types[i], type) == 0)
			return true;
	return false;
}

static bool is_funnel_step(const char *type)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(events_funnel_steps[i], type) == 0)
			return true;
	return false;
}

static int bump(struct db *db, int64_t day, int64_t market, const char *metric, int64_t by)
{
	return db_exec(db,
		       "INSERT INTO ecommerce_analytics (day, market_id, metric, value) "
		       "VALUES ($1, $2, $3, $4) ON CONFLICT (day, market_id, metric) "
		       "DO UPDATE SET value = ecommerce_analytics.value + $4",
		       DBV(DI(day), DI(market), DT(metric), DI(by)), NULL);
}

/* Mark visitor as having reached step on day; bumps the step's visitor
 * counter the first time only, so daily visitor counts are exact. */
static int mark(struct db *db, int64_t day, int64_t market, const char *visitor, const char *step,
		const char *metric)
{
	int64_t added = 0;
	int rc = db_exec(db,
			 "INSERT INTO analytics_visitor_days (day, market_id, visitor, step) "
			 "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
			 DBV(DI(day), DI(market), DT(visitor), DT(step)), &added);
	if (rc == DB_OK && added > 0)
		rc = bump(db, day, market, metric, 1);
	return rc;
}

/* Lower-case, trimmed, inner whitespace collapsed: "Summer  Dress " and
 * "summer dress" count as one search. */
static void normalise_query(const char *q, char *out, size_t n)
{
	size_t o = 0;
	bool space = false;
	for (const char *p = q; *p && o + 1 < n; p++) {
		unsigned char c = (unsigned char)*p;
		if (isspace(c)) {
			space = o > 0;
			continue;
		}
		if (space && o + 2 < n)
			out[o++] = ' ';
		space = false;
		out[o++] = (char)tolower(c);
	}
	out[o] = '\0';
}

static int store(struct db *db, const struct event *e)
{
	int64_t day = e->at - e->at % 86400;
	char metric[64];
	int rc = db_exec(db,
			 "INSERT INTO user_behavior_analytics (event_type, source, user_id, session_id, "
			 "visitor, market_id, product_id, query, props, created_at) "
			 "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
			 DBV(DT(e->type), DT(e->server ? "server" : "client"), DT(e->user_id),
			     DT(e->session_id), DT(e->visitor), e->market_id ? DI(e->market_id) : DN,
			     e->product_id ? DI(e->product_id) : DN, DT(e->query),
			     DT(e->props_json ? e->props_json : "{}"), DI(e->at)),
			 NULL);
	if (rc != DB_OK)
		return rc;
	snprintf(metric, sizeof(metric), "events_%s", e->type);
	if ((rc = bump(db, day, e->market_id, metric, 1)) != DB_OK)
		return rc;
	if ((rc = mark(db, day, e->market_id, e->visitor, "any", "visitors")) != DB_OK)
		return rc;
	if (is_funnel_step(e->type)) {
		snprintf(metric, sizeof(metric), "visitors_%s", e->type);
		if ((rc = mark(db, day, e->market_id, e->visitor, e->type, metric)) != DB_OK)
			return rc;
	}
	const char *col = strcmp(e->type, "product_view") == 0	? "views"
			  : strcmp(e->type, "add_to_cart") == 0 ? "carts"
								: NULL;
	if (col && e->product_id > 0) {
		char sql[320];
		snprintf(sql, sizeof(sql),
			 "INSERT INTO analytics_product_daily (day, market_id, product_id, %s) "
			 "VALUES ($1, $2, $3, 1) ON CONFLICT (day, market_id, product_id) "
			 "DO UPDATE SET %s = analytics_product_daily.%s + 1",
			 col, col, col);
		if ((rc = db_exec(db, sql, DBV(DI(day), DI(e->market_id), DI(e->product_id)), NULL)) !=
		    DB_OK)
			return rc;
	}
	return rc;
}

int events_lock(struct db *db)
{
	return db_exec(db,
		       "UPDATE analytics_state SET value = value + 1 WHERE name = 'counters_writer'",
		       DBV0, NULL);
}

int events_store(struct db *db, const struct event *e)
{
	if (db_in_tx(db))
		return store(db, e);
	int rc = db_begin(db);
	if (rc != DB_OK)
		return rc;
	rc = events_lock(db);
	if (rc == DB_OK)
		rc = store(db, e);
	if (rc != DB_OK) {
		db_rollback(db);
		return rc;
	}
	return db_commit(db);
}

void analytics_record(struct db *db, const char *event_type, const char *user_id,
		      int64_t market_id, int64_t product_id, const char *json_props)
{
	if (!cfg.analytics_enabled)
		return;
	if (!events_type_ok(event_type) || !user_id) {
		log_warn("analytics_record: refused event %s", event_type);
		return;
	}
	struct event e = {
		.type = event_type,
		.user_id = user_id,
		.visitor = user_id,
		.market_id = market_id,
		.product_id = product_id,
		.results = -1,
		.props_json = json_props,
		.at = time_now(),
		.server = true,
	};
	if ((db_in_tx(db) && events_lock(db) != DB_OK) || events_store(db, &e) != DB_OK)
		log_warn("analytics_record: could not store %s", event_type);
}

void analytics_record_purchase(struct db *db, const char *user_id, int64_t market_id,
			       const char *order_number, int64_t total, const char *currency)
{
	char props[160];
	/* order numbers are [A-Z0-9-] and currencies ISO codes: safe inside JSON */
	snprintf(props, sizeof(props), "{\"order_number\":\"%.40s\",\"total\":%lld,\"currency\":\"%.3s\"}",
		 order_number, (long long)total, currency);
	analytics_record(db, "purchase", user_id, market_id, 0, props);
}

void analytics_record_search(struct db *db, const char *user_id, int64_t market_id,
			     const char *query, int64_t results)
{
	if (!cfg.analytics_enabled || !query)
		return;
	char qbuf[128];
	normalise_query(query, qbuf, sizeof(qbuf));
	const char *q = qbuf;
	int64_t at = time_now();
	if (!*q)
		return;
	if (db_exec(db,
		    "INSERT INTO analytics_search_daily (day, market_id, query, searches, zero_results) "
		    "VALUES ($1, $2, $3, 1, $4) ON CONFLICT (day, market_id, query) DO UPDATE SET "
		    "searches = analytics_search_daily.searches + 1, "
		    "zero_results = analytics_search_daily.zero_results + $4",
		    DBV(DI(at - at % 86400), DI(market_id), DT(q), DI(results == 0)), NULL) != DB_OK) {
		log_warn("analytics_record_search: could not count a search");
		return;
	}
	if (results != 0)
		return;
	/* a search that found nothing is also kept as an event, with who asked */
	char props[48];
	snprintf(props, sizeof(props), "{\"results\":0}");
	struct event e = {
		.type = "search",
		.user_id = user_id,
		.visitor = user_id ? user_id : "anonymous",
		.market_id = market_id,
		.query = query,
		.results = 0,
		.props_json = props,
		.at = at,
		.server = true,
	};
	if (events_store(db, &e) != DB_OK)
		log_warn("analytics_record_search: could not store a zero-result search");
}

/* A small open-addressing table of (ip, window, count); a slot whose window
 * has passed is reused, so it never needs sweeping. */
#define RL_SLOTS 4096
struct rl_slot {
	char ip[64];
	int64_t window;
	int64_t count;
};
static struct rl_slot rl[RL_SLOTS];
static pthread_mutex_t rl_mu = PTHREAD_MUTEX_INITIALIZER;

bool events_rate_allow(const char *ip, int64_t now, int64_t limit)
{
	int64_t window = now / 60;
	unsigned long h = 1469598103934665603UL;
	for (const char *p = ip; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211UL;
	bool allow = true;
	pthread_mutex_lock(&rl_mu);
	struct rl_slot *use = NULL;
	for (int i = 0; i < 16; i++) {
		struct rl_slot *s = &rl[(h + (unsigned long)i) % RL_SLOTS];
		if (strcmp(s->ip, ip) == 0) {
			use = s;
			break;
		}
		if (!use && (s->window != window || !s->ip[0]))
			use = s;
	}
	if (!use) /* a crowded neighbourhood: share the home slot */
		use = &rl[h % RL_SLOTS];
	if (strcmp(use->ip, ip) != 0 || use->window != window) {
		snprintf(use->ip, sizeof(use->ip), "%s", ip);
		use->window = window;
		use->count = 0;
	}
	if (use->count >= limit)
		allow = false;
	else
		use->count++;
	pthread_mutex_unlock(&rl_mu);
	return allow;
}

bool events_prune(struct db *db, int64_t now)
{
	int64_t today = now - now % 86400;
	return db_exec(db, "DELETE FROM analytics_visitor_days WHERE day < $1",
		       DBV(DI(today - 3 * 86400)), NULL) == DB_OK;
}
