/*
 * HTTP handlers of the analytics area: request metrics (JSON and
 * Prometheus), cache metrics, behaviour events, the business dashboard,
 * funnel and insights, alerts, database advice, and the operator page.
 * Every read is admin-only (CONTRACT §2); POST /api/analytics/events is
 * public and rate-limited per client address.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/alerts.h"
#include "analytics/dashboard.h"
#include "analytics/dbadvice.h"
#include "analytics/events.h"
#include "analytics/metrics.h"
#include "api/api.h"
#include "cache/cache.h"
#include "core/config.h"
#include "core/mem.h"
#include "core/money.h"
#include "core/timeutil.h"
#include "db/db.h"
#include "jobs/jobs.h"

struct embedded_file {
	const char *name;
	const unsigned char *data;
	size_t len;
};
extern const struct embedded_file embedded_web[];

/* --- operator page and Prometheus -------------------------------------------- */

static void dashboard_page(struct req *r)
{
	for (const struct embedded_file *f = embedded_web; f->name; f++) {
		if (strcmp(f->name, "dashboard.html") == 0) {
			reply_header(r, "Cache-Control", "no-store");
			reply_bytes(r, 200, "text/html; charset=utf-8", f->data, f->len);
			return;
		}
	}
	reply_error(r, MERR_NOT_FOUND, NULL, "the dashboard page is not built in");
}

static void prometheus(struct req *r)
{
	struct buf b;
	buf_init(&b, 16 * 1024 * 1024);
	metrics_prometheus(&b);
	reply_bytes(r, 200, "text/plain; version=0.0.4; charset=utf-8", b.p ? b.p : "", b.len);
	buf_free(&b);
}

/* --- request metrics --------------------------------------------------------- */

/* Running sums of one group of performance_metrics rows. */
struct agg {
	int64_t count, errors, client_errors, sum_us, max_us;
	int64_t hist[METRICS_BUCKETS];
};

static void agg_add(struct agg *a, const struct db_res *res, int i)
{
	a->count += db_int(res, i, 3);
	a->errors += db_int(res, i, 4);
	a->client_errors += db_int(res, i, 5);
	a->sum_us += db_int(res, i, 6);
	if (db_int(res, i, 7) > a->max_us)
		a->max_us = db_int(res, i, 7);
	metrics_hist_add(a->hist, db_text(res, i, 8));
}

static void agg_write(struct jw *w, const struct agg *a)
{
	jw_kint(w, "count", a->count);
	jw_kint(w, "errors", a->errors);
	jw_kint(w, "client_errors", a->client_errors);
	jw_kreal(w, "error_rate", a->count ? (double)a->errors / (double)a->count : 0.0);
	jw_kreal(w, "avg_ms", a->count ? round((double)a->sum_us / (double)a->count) / 1000.0 : 0.0);
	/* histogram estimates never exceed the largest duration actually seen */
	static const struct {
		const char *key;
		double q;
	} qs[] = {{"p50_ms", 0.50}, {"p95_ms", 0.95}, {"p99_ms", 0.99}};
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		double us = metrics_quantile_us(a->hist, a->count, qs[i].q);
		jw_kreal(w, qs[i].key, round(us < (double)a->max_us ? us : (double)a->max_us) / 1000.0);
	}
	jw_kreal(w, "max_ms", (double)a->max_us / 1000.0);
}

/* Rows come sorted by group; write one object per run of equal keys. */
static bool write_groups(struct req *r, struct jw *w, const char *sql, int64_t since, bool hourly)
{
	struct db_res res;
	if (db_query(req_db(r), &res, sql, DBV(DI(since))) != DB_OK)
		return false;
	jw_arr(w);
	struct agg *a = xcalloc(1, sizeof(*a));
	for (int i = 0; i < res.nrows; i++) {
		agg_add(a, &res, i);
		bool last = i + 1 == res.nrows || db_int(&res, i, 0) != db_int(&res, i + 1, 0) ||
			    strcmp(db_text(&res, i, 1), db_text(&res, i + 1, 1)) != 0 ||
			    strcmp(db_text(&res, i, 2), db_text(&res, i + 1, 2)) != 0;
		if (!last)
			continue;
		jw_obj(w);
		if (hourly)
			jw_time(w, "hour", db_int(&res, i, 0) * 3600);
		jw_kstr(w, "method", db_text(&res, i, 1));
		jw_kstr(w, "route", db_text(&res, i, 2));
		agg_write(w, a);
		jw_obj_end(w);
		memset(a, 0, sizeof(*a));
	}
	free(a);
	jw_arr_end(w);
	db_res_free(&res);
	return true;
}

