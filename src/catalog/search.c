#include "catalog/search.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catalog/matches.h"
#include "catalog/names.h"
#include "catalog/orders.h"
#include "core/buf.h"
#include "core/ids.h"
#include "core/mem.h"
#include "core/money.h"
#include "core/timeutil.h"
#include "db/db.h"

const char *const listing_sort_names[] = {"popular", "newest", "price_asc", "price_desc", "relevance",
					  NULL};

/* Sort key column and direction per sort, indexed by enum listing_sort. */
static const struct {
	const char *key;
	bool asc;
} sorts[] = {
	{"l.popularity", false},
	{"l.created_at", false},
	{"l.price", true},
	{"l.price", false},
	{"rank", false}, /* a search's, ordered in memory (search_run) */
};

/* Price bands for the price facet, per currency (minor units). */
static const struct {
	const char *currency;
	int64_t bounds[4];
} bands[] = {
	{"USD", {2500, 5000, 10000, 20000}},
	{"INR", {100000, 250000, 500000, 1000000}},
};
#define NBANDS 5

/* SQL under construction with its bound parameters. */
struct sqlb {
	struct buf b;
	struct db_val p[24];
	int n;
};

static int param(struct sqlb *s, struct db_val v)
{
	s->p[s->n] = v;
	return ++s->n;
}

/* FROM + WHERE over product_market l of a listing page query. */
static void from_where(struct sqlb *s, const struct listing_query *q, const char *from)
{
	buf_adds(&s->b, from ? from : " FROM product_market l");
	int m = param(s, DI(q->market_id));
	buf_printf(&s->b, " WHERE l.market_id = $%d AND l.scope_id = $%d", m, param(s, DI(q->scope_id)));
	if (q->brand_id)
		buf_printf(&s->b, " AND l.brand_id = $%d", param(s, DI(q->brand_id)));
	if (q->min_price >= 0)
		buf_printf(&s->b, " AND l.price >= $%d", param(s, DI(q->min_price)));
	if (q->max_price >= 0)
		buf_printf(&s->b, " AND l.price <= $%d", param(s, DI(q->max_price)));
	/* sizes and colours sold in the market are on the row ('|s|m|'), and
	 * those of the variants with units available too (stock_sizes,
	 * stock_colors, kept in step with inventory): in_stock with a size or a
	 * colour is a test on the row; with both, the two tests narrow it down
	 * and an EXISTS checks one variant has that size and colour in stock */
	if (!q->in_stock) {
		if (q->size)
			buf_printf(&s->b, " AND l.sizes LIKE $%d ESCAPE '\\'", param(s, DT(q->size_like)));
		if (q->color)
			buf_printf(&s->b, " AND l.colors LIKE $%d ESCAPE '\\'", param(s, DT(q->color_like)));
		return;
	}
	if (q->size)
		buf_printf(&s->b, " AND l.stock_sizes LIKE $%d ESCAPE '\\'", param(s, DT(q->size_like)));
	if (q->color)
		buf_printf(&s->b, " AND l.stock_colors LIKE $%d ESCAPE '\\'", param(s, DT(q->color_like)));
	if (!q->size && !q->color)
		buf_adds(&s->b, " AND l.in_stock = 1");
	if (q->size && q->color)
		buf_printf(&s->b,
			   " AND EXISTS (SELECT 1 FROM product_variants v JOIN product_prices pp ON "
			   "pp.variant_id = v.id AND pp.market_id = l.market_id JOIN inventory i ON "
			   "i.variant_id = v.id WHERE v.product_id = l.product_id AND i.stock - i.reserved > 0 "
			   "AND LOWER(v.size) = LOWER($%d) AND LOWER(v.color) = LOWER($%d))",
			   param(s, DT(q->size)), param(s, DT(q->color)));
}

/* A listing item's columns over product_market l; %s is the sort key. The
 * stock status and, on a scope 0 row, the images are on the row
 * (090_listing_items.sql). */
static const char ITEM_COLS[] =
	"SELECT l.product_id, p.name, b.name, c.slug, l.price, l.price_max, %s, l.brand_id, "
	"l.created_at, COALESCE(l.image, (SELECT v.images FROM product_variants v WHERE "
	"v.product_id = l.product_id ORDER BY +v.id LIMIT 1)), l.stock_level";
static const char ITEM_JOINS[] = " JOIN products p ON p.id = l.product_id JOIN categories c ON "
				 "c.id = l.category_id LEFT JOIN brands b ON b.id = l.brand_id";

static void item_row(struct arena *a, const struct db_res *r, int i, struct listing_item *it)
{
	it->id = db_int(r, i, 0);
	it->name = arena_strdup(a, db_text(r, i, 1));
	it->brand = arena_strdup(a, db_text(r, i, 2));
	it->category = arena_strdup(a, db_text(r, i, 3));
	it->price = db_int(r, i, 4);
	it->price_max = db_int(r, i, 5);
	it->sort_key = db_int(r, i, 6);
	it->brand_id = db_int(r, i, 7);
	it->created_at = db_int(r, i, 8);
	it->images = arena_strdup(a, db_text(r, i, 9));
	it->stock = (int)db_int(r, i, 10);
}

