#include "analytics/events.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
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

/* The accepted type's own (static) string, so a queued event can point at it. */
static const char *canonical_type(const char *type)
{
	for (int i = 0; types[i]; i++)
		if (strcmp(types[i], type) == 0)
			return types[i];
	return NULL;
}

bool events_type_ok(const char *type)
{
	return canonical_type(type) != NULL;
}

static bool is_funnel_step(const char *type)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(events_funnel_steps[i], type) == 0)
			return true;
	return false;
}

/*
 * A batch's counter increments, summed in memory and written once each, in
 * key order, at the end of the batch: fewer statements, and every writer
 * touches counter rows in the same order.
 */
struct counter_add {
	int64_t day, market;
	char metric[40];
	int64_t by;
};
struct product_add {
	int64_t day, market, product, views, carts;
};
/* A visitor's step already marked in this batch: a repeat would do nothing. */
struct mark_seen {
	int64_t day, market;
	const char *visitor, *step;
};
struct tally {
	struct counter_add c[EVENTS_MAX_BATCH * 4];
	int nc;
	struct product_add p[EVENTS_MAX_BATCH];
	int np;
	struct mark_seen m[EVENTS_MAX_BATCH * 2];
	int nm;
};

static void count(struct tally *t, int64_t day, int64_t market, const char *metric)
{
	for (int i = 0; i < t->nc; i++)
		if (t->c[i].day == day && t->c[i].market == market && strcmp(t->c[i].metric, metric) == 0) {
			t->c[i].by++;
			return;
		}
	if (t->nc == (int)(sizeof(t->c) / sizeof(t->c[0])))
		return; /* cannot happen: at most 3 metrics per event */
	t->c[t->nc].day = day;
	t->c[t->nc].market = market;
	snprintf(t->c[t->nc].metric, sizeof(t->c[0].metric), "%s", metric);
	t->c[t->nc].by = 1;
	t->nc++;
}

static void count_product(struct tally *t, int64_t day, int64_t market, int64_t product, bool view)
{
	int i = 0;
	while (i < t->np && !(t->p[i].day == day && t->p[i].market == market && t->p[i].product == product))
		i++;
	if (i == t->np) {
		if (t->np == EVENTS_MAX_BATCH)
			return;
		memset(&t->p[i], 0, sizeof(t->p[i]));
		t->p[i].day = day;
		t->p[i].market = market;
		t->p[i].product = product;
		t->np++;
	}
	if (view)
		t->p[i].views++;
	else
		t->p[i].carts++;
}

static int cmp_counter(const void *a, const void *b)
{
	const struct counter_add *x = a, *y = b;
	if (x->day != y->day)
		return x->day < y->day ? -1 : 1;
	if (x->market != y->market)
		return x->market < y->market ? -1 : 1;
	return strcmp(x->metric, y->metric);
}

static int cmp_product(const void *a, const void *b)
{
	const struct product_add *x = a, *y = b;
	if (x->day != y->day)
		return x->day < y->day ? -1 : 1;
	if (x->market != y->market)
		return x->market < y->market ? -1 : 1;
	return x->product < y->product ? -1 : x->product > y->product;
}

static int tally_write(struct db *db, struct tally *t)
{
	int rc = DB_OK;
	qsort(t->c, (size_t)t->nc, sizeof(t->c[0]), cmp_counter);
	qsort(t->p, (size_t)t->np, sizeof(t->p[0]), cmp_product);
	for (int i = 0; rc == DB_OK && i < t->nc; i++) {
		const char *metric = t->c[i].metric;
		rc = db_exec(db,
			     "INSERT INTO ecommerce_analytics (day, market_id, metric, value) "
			     "VALUES ($1, $2, $3, $4) ON CONFLICT (day, market_id, metric) "
			     "DO UPDATE SET value = ecommerce_analytics.value + $4",
			     DBV(DI(t->c[i].day), DI(t->c[i].market), DT(metric), DI(t->c[i].by)), NULL);
	}
	for (int i = 0; rc == DB_OK && i < t->np; i++)
		rc = db_exec(db,
			     "INSERT INTO analytics_product_daily (day, market_id, product_id, views, carts) "
			     "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (day, market_id, product_id) DO UPDATE "
			     "SET views = analytics_product_daily.views + $4, "
			     "carts = analytics_product_daily.carts + $5",
			     DBV(DI(t->p[i].day), DI(t->p[i].market), DI(t->p[i].product), DI(t->p[i].views),
				 DI(t->p[i].carts)),
			     NULL);
	return rc;
}

