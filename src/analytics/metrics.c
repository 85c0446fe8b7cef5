#include "analytics/metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"
#include "core/log.h"
#include "core/strconv.h"
#include "core/timeutil.h"
#include "db/db.h"
#include "jobs/jobs.h"

#define MAX_SLOTS 512 /* power of two; routes × methods stay far below */

/*
 * One slot per (method, pattern). Slots are claimed once with a CAS on
 * `key` and never freed, so the request path takes no lock. Pattern strings
 * are the route table's (static), so the pointer is the identity; the
 * method is compared by text because MHD hands a fresh copy per request.
 */
struct slot {
	_Atomic(const char *) key;
	char method[8];
	atomic_bool ready;
	atomic_llong count, errors, client_errors, sum_us, max_us;
	atomic_llong hist[METRICS_BUCKETS];
	/* last flushed values, only touched under flush_mu */
	int64_t f_count, f_errors, f_client_errors, f_sum_us;
	int64_t f_hist[METRICS_BUCKETS];
};

static struct slot slots[MAX_SLOTS];
static pthread_mutex_t flush_mu = PTHREAD_MUTEX_INITIALIZER;
static int64_t last_flush_mono;
static atomic_llong db_failures;

/* cache counters at the last snapshot, per cache name */
static struct cache_stats cache_prev[CACHE_MAX_NAMES];
static int ncache_prev;

static const char UNMATCHED[] = "(unmatched)";

int metrics_bucket(int64_t us)
{
	if (us < 16)
		return 0;
	int k = 63 - __builtin_clzll((unsigned long long)us);
	int sub = (int)((us >> (k - 2)) & 3);
	int b = (k - 4) * 4 + sub + 1;
	return b < METRICS_BUCKETS ? b : METRICS_BUCKETS - 1;
}

int64_t metrics_bucket_lower(int b)
{
	if (b <= 0)
		return 0;
	int k = (b - 1) / 4 + 4, sub = (b - 1) % 4;
	return (int64_t)(4 + sub) << (k - 2);
}

int64_t metrics_bucket_upper(int b)
{
	if (b <= 0)
		return 16;
	int k = (b - 1) / 4 + 4, sub = (b - 1) % 4;
	return (int64_t)(5 + sub) << (k - 2);
}

double metrics_quantile_us(const int64_t hist[METRICS_BUCKETS], int64_t n, double q)
{
	if (n <= 0)
		return 0;
	/* rank of the wanted observation, 1-based (nearest-rank) */
	double rank = q * (double)n;
	if (rank < 1)
		rank = 1;
	int64_t seen = 0;
	for (int b = 0; b < METRICS_BUCKETS; b++) {
		if (!hist[b])
			continue;
		if ((double)(seen + hist[b]) >= rank) {
			double lo = (double)metrics_bucket_lower(b), hi = (double)metrics_bucket_upper(b);
			double frac = (rank - (double)seen) / (double)hist[b];
			return lo + (hi - lo) * frac;
		}
		seen += hist[b];
	}
	return (double)metrics_bucket_upper(METRICS_BUCKETS - 1);
}

void metrics_hist_encode(struct buf *b, const int64_t hist[METRICS_BUCKETS])
{
	bool first = true;
	for (int i = 0; i < METRICS_BUCKETS; i++) {
		if (!hist[i])
			continue;
		buf_printf(b, "%s%d:%lld", first ? "" : ",", i, (long long)hist[i]);
		first = false;
	}
}

bool metrics_hist_add(int64_t hist[METRICS_BUCKETS], const char *text)
{
	const char *p = text;
	while (p && *p) {
		const char *colon = strchr(p, ':');
		if (!colon)
			return false;
		const char *end = strchr(colon, ',');
		size_t vlen = end ? (size_t)(end - colon - 1) : strlen(colon + 1);
		int64_t idx, n;
		if (!parse_i64n(p, (size_t)(colon - p), 0, METRICS_BUCKETS - 1, &idx) ||
		    !parse_i64n(colon + 1, vlen, 0, INT64_MAX, &n))
			return false;
		hist[idx] += n;
		p = end ? end + 1 : NULL;
	}
	return true;
}

static unsigned long hash_ptr(const void *p, const char *method)
{
	unsigned long h = (unsigned long)(uintptr_t)p * 11400714819323198485UL;
	for (const char *m = method; *m; m++)
		h = (h ^ (unsigned char)*m) * 1099511628211UL;
	return h;
}