static void performance_metrics(struct req *r)
{
	int64_t hours;
	if (!query_int_or_400(r, "hours", 1, 720, 24, &hours))
		return;
	int64_t now = time_now();
	/* every instance's last partial minute, so a read sees every request so far */
	bool cluster;
	if (!metrics_flush_cluster(req_db(r), now, &cluster)) {
		reply_error(r, MERR_UNAVAILABLE, NULL, "could not write pending metrics");
		return;
	}
	int64_t since = now - hours * 3600;
	since -= since % 60;
	struct jw w;
	reply_begin(r, &w);
	jw_obj(&w);
	jw_kstr(&w, "scope", cluster ? "cluster" : "instance");
	jw_kint(&w, "hours", hours);
	jw_time(&w, "since", since);
	jw_key(&w, "data");
	bool ok = write_groups(r, &w,
			       "SELECT minute / 3600, method, route, count, errors, client_errors, sum_us, "
			       "max_us, hist FROM performance_metrics WHERE minute >= $1 "
			       "ORDER BY minute / 3600, method, route",
			       since, true);
	jw_key(&w, "routes");
	ok = ok && write_groups(r, &w,
				"SELECT 0, method, route, count, errors, client_errors, sum_us, max_us, "
				"hist FROM performance_metrics WHERE minute >= $1 ORDER BY method, route",
				since, false);
	jw_obj_end(&w);
	if (!ok) {
		reply_error(r, MERR_INTERNAL, NULL, NULL);
		return;
	}
	reply_end(r, 200);
}

static bool name_ok(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			return false;
	return true;
}

static void performance_record(struct req *r)
{
	static const char *const top[] = {"metrics", NULL};
	static const char *const item[] = {"service", "method", "route", "duration_ms", "status",
					   "timestamp", NULL};
	json_t *j = req_json_or_400(r, top);
	json_t *arr;
	struct verr e;
	if (!j)
		return;
	if (!jsonin_arr(j, "metrics", true, 100, &arr, &e)) {
		reply_verr(r, &e);
		return;
	}
	if (!json_array_size(arr)) {
		reply_error(r, MERR_VALIDATION, "metrics", "'metrics' must hold 1 to 100 items");
		return;
	}
	int64_t now = time_now();
	struct db *db = req_db(r);
	if (db_begin(db) != DB_OK) {
		reply_error(r, MERR_UNAVAILABLE, NULL, NULL);
		return;
	}
	size_t i;
	json_t *m;
	json_array_foreach(arr, i, m)
	{
		const char *service, *method, *route, *ts;
		int64_t status, at = now;
		json_t *d = json_is_object(m) ? json_object_get(m, "duration_ms") : NULL;
		bool ok = json_is_object(m) && jsonin_only(m, item, "", &e) &&
			  jsonin_str(m, "service", true, 1, 32, NULL, &service, &e) &&
			  jsonin_str(m, "method", false, 1, 7, "GET", &method, &e) &&
			  jsonin_str(m, "route", true, 1, 200, NULL, &route, &e) &&
			  jsonin_int(m, "status", false, 100, 599, 200, &status, &e) &&
			  jsonin_str(m, "timestamp", false, 1, 40, NULL, &ts, &e);
		if (ok && !name_ok(service))
			ok = verr_set(&e, MERR_VALIDATION, "service", "'service' may hold a-z, 0-9, _ and -");
		if (ok && (!json_is_number(d) || json_number_value(d) < 0 ||
			   json_number_value(d) > 3600000))
			ok = verr_set(&e, MERR_VALIDATION, "duration_ms",
				      "'duration_ms' must be a number from 0 to 3600000");
		if (ok && ts) {
			at = time_parse_rfc3339(ts);
			if (at < 0 || at > now + 300 || at < now - 7 * 86400)
				ok = verr_set(&e, MERR_VALIDATION, "timestamp",
					      "'timestamp' must be an RFC 3339 time within the last 7 days");
		}
		if (!json_is_object(m) && !ok)
			verr_set(&e, MERR_VALIDATION, "", "each metric must be an object");
		if (!ok) {
			db_rollback(db);
			char field[96];
			snprintf(field, sizeof(field), "metrics[%zu]%s%.60s", i, *e.field ? "." : "", e.field);
			reply_error(r, MERR_VALIDATION, field, e.message);
			return;
		}
		int64_t us = (int64_t)llround(json_number_value(d) * 1000.0);
		int64_t hist[METRICS_BUCKETS] = {0};
		hist[metrics_bucket(us)] = 1;
		struct buf hb;
		buf_init(&hb, 256);
		metrics_hist_encode(&hb, hist);
		const char *hp = hb.p;
		int rc = db_exec(db,
				 "INSERT INTO performance_metrics (minute, instance, source, method, route, "
				 "count, errors, client_errors, sum_us, max_us, hist) "
				 "VALUES ($1, 'external', $2, $3, $4, 1, $5, $6, $7, $7, $8)",
				 DBV(DI(at - at % 60), DT(service), DT(method), DT(route),
				     DI(status >= 500), DI(status >= 400 && status < 500), DI(us), DT(hp)),
				 NULL);
		buf_free(&hb);
		if (rc != DB_OK) {
			db_rollback(db);
			reply_error(r, MERR_UNAVAILABLE, NULL, NULL);
			return;
		}
	}
	if (db_commit(db) != DB_OK) {
		reply_error(r, MERR_UNAVAILABLE, NULL, NULL);
		return;
	}
	struct jw w;
	reply_begin(r, &w);
	jw_obj(&w);
	jw_kint(&w, "recorded", (int64_t)json_array_size(arr));
	jw_obj_end(&w);
	reply_end(r, 201);
}

/* --- cache metrics ------------------------------------------------------------ */

