#include "catalog/matches.h"
#include "catalog/names.h"
#include "catalog/orders.h"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/mem.h"
#include "core/strmap.h"
#include "core/timeutil.h"
#include "db/db.h"
#include "market/market.h"

/* A market's columns: its scope-0 product_market rows, by product id. */
struct columns {
	struct listing_row *rows;
	char *text;             /* their strings, each distinct one once */
	int32_t *at;            /* row of id first_id + k, or -1; NULL when ids are sparse */
	struct market_columns view; /* what match_columns_get gives, */
	struct orders orders;   /* with its orders (catalog/orders.h) */
	int64_t first_id, span;
	struct columns *next;
	int64_t market_id, generation, expires_us;
	size_t bytes;
	int n, refs;            /* the store's (while listed) + each user's */
	bool building;          /* read: rows NULL when over the budget (a marker) */
};

/* A kept (or building) set: one block for the struct and its key. */
struct entry {
	struct match_set set;
	struct match_row *rows;
	struct columns *cols;   /* the columns its rows point into (a reference) */
	struct listing_row *own; /* or rows looked up for it alone, with */
	char *text;             /* their strings */
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
static struct columns *markets;       /* at most one per market */
static size_t budget, held;

/* Builds at once: each holds its whole result in memory for a moment, and
 * a burst of new texts (a cold cache) would otherwise build one per
 * request thread, for no more throughput on a few cores. */
#define BUILDS_MAX 4
static int building;
static pthread_cond_t build_slot = PTHREAD_COND_INITIALIZER;

/* Column reads in flight, each on a thread of its own, niced. */
#define READER_NICE 10
static int readers;
static pthread_cond_t read_done = PTHREAD_COND_INITIALIZER;

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

/* Free c's rows and what is built on them (rows NULL after). */
static void columns_free_rows(struct columns *c)
{
	free(c->rows);
	free(c->text);
	free(c->at);
	orders_free(&c->orders);
	c->rows = NULL;
	c->text = NULL;
	c->at = NULL;
	c->n = 0;
}

static void columns_drop(struct columns *c)
{
	if (c && --c->refs == 0) {
		columns_free_rows(c);
		free(c);
	}
}

static void entry_free(struct entry *e)
{
	columns_drop(e->cols);
	free(e->own);
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

/* Take c out of the store with the kept sets built on it: they would keep
 * its memory, outside the budget, for nothing. */
static void columns_unkeep(struct columns *c)
{
	struct columns **p = &markets;
	while (*p != c)
		p = &(*p)->next;
	*p = c->next;
	c->next = NULL;
	for (struct entry *e = oldest, *newer; e; e = newer) {
		newer = e->newer;
		if (e->cols == c)
			unkeep(e);
	}
	if (!c->building && c->rows)
		held -= c->bytes;
	columns_drop(c);
}

/* Drop sets, least recently used first, until the store fits its budget. */
static void fit_budget(void)
{
	while (held > budget && oldest)
		unkeep(oldest);
}

/* Wait for the column reads in flight (mu held). */
static void wait_readers(void)
{
	while (readers)
		pthread_cond_wait(&read_done, &mu);
}

/* Whether c is still the store's. */
static bool columns_listed(const struct columns *c)
{
	for (const struct columns *k = markets; k; k = k->next)
		if (k == c)
			return true;
	return false;
}

/* The distinct strings of rows being read (a catalog has few size and
 * colour lists): while reading, a row's string fields hold offsets into
 * the text strings_end then allocates. */
struct strings {
	struct arena a;
	struct strmap seen;
	size_t len;
};

/* Fill rows[] from r's rows (product id, price, popularity, created_at,
 * brand id or 0, category id, in_stock, sizes, colors, stock_sizes,
 * stock_colors). */
static void take_rows(const struct db_res *r, struct listing_row *rows, struct strings *st)
{
	for (int i = 0; i < r->nrows; i++) {
		struct listing_row *w = &rows[i];
		w->id = db_int(r, i, 0);
		w->price = db_int(r, i, 1);
		w->popularity = db_int(r, i, 2);
		w->created_at = db_int(r, i, 3);
		w->brand_id = db_int(r, i, 4);
		w->category_id = db_int(r, i, 5);
		w->in_stock = db_int(r, i, 6) != 0;
		const char **str[] = {&w->sizes, &w->colors, &w->stock_sizes, &w->stock_colors};
		for (int c = 0; c < 4; c++) {
			const char *v = db_text(r, i, 7 + c);
			int64_t at = strmap_get(&st->seen, v, -1);
			if (at < 0) {
				bool found;
				at = (int64_t)st->len;
				*strmap_slot(&st->a, &st->seen, arena_strdup(&st->a, v), &found) = at;
				st->len += strlen(v) + 1;
			}
			*str[c] = (const char *)(uintptr_t)at;
		}
	}
}

/* The strings of rows[0..n) into one block (*text); returns its bytes. */
static size_t strings_end(struct strings *st, struct listing_row *rows, int n, char **text)
{
	char *t = xmalloc(st->len + 1);
	for (size_t k = 0; k < st->seen.cap; k++)
		if (st->seen.keys[k])
			memcpy(t + st->seen.vals[k], st->seen.keys[k], strlen(st->seen.keys[k]) + 1);
	for (int i = 0; i < n; i++) {
		const char **str[] = {&rows[i].sizes, &rows[i].colors, &rows[i].stock_sizes,
				      &rows[i].stock_colors};
		for (int c = 0; c < 4; c++)
			*str[c] = t + (uintptr_t)*str[c];
	}
	arena_free(&st->a);
	*text = t;
	return st->len;
}

#define ROW_COLUMNS                                                                         \
	"l.product_id, l.price, l.popularity, l.created_at, COALESCE(l.brand_id, 0), "      \
	"l.category_id, l.in_stock, l.sizes, l.colors, l.stock_sizes, l.stock_colors"

/* Rows per part of a market's columns read: the whole market's text cells
 * at once (12 MB for 70k rows) would sit beside the columns themselves. */
#define COLUMNS_CHUNK 4096

struct columns_read {
	struct columns *c;
	struct strings st;
	int cap;
};

static void take_part(const struct db_res *part, void *ctx)
{
	struct columns_read *rd = ctx;
	struct columns *c = rd->c;
	if (c->n + part->nrows > rd->cap) {
		rd->cap = rd->cap ? rd->cap * 2 : COLUMNS_CHUNK;
		while (c->n + part->nrows > rd->cap)
			rd->cap *= 2;
		c->rows = xrealloc(c->rows, sizeof(*c->rows) * (size_t)rd->cap);
	}
	take_rows(part, c->rows + c->n, &rd->st);
	c->n += part->nrows;
}

static int by_id(const void *x, const void *y)
{
	const struct listing_row *a = x, *b = y;
	return a->id < b->id ? -1 : a->id > b->id;
}

/* Ids at most this many times the rows get a direct index (4 bytes an id):
 * a set's row per match is then one load, not a search. */
#define INDEX_SPAN_MAX 4

static void columns_index(struct columns *c)
{
	if (!c->n)
		return;
	c->first_id = c->rows[0].id;
	c->span = c->rows[c->n - 1].id - c->first_id + 1;
	if (c->span > (int64_t)c->n * INDEX_SPAN_MAX)
		return;
	c->at = xmalloc(sizeof(*c->at) * (size_t)c->span);
	memset(c->at, 0xff, sizeof(*c->at) * (size_t)c->span);
	for (int i = 0; i < c->n; i++)
		c->at[c->rows[i].id - c->first_id] = i;
	c->bytes += sizeof(*c->at) * (size_t)c->span;
}

/* A market's columns from the database, by product id; false on an error.
 * One pass over the table ("+" keeps SQLite off the listing indexes, whose
 * order would cost a table lookup per row). */
static bool read_columns(struct db *db, struct columns *c)
{
	struct columns_read rd = {.c = c};
	arena_init(&rd.st.a);
	if (db_query_each(db,
			  "SELECT " ROW_COLUMNS " FROM product_market l WHERE +l.market_id = $1 AND "
			  "+l.scope_id = 0",
			  DBV(DI(c->market_id)), COLUMNS_CHUNK, take_part, &rd) != DB_OK) {
		arena_free(&rd.st.a);
		columns_free_rows(c);
		return false;
	}
	c->rows = xrealloc(c->rows, sizeof(*c->rows) * (size_t)(c->n + 1));
	c->bytes = sizeof(*c) + sizeof(*c->rows) * (size_t)c->n + strings_end(&rd.st, c->rows, c->n, &c->text);
	/* table order is nearly id order: sort only if not */
	for (int i = 1; i < c->n; i++)
		if (c->rows[i - 1].id > c->rows[i].id) {
			qsort(c->rows, (size_t)c->n, sizeof(*c->rows), by_id);
			break;
		}
	columns_index(c);
	/* the listing orders, with the category tree of the same generation */
	const struct catalog_names *nm = names_get(db, c->generation);
	if (!nm) {
		columns_free_rows(c);
		return false;
	}
	c->view.rows = c->rows;
	c->view.n = c->n;
	c->bytes += orders_build(&c->view, nm, &c->orders);
	names_release(nm);
	return true;
}

/* Drop market_id's kept columns other than keep (mu held). */
static void columns_replace(int64_t market_id, const struct columns *keep)
{
	for (struct columns *c = markets, *next; c; c = next) {
		next = c->next;
		if (c != keep && c->market_id == market_id && !c->building)
			columns_unkeep(c);
	}
}

static void *reader(void *arg)
{
	struct columns *c = arg;
	/* a refresh (the columns kept serve meanwhile) or a first read
	 * (searches look rows up meanwhile): requests come first */
	setpriority(PRIO_PROCESS, (id_t)gettid(), READER_NICE);
	struct db *db = db_acquire();
	bool ok = read_columns(db, c);
	db_release(db);
	pthread_mutex_lock(&mu);
	c->building = false;
	c->expires_us = time_mono_us() + (int64_t)MATCH_SET_TTL * 1000000;
	if (!ok) {
		columns_unkeep(c); /* rows NULL: nothing held; the next search asks again */
	} else {
		columns_replace(c->market_id, c);
		if (c->bytes > budget) {
			/* kept without rows, a marker so that searches do not read them again */
			columns_free_rows(c);
		} else {
			held += c->bytes;
			fit_budget();
		}
	}
	columns_drop(c); /* the reader's reference */
	readers--;
	pthread_cond_broadcast(&read_done);
	pthread_mutex_unlock(&mu);
	return NULL;
}

/* market_id's columns in the store: the kept ones (*ready, a marker when
 * without rows) and those being read (*reading); mu held. */
static void columns_find_kept(int64_t market_id, struct columns **ready, struct columns **reading)
{
	*ready = *reading = NULL;
	for (struct columns *c = markets; c; c = c->next)
		if (c->market_id == market_id)
			*(c->building ? reading : ready) = c;
}

/*
 * Start reading market_id's columns under generation (mu held) when none
 * are kept for it, or those kept are half-way through their time: read
 * again before they expire, the ones kept serve meanwhile, and searches
 * need not look rows up every MATCH_SET_TTL seconds.
 */
static void columns_start(int64_t market_id, int64_t generation)
{
	struct columns *c, *reading;
	columns_find_kept(market_id, &c, &reading);
	int64_t now = time_mono_us();
	if (c && (c->generation != generation || c->expires_us <= now)) {
		columns_unkeep(c);
		c = NULL;
	}
	if (reading || !budget || (c && c->expires_us - now > (int64_t)MATCH_SET_TTL * 500000))
		return;
	c = xcalloc(1, sizeof(*c));
	c->market_id = market_id;
	c->generation = generation;
	c->building = true;
	c->refs = 2; /* the store's and the reader's */
	c->next = markets;
	markets = c;
	pthread_t t;
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &at, reader, c) == 0) {
		readers++;
	} else {
		c->building = false; /* no thread: nothing read (rows NULL), nothing held */
		columns_unkeep(c);
		columns_drop(c);
	}
	pthread_attr_destroy(&at);
}