static struct slot *slot_for(const char *method, const char *pattern)
{
	unsigned long h = hash_ptr(pattern, method);
	for (int i = 0; i < MAX_SLOTS; i++) {
		struct slot *s = &slots[(h + (unsigned long)i) & (MAX_SLOTS - 1)];
		const char *k = atomic_load_explicit(&s->key, memory_order_acquire);
		if (k == pattern) {
			/* wait out the claimer's method copy (a few instructions) */
			while (!atomic_load_explicit(&s->ready, memory_order_acquire))
				;
			if (strcmp(s->method, method) == 0)
				return s;
			continue;
		}
		if (k)
			continue;
		const char *expected = NULL;
		if (atomic_compare_exchange_strong(&s->key, &expected, pattern)) {
			snprintf(s->method, sizeof(s->method), "%s", method);
			atomic_store_explicit(&s->ready, true, memory_order_release);
			return s;
		}
		if (expected == pattern) {
			while (!atomic_load_explicit(&s->ready, memory_order_acquire))
				;
			if (strcmp(s->method, method) == 0)
				return s;
		}
	}
	return NULL; /* table full: drop the sample rather than block */
}

void metrics_observe(const char *method, const char *pattern, int status, int64_t us)
{
	if (us < 0)
		us = 0;
	struct slot *s = slot_for(method && strlen(method) < 8 ? method : "OTHER",
				  pattern ? pattern : UNMATCHED);
	if (!s)
		return;
	atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
	if (status >= 500)
		atomic_fetch_add_explicit(&s->errors, 1, memory_order_relaxed);
	else if (status >= 400)
		atomic_fetch_add_explicit(&s->client_errors, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->sum_us, us, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->hist[metrics_bucket(us)], 1, memory_order_relaxed);
	long long m = atomic_load_explicit(&s->max_us, memory_order_relaxed);
	while (us > m && !atomic_compare_exchange_weak_explicit(&s->max_us, &m, us,
								  memory_order_relaxed, memory_order_relaxed))
		;
}

void metrics_note_db_failure(void)
{
	atomic_fetch_add(&db_failures, 1);
}

static bool flush_slot(struct db *db, struct slot *s, int64_t minute)
{
	int64_t count = atomic_load(&s->count);
	int64_t dcount = count - s->f_count;
	if (dcount <= 0)
		return true;
	int64_t errors = atomic_load(&s->errors), cerr = atomic_load(&s->client_errors);
	int64_t sum = atomic_load(&s->sum_us);
	int64_t hist[METRICS_BUCKETS], dh[METRICS_BUCKETS];
	for (int i = 0; i < METRICS_BUCKETS; i++) {
		hist[i] = atomic_load(&s->hist[i]);
		dh[i] = hist[i] - s->f_hist[i];
	}
	/* the max of this interval: reset after reading */
	int64_t max = atomic_exchange(&s->max_us, 0);
	struct buf hb;
	buf_init(&hb, 4096);
	metrics_hist_encode(&hb, dh);
	int rc = db_exec(db,
			 "INSERT INTO performance_metrics (minute, instance, source, method, route, count, "
			 "errors, client_errors, sum_us, max_us, hist) "
			 "VALUES ($1, $2, 'server', $3, $4, $5, $6, $7, $8, $9, $10)",
			 DBV(DI(minute), DT(jobs_holder()), DT(s->method), DT(atomic_load(&s->key)),
			     DI(dcount), DI(errors - s->f_errors), DI(cerr - s->f_client_errors),
			     DI(sum - s->f_sum_us), DI(max), DT(hb.p ? hb.p : "")),
			 NULL);
	buf_free(&hb);
	if (rc != DB_OK) {
		/* keep the deltas (and the max) for the next flush */
		long long cur = atomic_load(&s->max_us);
		while (max > cur && !atomic_compare_exchange_weak(&s->max_us, &cur, max))
			;
		return false;
	}
	s->f_count = count;
	s->f_errors = errors;
	s->f_client_errors = cerr;
	s->f_sum_us = sum;
	memcpy(s->f_hist, hist, sizeof(hist));
	return true;
}