/* Mark visitor as having reached step on day; counts the step's visitor
 * metric the first time only, so daily visitor counts are exact. A repeat
 * within the batch needs no statement. */
static int mark(struct db *db, struct tally *t, int64_t day, int64_t market, const char *visitor,
		const char *step, const char *metric)
{
	for (int i = 0; i < t->nm; i++)
		if (t->m[i].day == day && t->m[i].market == market && strcmp(t->m[i].visitor, visitor) == 0 &&
		    strcmp(t->m[i].step, step) == 0)
			return DB_OK;
	if (t->nm < (int)(sizeof(t->m) / sizeof(t->m[0])))
		t->m[t->nm++] = (struct mark_seen){day, market, visitor, step};
	int64_t added = 0;
	int rc = db_exec(db,
			 "INSERT INTO analytics_visitor_days (day, market_id, visitor, step) "
			 "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
			 DBV(DI(day), DI(market), DT(visitor), DT(step)), &added);
	if (rc == DB_OK && added > 0)
		count(t, day, market, metric);
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

/* Up to ROWS_PER_INSERT event rows in one statement. */
static int insert_rows(struct db *db, const struct event *evs, int n)
{
	struct buf sql;
	buf_init(&sql, 64 * 1024);
	buf_adds(&sql, "INSERT INTO user_behavior_analytics (event_type, source, user_id, session_id, "
		       "visitor, market_id, product_id, query, props, created_at) VALUES ");
	struct db_val *v = xcalloc((size_t)n * 10, sizeof(*v));
	for (int i = 0; i < n; i++) {
		const struct event *e = &evs[i];
		int b = i * 10;
		/* PostgreSQL types a multi-row VALUES list before matching columns:
		 * untyped parameters there would be text, so integers are cast */
		buf_printf(&sql,
			   "%s($%d, $%d, $%d, $%d, $%d, CAST($%d AS BIGINT), CAST($%d AS BIGINT), $%d, $%d, "
			   "CAST($%d AS BIGINT))",
			   i ? ", " : "",
			   b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, b + 8, b + 9, b + 10);
		v[b] = DT(e->type);
		v[b + 1] = DT(e->server ? "server" : "client");
		v[b + 2] = DT(e->user_id);
		v[b + 3] = DT(e->session_id);
		v[b + 4] = DT(e->visitor);
		v[b + 5] = e->market_id ? DI(e->market_id) : DN;
		v[b + 6] = e->product_id ? DI(e->product_id) : DN;
		v[b + 7] = DT(e->query);
		v[b + 8] = DT(e->props_json ? e->props_json : "{}");
		v[b + 9] = DI(e->at);
	}
	int rc = db_exec(db, sql.p, v, n * 10, NULL);
	free(v);
	buf_free(&sql);
	return rc;
}

/* Rows per INSERT: the PostgreSQL driver binds at most 64 parameters. */
#define ROWS_PER_INSERT 6

static int store(struct db *db, const struct event *evs, int n)
{
	struct tally *t = xcalloc(1, sizeof(*t));
	int rc = DB_OK;
	for (int i = 0; rc == DB_OK && i < n; i += ROWS_PER_INSERT)
		rc = insert_rows(db, evs + i, n - i < ROWS_PER_INSERT ? n - i : ROWS_PER_INSERT);
	for (int i = 0; rc == DB_OK && i < n; i++) {
		const struct event *e = &evs[i];
		int64_t day = e->at - e->at % 86400;
		char metric[64];
		snprintf(metric, sizeof(metric), "events_%s", e->type);
		count(t, day, e->market_id, metric);
		rc = mark(db, t, day, e->market_id, e->visitor, "any", "visitors");
		if (rc == DB_OK && is_funnel_step(e->type)) {
			snprintf(metric, sizeof(metric), "visitors_%s", e->type);
			rc = mark(db, t, day, e->market_id, e->visitor, e->type, metric);
		}
		bool view = strcmp(e->type, "product_view") == 0;
		if (e->product_id > 0 && (view || strcmp(e->type, "add_to_cart") == 0))
			count_product(t, day, e->market_id, e->product_id, view);
	}
	if (rc == DB_OK)
		rc = tally_write(db, t);
	free(t);
	return rc;
}

int events_store_batch(struct db *db, const struct event *evs, int n)
{
	return n > 0 ? store(db, evs, n) : DB_OK;
}

int events_lock(struct db *db)
{
	return db_exec(db,
		       "UPDATE analytics_state SET value = value + 1 WHERE name = 'counters_writer'",
		       DBV0, NULL);
}

/*
 * The server's own events and search counts wait in a queue that is stored
 * in batches (by a writer thread each ANALYTICS_FLUSH_MS, or by the request
 * that brings it to QUEUE_BATCH items), so a sale or a search does not pay
 * for a write transaction of its own and a batch's counters are summed
 * before they are written.
 * Analytics reads flush this process's queue first; another instance's
 * follow within ANALYTICS_FLUSH_MS. Without the writer (CLI commands), when
 * the queue is full, or inside the caller's transaction, they are stored at
 * once.
 */
#define QUEUE_BATCH 1024
#define QUEUE_MAX 16384

/* An event, or with norm set a search to count under that normalised text
 * (kept as an event too when it found nothing). Queued strings are owned. */
struct queued {
	struct event e;
	char *norm;
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_cond_t space;  /* items were taken out */
	pthread_cond_t stored; /* storing went back to false */
	struct queued *q; /* QUEUE_MAX slots */
	int n;
	bool running, stopping;
	bool storing; /* one batch at a time, so they keep their order */
	pthread_t thread;
} queue = {.mu = PTHREAD_MUTEX_INITIALIZER,
	   .cv = PTHREAD_COND_INITIALIZER,
	   .space = PTHREAD_COND_INITIALIZER,
	   .stored = PTHREAD_COND_INITIALIZER};

/* Longest a request waits for room in a full queue before storing its item
 * itself. */
#define QUEUE_WAIT_MS 2000

/* n searches (zeros of which found nothing) of norm in a market on a day. */
static int count_search(struct db *db, int64_t day, int64_t market_id, const char *norm, int64_t n,
			int64_t zeros)
{
	return db_exec(db,
		       "INSERT INTO analytics_search_daily (day, market_id, query, searches, zero_results) "
		       "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (day, market_id, query) DO UPDATE SET "
		       "searches = analytics_search_daily.searches + $4, "
		       "zero_results = analytics_search_daily.zero_results + $5",
		       DBV(DI(day), DI(market_id), DT(norm), DI(n), DI(zeros)), NULL);
}

static int64_t day_of(const struct queued *it)
{
	return it->e.at - it->e.at % 86400;
}

/* Order of searches by (market, day, normalised text); others last. */
static int by_count_key(const void *x, const void *y)
{
	const struct queued *a = *(const struct queued *const *)x, *b = *(const struct queued *const *)y;
	if (!a->norm || !b->norm)
		return !a->norm - !b->norm;
	if (a->e.market_id != b->e.market_id)
		return a->e.market_id < b->e.market_id ? -1 : 1;
	if (day_of(a) != day_of(b))
		return day_of(a) < day_of(b) ? -1 : 1;
	return strcmp(a->norm, b->norm);
}

/* The batch's searches counted: one upsert per (day, market, text), not per
 * search, since a popular search repeats many times within a batch. */
static int count_searches(struct db *db, const struct queued *q, int n)
{
	const struct queued **s = xmalloc(sizeof(*s) * (size_t)(n + 1));
	for (int i = 0; i < n; i++)
		s[i] = &q[i];
	qsort(s, (size_t)n, sizeof(*s), by_count_key);
	int rc = DB_OK;
	for (int i = 0; rc == DB_OK && i < n && s[i]->norm;) {
		int j = i;
		int64_t zeros = 0;
		for (; j < n && s[j]->norm && by_count_key(&s[i], &s[j]) == 0; j++)
			zeros += s[j]->e.results == 0;
		rc = count_search(db, day_of(s[i]), s[i]->e.market_id, s[i]->norm, j - i, zeros);
		i = j;
	}
	free(s);
	return rc;
}

/* The searches' rows in search_log (the query as typed, who asked, what it
 * found, how many times that second): LOG_ROWS to a statement, so the
 * statement text is one of two. */
#define LOG_ROWS 20
#define LOG_COLS 6
#define LOG_INSERT                                                                                 \
	"INSERT INTO search_log (market_id, query, results, user_id, created_at, searches) VALUES "
static char log_many[sizeof(LOG_INSERT) + LOG_ROWS * 48];

static void build_log_many(void)
{
	struct buf b;
	buf_init(&b, sizeof(log_many));
	buf_adds(&b, LOG_INSERT);
	for (int j = 0; j < LOG_ROWS; j++) {
		buf_adds(&b, j ? ", (" : "(");
		for (int c = 1; c <= LOG_COLS; c++)
			buf_printf(&b, "%s$%d", c > 1 ? ", " : "", j * LOG_COLS + c);
		buf_addc(&b, ')');
	}
	snprintf(log_many, sizeof(log_many), "%s", b.p);
	buf_free(&b);
}

static int strcmp_null(const char *a, const char *b)
{
	return a && b ? strcmp(a, b) : (a != NULL) - (b != NULL);
}

/* Order of searches by what makes a search_log row. */
static int by_log_row(const void *x, const void *y)
{
	const struct event *a = &(*(const struct queued *const *)x)->e;
	const struct event *b = &(*(const struct queued *const *)y)->e;
	if (a->market_id != b->market_id)
		return a->market_id < b->market_id ? -1 : 1;
	if (a->at != b->at)
		return a->at < b->at ? -1 : 1;
	if (a->results != b->results)
		return a->results < b->results ? -1 : 1;
	int c = strcmp(a->query, b->query);
	return c ? c : strcmp_null(a->user_id, b->user_id);
}

static int log_searches(struct db *db, const struct queued *q, int n)
{
	static const char one[] = LOG_INSERT "($1, $2, $3, $4, $5, $6)";
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, build_log_many);
	const struct queued **s = xmalloc(sizeof(*s) * (size_t)(n + 1));
	int ns = 0, rc = DB_OK;
	for (int i = 0; i < n; i++)
		if (q[i].norm)
			s[ns++] = &q[i];
	qsort(s, (size_t)ns, sizeof(*s), by_log_row);
	/* the rows: one per run of equal searches, with its length */
	int nr = 0;
	int64_t *count = xmalloc(sizeof(*count) * (size_t)(ns + 1));
	for (int i = 0; i < ns;) {
		int j = i + 1;
		while (j < ns && by_log_row(&s[i], &s[j]) == 0)
			j++;
		count[nr] = j - i;
		s[nr++] = s[i];
		i = j;
	}
	for (int i = 0; rc == DB_OK && i < nr;) {
		int k = nr - i >= LOG_ROWS ? LOG_ROWS : 1;
		struct db_val p[LOG_ROWS * LOG_COLS], *v = p;
		for (int j = 0; j < k; j++) {
			const struct event *e = &s[i + j]->e;
			*v++ = DI(e->market_id);
			*v++ = DT(e->query);
			*v++ = DI(e->results);
			*v++ = DT(e->user_id);
			*v++ = DI(e->at);
			*v++ = DI(count[i + j]);
		}
		rc = db_exec(db, k == 1 ? one : log_many, p, k * LOG_COLS, NULL);
		i += k;
	}
	free(count);
	free(s);
	return rc;
}