/*
 * The columns of market_id under generation when the store has them, else
 * NULL after starting their read in the background: a search meanwhile
 * looks its rows up per match rather than wait for a pass over the whole
 * market. NULL too for columns over the budget. Give back with
 * columns_release.
 */
static struct columns *columns_get(int64_t market_id, int64_t generation)
{
	pthread_mutex_lock(&mu);
	columns_start(market_id, generation); /* kept ones left are of this generation */
	struct columns *c, *reading;
	columns_find_kept(market_id, &c, &reading);
	if (c && !c->rows)
		c = NULL;
	if (c)
		c->refs++;
	pthread_mutex_unlock(&mu);
	return c;
}

void match_columns_warm(int64_t market_id, int64_t generation)
{
	if (generation < 0)
		return;
	pthread_mutex_lock(&mu);
	columns_start(market_id, generation);
	pthread_mutex_unlock(&mu);
}

void match_columns_warm_all(int64_t generation)
{
	int n;
	const struct market *m = market_all(&n);
	for (int i = 0; i < n; i++)
		match_columns_warm(m[i].id, generation);
}

void match_sets_settle(void)
{
	pthread_mutex_lock(&mu);
	wait_readers();
	pthread_mutex_unlock(&mu);
}

static void columns_release(struct columns *c)
{
	pthread_mutex_lock(&mu);
	columns_drop(c);
	pthread_mutex_unlock(&mu);
}