const char *listing_like(struct arena *a, const char *value)
{
	size_t n = strlen(value);
	char *out = arena_alloc(a, 2 * n + 5), *o = out;
	*o++ = '%';
	*o++ = '|';
	for (const char *c = value; *c; c++) {
		if (*c == '%' || *c == '_' || *c == '\\')
			*o++ = '\\';
		*o++ = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
	}
	*o++ = '|';
	*o++ = '%';
	*o = 0;
	return out;
}

/* How a page query reaches product_market's rows. On SQLite only the
 * popularity sort has its index (093_listing_sort_indexes.sqlite.sql): the
 * other sorts read the scope's entries of that index and sort them. */
enum page_source {
	SRC_SCOPE, /* the scope in sort order */
	SRC_PROBE, /* only the first LISTING_PROBE_ROWS rows of the scope in sort order */
	SRC_ATTR,  /* the scope's products with one size or colour (listing_attrs) */
	SRC_PRICE, /* the scope's rows in the price range (an index with the price), sorted */
};

/* Rows a listing with a size or colour filter reads in sort order before it
 * looks for a narrower way in. */
#define LISTING_PROBE_ROWS 400
/* Products with a size or colour above which listing_attrs is no better
 * than walking the scope. */
#define LISTING_ATTR_MAX 2000
/* Above every price (max_price's bound is 10^11). */
#define PRODUCT_PRICE_TOP INT64_MAX

static bool by_price(const struct listing_query *q)
{
	return q->sort == SORT_PRICE_ASC || q->sort == SORT_PRICE_DESC;
}

static int run_page(struct db *db, struct arena *a, const struct listing_query *q,
		    enum page_source src, const char *attr, const char *cats, struct listing_item **items)
{
	struct sqlb s = {.n = 0};
	struct buf from;
	buf_init(&s.b, 16384);
	buf_init(&from, 4096);
	const char *key = sorts[q->sort].key;
	const char *dir = sorts[q->sort].asc ? "ASC" : "DESC";
	char cmp = sorts[q->sort].asc ? '>' : '<';
	/* the inner query finds the page's rows in order (an index walk); the outer one
	 * reads the columns of those rows only, from their scope 0 rows (the
	 * same values, and the images) */
	buf_printf(&s.b, ITEM_COLS, "t.k");
	buf_printf(&s.b, " FROM (SELECT l.product_id, l.market_id, l.scope_id, %s AS k", key);
	if (src == SRC_PROBE) {
		/* only columns of SQLite's popularity index (090_listing_items_index.*),
		 * so the probe reads no table row; a price range bounds a price
		 * sort's walk */
		int mk = param(&s, DI(q->market_id)), sc = param(&s, DI(q->scope_id));
		buf_printf(&from, " FROM (SELECT l.product_id, l.market_id, l.scope_id, l.price, "
				  "l.in_stock, l.stock_sizes, l.stock_colors");
		if (!by_price(q))
			buf_printf(&from, ", %s", key);
		if (q->brand_id)
			buf_adds(&from, ", l.brand_id");
		if (!q->in_stock)
			buf_adds(&from, ", l.sizes, l.colors");
		buf_printf(&from, " FROM product_market l WHERE l.market_id = $%d AND l.scope_id = $%d",
			   mk, sc);
		if (by_price(q) && q->min_price >= 0)
			buf_printf(&from, " AND l.price >= $%d", param(&s, DI(q->min_price)));
		if (by_price(q) && q->max_price >= 0)
			buf_printf(&from, " AND l.price <= $%d", param(&s, DI(q->max_price)));
		if (q->after) {
			int k = param(&s, DI(q->after_key));
			int i = param(&s, DI(q->after_id));
			buf_printf(&from, " AND (%s, l.product_id) %c ($%d, $%d)", key, cmp, k, i);
		}
		buf_printf(&from, " ORDER BY %s %s, l.product_id %s LIMIT %d) l", key, dir, dir,
			   LISTING_PROBE_ROWS);
	} else if (src == SRC_ATTR) {
		/* CROSS JOIN: SQLite reads the few products with the size or colour
		 * first, then their rows by primary key, and sorts what is left */
		buf_adds(&from, " FROM listing_attrs a CROSS JOIN product_market l");
	}
	from_where(&s, q, from.len ? from.p : NULL);
	buf_free(&from);
	if (src == SRC_ATTR)
		buf_printf(&s.b, " AND a.category_id IN (%s) AND a.attr = $%d AND l.product_id = a.product_id",
			   cats, param(&s, DT(attr)));
	if (q->after) {
		int k = param(&s, DI(q->after_key));
		int i = param(&s, DI(q->after_id));
		buf_printf(&s.b, " AND (%s, l.product_id) %c ($%d, $%d)", key, cmp, k, i);
	}
	/* unary plus: no index gives this order, so SQLite picks the one the
	 * price range narrows most and sorts what is in range */
	const char *plus = src == SRC_PRICE ? "+" : "";
	buf_printf(&s.b,
		   " ORDER BY %s%s %s, %sl.product_id %s LIMIT $%d) t JOIN product_market l ON "
		   "l.product_id = t.product_id AND l.market_id = t.market_id AND l.scope_id = 0%s "
		   "ORDER BY t.k %s, t.product_id %s",
		   plus, key, dir, plus, dir, param(&s, DI(q->limit + 1)), ITEM_JOINS, dir, dir);
	struct db_res r;
	int rc = db_query(db, &r, s.b.p, s.p, s.n);
	buf_free(&s.b);
	if (rc != DB_OK)
		return -1;
	struct listing_item *it = arena_alloc(a, sizeof(*it) * (size_t)(r.nrows + 1));
	for (int i = 0; i < r.nrows; i++)
		item_row(a, &r, i, &it[i]);
	int n = r.nrows;
	db_res_free(&r);
	*items = it;
	return n;
}