/* Store n items in the caller's transaction, or in one of their own when
 * none is open. Returns a db_rc. */
static int store_items(struct db *db, const struct queued *q, int n)
{
	bool own = !db_in_tx(db);
	struct event evs[EVENTS_MAX_BATCH];
	int rc = own ? db_begin(db) : DB_OK;
	if (rc == DB_OK)
		rc = events_lock(db);
	if (rc == DB_OK)
		rc = count_searches(db, q, n);
	if (rc == DB_OK)
		rc = log_searches(db, q, n);
	for (int i = 0; rc == DB_OK && i < n;) {
		int ne = 0;
		for (; i < n && ne < EVENTS_MAX_BATCH; i++)
			if (!q[i].norm || q[i].e.results == 0)
				evs[ne++] = q[i].e;
		if (ne)
			rc = store(db, evs, ne);
	}
	if (own) {
		if (rc == DB_OK)
			rc = db_commit(db);
		db_rollback(db);
	}
	return rc;
}

/* Items a writer's transaction holds: searches are counted once per text
 * in it, and a commit per 100 searches cost more than their rows; yet a
 * sale's writes wait for it, so it stays short. */
#define STORE_TX_ITEMS 1000

/* Store n queued items, STORE_TX_ITEMS to a transaction, and free them. */
static void store_queued(struct db *db, struct queued *q, int n)
{
	for (int t = 0; t < n; t += STORE_TX_ITEMS) {
		int k = n - t < STORE_TX_ITEMS ? n - t : STORE_TX_ITEMS;
		if (store_items(db, q + t, k) != DB_OK)
			log_warn("analytics: could not store %d server events", k);
	}
	for (int i = 0; i < n; i++) {
		free((char *)q[i].e.user_id);
		free((char *)q[i].e.visitor);
		free((char *)q[i].e.query);
		free((char *)q[i].e.props_json);
		free(q[i].norm);
	}
}