static void cache_metrics(struct req *r)
{
	int64_t now = time_now();
	bool cluster;
	if (!metrics_flush_cluster(req_db(r), now, &cluster)) {
		reply_error(r, MERR_UNAVAILABLE, NULL, "could not snapshot cache metrics");
		return;
	}
	/* several instances: the sum of everyone's flushed counters; one: its own */
	struct cache_stats st[CACHE_MAX_NAMES];
	int n = cluster ? metrics_cache_totals(req_db(r), st, CACHE_MAX_NAMES)
			: cache_stats(st, CACHE_MAX_NAMES);
	if (n < 0) {
		reply_error(r, MERR_INTERNAL, NULL, NULL);
		return;
	}
	int64_t th = 0, tm = 0;
	struct jw w;
	reply_begin(r, &w);
	jw_obj(&w);
	jw_kstr(&w, "backend", cache_backend_name());
	jw_kstr(&w, "status", cache_status());
	jw_kstr(&w, "instance", jobs_holder());
	jw_kstr(&w, "scope", cluster ? "cluster" : "instance");
	jw_key(&w, "data");
	jw_arr(&w);
	for (int i = 0; i < n; i++) {
		int64_t lookups = st[i].hits + st[i].misses;
		th += st[i].hits;
		tm += st[i].misses;
		jw_obj(&w);
		jw_kstr(&w, "name", st[i].name);
		jw_kint(&w, "hits", st[i].hits);
		jw_kint(&w, "misses", st[i].misses);
		if (lookups)
			jw_kreal(&w, "hit_rate", (double)st[i].hits / (double)lookups);
		else
			jw_knull(&w, "hit_rate");
		jw_kint(&w, "evictions", st[i].evictions);
		jw_kint(&w, "entries", st[i].entries);
		jw_kint(&w, "bytes", st[i].bytes);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_key(&w, "total");
	jw_obj(&w);
	jw_kint(&w, "hits", th);
	jw_kint(&w, "misses", tm);
	if (th + tm)
		jw_kreal(&w, "hit_rate", (double)th / (double)(th + tm));
	else
		jw_knull(&w, "hit_rate");
	jw_obj_end(&w);
	jw_obj_end(&w);
	reply_end(r, 200);
}

/* --- behaviour events ----------------------------------------------------------- */

static bool decode_event(struct req *r, json_t *o, int64_t now, struct event *ev, struct verr *e)
{
	static const char *const fields[] = {"type", "session_id", "market", "product_id", "query",
					     "results", "properties", "timestamp", NULL};
	const char *market, *ts;
	json_t *props;
	if (!json_is_object(o))
		return verr_set(e, MERR_VALIDATION, "", "each event must be an object");
	if (!jsonin_only(o, fields, "", e) ||
	    !jsonin_str(o, "type", true, 1, 32, NULL, &ev->type, e) ||
	    !jsonin_str(o, "session_id", false, 1, 64, NULL, &ev->session_id, e) ||
	    !jsonin_str(o, "market", false, 2, 2, NULL, &market, e) ||
	    !jsonin_int(o, "product_id", false, 1, INT64_MAX, 0, &ev->product_id, e) ||
	    !jsonin_str(o, "query", false, 1, 200, NULL, &ev->query, e) ||
	    !jsonin_int(o, "results", false, 0, INT32_MAX, -1, &ev->results, e) ||
	    !jsonin_obj(o, "properties", false, &props, e) ||
	    !jsonin_str(o, "timestamp", false, 1, 40, NULL, &ts, e))
		return false;
	if (!events_type_ok(ev->type)) {
		struct buf b;
		buf_init(&b, 512);
		for (const char *const *t = events_types(); *t; t++)
			buf_printf(&b, "%s%s", t == events_types() ? "" : ", ", *t);
		verr_set(e, MERR_VALIDATION, "type", "'type' must be one of %s", b.p);
		buf_free(&b);
		return false;
	}
	if (market) {
		const struct market *m = market_get(market);
		if (!m)
			return verr_set(e, MERR_UNKNOWN_MARKET, "market", "unknown market '%s'", market);
		ev->market_id = m->id;
	}
	if (strcmp(ev->type, "search") == 0 && !ev->query)
		return verr_set(e, MERR_VALIDATION, "query", "a search event needs 'query'");
	ev->at = now;
	if (ts) {
		ev->at = time_parse_rfc3339(ts);
		/* daily visitor marks are kept for three days (events_prune) */
		if (ev->at < 0 || ev->at > now + 300 || ev->at < now - now % 86400 - 2 * 86400)
			return verr_set(e, MERR_VALIDATION, "timestamp",
					"'timestamp' must be an RFC 3339 time from the day before yesterday (UTC) until now");
	}
	ev->props_json = NULL;
	if (props) {
		char *s = json_dumps(props, JSON_COMPACT);
		if (!s || strlen(s) > 2048) {
			free(s);
			return verr_set(e, MERR_VALIDATION, "properties",
					"'properties' must be at most 2048 bytes of JSON");
		}
		ev->props_json = arena_strdup(&r->a, s);
		free(s);
	}
	ev->user_id = r->auth.authenticated ? r->auth.sub : NULL;
	if (ev->user_id)
		ev->visitor = ev->user_id;
	else if (ev->session_id)
		ev->visitor = arena_printf(&r->a, "s:%s", ev->session_id);
	else
		ev->visitor = arena_printf(&r->a, "ip:%s", r->client_ip);
	ev->server = false;
	return true;
}

static void post_events(struct req *r)
{
	static const char *const top[] = {"events", NULL};
	int64_t now = time_now();
	if (!events_rate_allow(r->client_ip, now, cfg.analytics_events_per_minute)) {
		reply_header(r, "Retry-After", arena_printf(&r->a, "%lld", (long long)(60 - now % 60)));
		reply_error(r, MERR_RATE_LIMITED, NULL, "too many event batches from this address; retry later");
		return;
	}
	json_t *j = req_json_or_400(r, top);
	json_t *arr;
	struct verr e;
	if (!j)
		return;
	if (!jsonin_arr(j, "events", true, EVENTS_MAX_BATCH, &arr, &e)) {
		reply_verr(r, &e);
		return;
	}
	size_t n = json_array_size(arr);
	if (!n) {
		reply_error(r, MERR_VALIDATION, "events", "'events' must hold 1 to 100 events");
		return;
	}
	struct event *evs = arena_alloc(&r->a, n * sizeof(*evs));
	for (size_t i = 0; i < n; i++) {
		if (!decode_event(r, json_array_get(arr, i), now, &evs[i], &e)) {
			char field[96];
			snprintf(field, sizeof(field), "events[%zu]%s%.60s", i, *e.field ? "." : "", e.field);
			reply_error(r, e.code, field, e.message);
			return;
		}
	}
	if (cfg.analytics_enabled) {
		struct db *db = req_db(r);
		if (db_begin(db) != DB_OK || events_lock(db) != DB_OK) {
			db_rollback(db);
			reply_error(r, MERR_UNAVAILABLE, NULL, NULL);
			return;
		}
		if (events_store_batch(db, evs, (int)n) != DB_OK) {
			db_rollback(db);
			reply_error(r, MERR_UNAVAILABLE, NULL, "could not store the events");
			return;
		}
		if (db_commit(db) != DB_OK) {
			reply_error(r, MERR_UNAVAILABLE, NULL, "could not store the events");
			return;
		}
	}
	struct jw w;
	reply_begin(r, &w);
	jw_obj(&w);
	jw_kint(&w, "accepted", (int64_t)n);
	jw_kbool(&w, "recorded", cfg.analytics_enabled);
	jw_obj_end(&w);
	reply_end(r, 202);
}

/* --- dashboard, funnel, insights ----------------------------------------------- */

/* The optional `market` filter: NULL (all markets) or the market; false after replying. */
static bool market_filter(struct req *r, const struct market **m)
{
	const char *code = req_query(r, "market");
	*m = NULL;
	if (!code)
		return true;
	*m = market_or_400(r, code, true);
	return *m != NULL;
}

static bool period_or_400(struct req *r, const char *def, const char **name, int64_t *start,
			  int64_t *end, int64_t *prev)
{
	*name = req_query(r, "period");
	if (!*name)
		*name = def;
	if (!dashboard_period(*name, time_now(), start, end, prev)) {
		reply_error(r, MERR_VALIDATION, "period", "'period' must be daily, weekly or monthly");
		return false;
	}
	return true;
}

/* {"value", "previous", "change_bps", "change"} with display strings for money. */
static void kpi(struct jw *w, const char *key, int64_t cur, int64_t prev, const char *currency)
{
	jw_key(w, key);
	jw_obj(w);
	if (currency) {
		jw_money(w, "value", cur, currency);
		jw_money(w, "previous", prev, currency);
	} else {
		jw_kint(w, "value", cur);
		jw_kint(w, "previous", prev);
	}
	int64_t bps;
	if (change_bps(cur, prev, &bps)) {
		int64_t a = bps < 0 ? -bps : bps;
		char s[32];
		snprintf(s, sizeof(s), "%s%lld.%lld %%", bps > 0 ? "\u2191" : bps < 0 ? "\u2193" : "",
			 (long long)(a / 100), (long long)(a % 100 / 10));
		jw_kint(w, "change_bps", bps);
		jw_kstr(w, "change", s);
	} else {
		jw_knull(w, "change_bps");
		jw_knull(w, "change");
	}
	jw_obj_end(w);
}

/* A ratio in basis points, rounded half up; -1 when den is 0. */
static int64_t ratio_bps(int64_t num, int64_t den)
{
	return den > 0 && num >= 0 ? money_div_round(num * 10000, den) : -1;
}

static void rate_kpi(struct jw *w, const char *key, int64_t cur, int64_t prev)
{
	jw_key(w, key);
	jw_obj(w);
	if (cur >= 0)
		jw_kint(w, "value_bps", cur);
	else
		jw_knull(w, "value_bps");
	if (prev >= 0)
		jw_kint(w, "previous_bps", prev);
	else
		jw_knull(w, "previous_bps");
	int64_t bps;
	if (cur >= 0 && prev > 0 && change_bps(cur, prev, &bps)) {
		int64_t a = bps < 0 ? -bps : bps;
		char s[32];
		snprintf(s, sizeof(s), "%s%lld.%lld %%", bps > 0 ? "\u2191" : bps < 0 ? "\u2193" : "",
			 (long long)(a / 100), (long long)(a % 100 / 10));
		jw_kint(w, "change_bps", bps);
		jw_kstr(w, "change", s);
	} else {
		jw_knull(w, "change_bps");
		jw_knull(w, "change");
	}
	jw_obj_end(w);
}

static int64_t abandonment_bps(const struct kpis *k)
{
	if (!k->steps[1])
		return -1;
	int64_t left = k->steps[1] - k->steps[3];
	return ratio_bps(left < 0 ? 0 : left, k->steps[1]);
}

static void write_kpis(struct jw *w, const struct kpis *c, const struct kpis *p, const char *cur)
{
	kpi(w, "revenue", c->revenue, p->revenue, cur);
	kpi(w, "orders", c->orders, p->orders, NULL);
	kpi(w, "average_order_value", c->orders ? money_div_round(c->revenue, c->orders) : 0,
	    p->orders ? money_div_round(p->revenue, p->orders) : 0, cur);
	rate_kpi(w, "conversion_rate", ratio_bps(c->steps[3], c->visitors),
		 ratio_bps(p->steps[3], p->visitors));
	rate_kpi(w, "cart_abandonment_rate", abandonment_bps(c), abandonment_bps(p));
	kpi(w, "visitors", c->visitors, p->visitors, NULL);
	kpi(w, "new_customers", c->new_customers, p->new_customers, NULL);
	kpi(w, "returning_customers", c->returning_customers, p->returning_customers, NULL);
}

/* Minor units of currency in US cents at EXCHANGE_RATE_USD_INR; false if unsupported. */
static bool to_usd(int64_t amount, const char *currency, int64_t *usd)
{
	if (strcmp(currency, "USD") == 0) {
		*usd = amount;
		return true;
	}
	int64_t micro;
	if (strcmp(currency, "INR") == 0 && config_parse_micro(cfg.exchange_rate_usd_inr, &micro) &&
	    micro > 0) {
		/* paise / (rupees per dollar) = cents, both hundredths */
		*usd = amount >= 0 ? money_div_round(amount * 1000000, micro)
				   : -money_div_round(-amount * 1000000, micro);
		return true;
	}
	return false;
}

static void ecommerce_dashboard(struct req *r)
{
	const char *period;
	int64_t start, end, prev;
	const struct market *only;
	if (!period_or_400(r, "daily", &period, &start, &end, &prev) || !market_filter(r, &only))
		return;
	events_flush(req_db(r)); /* this instance's queued events count too */
	struct db *db = req_db_read(r);
	int nm;
	const struct market *all = market_all(&nm);
	struct kpis tc = {0}, tp = {0};
	struct jw w;
	reply_begin(r, &w);
	jw_obj(&w);
	jw_kstr(&w, "period", period);
	jw_time(&w, "start", start);
	jw_time(&w, "end", end);
	jw_time(&w, "previous_start", prev);
	jw_key(&w, "markets");
	jw_arr(&w);
	for (int i = 0; i < nm; i++) {
		const struct market *m = &all[i];
		if (only && only->id != m->id)
			continue;
		struct kpis c, p;
		struct top_product top[5];
		int nt;
		if (!dashboard_kpis(db, m->id, start, end, &c) || !dashboard_kpis(db, m->id, prev, start, &p) ||
		    (nt = dashboard_top_products(db, m->id, start, end, prev, top, 5)) < 0) {
			reply_error(r, MERR_INTERNAL, NULL, NULL);
			return;
		}
		jw_obj(&w);
		jw_kstr(&w, "market", m->code);
		jw_kstr(&w, "currency", m->currency);
		write_kpis(&w, &c, &p, m->currency);
		jw_key(&w, "top_products");
		jw_arr(&w);
		for (int t = 0; t < nt; t++) {
			jw_obj(&w);
			jw_kint(&w, "product_id", top[t].product_id);
			jw_kstr(&w, "name", top[t].name);
			jw_kstr(&w, "currency", m->currency);
			kpi(&w, "revenue", top[t].revenue, top[t].prev_revenue, m->currency);
			kpi(&w, "units", top[t].units, top[t].prev_units, NULL);
			jw_kint(&w, "views", top[t].views);
			jw_obj_end(&w);
		}
		jw_arr_end(&w);
		jw_obj_end(&w);
		int64_t cu, pu;
		if (to_usd(c.revenue, m->currency, &cu) && to_usd(p.revenue, m->currency, &pu)) {
			tc.revenue += cu;
			tp.revenue += pu;
		}
		tc.orders += c.orders;
		tp.orders += p.orders;
		tc.visitors += c.visitors;
		tp.visitors += p.visitors;
		tc.new_customers += c.new_customers;
		tp.new_customers += p.new_customers;
		tc.returning_customers += c.returning_customers;
		tp.returning_customers += p.returning_customers;
		for (int s = 0; s < 4; s++) {
			tc.steps[s] += c.steps[s];
			tp.steps[s] += p.steps[s];
		}
	}
	jw_arr_end(&w);
	if (!only) {
		jw_key(&w, "combined");
		jw_obj(&w);
		jw_kstr(&w, "currency", "USD");
		jw_kstr(&w, "exchange_rate_usd_inr", cfg.exchange_rate_usd_inr);
		write_kpis(&w, &tc, &tp, "USD");
		jw_obj_end(&w);
	}
	jw_obj_end(&w);
	reply_end(r, 200);
}

static void write_funnel(struct jw *w, const struct kpis *k)
{
	jw_arr(w);
	for (int s = 0; s < 4; s++) {
		jw_obj(w);
		jw_kstr(w, "step", events_funnel_steps[s]);
		jw_kint(w, "visitors", k->steps[s]);
		jw_kint(w, "events", k->events[s]);
		int64_t from_prev = s ? ratio_bps(k->steps[s], k->steps[s - 1]) : -1;
		int64_t from_start = ratio_bps(k->steps[s], k->steps[0]);
		if (s && from_prev >= 0)
			jw_kint(w, "rate_from_previous_bps", from_prev);
		else
			jw_knull(w, "rate_from_previous_bps");
		if (from_start >= 0)
			jw_kint(w, "rate_from_start_bps", from_start);
		else
			jw_knull(w, "rate_from_start_bps");
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

static void conversion_funnel(struct req *r)
{
	const char *period;
	int64_t start, end, prev;
	const struct market *only;
	if (!period_or_400(r, "daily", &period, &start, &end, &prev) || !market_filter(r, &only))
		return;
	struct kpis c, p;
	events_flush(req_db(r)); /* this instance's queued events count too */
	struct db *db = req_db_read(r);
	int64_t mid = only ? only->id : 0;
	if (!dashboard_kpis(db, mid, start, end, &c) || !dashboard_kpis(db, mid, prev, start, &p)) {
		reply_error(r, MERR_INTERNAL, NULL, NULL);
		return;
	}
	struct jw w;
	reply_begin(r, &w);
	jw_obj(&w);
	jw_kstr(&w, "period", period);
	jw_kstr_or_null(&w, "market", only ? only->code : NULL);
	jw_time(&w, "start", start);
	jw_time(&w, "end", end);
	jw_kint(&w, "visitors", c.visitors);
	jw_key(&w, "steps");
	write_funnel(&w, &c);
	rate_kpi(&w, "conversion_rate", ratio_bps(c.steps[3], c.visitors),
		 ratio_bps(p.steps[3], p.visitors));
	jw_key(&w, "previous_steps");
	write_funnel(&w, &p);
	jw_obj_end(&w);
	reply_end(r, 200);
}

static void write_ranked(struct jw *w, const char *key, const struct ranked *x, int n, bool product)
{
	jw_key(w, key);
	jw_arr(w);
	for (int i = 0; i < n; i++) {
		jw_obj(w);
		if (product) {
			jw_kint(w, "product_id", x[i].id);
			jw_kstr(w, "name", x[i].key);
			jw_kint(w, "views", x[i].count);
			jw_kint(w, "add_to_carts", x[i].extra);
		} else {
			jw_kstr(w, "query", x[i].key);
			jw_kint(w, "searches", x[i].count);
			jw_kint(w, "zero_results", x[i].extra);
		}
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

static void behavior_insights(struct req *r)
{
	const char *period;
	int64_t start, end, prev, limit;
	const struct market *only;
	if (!period_or_400(r, "weekly", &period, &start, &end, &prev) || !market_filter(r, &only) ||
	    !query_int_or_400(r, "limit", 1, 50, 10, &limit))
		return;
	events_flush(req_db(r)); /* this instance's queued events count too */
	struct db *db = req_db_read(r);
	int64_t mid = only ? only->id : 0;
	struct ranked *viewed = arena_alloc(&r->a, (size_t)limit * sizeof(*viewed));
	struct ranked *searched = arena_alloc(&r->a, (size_t)limit * sizeof(*searched));
	struct ranked *zero = arena_alloc(&r->a, (size_t)limit * sizeof(*zero));
	struct kpis k;
	int nv = insights_top_viewed(db, mid, start, end, viewed, (int)limit);
	int ns = insights_top_searches(db, mid, start, end, false, searched, (int)limit);
	int nz = insights_top_searches(db, mid, start, end, true, zero, (int)limit);
	if (nv < 0 || ns < 0 || nz < 0 || !dashboard_kpis(db, mid, start, end, &k)) {
		reply_error(r, MERR_INTERNAL, NULL, NULL);
		return;
	}
	struct jw w;
	reply_begin(r, &w);
	jw_obj(&w);
	jw_kstr(&w, "period", period);
	jw_kstr_or_null(&w, "market", only ? only->code : NULL);
	jw_time(&w, "start", start);
	jw_time(&w, "end", end);
	write_ranked(&w, "top_viewed_products", viewed, nv, true);
	write_ranked(&w, "top_searches", searched, ns, false);
	write_ranked(&w, "zero_result_searches", zero, nz, false);
	jw_key(&w, "drop_off");
	jw_arr(&w);
	int worst = -1;
	int64_t worst_bps = -1;
	for (int s = 0; s < 3; s++) {
		int64_t kept = ratio_bps(k.steps[s + 1], k.steps[s]);
		int64_t lost = kept >= 0 ? (kept > 10000 ? 0 : 10000 - kept) : -1;
		jw_obj(&w);
		jw_kstr(&w, "from", events_funnel_steps[s]);
		jw_kstr(&w, "to", events_funnel_steps[s + 1]);
		jw_kint(&w, "from_visitors", k.steps[s]);
		jw_kint(&w, "to_visitors", k.steps[s + 1]);
		if (lost >= 0)
			jw_kint(&w, "drop_off_bps", lost);
		else
			jw_knull(&w, "drop_off_bps");
		jw_obj_end(&w);
		if (lost > worst_bps) {
			worst_bps = lost;
			worst = s;
		}
	}
	jw_arr_end(&w);
	if (worst >= 0)
		jw_kstr(&w, "biggest_drop_off", events_funnel_steps[worst + 1]);
	else
		jw_knull(&w, "biggest_drop_off");
	jw_obj_end(&w);
	reply_end(r, 200);
}

/* --- alerts ---------------------------------------------------------------------- */

static void write_alert_fields(struct jw *w, const struct alert *a)
{
	jw_kint(w, "id", a->id);
	jw_kstr(w, "alert_type", a->alert_type);
	jw_kstr(w, "severity", a->severity);
	jw_kstr(w, "message", a->message);
	jw_key(w, "context");
	if (a->context && *a->context == '{')
		jw_raw(w, a->context, strlen(a->context));
	else
		jw_raw(w, "{}", 2);
	jw_kstr(w, "status", a->status);
	jw_kstr_or_null(w, "dedup_key", *a->dedup_key ? a->dedup_key : NULL);
	jw_time(w, "created_at", a->created_at);
	jw_time(w, "acknowledged_at", a->acknowledged_at);
	jw_time(w, "resolved_at", a->resolved_at);
	jw_kstr_or_null(w, "resolution", *a->resolution ? a->resolution : NULL);
}

static void write_alert(struct jw *w, const struct alert *a)
{
	jw_obj(w);
	write_alert_fields(w, a);
	jw_obj_end(w);
}

static void list_alerts(struct req *r)
{
	const char *status = req_query(r, "status"), *severity = req_query(r, "severity");
	int64_t limit, before;
	if (!id_page_or_400(r, &limit, &before))
		return;
	if (status && strcmp(status, "all") == 0)
		status = NULL;
	if (status && strcmp(status, "open") != 0 && strcmp(status, "acknowledged") != 0 &&
	    strcmp(status, "resolved") != 0) {
		reply_error(r, MERR_VALIDATION, "status",
			    "'status' must be open, acknowledged, resolved or all");
		return;
	}
	if (severity && !alert_severity_ok(severity)) {
		reply_error(r, MERR_VALIDATION, "severity", "'severity' must be low, medium, high or critical");
		return;
	}
	struct alert *as;
	int n = alert_list(req_db_read(r), status, severity, before, (int)limit + 1, &as);
	if (n < 0) {
		reply_error(r, MERR_INTERNAL, NULL, NULL);
		return;
	}
	struct jw w;
	bool more;
	int shown = list_begin(r, &w, n, limit, &more);
	for (int i = 0; i < shown; i++)
		write_alert(&w, &as[i]);
	list_end(r, &w, more, shown ? as[shown - 1].id : 0);
	for (int i = 0; i < n; i++)
		alert_free(&as[i]);
	free(as);
}

static void create_alert(struct req *r)
{
	static const char *const fields[] = {"alert_type", "severity", "message", "context",
					     "dedup_key", NULL};
	json_t *j = req_json_or_400(r, fields);
	struct verr e;
	const char *type, *severity, *message, *dedup;
	json_t *ctx;
	if (!j)
		return;
	if (!jsonin_str(j, "alert_type", true, 1, 64, NULL, &type, &e) ||
	    !jsonin_str(j, "severity", true, 1, 16, NULL, &severity, &e) ||
	    !jsonin_str(j, "message", true, 1, 500, NULL, &message, &e) ||
	    !jsonin_obj(j, "context", false, &ctx, &e) ||
	    !jsonin_str(j, "dedup_key", false, 1, 160, NULL, &dedup, &e)) {
		reply_verr(r, &e);
		return;
	}
	if (!name_ok(type)) {
		reply_error(r, MERR_VALIDATION, "alert_type", "'alert_type' may hold a-z, 0-9, _ and -");
		return;
	}
	if (!alert_severity_ok(severity)) {
		reply_error(r, MERR_VALIDATION, "severity", "'severity' must be low, medium, high or critical");
		return;
	}
	char *ctx_text = ctx ? json_dumps(ctx, JSON_COMPACT) : NULL;
	if (ctx_text && strlen(ctx_text) > 4096) {
		free(ctx_text);
		reply_error(r, MERR_VALIDATION, "context", "'context' must be at most 4096 bytes of JSON");
		return;
	}
	struct alert a;
	bool created;
	enum merr m = alert_raise(req_db(r), type, severity, message, ctx_text, dedup, time_now(), &a,
				  &created);
	free(ctx_text);
	if (m != MERR_OK) {
		reply_error(r, m, NULL, NULL);
		return;
	}
	struct jw w;
	reply_begin(r, &w);
	jw_obj(&w);
	write_alert_fields(&w, &a);
	jw_kbool(&w, "deduplicated", !created);
	jw_obj_end(&w);
	alert_free(&a);
	reply_end(r, created ? 201 : 200);
}

static void alert_reply(struct req *r, enum merr m, struct alert *a)
{
	if (m != MERR_OK) {
		reply_error(r, m, NULL,
			    m == MERR_INVALID_STATE ? "the alert is already in that state or resolved" : NULL);
		return;
	}
	struct jw w;
	reply_begin(r, &w);
	write_alert(&w, a);
	alert_free(a);
	reply_end(r, 200);
}

static void acknowledge_alert(struct req *r)
{
	int64_t id;
	struct alert a;
	if (!req_param_id(r, "id", &id))
		return;
	alert_reply(r, alert_acknowledge(req_db(r), id, time_now(), &a), &a);
}

static void resolve_alert(struct req *r)
{
	static const char *const fields[] = {"resolution", NULL};
	int64_t id;
	const char *resolution = "resolved by an operator";
	struct verr e;
	struct alert a;
	if (!req_param_id(r, "id", &id))
		return;
	if (r->body.len) {
		json_t *j = req_json_or_400(r, fields);
		if (!j)
			return;
		if (!jsonin_str(j, "resolution", false, 1, 250, resolution, &resolution, &e)) {
			reply_verr(r, &e);
			return;
		}
	}
	alert_reply(r, alert_resolve(req_db(r), id, resolution, time_now(), &a), &a);
}

/* --- database advice ---------------------------------------------------------------- */

static void database_optimization(struct req *r)
{
	int64_t hours, limit;
	if (!query_int_or_400(r, "hours", 1, 720, 24, &hours) ||
	    !query_int_or_400(r, "limit", 1, 50, 10, &limit))
		return;
	int64_t now = time_now();
	struct db *db = req_db(r);
	if (!dbadvice_flush(db, now)) {
		reply_error(r, MERR_UNAVAILABLE, NULL, "could not write the slow-query log");
		return;
	}
	struct dbadvice *adv = arena_alloc(&r->a, (size_t)limit * sizeof(*adv));
	int n = dbadvice_analyse(db, now - hours * 3600, now, adv, (int)limit);
	if (n < 0) {
		reply_error(r, MERR_INTERNAL, NULL, NULL);
		return;
	}
	struct jw w;
	reply_begin(r, &w);
	jw_obj(&w);
	jw_kint(&w, "hours", hours);
	jw_kint(&w, "slow_query_ms", cfg.slow_query_ms);
	jw_kstr(&w, "driver", db_conn_dialect(db)->name);
	jw_key(&w, "data");
	jw_arr(&w);
	for (int i = 0; i < n; i++) {
		jw_obj(&w);
		jw_kstr(&w, "fingerprint", adv[i].fingerprint);
		jw_kstr(&w, "sql", adv[i].sql);
		jw_kint(&w, "calls", adv[i].calls);
		jw_kreal(&w, "total_ms", (double)adv[i].total_us / 1000.0);
		jw_kreal(&w, "avg_ms", adv[i].calls ? (double)adv[i].total_us / (double)adv[i].calls / 1000.0 : 0);
		jw_kreal(&w, "max_ms", (double)adv[i].max_us / 1000.0);
		jw_kstr_or_null(&w, "plan", adv[i].plan);
		jw_key(&w, "suggestions");
		jw_raw(&w, adv[i].suggestions, strlen(adv[i].suggestions));
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
	dbadvice_free(adv, n);
	reply_end(r, 200);
}

const struct route routes_analytics[] = {
	{"GET", "/dashboard", dashboard_page, ROLE_PUBLIC, RF_NONE, "Operator dashboard page (HTML; asks for an admin token)"},
	{"GET", "/metrics", prometheus, ROLE_ADMIN, RF_NONE, "Request and cache metrics in Prometheus text format (admin)"},
	{"GET", "/api/analytics/performance/metrics", performance_metrics, ROLE_ADMIN, RF_NONE, "Latency, counts and error rate per route per hour (admin)"},
	{"POST", "/api/analytics/performance/record", performance_record, ROLE_ADMIN, RF_NONE, "Record request metrics measured by another service (admin)"},
	{"GET", "/api/analytics/cache/metrics", cache_metrics, ROLE_ADMIN, RF_NONE, "Hits, misses, hit rate, evictions, entries and bytes per named cache (admin)"},
	{"POST", "/api/analytics/events", post_events, ROLE_PUBLIC, RF_AUTH_OPTIONAL, "Record a batch of up to 100 behaviour events"},
	{"GET", "/api/analytics/ecommerce/dashboard", ecommerce_dashboard, ROLE_ADMIN, RF_NONE, "Business KPIs per market and combined in USD, against the previous period (admin)"},
	{"GET", "/api/analytics/ecommerce/conversion-funnel", conversion_funnel, ROLE_ADMIN, RF_NONE, "View, cart, checkout and purchase counts with step rates (admin)"},
	{"GET", "/api/analytics/behavior/insights", behavior_insights, ROLE_ADMIN, RF_NONE, "Top viewed, top searched, zero-result searches, drop-off points (admin)"},
	{"GET", "/api/analytics/alerts", list_alerts, ROLE_ADMIN, RF_NONE, "System alerts, newest first (admin)"},
	{"POST", "/api/analytics/alerts/create", create_alert, ROLE_ADMIN, RF_NONE, "Raise an alert, deduplicated while open (admin)"},
	{"POST", "/api/analytics/alerts/{id}/acknowledge", acknowledge_alert, ROLE_ADMIN, RF_NONE, "Acknowledge an open alert (admin)"},
	{"POST", "/api/analytics/alerts/{id}/resolve", resolve_alert, ROLE_ADMIN, RF_NONE, "Resolve an alert (admin)"},
	{"GET", "/api/analytics/database/optimization", database_optimization, ROLE_ADMIN, RF_NONE, "Slowest queries by total time with plans and index suggestions (admin)"},
	{0},
};