/* "s:m" / "c:red": a listing_attrs value (ASCII lower case, as listing_like). */
static const char *attr_value(struct arena *a, char kind, const char *value)
{
	size_t n = strlen(value);
	char *out = arena_alloc(a, n + 3), *o = out;
	*o++ = kind;
	*o++ = ':';
	for (const char *c = value; *c; c++)
		*o++ = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
	*o = 0;
	return out;
}

/* The scope's category ids as SQL ("1, 7, 8"), or NULL when it has none or
 * on an error. */
static const char *scope_categories(struct db *db, struct arena *a, int64_t scope, int64_t generation)
{
	const struct catalog_names *nm = names_get(db, generation);
	if (!nm)
		return NULL;
	int n;
	const int64_t *ids = names_scope(nm, a, scope, &n);
	names_release(nm);
	if (n <= 0)
		return NULL;
	struct buf b;
	buf_init(&b, 64 * 1024);
	for (int i = 0; i < n; i++)
		buf_printf(&b, "%s%lld", i ? ", " : "", (long long)ids[i]);
	const char *out = arena_strdup(a, b.p);
	buf_free(&b);
	return out;
}

/* How many of the scope's rows are in q's price range, counting up to max;
 * -1 on error. One seek of the price index when max is 1. */
static int64_t price_count(struct db *db, const struct listing_query *q, int max)
{
	char sql[320];
	snprintf(sql, sizeof(sql),
		 "SELECT COUNT(*) FROM (SELECT 1 FROM product_market WHERE market_id = $1 AND "
		 "scope_id = $2 AND price >= $3 AND price <= $4 LIMIT %d) x",
		 max);
	int64_t c;
	if (db_scalar(db, &c, 0, sql,
		      DBV(DI(q->market_id), DI(q->scope_id), DI(q->min_price >= 0 ? q->min_price : 0),
			  DI(q->max_price >= 0 ? q->max_price : PRODUCT_PRICE_TOP))) != DB_OK)
		return -1;
	return c;
}

/* How many products of the categories cats have attr (listing_attrs),
 * counting up to max; -1 on error or when cats is too long to inline. */
static int64_t attr_count(struct db *db, const char *cats, const char *attr, int max)
{
	char sql[512];
	if (strlen(cats) > 400)
		return -1;
	snprintf(sql, sizeof(sql),
		 "SELECT COUNT(*) FROM (SELECT 1 FROM listing_attrs WHERE category_id IN (%s) "
		 "AND attr = $1 LIMIT %d) x",
		 cats, max);
	int64_t c;
	if (db_scalar(db, &c, 0, sql, DBV(DT(attr))) != DB_OK)
		return -1;
	return c;
}

static int empty_page(struct arena *a, struct listing_item **items)
{
	*items = arena_alloc(a, sizeof(**items));
	return 0;
}

/* listing_run in the database: product_market's sort indexes (SQLite
 * keeps the popularity one, PostgreSQL all), listing_attrs and the price
 * range, whichever reads the fewest rows. */
static int listing_sql(struct db *db, struct arena *a, const struct listing_query *q,
		       int64_t generation, struct listing_item **items)
{
	bool priced = q->min_price >= 0 || q->max_price >= 0;
	if ((!q->size && !q->color && (by_price(q) || !priced)))
		return run_page(db, a, q, SRC_SCOPE, NULL, NULL, items);
	/*
	 * A size or colour filter, or a price range with a sort not by price.
	 * An empty page costs one index seek per filter: no row of the scope in
	 * the price range, or no product of its categories with the size or
	 * colour (listing_attrs has every variant's, in stock or not, in any
	 * market: a superset). Otherwise the filters are mostly common enough
	 * that the first rows in sort order fill the page (the probe reads the
	 * sort index only). When they do not, the filter is rare in this scope:
	 * read the fewest candidates — the products with the size or the colour
	 * (listing_attrs), or the rows in the price range (its index) — and sort
	 * those, rather than walk the whole scope. Every path returns the same
	 * rows.
	 */
	if (priced) {
		int64_t c = price_count(db, q, 1);
		if (c <= 0)
			return c < 0 ? -1 : empty_page(a, items);
	}
	const char *cats = NULL, *attrs[2] = {NULL, NULL};
	if (q->size || q->color) {
		cats = scope_categories(db, a, q->scope_id, generation);
		if (!cats) /* a category with no id cannot have products */
			return run_page(db, a, q, SRC_SCOPE, NULL, NULL, items);
		for (int k = 0; k < 2; k++) {
			const char *v = k ? q->color : q->size;
			if (!v)
				continue;
			attrs[k] = attr_value(a, k ? 'c' : 's', v);
			if (attr_count(db, cats, attrs[k], 1) == 0)
				return empty_page(a, items);
		}
	}
	int n = run_page(db, a, q, SRC_PROBE, NULL, NULL, items);
	if (n < 0 || n > q->limit)
		return n;
	/* a price range read on the price index, when it holds fewer rows than
	 * the products with the size or colour */
	int64_t in_range = LISTING_ATTR_MAX;
	if (priced && (in_range = price_count(db, q, LISTING_ATTR_MAX)) < 0)
		return -1;
	if (!cats)
		return run_page(db, a, q, in_range < LISTING_ATTR_MAX ? SRC_PRICE : SRC_SCOPE, NULL, NULL,
				items);
	const char *best = NULL;
	int64_t best_n = LISTING_ATTR_MAX;
	for (int k = 0; k < 2; k++) {
		if (!attrs[k])
			continue;
		int64_t c = attr_count(db, cats, attrs[k], LISTING_ATTR_MAX);
		if (c < 0)
			return run_page(db, a, q, SRC_SCOPE, NULL, NULL, items);
		if (c < best_n) {
			best_n = c;
			best = attrs[k];
		}
	}
	if (in_range < best_n)
		return run_page(db, a, q, SRC_PRICE, NULL, NULL, items);
	if (!best)
		return run_page(db, a, q, SRC_SCOPE, NULL, NULL, items);
	return run_page(db, a, q, SRC_ATTR, best, cats, items);
}

