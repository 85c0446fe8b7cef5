#include "catalog/matches.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "db/db.h"

/* A kept (or building) set: one block for the struct and its key. */
struct entry {
	struct match_set set;
	struct match_row *rows;
	char *text;             /* the rows' strings, end to end */
	struct entry *next;     /* hash chain */
	struct entry *newer, *older;
	int64_t market_id, generation, expires_us;
	size_t bytes;
	int refs;               /* the store's own (while kept) + each caller's */
	bool building;
	char match[];
};

#define NBUCKETS 1024

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t built = PTHREAD_COND_INITIALIZER;
static struct entry *buckets[NBUCKETS];
static struct entry *newest, *oldest; /* ready sets, most recently used first */
static size_t budget, held;

/* Builds at once: each holds its whole result in memory for a moment, and
 * a burst of new texts (a cold cache) would otherwise build one per
 * request thread, for no more throughput on a few cores. */
#define BUILDS_MAX 4
static int building;
static pthread_cond_t build_slot = PTHREAD_COND_INITIALIZER;

void match_sets_budget(size_t bytes)
{
	pthread_mutex_lock(&mu);
	budget = bytes;
	pthread_mutex_unlock(&mu);
}

static unsigned bucket(int64_t market_id, const char *match)
{
	uint32_t h = 2166136261u ^ (uint32_t)market_id;
	for (const unsigned char *c = (const unsigned char *)match; *c; c++)
		h = (h ^ *c) * 16777619u;
	return h % NBUCKETS;
}

static void entry_free(struct entry *e)
{
	free(e->text);
	free(e->rows);
	free(e);
}

static void drop_ref(struct entry *e)
{
	if (--e->refs == 0)
		entry_free(e);
}

static void lru_unlink(struct entry *e)
{
	if (e->newer)
		e->newer->older = e->older;
	else
		newest = e->older;
	if (e->older)
		e->older->newer = e->newer;
	else
		oldest = e->newer;
	e->newer = e->older = NULL;
}

static void lru_front(struct entry *e)
{
	e->older = newest;
	if (newest)
		newest->newer = e;
	newest = e;
	if (!oldest)
		oldest = e;
}

/* Take e out of the store (callers holding it keep it until they release). */
static void unkeep(struct entry *e)
{
	struct entry **p = &buckets[bucket(e->market_id, e->match)];
	while (*p != e)
		p = &(*p)->next;
	*p = e->next;
	if (!e->building) {
		lru_unlink(e);
		held -= e->bytes;
	}
	drop_ref(e);
}

/* Rows of the set from the database; false on an error. The result is
 * copied out compactly (its cells hold every number as text too), so a
 * kept set costs about half the memory. */
static bool build(struct db *db, struct entry *e)
{
	char sql[1024];
	snprintf(sql, sizeof(sql),
		 "WITH m(id, rank) AS (%s) SELECT l.product_id, m.rank, l.price, l.popularity, "
		 "l.created_at, COALESCE(l.brand_id, 0), l.category_id, l.in_stock, l.sizes, l.colors, "
		 "l.stock_sizes, l.stock_colors FROM m CROSS JOIN product_market l WHERE "
		 "l.market_id = $2 AND l.scope_id = 0 AND l.product_id = m.id",
		 db_conn_dialect(db)->fts_match);
	struct db_res r;
	if (db_query(db, &r, sql, DBV(DT(e->match), DI(e->market_id))) != DB_OK)
		return false;
	size_t len = 0;
	for (int i = 0; i < r.nrows; i++)
		for (int c = 8; c < 12; c++)
			len += strlen(db_text(&r, i, c)) + 1;
	struct match_row *rows = xmalloc(sizeof(*rows) * (size_t)(r.nrows + 1));
	char *text = xmalloc(len + 1), *t = text;
	for (int i = 0; i < r.nrows; i++) {
		struct match_row *w = &rows[i];
		w->id = db_int(&r, i, 0);
		w->rank = db_int(&r, i, 1);
		w->price = db_int(&r, i, 2);
		w->popularity = db_int(&r, i, 3);
		w->created_at = db_int(&r, i, 4);
		w->brand_id = db_int(&r, i, 5);
		w->category_id = db_int(&r, i, 6);
		w->in_stock = db_int(&r, i, 7) != 0;
		const char **str[] = {&w->sizes, &w->colors, &w->stock_sizes, &w->stock_colors};
		for (int c = 0; c < 4; c++) {
			size_t n = strlen(db_text(&r, i, 8 + c)) + 1;
			memcpy(t, db_text(&r, i, 8 + c), n);
			*str[c] = t;
			t += n;
		}
	}
	e->rows = rows;
	e->text = text;
	e->set.rows = rows;
	e->set.n = r.nrows;
	e->bytes = sizeof(*e) + strlen(e->match) + sizeof(*rows) * (size_t)r.nrows + len;
	db_res_free(&r);
	return true;
}

