#include "catalog/recommend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"
#include "db/db.h"
#include "market/market.h"

/* How much each signal weighs. Bought-together always outranks content
 * similarity, which outranks plain popularity. */
enum {
	W_BOUGHT = 100000, /* + W_BOUGHT_PER per shared order */
	W_BOUGHT_PER = 1000,
	W_CATEGORY = 100,
	W_BRAND = 200,
	W_TAG = 50,
	W_PRICE_BAND = 150,
	SIMILAR_SCAN = 60, /* candidates looked at in a product's category */
	POPULAR_POOL = 24,
	RECOMMEND_CHUNK = 2000, /* products per transaction */
};

enum reason { R_POPULAR, R_SIMILAR, R_BOUGHT };
static const char *const reason_names[] = {"popular", "similar", "bought_together"};

struct item {
	int64_t id, category, brand, price, popularity;
	uint64_t tags; /* one bit per tag hash: shared tags = popcount(a & b) */
	bool in_stock;
};

struct pick {
	int idx;
	int64_t score;
	enum reason why;
};

struct pair {
	int a, b; /* indexes into the item array */
	int64_t orders;
};

static uint64_t tag_mask(const char *json)
{
	uint64_t m = 0;
	for (const char *s = json ? strchr(json, '"') : NULL; s; s = strchr(s, '"')) {
		const char *e = strchr(s + 1, '"');
		if (!e)
			break;
		uint64_t h = 1469598103934665603ULL;
		for (const char *c = s + 1; c < e; c++)
			h = (h ^ (unsigned char)*c) * 1099511628211ULL;
		m |= 1ULL << (h & 63);
		s = e + 1;
	}
	return m;
}

/* Keep the best RECOMMEND_PER_PRODUCT picks; a product appears once, with
 * its best score and reason. */
static void offer(struct pick *top, int *n, int idx, int64_t score, enum reason why)
{
	for (int i = 0; i < *n; i++)
		if (top[i].idx == idx) {
			if (score <= top[i].score)
				return;
			memmove(&top[i], &top[i + 1], sizeof(*top) * (size_t)(*n - i - 1));
			(*n)--;
			break;
		}
	int at = *n;
	while (at > 0 && top[at - 1].score < score)
		at--;
	if (at >= RECOMMEND_PER_PRODUCT)
		return;
	int keep = *n < RECOMMEND_PER_PRODUCT ? *n : RECOMMEND_PER_PRODUCT - 1;
	memmove(&top[at + 1], &top[at], sizeof(*top) * (size_t)(keep - at));
	top[at] = (struct pick){idx, score, why};
	*n = keep + 1;
}

static int cmp_id(const void *x, const void *y)
{
	const int64_t *a = x, *b = y; /* {id, index} pairs */
	return a[0] < b[0] ? -1 : a[0] > b[0];
}

static int index_of(const int64_t *ids, int n, int64_t id)
{
	int64_t key[2] = {id, 0};
	const int64_t *hit = bsearch(key, ids, (size_t)n, sizeof(int64_t) * 2, cmp_id);
	return hit ? (int)hit[1] : -1;
}

/* Products sold in the market, grouped by category, most popular first. */
static int load_items(struct db *db, int64_t market_id, struct item **out)
{
	struct db_res r;
	if (db_query(db, &r,
		     "SELECT l.product_id, l.category_id, COALESCE(l.brand_id, 0), l.price, l.popularity, "
		     "p.tags, EXISTS (SELECT 1 FROM product_variants v JOIN product_prices pp ON "
		     "pp.variant_id = v.id AND pp.market_id = l.market_id JOIN inventory i ON i.variant_id = "
		     "v.id WHERE v.product_id = l.product_id AND i.stock - i.reserved > 0) "
		     "FROM product_market l JOIN products p ON p.id = l.product_id WHERE l.market_id = $1 "
		     "AND l.scope_id = 0 "
		     "ORDER BY l.category_id, l.popularity DESC, l.product_id",
		     DBV(DI(market_id))) != DB_OK)
		return -1;
	struct item *it = xcalloc((size_t)r.nrows + 1, sizeof(*it));
	for (int i = 0; i < r.nrows; i++) {
		const char *stock = db_text(&r, i, 6);
		it[i] = (struct item){db_int(&r, i, 0), db_int(&r, i, 1), db_int(&r, i, 2), db_int(&r, i, 3),
				      db_int(&r, i, 4), tag_mask(db_text(&r, i, 5)),
				      stock && (stock[0] == '1' || stock[0] == 't')};
	}
	int n = r.nrows;
	db_res_free(&r);
	*out = it;
	return n;
}