int listing_by_ids(struct db *db, struct arena *a, int64_t market_id, const int64_t *ids, int n,
		   struct listing_item **items)
{
	struct listing_item *it = arena_alloc(a, sizeof(*it) * (size_t)(n + 1));
	int k = 0;
	struct buf sql;
	buf_init(&sql, 8192);
	buf_printf(&sql, ITEM_COLS, "l.popularity");
	buf_printf(&sql, " FROM product_market l%s WHERE l.market_id = $1 AND l.product_id = $2 "
			 "AND l.scope_id = 0", ITEM_JOINS);
	/* collections are short: one indexed lookup per product keeps the order */
	for (int i = 0; i < n; i++) {
		struct db_res r;
		if (db_query(db, &r, sql.p, DBV(DI(market_id), DI(ids[i]))) != DB_OK) {
			buf_free(&sql);
			return -1;
		}
		if (r.nrows)
			item_row(a, &r, 0, &it[k++]);
		db_res_free(&r);
	}
	buf_free(&sql);
	*items = it;
	return k;
}

/* Add count to value in a facet being accumulated (few distinct values). */
static void facet_add(struct arena *a, struct facet *f, int *cap, const char *value,
		      const char *label, int64_t count)
{
	for (int i = 0; i < f->n; i++)
		if (strcmp(f->v[i].value, value) == 0) {
			f->v[i].count += count;
			return;
		}
	if (f->n == *cap) {
		int nc = *cap ? *cap * 2 : 16;
		struct facet_value *nv = arena_alloc(a, sizeof(*nv) * (size_t)nc);
		if (f->n)
			memcpy(nv, f->v, sizeof(*nv) * (size_t)f->n);
		f->v = nv;
		*cap = nc;
	}
	f->v[f->n++] = (struct facet_value){arena_strdup(a, value), arena_strdup(a, label), count};
}

static int cmp_count(const void *x, const void *y)
{
	const struct facet_value *a = x, *b = y;
	if (a->count != b->count)
		return a->count < b->count ? 1 : -1;
	return strcmp(a->value, b->value);
}

/* Count n products for each distinct value of a '|s|m|l|' list. */
static void facet_add_list(struct arena *a, struct facet *f, int *cap, const char *list, int64_t n)
{
	const char *start = list ? strchr(list, '|') : NULL;
	for (const char *p = start; p && *p;) {
		const char *e = strchr(p + 1, '|');
		if (!e)
			break;
		size_t len = (size_t)(e - p - 1);
		/* a value met earlier in the same list counts once */
		bool again = false;
		for (const char *q = start; len && q < p && !again; q = strchr(q + 1, '|'))
			again = strncmp(q + 1, p + 1, len) == 0 && q[1 + len] == '|';
		if (len && len < 64 && !again) {
			char v[64];
			memcpy(v, p + 1, len);
			v[len] = 0;
			facet_add(a, f, cap, v, v, n);
		}
		p = e;
	}
}

/* Count the '|s|m|' lists lists[0..n) into facet f. The rows share their
 * list strings (each distinct list is stored once, matches.c), so they are
 * counted by address first and each distinct list is split once. */
static void facet_add_lists(struct arena *a, struct facet *f, int *cap, const char **lists, int n)
{
	size_t size = 64;
	while (size < (size_t)n * 2)
		size *= 2;
	const char **key = arena_alloc(a, sizeof(*key) * size);
	int64_t *count = arena_alloc(a, sizeof(*count) * size);
	memset(key, 0, sizeof(*key) * size);
	for (int i = 0; i < n; i++) {
		size_t h = (size_t)(((uintptr_t)lists[i] >> 3) * 0x9E3779B97F4A7C15u) & (size - 1);
		while (key[h] && key[h] != lists[i])
			h = (h + 1) & (size - 1);
		if (!key[h]) {
			key[h] = lists[i];
			count[h] = 0;
		}
		count[h]++;
	}
	for (size_t h = 0; h < size; h++)
		if (key[h])
			facet_add_list(a, f, cap, key[h], count[h]);
}