static struct cache_stats *cache_prev_for(const char name[32])
{
	for (int i = 0; i < ncache_prev; i++)
		if (strcmp(cache_prev[i].name, name) == 0)
			return &cache_prev[i];
	if (ncache_prev == CACHE_MAX_NAMES)
		return NULL;
	struct cache_stats *p = &cache_prev[ncache_prev++];
	memset(p, 0, sizeof(*p));
	memcpy(p->name, name, sizeof(p->name));
	return p;
}

static bool flush_cache(struct db *db, int64_t minute)
{
	struct cache_stats st[CACHE_MAX_NAMES];
	int n = cache_stats(st, CACHE_MAX_NAMES);
	bool ok = true;
	for (int i = 0; i < n; i++) {
		struct cache_stats *p = cache_prev_for(st[i].name);
		if (!p)
			continue;
		int64_t dh = st[i].hits - p->hits, dm = st[i].misses - p->misses,
			de = st[i].evictions - p->evictions;
		if (!dh && !dm && !de && st[i].entries == p->entries)
			continue;
		if (db_exec(db,
			    "INSERT INTO cache_metrics (minute, instance, cache_name, hits, misses, "
			    "evictions, entries, bytes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
			    DBV(DI(minute), DT(jobs_holder()), DT(st[i].name), DI(dh), DI(dm), DI(de),
				DI(st[i].entries), DI(st[i].bytes)),
			    NULL) != DB_OK) {
			ok = false;
			continue;
		}
		*p = st[i];
	}
	return ok;
}

bool metrics_flush(struct db *db, int64_t now)
{
	int64_t minute = now - now % 60;
	bool ok = true;
	pthread_mutex_lock(&flush_mu);
	for (int i = 0; i < MAX_SLOTS; i++)
		if (atomic_load(&slots[i].ready))
			ok &= flush_slot(db, &slots[i], minute);
	ok &= flush_cache(db, minute);
	int64_t fails = atomic_exchange(&db_failures, 0);
	if (fails &&
	    db_exec(db,
		    "INSERT INTO analytics_state (name, value, updated_at) VALUES ('db_failures', $1, $2) "
		    "ON CONFLICT (name) DO UPDATE SET value = analytics_state.value + $1, updated_at = $2",
		    DBV(DI(fails), DI(now)), NULL) != DB_OK) {
		atomic_fetch_add(&db_failures, fails);
		ok = false;
	}
	last_flush_mono = time_mono_us();
	pthread_mutex_unlock(&flush_mu);
	return ok;
}

void metrics_tick(void)
{
	int64_t mono = time_mono_us();
	if (last_flush_mono && mono - last_flush_mono < 60 * 1000000LL)
		return;
	if (!last_flush_mono) {
		last_flush_mono = mono;
		return;
	}
	/* a failed ping is a connection failure worth alerting on; the count
	 * reaches the database with the next flush that succeeds */
	if (!db_healthy()) {
		metrics_note_db_failure();
		log_error("database connection failure (metrics flush postponed)");
		last_flush_mono = mono;
		return;
	}
	struct db *db = db_acquire();
	if (!metrics_flush(db, time_now()))
		log_warn("metrics flush failed; deltas kept for the next minute");
	db_release(db);
}

/*
 * Cluster-wide reads. Each instance keeps the current minute in memory, so a
 * read through a load balancer would see only its own process's unflushed
 * part. With a shared cache backend (Redis) a reader asks every instance to
 * flush: it bumps the counter SYNC_KEY; each server's ticker (once a second)
 * sees the new value, flushes, and records it as its acknowledgement in
 * analytics_state ("flush_ack:<instance>", also a heartbeat every
 * SYNC_BEAT_S). The reader waits, at most SYNC_WAIT_US, until every instance
 * seen in the last SYNC_ALIVE_S has acknowledged, then reads the rows. An
 * instance that died only costs the reader the wait.
 */
#define SYNC_KEY "metrics:flush"
#define SYNC_WAIT_US (3 * 1000000LL)
#define SYNC_ALIVE_S 30
#define SYNC_BEAT_S 10

static int64_t sync_seen = -1, sync_beat;

static int64_t sync_epoch(void)
{
	char *v;
	size_t n;
	int64_t e = 0;
	if (cache_shared_get(SYNC_KEY, &v, &n)) {
		if (!parse_i64n(v, n, 0, INT64_MAX, &e))
			e = 0;
		free(v);
	}
	return e;
}