/* Pairs of products in the same (not cancelled) order of this market. No
 * orders yet — or no order tables in this build — means no pairs. */
static int load_pairs(struct db *db, int64_t market_id, const int64_t *ids, int n, struct pair **out)
{
	struct db_res r;
	*out = NULL;
	if (db_query(db, &r,
		     "SELECT a.product_id, b.product_id, COUNT(DISTINCT a.order_id) FROM order_items a "
		     "JOIN order_items b ON b.order_id = a.order_id AND b.product_id <> a.product_id "
		     "JOIN orders o ON o.id = a.order_id WHERE o.market_id = $1 AND o.status <> 'cancelled' "
		     "GROUP BY a.product_id, b.product_id",
		     DBV(DI(market_id))) != DB_OK) {
		log_warn("recommendations: no order data to read; bought-together skipped");
		return 0;
	}
	struct pair *p = xcalloc((size_t)r.nrows + 1, sizeof(*p));
	int k = 0;
	for (int i = 0; i < r.nrows; i++) {
		int a = index_of(ids, n, db_int(&r, i, 0)), b = index_of(ids, n, db_int(&r, i, 1));
		if (a >= 0 && b >= 0)
			p[k++] = (struct pair){a, b, db_int(&r, i, 2)};
	}
	db_res_free(&r);
	*out = p;
	return k;
}

static int cmp_pair(const void *x, const void *y)
{
	const struct pair *a = x, *b = y;
	return a->a - b->a;
}

static int64_t similarity(const struct item *a, const struct item *b)
{
	int64_t s = W_CATEGORY;
	if (a->brand && a->brand == b->brand)
		s += W_BRAND;
	s += W_TAG * __builtin_popcountll(a->tags & b->tags);
	/* the same price band: within 30 % of each other */
	if (b->price * 10 >= a->price * 7 && b->price * 10 <= a->price * 13)
		s += W_PRICE_BAND;
	return s + b->popularity / 100;
}

/* Replace one product's list: one DELETE, one multi-row INSERT. */
static bool store(struct db *db, int64_t market_id, const struct item *self, const struct item *it,
		  const struct pick *top, int nt, int64_t now)
{
	if (db_exec(db, "DELETE FROM product_recommendations WHERE product_id = $1 AND market_id = $2",
		    DBV(DI(self->id), DI(market_id)), NULL) != DB_OK)
		return false;
	if (!nt)
		return true;
	/* the product, market and time are shared by every row: 3 + 3 per row
	 * parameters keeps a full list well under the drivers' limits */
	char sql[2048];
	struct db_val p[3 + RECOMMEND_PER_PRODUCT * 3];
	int len = snprintf(sql, sizeof(sql),
			   "INSERT INTO product_recommendations (product_id, market_id, recommended_id, score, "
			   "reason, computed_at) VALUES ");
	p[0] = DI(self->id);
	p[1] = DI(market_id);
	p[2] = DI(now);
	for (int k = 0; k < nt; k++) {
		int b = 3 + k * 3;
		len += snprintf(sql + len, sizeof(sql) - (size_t)len, "%s($1, $2, $%d, $%d, $%d, $3)",
				k ? ", " : "", b + 1, b + 2, b + 3);
		p[b] = DI(it[top[k].idx].id);
		p[b + 1] = DI(top[k].score);
		p[b + 2] = DS(reason_names[top[k].why]);
	}
	/* another instance refreshing the same market at the same time (a
	 * scheduled run beside `mandi jobs run-once`) may have written the
	 * product's rows after this DELETE looked: take them over, not fail */
	snprintf(sql + len, sizeof(sql) - (size_t)len,
		 " ON CONFLICT (product_id, market_id, recommended_id) DO UPDATE SET score = excluded.score, "
		 "reason = excluded.reason, computed_at = excluded.computed_at");
	return db_exec(db, sql, p, 3 + nt * 3, NULL) == DB_OK;
}