/* Page items for these product ids (their scope 0 rows in q's market, the
 * rows with the image), in the given order, with keys[i] as each one's
 * sort key. */
static int items_by_ids(struct db *db, struct arena *a, const struct listing_query *q,
			const int64_t *ids, const int64_t *keys, int n, struct listing_item **items)
{
	struct listing_item *it = arena_alloc(a, sizeof(*it) * (size_t)(n + 1));
	*items = it;
	if (!n)
		return 0;
	struct buf sql;
	struct db_rows rows;
	buf_init(&sql, 1024);
	buf_printf(&sql, ITEM_COLS, "l.popularity");
	buf_printf(&sql, " FROM product_market l%s WHERE l.market_id = $1 AND l.scope_id = 0 AND "
			 "l.product_id", ITEM_JOINS);
	db_rows_in(&sql, db_conn_dialect(db), "$2");
	db_rows_ids(&rows, ids, n);
	struct db_res r;
	int rc = db_query(db, &r, sql.p, DBV(DI(q->market_id), DROWS(&rows)));
	buf_free(&sql);
	db_rows_free(&rows);
	if (rc != DB_OK)
		return -1;
	int k = 0;
	for (int i = 0; i < n; i++)
		for (int j = 0; j < r.nrows; j++)
			if (db_int(&r, j, 0) == ids[i]) {
				item_row(a, &r, j, &it[k]);
				it[k++].sort_key = keys[i];
				break;
			}
	db_res_free(&r);
	return k;
}

/* '|s|m|' list has value, ASCII case aside (what LIKE '%|m|%' tested). */
static bool list_has(const char *list, const char *value)
{
	size_t n = strlen(value);
	for (const char *p = list; (p = strchr(p, '|')) && p[1]; p++)
		if (strncasecmp(p + 1, value, n) == 0 && p[1 + n] == '|')
			return true;
	return false;
}


/* A search's category scope, tested once per match: a byte per category
 * id up to the scope's largest (ids are small), else a binary search. */
#define SCOPE_MAP_MAX (1 << 20)

struct scope {
	const int64_t *ids; /* ascending (NULL for scope 0, which is not tested) */
	int n;
	const unsigned char *in; /* in[id] for 0 <= id <= last, or NULL */
	int64_t last;
};

static void scope_init(struct scope *s, struct arena *a, const int64_t *ids, int n)
{
	*s = (struct scope){.ids = ids, .n = n};
	s->last = n ? ids[n - 1] : -1;
	if (!ids || !n || ids[0] < 0 || s->last >= SCOPE_MAP_MAX)
		return;
	unsigned char *in = arena_alloc(a, (size_t)s->last + 1);
	memset(in, 0, (size_t)s->last + 1);
	for (int i = 0; i < n; i++)
		in[ids[i]] = 1;
	s->in = in;
}

static bool scope_has(const struct scope *s, int64_t id)
{
	if (s->in)
		return id >= 0 && id <= s->last && s->in[id];
	return ids_find(s->ids, s->n, id) >= 0;
}

/* list_has's answers for one value, per list: the columns hold each
 * distinct '|…|' list once, and a walk or a filter loop tests the same few
 * lists thousands of times. */
#define MEMO_SLOTS 64

struct memo {
	const char *value;
	const char *list[MEMO_SLOTS];
	bool has[MEMO_SLOTS];
};

static bool memo_has(struct memo *m, const char *list)
{
	unsigned h = (unsigned)(((uintptr_t)list >> 3) * 2654435761u >> 16) % MEMO_SLOTS;
	if (m->list[h] != list) {
		m->list[h] = list;
		m->has[h] = list_has(list, m->value);
	}
	return m->has[h];
}

/* The memos of q's size and colour tests. */
struct memos {
	struct memo size, color;
};

static void memos_init(struct memos *m, const struct listing_query *q)
{
	memset(m, 0, sizeof(*m));
	m->size.value = q->size;
	m->color.value = q->color;
}

/* Whether a row passes q's filters other than the category scope (a
 * search tests it, a listing walks only its scope's rows) and in_stock with
 * both a size and a colour (which needs the variants: in_stock_pairs). */
static bool row_passes(const struct listing_query *q, const struct listing_row *w, struct memos *m)
{
	if (q->brand_id && w->brand_id != q->brand_id)
		return false;
	if ((q->min_price >= 0 && w->price < q->min_price) ||
	    (q->max_price >= 0 && w->price > q->max_price))
		return false;
	/* the same tests as from_where's on the row (see there) */
	if (!q->in_stock)
		return (!q->size || memo_has(&m->size, w->sizes)) &&
		       (!q->color || memo_has(&m->color, w->colors));
	if (!q->size && !q->color)
		return w->in_stock;
	return (!q->size || memo_has(&m->size, w->stock_sizes)) &&
	       (!q->color || memo_has(&m->color, w->stock_colors));
}

