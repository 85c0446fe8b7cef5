/* Search match sets (catalog/matches.c): built once per market, text and
 * generation, best match first, from a market's columns read once for
 * every text; a new generation rebuilds both, generation -1 and a zero
 * budget keep nothing (rows looked up per match, the same rows), columns
 * over the budget are read once and not kept, and requests asking at once
 * for a set nobody has build it once; the markets' sets of one text share
 * its full-text pass; columns with ids far apart (no direct index) give the
 * same rows; hundreds of matches with equal ranks come best first, ties by
 * id. Counted through db_observer. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog/matches.h"
#include "db/db.h"
#include "t.h"

static char path[64];
static atomic_int fts, lookups, columns; /* full-text passes, lookup builds, column reads */

static void observe(const char *sql, int64_t us)
{
	(void)us;
	if (strstr(sql, "WITH m(id, rank)"))
		atomic_fetch_add(&lookups, 1);
	else if (strstr(sql, "MATCH $1"))
		atomic_fetch_add(&fts, 1);
	else if (strstr(sql, "FROM product_market l WHERE +l.market_id"))
		atomic_fetch_add(&columns, 1);
}

/* Whether two sets have the same rows, field by field. */
static bool same_rows(const struct match_set *x, const struct match_set *y)
{
	if (x->n != y->n)
		return false;
	for (int i = 0; i < x->n; i++) {
		const struct listing_row *a = x->rows[i].r, *b = y->rows[i].r;
		if (x->rows[i].rank != y->rows[i].rank || a->id != b->id || a->price != b->price ||
		    a->popularity != b->popularity || a->created_at != b->created_at ||
		    a->brand_id != b->brand_id || a->category_id != b->category_id ||
		    a->in_stock != b->in_stock || strcmp(a->sizes, b->sizes) || strcmp(a->colors, b->colors) ||
		    strcmp(a->stock_sizes, b->stock_sizes) || strcmp(a->stock_colors, b->stock_colors))
			return false;
	}
	return true;
}

static void exec(struct db *db, const char *sql)
{
	CHECK(db_exec(db, sql, DBV0, NULL) == DB_OK);
}

/* A pool of size connections on a fresh database with the two tables a
 * set is built from; returns one connection of it. */
static struct db *open_catalog(int size)
{
	char err[256], url[96];
	snprintf(url, sizeof(url), "sqlite:///%s", path);
	CHECK(db_pool_open(url, "", size, err, sizeof(err)));
	struct db *db = db_acquire();
	exec(db, "CREATE VIRTUAL TABLE product_fts USING fts5(name, brand, category, tags, description)");
	exec(db, "CREATE TABLE product_market (product_id, market_id, scope_id, category_id, brand_id, "
		 "price, popularity, created_at, in_stock, sizes, colors, stock_sizes, stock_colors)");
	/* the category tree columns keep their scopes' orders by */
	exec(db, "CREATE TABLE categories (id INTEGER PRIMARY KEY, parent_id, slug, name)");
	exec(db, "CREATE TABLE brands (id INTEGER PRIMARY KEY, slug, name)");
	exec(db, "INSERT INTO categories VALUES (7, NULL, 'tops', 'Tops')");
	return db;
}

/* Product id sold in market 1 (scope 0) with this name. */
static void product(struct db *db, int id, const char *name)
{
	char sql[512];
	snprintf(sql, sizeof(sql), "INSERT INTO product_fts (rowid, name) VALUES (%d, '%s')", id, name);
	exec(db, sql);
	snprintf(sql, sizeof(sql),
		 "INSERT INTO product_market VALUES (%d, 1, 0, 7, 3, %d, %d, 1000, 1, '|m|', '|red|', "
		 "'|m|', '|red|')",
		 id, 1000 * id, 10 - id);
	exec(db, sql);
}

static const char silk[] = "\"silk\"*";

static void *ask(void *arg)
{
	struct db *db = db_acquire();
	const struct match_set *s = match_set_get(db, 1, silk, 4);
	db_release(db);
	*(int *)arg = s ? s->n : -1;
	match_set_release(s);
	return NULL;
}