/* Move the queue's items to *out (as many slots as items, NULL when none)
 * to be stored by the caller, who calls stored() once they are; called
 * with queue.mu held. */
static int take_queued(struct queued **out)
{
	while (queue.storing)
		pthread_cond_wait(&queue.stored, &queue.mu);
	queue.storing = true;
	int n = queue.n;
	*out = n ? xmalloc((size_t)n * sizeof(**out)) : NULL;
	if (n)
		memcpy(*out, queue.q, (size_t)n * sizeof(**out));
	queue.n = 0;
	pthread_cond_broadcast(&queue.space);
	return n;
}

static void stored(void)
{
	pthread_mutex_lock(&queue.mu);
	queue.storing = false;
	pthread_cond_broadcast(&queue.stored);
	pthread_mutex_unlock(&queue.mu);
}

/* Store what take_queued took, on db or on a connection of our own. */
static void store_taken(struct db *db, struct queued *q, int n)
{
	if (n > 0) {
		struct db *own = db ? NULL : db_acquire();
		store_queued(db ? db : own, q, n);
		if (own)
			db_release(own);
	}
	free(q);
	stored();
}

void events_flush(struct db *db)
{
	if (!queue.running)
		return;
	struct queued *q;
	pthread_mutex_lock(&queue.mu);
	int n = take_queued(&q);
	pthread_mutex_unlock(&queue.mu);
	store_taken(db, q, n);
}