/* in_stock with a size and a colour: of products ids[0..n), those with one
 * variant of that size and colour in stock in the market, ascending, into
 * found[] (room for n). Returns their count or -1. */
static int in_stock_pairs(struct db *db, const struct listing_query *q, const int64_t *ids, int n,
			  int64_t *found)
{
	if (!n)
		return 0;
	struct buf sql, js;
	buf_init(&sql, 1024);
	buf_init(&js, (size_t)n * 24 + 16);
	db_json_ids(&js, ids, n);
	buf_adds(&sql, "SELECT DISTINCT v.product_id FROM product_variants v JOIN product_prices pp ON "
		       "pp.variant_id = v.id AND pp.market_id = $2 JOIN inventory i ON i.variant_id = "
		       "v.id WHERE i.stock - i.reserved > 0 AND LOWER(v.size) = LOWER($3) AND "
		       "LOWER(v.color) = LOWER($4) AND v.product_id");
	db_ids_in(&sql, db_conn_dialect(db));
	buf_adds(&sql, " ORDER BY 1");
	struct db_res r;
	int rc = db_query(db, &r, sql.p, DBV(DT(js.p), DI(q->market_id), DT(q->size), DT(q->color)));
	buf_free(&sql);
	buf_free(&js);
	if (rc != DB_OK)
		return -1;
	int k = r.nrows < n ? r.nrows : n;
	for (int i = 0; i < k; i++)
		found[i] = db_int(&r, i, 0);
	db_res_free(&r);
	return k;
}

/* in_stock_pairs over a search's rows: keep those it finds. Returns the
 * new count or -1. */
static int keep_in_stock_pairs(struct db *db, const struct listing_query *q,
			       const struct match_row **rows, int n)
{
	int64_t *ids = xmalloc(sizeof(*ids) * (size_t)(2 * n + 1)), *found = ids + n;
	for (int i = 0; i < n; i++)
		ids[i] = rows[i]->r->id;
	int nf = in_stock_pairs(db, q, ids, n, found), k = 0;
	for (int i = 0; nf >= 0 && i < n; i++)
		if (ids_find(found, nf, rows[i]->r->id) >= 0)
			rows[k++] = rows[i];
	free(ids);
	return nf < 0 ? -1 : k;
}

/* The column order a listing sort walks (forwards, or backwards when the
 * sort is ascending), indexed by enum listing_sort. */
static const enum column_order order_of[] = {ORDER_POPULAR, ORDER_NEWEST, ORDER_PRICE, ORDER_PRICE};

/* A row's key for sort s other than relevance (the cursor's and the
 * page's sort_key). */
static int64_t column_key(const struct listing_row *w, enum listing_sort s)
{
	return order_key(w, order_of[s]);
}

/* A matched row's key for sort s. */
static int64_t row_key(const struct match_row *w, enum listing_sort s)
{
	return s == SORT_RELEVANCE ? w->rank : column_key(w->r, s);
}

/* Whether (ka, ia) comes before (kb, ib) in sort s (ties by product id,
 * the same way round). */
static bool before(enum listing_sort s, int64_t ka, int64_t ia, int64_t kb, int64_t ib)
{
	if (ka != kb)
		return sorts[s].asc ? ka < kb : ka > kb;
	return sorts[s].asc ? ia < ib : ia > ib;
}

/* Facet values of the ids counted, named from v[0..nv) (ascending id). */
static void facet_names(struct arena *a, struct facet *f, int *cap, const struct named *v, int nv,
			const int64_t *ids, const int64_t *counts, int n)
{
	for (int i = 0; i < n; i++) {
		const struct named *e = names_find(v, nv, ids[i]);
		if (e && *e->slug)
			facet_add(a, f, cap, e->slug, e->name, counts[i]);
	}
}

/* Count id among the distinct ids seen so far (few: brands, categories). */
static int count_id(int64_t *ids, int64_t *counts, int n, int max, int64_t id)
{
	for (int i = 0; i < n; i++)
		if (ids[i] == id) {
			counts[i]++;
			return n;
		}
	if (n == max)
		return n;
	ids[n] = id;
	counts[n] = 1;
	return n + 1;
}