static int by_rank(const void *x, const void *y)
{
	const struct match_row *a = x, *b = y;
	if (a->rank != b->rank)
		return a->rank < b->rank ? 1 : -1;
	return a->id < b->id ? 1 : a->id > b->id ? -1 : 0;
}

static struct entry *entry_new(int64_t market_id, const char *match, int64_t generation)
{
	size_t n = strlen(match);
	struct entry *e = xcalloc(1, sizeof(*e) + n + 1);
	memcpy(e->match, match, n + 1);
	e->market_id = market_id;
	e->generation = generation;
	return e;
}

static bool build_sorted(struct db *db, struct entry *e)
{
	pthread_mutex_lock(&mu);
	while (building >= BUILDS_MAX)
		pthread_cond_wait(&build_slot, &mu);
	building++;
	pthread_mutex_unlock(&mu);
	bool ok = build(db, e);
	if (ok)
		qsort(e->rows, (size_t)e->set.n, sizeof(*e->rows), by_rank);
	pthread_mutex_lock(&mu);
	building--;
	pthread_cond_signal(&build_slot);
	pthread_mutex_unlock(&mu);
	return ok;
}

const struct match_set *match_set_get(struct db *db, int64_t market_id, const char *match,
				      int64_t generation)
{
	if (generation < 0) {
		struct entry *e = entry_new(market_id, match, generation);
		e->refs = 1;
		if (build_sorted(db, e))
			return &e->set;
		entry_free(e);
		return NULL;
	}
	unsigned b = bucket(market_id, match);
	pthread_mutex_lock(&mu);
	for (;;) {
		struct entry *e = buckets[b], *next;
		int64_t now = time_mono_us();
		for (; e; e = next) {
			next = e->next;
			if (e->market_id != market_id || strcmp(e->match, match))
				continue;
			if (e->building && e->generation == generation)
				break;
			/* an older generation or past its time: never used again */
			if (!e->building && (e->generation != generation || e->expires_us <= now)) {
				unkeep(e);
				continue;
			}
			if (!e->building)
				break;
		}
		if (e && e->building) {
			pthread_cond_wait(&built, &mu);
			continue; /* built, failed or dropped: look again */
		}
		if (e) {
			lru_unlink(e);
			lru_front(e);
			e->refs++;
			pthread_mutex_unlock(&mu);
			return &e->set;
		}
		break;
	}
	/* nobody has it: build it here, visible to others as building */
	struct entry *e = entry_new(market_id, match, generation);
	e->refs = 2; /* the store's and this caller's */
	e->building = true;
	e->next = buckets[b];
	buckets[b] = e;
	pthread_mutex_unlock(&mu);

	bool ok = build_sorted(db, e);

	pthread_mutex_lock(&mu);
	if (!ok) {
		unkeep(e); /* still marked building: it is in no LRU place */
		pthread_cond_broadcast(&built);
		drop_ref(e);
		pthread_mutex_unlock(&mu);
		return NULL;
	}
	e->building = false;
	e->expires_us = time_mono_us() + (int64_t)MATCH_SET_TTL * 1000000;
	lru_front(e);
	held += e->bytes;
	/* over budget: the least recently used go first, this one last */
	while (held > budget && oldest)
		unkeep(oldest);
	pthread_cond_broadcast(&built);
	pthread_mutex_unlock(&mu);
	return &e->set;
}

void match_set_release(const struct match_set *set)
{
	if (!set)
		return;
	struct entry *e = (struct entry *)((char *)set - offsetof(struct entry, set));
	pthread_mutex_lock(&mu);
	drop_ref(e);
	pthread_mutex_unlock(&mu);
}

void match_sets_clear(void)
{
	pthread_mutex_lock(&mu);
	while (oldest)
		unkeep(oldest);
	pthread_mutex_unlock(&mu);
}