const struct market_columns *match_columns_get(int64_t market_id, int64_t generation)
{
	struct columns *c = generation >= 0 ? columns_get(market_id, generation) : NULL;
	return c ? &c->view : NULL;
}

void match_columns_release(const struct market_columns *view)
{
	if (view)
		columns_release((struct columns *)((char *)view - offsetof(struct columns, view)));
}

/* The row of product id: from the direct index, or else searched from
 * *from onwards in steps that double (ids come in ascending order from
 * SQLite's full-text index, so each search starts where the last ended, a
 * few rows on). */
static const struct listing_row *columns_find(const struct columns *c, int64_t id, int *from)
{
	if (c->at) {
		int64_t k = id - c->first_id;
		return k >= 0 && k < c->span && c->at[k] >= 0 ? &c->rows[c->at[k]] : NULL;
	}
	if (*from >= c->n || c->rows[*from].id > id)
		*from = 0;
	int lo = *from, step = 1;
	while (lo + step < c->n && c->rows[lo + step].id < id) {
		lo += step;
		step *= 2;
	}
	int hi = lo + step < c->n ? lo + step + 1 : c->n;
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		if (c->rows[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	*from = lo;
	return lo < c->n && c->rows[lo].id == id ? &c->rows[lo] : NULL;
}

/*
 * Full-text passes, kept a moment for the other markets: a pass (product
 * ids, ascending, and ranks) does not depend on the market, and a burst of
 * new searches (a cold start, the first searches after a catalog write)
 * asks for most texts in every market within seconds. Kept PASS_TTL_US
 * under the generation they were made in, within PASS_BYTES_MAX; asked for
 * while being made, a pass is waited for, as sets are.
 */
#define PASS_TTL_US 5000000
#define PASS_BYTES_MAX (2 << 20)

struct pass {
	struct pass *next;
	int64_t generation, expires_us;
	int64_t *ids, *ranks;   /* n each, one allocation */
	int n, refs;            /* the list's (while listed) + each user's */
	bool building;
	char match[];
};

static struct pass *passes; /* newest first */
static size_t pass_bytes;   /* of the ready ones */

static size_t pass_size(const struct pass *p)
{
	return sizeof(*p) + strlen(p->match) + 1 + sizeof(int64_t) * 2 * (size_t)p->n;
}

static void pass_drop(struct pass *p)
{
	if (--p->refs == 0) {
		free(p->ids);
		free(p);
	}
}

/* Take ready pass p off the list (mu held); users keep it until they drop it. */
static void pass_unlist(struct pass *p)
{
	struct pass **at = &passes;
	while (*at != p)
		at = &(*at)->next;
	*at = p->next;
	pass_bytes -= pass_size(p);
	pass_drop(p);
}

/* Drop the ready passes past their time or of another generation, then the
 * oldest until the rest fit PASS_BYTES_MAX (mu held). */
static void passes_prune(int64_t generation)
{
	int64_t now = time_mono_us();
	struct pass *oldest_ready;
	for (struct pass *p = passes, *next; p; p = next) {
		next = p->next;
		if (!p->building && (p->generation != generation || p->expires_us <= now))
			pass_unlist(p);
	}
	while (pass_bytes > PASS_BYTES_MAX) {
		oldest_ready = NULL;
		for (struct pass *p = passes; p; p = p->next)
			if (!p->building)
				oldest_ready = p;
		pass_unlist(oldest_ready);
	}
}

/* The pass of match under generation: a kept one (given a reference), or
 * NULL with *mine set to a marker the caller fills with pass_publish. */
static struct pass *pass_get(const char *match, int64_t generation, struct pass **mine)
{
	*mine = NULL;
	pthread_mutex_lock(&mu);
	for (;;) {
		passes_prune(generation);
		struct pass *p = passes;
		while (p && (p->generation != generation || strcmp(p->match, match)))
			p = p->next;
		if (p && p->building) {
			pthread_cond_wait(&built, &mu);
			continue; /* made, failed or dropped: look again */
		}
		if (p) {
			p->refs++;
			pthread_mutex_unlock(&mu);
			return p;
		}
		break;
	}
	size_t len = strlen(match);
	struct pass *p = xcalloc(1, sizeof(*p) + len + 1);
	memcpy(p->match, match, len + 1);
	p->generation = generation;
	p->building = true;
	p->refs = 1; /* the list's */
	p->next = passes;
	passes = p;
	pthread_mutex_unlock(&mu);
	*mine = p;
	return NULL;
}

/* Fill marker p with r's rows and keep it (within the budget), or (r NULL:
 * the pass failed) drop it; either way let its waiters look again. Returns
 * p with a reference for the caller, or NULL when r is. */
static struct pass *pass_publish(struct pass *p, const struct db_res *r)
{
	int64_t *v = NULL;
	if (r) {
		v = xmalloc(sizeof(*v) * 2 * (size_t)(r->nrows + 1));
		for (int i = 0; i < r->nrows; i++) {
			v[i] = db_int(r, i, 0);
			v[r->nrows + i] = db_int(r, i, 1);
		}
	}
	pthread_mutex_lock(&mu);
	p->building = false;
	p->ids = v;
	p->ranks = v ? v + r->nrows : NULL;
	p->n = r ? r->nrows : 0;
	p->expires_us = r ? time_mono_us() + PASS_TTL_US : 0;
	if (r)
		p->refs++;
	pass_bytes += pass_size(p);
	passes_prune(p->generation); /* a failed one goes here */
	pthread_cond_broadcast(&built);
	pthread_mutex_unlock(&mu);
	return r ? p : NULL;
}

/* The set's rows from its full-text matches and the market's columns. */
static bool build_from(struct db *db, struct entry *e, const struct columns *c)
{
	struct pass *mine, *p = pass_get(e->match, e->generation, &mine);
	if (!p) {
		struct db_res r;
		bool ok = db_query_ints(db, &r, db_conn_dialect(db)->fts_match, DBV(DT(e->match))) == DB_OK;
		p = pass_publish(mine, ok ? &r : NULL);
		if (!ok)
			return false;
		db_res_free(&r);
	}
	struct match_row *rows = xmalloc(sizeof(*rows) * (size_t)(p->n + 1));
	int n = 0, from = 0;
	for (int i = 0; i < p->n; i++) {
		const struct listing_row *l = columns_find(c, p->ids[i], &from);
		if (l) /* else not sold in the market */
			rows[n++] = (struct match_row){l, p->ranks[i]};
	}
	pthread_mutex_lock(&mu);
	pass_drop(p);
	pthread_mutex_unlock(&mu);
	e->rows = rows;
	e->set.rows = rows;
	e->set.n = n;
	e->bytes = sizeof(*e) + strlen(e->match) + sizeof(*rows) * (size_t)n;
	return true;
}

/* The set's rows with a product_market lookup per match (no columns). */
static bool build_lookup(struct db *db, struct entry *e)
{
	char sql[1024];
	snprintf(sql, sizeof(sql),
		 "WITH m(id, rank) AS (%s) SELECT " ROW_COLUMNS ", m.rank FROM m CROSS JOIN "
		 "product_market l WHERE l.market_id = $2 AND l.scope_id = 0 AND l.product_id = m.id",
		 db_conn_dialect(db)->fts_match);
	struct db_res r;
	if (db_query(db, &r, sql, DBV(DT(e->match), DI(e->market_id))) != DB_OK)
		return false;
	e->own = xcalloc((size_t)r.nrows + 1, sizeof(*e->own));
	struct strings st = {0};
	arena_init(&st.a);
	take_rows(&r, e->own, &st);
	size_t len = strings_end(&st, e->own, r.nrows, &e->text);
	e->rows = xmalloc(sizeof(*e->rows) * (size_t)(r.nrows + 1));
	for (int i = 0; i < r.nrows; i++)
		e->rows[i] = (struct match_row){&e->own[i], db_int(&r, i, 11)};
	e->set.rows = e->rows;
	e->set.n = r.nrows;
	e->bytes = sizeof(*e) + strlen(e->match) + (sizeof(*e->rows) + sizeof(*e->own)) * (size_t)r.nrows + len;
	db_res_free(&r);
	return true;
}

/* One stable pass of an LSD radix sort: rows from `from` into `to` by the
 * DIGIT_BITS bits at shift of max - value (the id's or the rank's), so the
 * largest value comes first. */
#define DIGIT_BITS 11
#define DIGITS (1 << DIGIT_BITS)

static void radix_pass(struct match_row *from, struct match_row *to, int n, bool by_id, uint64_t max,
		       int shift)
{
	int count[DIGITS + 1] = {0};
	for (int i = 0; i < n; i++) {
		uint64_t v = by_id ? (uint64_t)from[i].r->id : (uint64_t)from[i].rank;
		count[((max - v) >> shift & (DIGITS - 1)) + 1]++;
	}
	for (int d = 0; d < DIGITS; d++)
		count[d + 1] += count[d];
	for (int i = 0; i < n; i++) {
		uint64_t v = by_id ? (uint64_t)from[i].r->id : (uint64_t)from[i].rank;
		to[count[(max - v) >> shift & (DIGITS - 1)]++] = from[i];
	}
}

static int by_rank(const void *x, const void *y)
{
	const struct match_row *a = x, *b = y;
	if (a->rank != b->rank)
		return a->rank < b->rank ? 1 : -1;
	return a->r->id < b->r->id ? 1 : a->r->id > b->r->id ? -1 : 0;
}

/*
 * Rows by rank descending, then id descending: an LSD radix sort, id digits
 * first, then rank digits, each pass stable, with only as many digits as
 * the spread of the values needs (a few passes for tens of thousands of
 * matches, where qsort's comparisons through the row pointers were most of
 * the sort). Ranks and ids are never negative; a negative one (a foreign
 * rank function) falls back to qsort.
 */
void match_rows_sort(struct match_row *rows, int n)
{
	int64_t lo[2] = {INT64_MAX, INT64_MAX}, hi[2] = {0, 0}; /* [0] ids, [1] ranks */
	for (int i = 0; i < n; i++) {
		int64_t v[2] = {rows[i].r->id, rows[i].rank};
		for (int k = 0; k < 2; k++) {
			lo[k] = v[k] < lo[k] ? v[k] : lo[k];
			hi[k] = v[k] > hi[k] ? v[k] : hi[k];
		}
	}
	if (n < 64 || lo[0] < 0 || lo[1] < 0) {
		qsort(rows, (size_t)n, sizeof(*rows), by_rank);
		return;
	}
	struct match_row *tmp = xmalloc(sizeof(*rows) * (size_t)n), *from = rows, *to = tmp;
	for (int k = 0; k < 2; k++)
		for (int shift = 0; shift < 64 && (uint64_t)(hi[k] - lo[k]) >> shift; shift += DIGIT_BITS) {
			radix_pass(from, to, n, k == 0, (uint64_t)hi[k], shift);
			struct match_row *t = from;
			from = to;
			to = t;
		}
	if (from != rows)
		memcpy(rows, from, sizeof(*rows) * (size_t)n);
	free(tmp);
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

/* Build e's rows, best first: from the market's columns when the store
 * has them (kept sets only), else by lookups. */
static bool build_sorted(struct db *db, struct entry *e)
{
	struct columns *c = e->generation >= 0 ? columns_get(e->market_id, e->generation) : NULL;
	pthread_mutex_lock(&mu);
	while (building >= BUILDS_MAX)
		pthread_cond_wait(&build_slot, &mu);
	building++;
	pthread_mutex_unlock(&mu);
	bool ok = c ? build_from(db, e, c) : build_lookup(db, e);
	if (ok)
		match_rows_sort(e->rows, e->set.n);
	pthread_mutex_lock(&mu);
	building--;
	pthread_cond_signal(&build_slot);
	pthread_mutex_unlock(&mu);
	if (ok && c) {
		e->cols = c; /* the set's reference now */
		e->expires_us = c->expires_us;
	} else {
		if (c)
			columns_release(c);
		e->expires_us = time_mono_us() + (int64_t)MATCH_SET_TTL * 1000000;
	}
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
	if (!ok || (e->cols && !columns_listed(e->cols))) {
		/* failed, or built on columns dropped meanwhile: keep nothing */
		unkeep(e); /* still marked building: it is in no LRU place */
		e->building = false;
		pthread_cond_broadcast(&built);
		if (!ok)
			drop_ref(e);
		pthread_mutex_unlock(&mu);
		return ok ? &e->set : NULL;
	}
	e->building = false;
	lru_front(e);
	held += e->bytes;
	fit_budget(); /* this one last */
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
	wait_readers();
	while (oldest)
		unkeep(oldest);
	while (markets)
		columns_unkeep(markets);
	for (struct pass *p = passes, *next; p; p = next) {
		next = p->next;
		if (!p->building)
			pass_unlist(p);
	}
	pthread_mutex_unlock(&mu);
}