/* Brand, category, size, colour and price band counts over rows. */
static void count_facets(const struct catalog_names *nm, struct arena *a, const struct match_row **rows,
			 int n, const char *currency, struct facets *out)
{
	static const char *const names[] = {"brand", "category", "size", "color", "price"};
	for (int i = 0; i < FACET__COUNT; i++)
		out->f[i].name = names[i];
	const int64_t *bb = bands[0].bounds;
	for (size_t i = 0; i < sizeof(bands) / sizeof(bands[0]); i++)
		if (strcmp(bands[i].currency, currency) == 0)
			bb = bands[i].bounds;
	int capb = 0, capc = 0, capp = 0, caps = 0, capk = 0, nb = 0, nc = 0;
	int64_t per_band[NBANDS] = {0};
	int64_t *bid = arena_alloc(a, sizeof(int64_t) * (size_t)(4 * n + 4));
	int64_t *bcnt = bid + n + 1, *cid = bcnt + n + 1, *ccnt = cid + n + 1;
	const char **sizes = arena_alloc(a, sizeof(*sizes) * (size_t)(2 * n + 2));
	const char **colors = sizes + n + 1;
	for (int i = 0; i < n; i++) {
		const struct listing_row *w = rows[i]->r;
		sizes[i] = w->sizes;
		colors[i] = w->colors;
		if (w->brand_id)
			nb = count_id(bid, bcnt, nb, n, w->brand_id);
		nc = count_id(cid, ccnt, nc, n, w->category_id);
		int band = 0;
		while (band < NBANDS - 1 && w->price >= bb[band])
			band++;
		per_band[band]++;
	}
	facet_add_lists(a, &out->f[FACET_SIZE], &caps, sizes, n);
	facet_add_lists(a, &out->f[FACET_COLOR], &capk, colors, n);
	facet_names(a, &out->f[FACET_BRAND], &capb, nm->brands, nm->nbrands, bid, bcnt, nb);
	facet_names(a, &out->f[FACET_CATEGORY], &capc, nm->cats, nm->ncats, cid, ccnt, nc);
	/* price bands in ascending order, value "min-max" as the filters take it */
	for (int i = 0; i < NBANDS; i++) {
		if (!per_band[i])
			continue;
		char val[48], lab[96], lo[32], hi[32];
		int64_t from = i ? bb[i - 1] : 0;
		money_format_to(lo, sizeof(lo), from, currency);
		if (i < NBANDS - 1) {
			money_format_to(hi, sizeof(hi), bb[i], currency);
			snprintf(val, sizeof(val), "%lld-%lld", (long long)from, (long long)bb[i] - 1);
			snprintf(lab, sizeof(lab), "%s - %s", lo, hi);
		} else {
			snprintf(val, sizeof(val), "%lld-", (long long)from);
			snprintf(lab, sizeof(lab), "%s and up", lo);
		}
		facet_add(a, &out->f[FACET_PRICE], &capp, val, lab, per_band[i]);
	}
	/* price bands keep their ascending order; the rest go by count.
	 * An empty facet has no array, and qsort(NULL, 0) is undefined */
	for (int k = 0; k < FACET__COUNT; k++)
		if (k != FACET_PRICE && out->f[k].n > 0)
			qsort(out->f[k].v, (size_t)out->f[k].n, sizeof(struct facet_value), cmp_count);
}

/* The first position of order o[0..n) (key descending, then id) whose
 * row's (key, id) is below (key, id), or at or below it with or_equal. */