/* Record that this instance has flushed everything up to the request epoch
 * (never lowering it: the ticker may have read an older epoch). */
static bool sync_ack(struct db *db, int64_t epoch, int64_t now)
{
	char name[128];
	snprintf(name, sizeof(name), "flush_ack:%s", jobs_holder());
	return db_exec(db,
		       "INSERT INTO analytics_state (name, value, updated_at) VALUES ($1, $2, $3) "
		       "ON CONFLICT (name) DO UPDATE SET value = CASE WHEN analytics_state.value > $2 "
		       "THEN analytics_state.value ELSE $2 END, updated_at = $3",
		       DBV(DS(name), DI(epoch), DI(now)), NULL) == DB_OK;
}

void metrics_sync_tick(void)
{
	if (!cache_is_shared())
		return;
	int64_t e = sync_epoch(), now = time_now();
	if (e == sync_seen && now - sync_beat < SYNC_BEAT_S)
		return;
	struct db *db = db_acquire();
	bool ok = e == sync_seen || metrics_flush(db, now);
	if (ok && sync_ack(db, e, now)) {
		sync_seen = e;
		sync_beat = now;
	}
	db_release(db);
}

bool metrics_flush_cluster(struct db *db, int64_t now, bool *cluster)
{
	*cluster = false;
	if (!metrics_flush(db, now))
		return false;
	if (!cache_is_shared())
		return true;
	int64_t e = cache_incr("shared:" SYNC_KEY, 7 * 86400);
	if (e < 0 || !sync_ack(db, e, now))
		return true; /* Redis unreachable: this instance's numbers only */
	int64_t deadline = time_mono_us() + SYNC_WAIT_US;
	for (;;) {
		int64_t behind = 0;
		if (db_scalar(db, &behind, 0,
			      "SELECT COUNT(*) FROM analytics_state WHERE name LIKE 'flush_ack:%' "
			      "AND updated_at >= $1 AND value < $2",
			      DBV(DI(now - SYNC_ALIVE_S), DI(e))) != DB_OK)
			return true;
		if (behind == 0) {
			*cluster = true;
			return true;
		}
		if (time_mono_us() >= deadline) {
			log_warn("metrics: %lld instance(s) did not flush within %lld ms", (long long)behind,
				 SYNC_WAIT_US / 1000);
			return true;
		}
		usleep(20 * 1000);
	}
}

int metrics_cache_totals(struct db *db, struct cache_stats *out, int max)
{
	struct cache_stats own[CACHE_MAX_NAMES];
	int nown = cache_stats(own, CACHE_MAX_NAMES);
	struct db_res r;
	if (db_query(db, &r,
		     "SELECT cache_name, SUM(hits), SUM(misses), SUM(evictions) FROM cache_metrics "
		     "GROUP BY cache_name ORDER BY cache_name",
		     DBV0) != DB_OK)
		return -1;
	int n = 0;
	for (int i = 0; i < r.nrows && n < max; i++, n++) {
		memset(&out[n], 0, sizeof(out[n]));
		snprintf(out[n].name, sizeof(out[n].name), "%s", db_text(&r, i, 0));
		out[n].hits = db_int(&r, i, 1);
		out[n].misses = db_int(&r, i, 2);
		out[n].evictions = db_int(&r, i, 3);
		/* what a cache holds is the backend's: per process for memory, not
		 * tracked per name in Redis */
		for (int k = 0; k < nown; k++)
			if (strcmp(own[k].name, out[n].name) == 0) {
				out[n].entries = own[k].entries;
				out[n].bytes = own[k].bytes;
			}
	}
	db_res_free(&r);
	return n;
}

/* Prometheus label values escape backslash, quote and newline. */
static void label(struct buf *b, const char *v)
{
	for (const char *p = v; *p; p++) {
		if (*p == '\\' || *p == '"')
			buf_addc(b, '\\');
		if (*p == '\n') {
			buf_adds(b, "\\n");
			continue;
		}
		buf_addc(b, *p);
	}
}