static bool refresh_market(struct db *db, int64_t market_id, int64_t now)
{
	struct item *it = NULL;
	struct pair *pairs = NULL;
	int64_t *ids = NULL;
	bool ok = false;
	int n = load_items(db, market_id, &it);
	if (n < 0)
		return false;
	ids = xmalloc(sizeof(int64_t) * 2 * (size_t)(n + 1));
	for (int i = 0; i < n; i++) {
		ids[2 * i] = it[i].id;
		ids[2 * i + 1] = i;
	}
	if (n > 0)
		qsort(ids, (size_t)n, sizeof(int64_t) * 2, cmp_id);
	int np = load_pairs(db, market_id, ids, n, &pairs);
	if (np > 0)
		qsort(pairs, (size_t)np, sizeof(*pairs), cmp_pair);
	/* the market's most popular products in stock, for every list's tail */
	int pool[POPULAR_POOL], npool = 0;
	{
		struct pick top[RECOMMEND_PER_PRODUCT * 2];
		int nt = 0;
		for (int i = 0; i < n; i++)
			if (it[i].in_stock)
				offer(top, &nt, i, it[i].popularity, R_POPULAR);
		for (int i = 0; i < nt && npool < POPULAR_POOL; i++)
			pool[npool++] = top[i].idx;
	}
	/* commit every RECOMMEND_CHUNK products so the job never holds the
	 * write lock for long (SQLite has one writer) */
	int pi = 0, cat_start = 0;
	for (int i = 0; i < n; i++) {
		struct pick top[RECOMMEND_PER_PRODUCT];
		int nt = 0;
		if (i % RECOMMEND_CHUNK == 0) {
			if (i && db_commit(db) != DB_OK)
				goto out;
			if (db_begin(db) != DB_OK)
				goto out;
		}
		if (i == 0 || it[i].category != it[i - 1].category)
			cat_start = i;
		while (pi < np && pairs[pi].a < i)
			pi++;
		for (int k = pi; k < np && pairs[k].a == i; k++)
			if (it[pairs[k].b].in_stock)
				offer(top, &nt, pairs[k].b, W_BOUGHT + W_BOUGHT_PER * pairs[k].orders, R_BOUGHT);
		int scanned = 0;
		for (int k = cat_start; k < n && it[k].category == it[i].category && scanned < SIMILAR_SCAN; k++) {
			if (k == i || !it[k].in_stock)
				continue;
			scanned++;
			offer(top, &nt, k, similarity(&it[i], &it[k]), R_SIMILAR);
		}
		for (int k = 0; k < npool; k++)
			if (pool[k] != i)
				offer(top, &nt, pool[k], it[pool[k]].popularity / 100, R_POPULAR);
		if (!store(db, market_id, &it[i], it, top, nt, now))
			goto out;
	}
	if (n && db_commit(db) != DB_OK)
		goto out;
	/* products that left the market since the last run */
	ok = db_exec(db, "DELETE FROM product_recommendations WHERE market_id = $1 AND computed_at <> $2",
		     DBV(DI(market_id), DI(now)), NULL) == DB_OK;
out:
	if (!ok)
		db_rollback(db);
	free(it);
	free(pairs);
	free(ids);
	return ok;
}

bool recommend_refresh(struct db *db, int64_t now)
{
	int n;
	const struct market *ms = market_all(&n);
	for (int i = 0; i < n; i++)
		if (!refresh_market(db, ms[i].id, now))
			return false;
	return true;
}

int recommend_read(struct db *db, struct arena *a, int64_t product_id, int64_t market_id, int limit,
		   struct recommendation **out)
{
	struct db_res r;
	if (db_query(db, &r,
		     "SELECT r.recommended_id, r.score, r.reason FROM product_recommendations r "
		     "JOIN product_market l ON l.product_id = r.recommended_id AND l.market_id = r.market_id "
		     "AND l.scope_id = 0 "
		     "WHERE r.product_id = $1 AND r.market_id = $2 AND r.recommended_id <> r.product_id "
		     "AND EXISTS (SELECT 1 FROM product_variants v JOIN product_prices pp ON pp.variant_id = v.id "
		     "AND pp.market_id = r.market_id JOIN inventory i ON i.variant_id = v.id WHERE "
		     "v.product_id = r.recommended_id AND i.stock - i.reserved > 0) "
		     "ORDER BY r.score DESC, r.recommended_id LIMIT $3",
		     DBV(DI(product_id), DI(market_id), DI(limit))) != DB_OK)
		return -1;
	struct recommendation *rec = arena_alloc(a, sizeof(*rec) * (size_t)(r.nrows + 1));
	for (int i = 0; i < r.nrows; i++)
		rec[i] = (struct recommendation){db_int(&r, i, 0), db_int(&r, i, 1),
						 arena_strdup(a, db_text(&r, i, 2))};
	int n = r.nrows;
	db_res_free(&r);
	*out = rec;
	return n;
}