static int order_find(const struct market_columns *c, const int32_t *o, int n, enum listing_sort s,
		      int64_t key, int64_t id, bool or_equal)
{
	int lo = 0, hi = n;
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		const struct listing_row *w = &c->rows[o[mid]];
		int64_t k = column_key(w, s);
		if (k < key || (k == key && (w->id < id || (or_equal && w->id == id))))
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Whether one of the distinct lists of kind k among the scope's rows has
 * m's value: without one, no row of the scope passes that filter. */
static bool lists_have(const struct market_columns *c, int64_t scope, enum column_list k, struct memo *m)
{
	int n;
	const char *const *l = columns_lists(c, k, scope, &n);
	for (int i = 0; i < n; i++)
		if (memo_has(m, l[i]))
			return true;
	return false;
}

/* Candidates of an in-stock listing with a size and a colour checked at
 * once (in_stock_pairs): most pass, so a batch about fills a page. */
#define PAIRS_BATCH 64

/* listing_run from a market's columns: walk the sort's order of the
 * scope's rows from the cursor on, as the database walks a sort index,
 * keeping the rows that pass the other filters until the page is full;
 * then read the page's items. */
static int listing_from_columns(struct db *db, struct arena *a, const struct listing_query *q,
				const struct market_columns *c, struct listing_item **items)
{
	int no;
	const int32_t *o = columns_order(c, order_of[q->sort], q->scope_id, &no);
	struct memos memos;
	memos_init(&memos, q);
	/* a size or colour no row of the scope has: an empty page, no walk */
	if ((q->size && !lists_have(c, q->scope_id, q->in_stock ? LIST_STOCK_SIZES : LIST_SIZES, &memos.size)) ||
	    (q->color && !lists_have(c, q->scope_id, q->in_stock ? LIST_STOCK_COLORS : LIST_COLORS, &memos.color)))
		no = 0;
	bool asc = sorts[q->sort].asc, pairs = q->in_stock && q->size && q->color;
	int step = asc ? -1 : 1, at = asc ? no - 1 : 0;
	if (q->after)
		at = order_find(c, o, no, q->sort, q->after_key, q->after_id, asc) + (asc ? -1 : 0);
	int want = (int)q->limit + 1, k = 0, nb = 0;
	int64_t *ids = arena_alloc(a, sizeof(int64_t) * (size_t)(want + 1));
	int64_t *keys = arena_alloc(a, sizeof(int64_t) * (size_t)(want + 1));
	int64_t batch[PAIRS_BATCH], found[PAIRS_BATCH];
	const struct listing_row *cand[PAIRS_BATCH];
	for (; k < want; at += step) {
		bool end = at < 0 || at >= no;
		if (!end) {
			const struct listing_row *w = &c->rows[o[at]];
			if (!row_passes(q, w, &memos))
				continue;
			if (!pairs) {
				ids[k] = w->id;
				keys[k++] = column_key(w, q->sort);
				continue;
			}
			cand[nb] = w;
			batch[nb++] = w->id;
			if (nb < PAIRS_BATCH)
				continue;
		}
		/* a full batch, or the last candidates */
		int nf = in_stock_pairs(db, q, batch, nb, found);
		if (nf < 0)
			return -1;
		for (int i = 0; i < nb && k < want; i++)
			if (ids_find(found, nf, cand[i]->id) >= 0) {
				ids[k] = cand[i]->id;
				keys[k++] = column_key(cand[i], q->sort);
			}
		nb = 0;
		if (end)
			break;
	}
	return items_by_ids(db, a, q, ids, keys, k, items);
}

int listing_run(struct db *db, struct arena *a, const struct listing_query *q, int64_t generation,
		struct listing_item **items)
{
	if (q->sort == SORT_RELEVANCE)
		return -1; /* a search's order, not a listing's */
	const struct market_columns *c = match_columns_get(q->market_id, generation);
	if (!c)
		return listing_sql(db, a, q, generation, items);
	int n = listing_from_columns(db, a, q, c, items);
	match_columns_release(c);
	return n;
}

int search_run(struct db *db, struct arena *a, const struct listing_query *q, const char *currency,
	       int64_t generation, struct listing_item **items, struct facets *out)
{
	memset(out, 0, sizeof(*out));
	const struct catalog_names *nm = names_get(db, generation);
	if (!nm)
		return -1;
	int ncats = 0; /* scope 0: every category, not tested */
	const int64_t *scope_ids = q->scope_id ? names_scope(nm, a, q->scope_id, &ncats) : NULL;
	struct scope cats;
	scope_init(&cats, a, scope_ids, ncats);
	const struct match_set *set = match_set_get(db, q->market_id, q->match, generation);
	if (!set) {
		names_release(nm);
		return -1;
	}
	/* the matches that pass the filters, still best first */
	const struct match_row **rows = xmalloc(sizeof(*rows) * (size_t)(set->n + 1));
	struct memos memos;
	memos_init(&memos, q);
	int n = 0;
	for (int i = 0; i < set->n; i++) {
		const struct listing_row *w = set->rows[i].r;
		if ((!q->scope_id || scope_has(&cats, w->category_id)) && row_passes(q, w, &memos))
			rows[n++] = &set->rows[i];
	}
	if (q->in_stock && q->size && q->color)
		n = keep_in_stock_pairs(db, q, rows, n);
	if (n < 0)
		goto fail;
	out->total = n;
	count_facets(nm, a, rows, n < SEARCH_FACET_TOP ? n : SEARCH_FACET_TOP, currency, out);

	/* the page: the first limit + 1 rows after the cursor in q's order,
	 * kept in order as they are found (rows arrive by relevance) */
	int want = (int)q->limit + 1, k = 0;
	const struct match_row **page = arena_alloc(a, sizeof(*page) * (size_t)(want + 1));
	int64_t *keys = arena_alloc(a, sizeof(int64_t) * (size_t)(want + 1));
	for (int i = 0; i < n; i++) {
		int64_t key = row_key(rows[i], q->sort);
		if (q->after && !before(q->sort, q->after_key, q->after_id, key, rows[i]->r->id))
			continue;
		if (k == want && q->sort == SORT_RELEVANCE)
			break; /* in relevance order, every row left comes after the page */
		if (k == want && !before(q->sort, key, rows[i]->r->id, keys[k - 1], page[k - 1]->r->id))
			continue;
		int at = k < want ? k++ : want - 1;
		while (at > 0 && before(q->sort, key, rows[i]->r->id, keys[at - 1], page[at - 1]->r->id)) {
			page[at] = page[at - 1];
			keys[at] = keys[at - 1];
			at--;
		}
		page[at] = rows[i];
		keys[at] = key;
	}
	int64_t *ids = arena_alloc(a, sizeof(int64_t) * (size_t)(k + 1));
	for (int i = 0; i < k; i++)
		ids[i] = page[i]->r->id;
	free(rows);
	match_set_release(set);
	names_release(nm);
	return items_by_ids(db, a, q, ids, keys, k, items);
fail:
	free(rows);
	match_set_release(set);
	names_release(nm);
	return -1;
}

char *search_match_query(const struct db_dialect *d, struct arena *a, const char *text)
{
	struct buf b;
	buf_init(&b, 4096);
	int terms = 0;
	const unsigned char *s = (const unsigned char *)text;
	while (*s && terms < SEARCH_MAX_TERMS) {
		/* a word: ASCII letters/digits and any UTF-8 multi-byte letter */
		while (*s && !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			       (*s >= '0' && *s <= '9') || *s >= 0x80))
			s++;
		const unsigned char *w = s;
		while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		       *s >= 0x80)
			s++;
		if (s == w)
			break;
		if (terms++)
			buf_adds(&b, d->fts_and);
		buf_adds(&b, d->fts_quote);
		for (const unsigned char *c = w; c < s && c - w < 64; c++)
			buf_addc(&b, (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c));
		buf_adds(&b, d->fts_quote);
		buf_adds(&b, d->fts_prefix);
	}
	char *out = terms ? arena_strdup(a, b.p) : NULL;
	buf_free(&b);
	return out;
}