static void *writer(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&queue.mu);
	for (;;) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		int64_t ns = until.tv_nsec + cfg.analytics_flush_ms % 1000 * 1000000;
		until.tv_sec += cfg.analytics_flush_ms / 1000 + ns / 1000000000;
		until.tv_nsec = ns % 1000000000;
		while (!queue.stopping && queue.n < QUEUE_BATCH)
			if (pthread_cond_timedwait(&queue.cv, &queue.mu, &until) != 0)
				break;
		bool last = queue.stopping;
		struct queued *q;
		int n = take_queued(&q);
		pthread_mutex_unlock(&queue.mu);
		store_taken(NULL, q, n);
		if (last)
			break;
		pthread_mutex_lock(&queue.mu);
	}
	return NULL;
}

void events_writer_start(void)
{
	queue.q = xcalloc(QUEUE_MAX, sizeof(*queue.q));
	queue.stopping = false;
	queue.running = true;
	pthread_create(&queue.thread, NULL, writer, NULL);
}

void events_writer_stop(void)
{
	if (!queue.running)
		return;
	pthread_mutex_lock(&queue.mu);
	queue.stopping = true;
	pthread_cond_signal(&queue.cv);
	pthread_cond_broadcast(&queue.space);
	pthread_mutex_unlock(&queue.mu);
	pthread_join(queue.thread, NULL);
	queue.running = false;
	free(queue.q);
	queue.q = NULL;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* Queue a copy of it; false when there is no writer or the queue stayed
 * full for QUEUE_WAIT_MS. A full queue means storing is behind: waiting
 * for it slows the requests down to its pace, where each storing its own
 * item would fight it (and each other) for the database's write lock. The
 * batch it completes is stored on db (outside a transaction), or on a
 * connection of its own when db is NULL. */
static bool enqueue(struct db *db, const struct queued *it)
{
	bool ok = false;
	pthread_mutex_lock(&queue.mu);
	if (queue.running && !queue.stopping && queue.n >= QUEUE_MAX) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += QUEUE_WAIT_MS / 1000;
		while (queue.running && !queue.stopping && queue.n >= QUEUE_MAX)
			if (pthread_cond_timedwait(&queue.space, &queue.mu, &until) != 0)
				break;
	}
	if (queue.running && !queue.stopping && queue.n < QUEUE_MAX) {
		struct queued *q = &queue.q[queue.n++];
		*q = *it;
		q->e.user_id = dup_or_null(it->e.user_id);
		q->e.visitor = dup_or_null(it->e.visitor);
		q->e.query = dup_or_null(it->e.query);
		q->e.props_json = dup_or_null(it->e.props_json);
		q->norm = dup_or_null(it->norm);
		ok = true;
	}
	/* a full batch is stored by the request that completed it, when no
	 * batch is being stored: a writer thread falls behind a busy server,
	 * as it gets no more of the CPU than any one request's thread */
	struct queued *q = NULL;
	int n = 0;
	bool help = ok && queue.n >= QUEUE_BATCH && !queue.storing;
	if (help)
		n = take_queued(&q);
	pthread_mutex_unlock(&queue.mu);
	if (help)
		store_taken(db, q, n);
	return ok;
}