void metrics_prometheus(struct buf *b)
{
	buf_adds(b, "# HELP mandi_http_requests_total Requests by route pattern and method.\n"
		    "# TYPE mandi_http_requests_total counter\n");
	for (int i = 0; i < MAX_SLOTS; i++) {
		struct slot *s = &slots[i];
		if (!atomic_load(&s->ready))
			continue;
		buf_adds(b, "mandi_http_requests_total{method=\"");
		label(b, s->method);
		buf_adds(b, "\",route=\"");
		label(b, atomic_load(&s->key));
		buf_printf(b, "\"} %lld\n", (long long)atomic_load(&s->count));
	}
	buf_adds(b, "# HELP mandi_http_request_errors_total Responses with status >= 500.\n"
		    "# TYPE mandi_http_request_errors_total counter\n");
	for (int i = 0; i < MAX_SLOTS; i++) {
		struct slot *s = &slots[i];
		if (!atomic_load(&s->ready))
			continue;
		buf_adds(b, "mandi_http_request_errors_total{method=\"");
		label(b, s->method);
		buf_adds(b, "\",route=\"");
		label(b, atomic_load(&s->key));
		buf_printf(b, "\"} %lld\n", (long long)atomic_load(&s->errors));
	}
	buf_adds(b, "# HELP mandi_http_request_duration_seconds Request latency by route pattern.\n"
		    "# TYPE mandi_http_request_duration_seconds histogram\n");
	for (int i = 0; i < MAX_SLOTS; i++) {
		struct slot *s = &slots[i];
		if (!atomic_load(&s->ready))
			continue;
		/* one `le` per power of two keeps the series count small */
		int64_t cum = 0;
		for (int bk = 0; bk < METRICS_BUCKETS; bk++) {
			cum += atomic_load(&s->hist[bk]);
			if (bk != 0 && bk % 4 != 0)
				continue;
			buf_adds(b, "mandi_http_request_duration_seconds_bucket{method=\"");
			label(b, s->method);
			buf_adds(b, "\",route=\"");
			label(b, atomic_load(&s->key));
			buf_printf(b, "\",le=\"%.6f\"} %lld\n", (double)metrics_bucket_upper(bk) / 1e6,
				   (long long)cum);
		}
		const char *parts[] = {"_bucket{", "_sum{", "_count{"};
		for (int p = 0; p < 3; p++) {
			buf_printf(b, "mandi_http_request_duration_seconds%smethod=\"", parts[p]);
			label(b, s->method);
			buf_adds(b, "\",route=\"");
			label(b, atomic_load(&s->key));
			if (p == 0)
				buf_printf(b, "\",le=\"+Inf\"} %lld\n", (long long)atomic_load(&s->count));
			else if (p == 1)
				buf_printf(b, "\"} %.6f\n", (double)atomic_load(&s->sum_us) / 1e6);
			else
				buf_printf(b, "\"} %lld\n", (long long)atomic_load(&s->count));
		}
	}
	struct cache_stats st[CACHE_MAX_NAMES];
	int n = cache_stats(st, CACHE_MAX_NAMES);
	const char *cm[][2] = {{"hits", "Cache hits"}, {"misses", "Cache misses"},
			       {"evictions", "Cache evictions"}};
	for (int m = 0; m < 3; m++) {
		buf_printf(b, "# HELP mandi_cache_%s_total %s by named cache.\n"
			      "# TYPE mandi_cache_%s_total counter\n",
			   cm[m][0], cm[m][1], cm[m][0]);
		for (int i = 0; i < n; i++) {
			int64_t v = m == 0 ? st[i].hits : m == 1 ? st[i].misses : st[i].evictions;
			buf_printf(b, "mandi_cache_%s_total{cache=\"", cm[m][0]);
			label(b, st[i].name);
			buf_printf(b, "\"} %lld\n", (long long)v);
		}
	}
	buf_adds(b, "# HELP mandi_cache_entries Entries held by named cache.\n"
		    "# TYPE mandi_cache_entries gauge\n");
	for (int i = 0; i < n; i++) {
		buf_adds(b, "mandi_cache_entries{cache=\"");
		label(b, st[i].name);
		buf_printf(b, "\"} %lld\n", (long long)st[i].entries);
	}
	buf_adds(b, "# HELP mandi_cache_bytes Bytes held by named cache.\n"
		    "# TYPE mandi_cache_bytes gauge\n");
	for (int i = 0; i < n; i++) {
		buf_adds(b, "mandi_cache_bytes{cache=\"");
		label(b, st[i].name);
		buf_printf(b, "\"} %lld\n", (long long)st[i].bytes);
	}
}