static void match_sets_kept_and_rebuilt(void)
{
	struct db *db = open_catalog(8);
	product(db, 1, "Silk Scarf");
	product(db, 2, "Silk Silk Silk Tie"); /* more occurrences: ranked first */
	product(db, 3, "Cotton Tee");
	exec(db, "INSERT INTO product_fts (rowid, name) VALUES (4, 'Silk Wrap')"); /* not in market 1 */
	db_observer = observe;
	match_sets_budget(1 << 20);

	/* the first ask reads the columns in the background and looks up */
	const struct match_set *a = match_set_get(db, 1, silk, 1);
	CHECK(a && a->n == 2 && lookups == 1 && fts == 0);
	match_sets_settle();
	CHECK(columns == 1);
	CHECK(a->rows[0].r->id == 2 && a->rows[1].r->id == 1);
	CHECK(a->rows[0].r->price == 2000 && a->rows[0].r->category_id == 7 && a->rows[0].r->in_stock);
	CHECK(strcmp(a->rows[0].r->sizes, "|m|") == 0);
	const struct match_set *b = match_set_get(db, 1, silk, 1);
	CHECK(b == a && lookups == 1); /* kept */
	match_set_release(b);
	match_columns_warm(2, 1);
	match_sets_settle();
	const struct match_set *other = match_set_get(db, 2, silk, 1);
	CHECK(other && other->n == 0 && fts == 1 && columns == 2); /* another market, warmed */
	match_set_release(other);
	const struct match_set *tee = match_set_get(db, 1, "\"tee\"*", 1);
	CHECK(tee && tee->n == 1 && tee->rows[0].r->id == 3 && fts == 2 && columns == 2); /* columns kept */
	match_set_release(tee);

	product(db, 5, "Silk Shirt");
	const struct match_set *c = match_set_get(db, 1, silk, 1);
	CHECK(c == a && c->n == 2); /* same generation: the kept set */
	match_set_release(c);
	match_columns_warm(1, 2);
	match_sets_settle();
	c = match_set_get(db, 1, silk, 2);
	CHECK(c != a && c->n == 3 && fts == 3 && columns == 3); /* a write moved the generation on */
	/* the other market's set of the text takes the same full-text pass */
	exec(db, "INSERT INTO product_market VALUES (5, 2, 0, 7, 3, 900, 1, 1000, 1, '|s|', '|blue|', "
		 "'|s|', '|blue|')");
	match_columns_warm(2, 2);
	match_sets_settle();
	const struct match_set *in2 = match_set_get(db, 2, silk, 2);
	CHECK(in2 && in2->n == 1 && in2->rows[0].r->id == 5 && in2->rows[0].r->price == 900);
	CHECK(c->rows[1].r->id == 5 && in2->rows[0].rank == c->rows[1].rank && fts == 3 && columns == 4);
	match_set_release(in2);
	CHECK(a->n == 2 && a->rows[1].r->id == 1 && a->rows[1].r->price == 1000); /* a holder's set stays whole */
	match_set_release(a);

	for (int i = 0; i < 2; i++) { /* no cache: built for each caller, by lookups */
		const struct match_set *d = match_set_get(db, 1, silk, -1);
		CHECK(d && same_rows(d, c));
		match_set_release(d);
	}
	CHECK(lookups == 3 && fts == 3);
	match_set_release(c);
	match_sets_budget(0);
	for (int i = 0; i < 2; i++)
		match_set_release(match_set_get(db, 1, silk, 3));
	match_sets_settle();
	CHECK(lookups == 5 && columns == 4); /* over a zero budget nothing stays, nothing is read */
	match_sets_budget(300);
	match_columns_warm(1, 3);
	match_sets_settle();
	for (int i = 0; i < 2; i++)
		match_set_release(match_set_get(db, 1, silk, 3));
	match_sets_settle();
	CHECK(lookups == 7 && columns == 5); /* columns over the budget: read once, not kept */
	db_release(db);

	match_sets_budget(1 << 20);
	match_columns_warm(1, 4);
	match_sets_settle();
	int before = fts;
	pthread_t t[8];
	int n[8];
	for (int i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, ask, &n[i]);
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		CHECK(n[i] == 3);
	}
	CHECK(fts == before + 1 && columns == 6 && lookups == 7); /* eight at once, one build */

	/* ids far apart (no direct index on the columns): the same rows */
	db = db_acquire();
	product(db, 100000, "Silk Far Away");
	match_columns_warm(1, 5);
	match_sets_settle();
	const struct match_set *far = match_set_get(db, 1, silk, 5);
	const struct match_set *ref = match_set_get(db, 1, silk, -1);
	CHECK(far && ref && far->n == 4 && same_rows(far, ref) && columns == 7 && lookups == 8);
	match_set_release(far);
	match_set_release(ref);
	db_release(db);
	db_observer = NULL;
	match_sets_clear();
	db_pool_close();
}

/* Whether a set is best first: rank descending, ties by id descending. */
static bool best_first(const struct match_set *s)
{
	for (int i = 1; i < s->n; i++) {
		const struct match_row *p = &s->rows[i - 1], *q = &s->rows[i];
		if (p->rank < q->rank || (p->rank == q->rank && p->r->id <= q->r->id))
			return false;
	}
	return true;
}

/* Hundreds of matches with many equal ranks and ids spread over several
 * radix digits: the set built from the columns (radix sort) and the one
 * looked up for a single caller are both best first, row for row alike. */
static void match_sets_sorted(void)
{
	struct db *db = open_catalog(4);
	static const char *const names[] = {"Wool Coat", "Wool Wool Scarf", "Wool Wool Wool Hat",
					    "Merino Wool Jumper Wool Knit"};
	for (int i = 0; i < 400; i++)
		product(db, 7 + i * 13 + (i % 3) * 2000, names[(i * 7) % 4]);
	match_sets_budget(1 << 20);
	match_columns_warm(1, 1);
	match_sets_settle();
	const struct match_set *kept = match_set_get(db, 1, "\"wool\"*", 1);
	const struct match_set *own = match_set_get(db, 1, "\"wool\"*", -1);
	CHECK(kept && own && kept->n == 400 && best_first(kept) && best_first(own));
	CHECK(same_rows(kept, own) && kept->rows[0].rank > kept->rows[399].rank);
	match_set_release(kept);
	match_set_release(own);
	db_release(db);
	match_sets_clear();
	db_pool_close();
}

int main(void)
{
	snprintf(path, sizeof(path), "/tmp/mandi-unit-matches-%d.db", (int)getpid());
	t_remove_sqlite(path);
	RUN(match_sets_kept_and_rebuilt);
	t_remove_sqlite(path);
	RUN(match_sets_sorted);
	t_remove_sqlite(path);
	return t_done();
}