/* Queue it, or store it now (in the caller's transaction when one is open:
 * it then commits with the caller's writes or not at all). */
static void record(struct db *db, const struct queued *it)
{
	if ((!db || !db_in_tx(db)) && enqueue(db, it))
		return;
	/* a full queue: stored now, on a connection of our own if need be */
	struct db *own = db ? NULL : db_acquire();
	if (store_items(db ? db : own, it, 1) != DB_OK)
		log_warn("analytics: could not store a server %s event", it->e.type);
	if (own)
		db_release(own);
}

void analytics_record(struct db *db, const char *event_type, const char *user_id,
		      int64_t market_id, int64_t product_id, const char *json_props)
{
	if (!cfg.analytics_enabled)
		return;
	const char *type = canonical_type(event_type);
	if (!type || !user_id) {
		log_warn("analytics_record: refused event %s", event_type);
		return;
	}
	struct queued it = {.e = {
		.type = type,
		.user_id = user_id,
		.visitor = user_id,
		.market_id = market_id,
		.product_id = product_id,
		.results = -1,
		.props_json = json_props,
		.at = time_now(),
		.server = true,
	}};
	record(db, &it);
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
	char norm[128];
	normalise_query(query, norm, sizeof(norm));
	if (!*norm)
		return;
	/* every search is counted; one that found nothing is also kept as an
	 * event, with who asked */
	struct queued it = {
		.e = {
			.type = "search",
			.user_id = user_id,
			.visitor = user_id ? user_id : "anonymous",
			.market_id = market_id,
			.query = query,
			.results = results,
			.props_json = results == 0 ? "{\"results\":0}" : NULL,
			.at = time_now(),
			.server = true,
		},
		.norm = norm,
	};
	record(db, &it);
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
