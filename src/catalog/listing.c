/*
 * Listing rows of freshly inserted products, built in C (see listing.h).
 *
 * product_reindex's SQL reads each product back, joins variants, prices and
 * stock, aggregates them per market and crosses the result with the
 * category scopes; for a feed of new products that aggregate was a third of
 * the cost of the listing rows. The writer already holds every value, so
 * here the rows are built from its structs and travel as one struct db_rows
 * parameter per table (the dialect's rows_from).
 */
#include "catalog/listing.h"

#include <stdio.h>
#include <string.h>

#include "catalog/names.h"
#include "catalog/product.h"
#include "core/buf.h"
#include "core/mem.h"
#include "db/db.h"

/* A bound on the walk up the tree: the tree has no cycles, but a walk over
 * data should end whatever the data. */
#define SCOPE_MAX 64

/* '|a|b|' of the variants' sizes (or colours) in market m, only those with
 * units available when avail; "|" when none. As group_concat has it, a
 * missing value is an empty one and nothing is deduplicated. */
static void join_list(struct buf *b, const struct product *p, int64_t m, bool colors, bool avail)
{
	buf_reset(b);
	buf_addc(b, '|');
	for (int k = 0; k < p->nvariants; k++) {
		const struct variant *v = &p->variants[k];
		bool sold = false;
		for (int i = 0; i < v->nprices && !sold; i++)
			sold = v->prices[i].market_id == m;
		if (!sold || (avail && v->stock <= 0))
			continue;
		const char *s = colors ? v->color : v->size;
		buf_adds(b, s ? s : "");
		buf_addc(b, '|');
	}
}

/* The product_market rows of one active product, appended to w; lists is
 * scratch for the four '|…|' lists of a market. */
static void market_rows(struct db_rows *w, struct buf lists[4], const struct catalog_names *tree,
			const struct product *p)
{
	/* scope 0, then the category and those above it (the importer's
	 * categories come from the same tree) */
	const struct named *path[SCOPE_MAX - 1];
	int64_t scopes[SCOPE_MAX];
	int nscope = 0;
	scopes[nscope++] = 0;
	int np = names_path(tree, p->category_id, path, SCOPE_MAX - 1);
	for (int j = 0; j < np; j++)
		scopes[nscope++] = path[j]->id;
	/* the first variant's images, read by the scope-0 row */
	const struct variant *first = NULL;
	for (int k = 0; k < p->nvariants; k++)
		if (!first || p->variants[k].id < first->id)
			first = &p->variants[k];
	int64_t markets[PRODUCT_MAX_VARIANTS * PRODUCT_MAX_MARKETS];
	int nm = 0;
	for (int k = 0; k < p->nvariants; k++)
		for (int i = 0; i < p->variants[k].nprices; i++) {
			int64_t m = p->variants[k].prices[i].market_id;
			int j = 0;
			while (j < nm && markets[j] != m)
				j++;
			if (j == nm)
				markets[nm++] = m;
		}
	for (int j = 0; j < nm; j++) {
		int64_t m = markets[j], lo = INT64_MAX, hi = INT64_MIN;
		int in_stock = 0, level = 0;
		for (int k = 0; k < p->nvariants; k++) {
			const struct variant *v = &p->variants[k];
			for (int i = 0; i < v->nprices; i++) {
				if (v->prices[i].market_id != m)
					continue;
				lo = v->prices[i].amount < lo ? v->prices[i].amount : lo;
				hi = v->prices[i].amount > hi ? v->prices[i].amount : hi;
				int lv = v->stock > v->low_stock_threshold ? 2 : v->stock > 0 ? 1 : 0;
				in_stock |= v->stock > 0;
				level = lv > level ? lv : level;
			}
		}
		/* sizes, colours, sizes in stock, colours in stock */
		for (int l = 0; l < 4; l++)
			join_list(&lists[l], p, m, l & 1, l >= 2);
		for (int sc = 0; sc < nscope; sc++) {
			db_rows_int(w, p->id);
			db_rows_int(w, m);
			db_rows_int(w, scopes[sc]);
			db_rows_int(w, p->category_id);
			if (p->brand_id)
				db_rows_int(w, p->brand_id);
			else
				db_rows_null(w);
			db_rows_int(w, lo);
			db_rows_int(w, hi);
			db_rows_int(w, p->popularity);
			db_rows_int(w, p->created_at);
			for (int l = 0; l < 4; l++)
				db_rows_textn(w, lists[l].p, lists[l].len);
			db_rows_int(w, in_stock);
			db_rows_int(w, level);
			if (sc == 0 && first)
				db_rows_text(w, first->images ? first->images : "[]");
			else
				db_rows_null(w);
		}
	}
}

/* The listing_attrs rows of one active product: its category, 's:' size or
 * 'c:' colour (lower-cased by the statement), the product. Exact repeats
 * are skipped here; ones that differ only in case, by the statement. */
static void attr_rows(struct db_rows *w, struct buf *tmp, const struct product *p)
{
	for (int pass = 0; pass < 2; pass++)
		for (int k = 0; k < p->nvariants; k++) {
			const char *val = pass ? p->variants[k].color : p->variants[k].size;
			val = val ? val : "";
			bool seen = false;
			for (int j = 0; j < k && !seen; j++) {
				const char *o = pass ? p->variants[j].color : p->variants[j].size;
				seen = !strcmp(o ? o : "", val);
			}
			if (seen)
				continue;
			buf_reset(tmp);
			buf_adds(tmp, pass ? "c:" : "s:");
			buf_adds(tmp, val);
			db_rows_int(w, p->category_id);
			db_rows_textn(w, tmp->p, tmp->len);
			db_rows_int(w, p->id);
		}
}

/* Column lists of the two tables' rows (c0 … in the order the rows are
 * built above). */
static const char MARKET_ROWS_INSERT[] =
	"INSERT INTO product_market (product_id, market_id, scope_id, category_id, brand_id, price, "
	"price_max, popularity, created_at, sizes, colors, stock_sizes, stock_colors, in_stock, "
	"stock_level, image) SELECT CAST(c0 AS BIGINT), CAST(c1 AS BIGINT), CAST(c2 AS BIGINT), "
	"CAST(c3 AS BIGINT), CAST(c4 AS BIGINT), CAST(c5 AS BIGINT), CAST(c6 AS BIGINT), "
	"CAST(c7 AS BIGINT), CAST(c8 AS BIGINT), LOWER(c9), LOWER(c10), LOWER(c11), LOWER(c12), "
	"CAST(c13 AS INTEGER), CAST(c14 AS INTEGER), c15 FROM %s";
/* sizes or colours that differ only in case meet here */
static const char ATTR_ROWS_INSERT[] =
	"INSERT INTO listing_attrs (category_id, attr, product_id) SELECT CAST(c0 AS BIGINT), "
	"LOWER(c1), CAST(c2 AS BIGINT) FROM %s WHERE true ON CONFLICT DO NOTHING";

bool listing_insert_new(struct db *db, const struct catalog_names *tree, struct product *const *ps, int n)
{
	const struct db_dialect *d = db_conn_dialect(db);
	char from[1024];
	snprintf(from, sizeof(from), d->rows_from, "$1");
	struct db_rows rows;
	struct buf sql, lists[4];
	buf_init(&sql, 8192);
	for (int l = 0; l < 4; l++)
		buf_init(&lists[l], (size_t)1 << 20);
	/* only active products are listed and searchable: their indexes in ps,
	 * then (for the full-text rows) their ids */
	int64_t *active = xmalloc(sizeof(int64_t) * (size_t)(n + 1));
	int na = 0;
	for (int i = 0; i < n; i++)
		if (!ps[i]->status || !strcmp(ps[i]->status, "active"))
			active[na++] = i;
	bool ok = true;
	db_rows_init(&rows, 16);
	for (int table = 0; table < 2 && ok && na; table++) {
		db_rows_reset(&rows, table == 0 ? 16 : 3);
		for (int i = 0; i < na; i++) {
			if (table == 0)
				market_rows(&rows, lists, tree, ps[active[i]]);
			else
				attr_rows(&rows, &lists[0], ps[active[i]]);
		}
		buf_reset(&sql);
		buf_printf(&sql, table == 0 ? MARKET_ROWS_INSERT : ATTR_ROWS_INSERT, from);
		ok = db_exec(db, sql.p, DBV(DROWS(&rows)), NULL) == DB_OK;
	}
	for (int i = 0; i < na; i++)
		active[i] = ps[active[i]]->id;
	ok = ok && product_fts_add(db, active, na);
	free(active);
	db_rows_free(&rows);
	for (int l = 0; l < 4; l++)
		buf_free(&lists[l]);
	buf_free(&sql);
	return ok;
}
