/* Search match sets (catalog/matches.c): built once per market, text and
 * generation, best match first; a new generation rebuilds, generation -1
 * and a zero budget keep nothing, and requests asking at once for a set
 * nobody has build it once. Counted through db_observer: a build is one
 * statement over the full-text matches. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog/matches.h"
#include "db/db.h"
#include "t.h"

static char path[64];
static atomic_int builds;

static void observe(const char *sql, int64_t us)
{
	(void)us;
	if (strstr(sql, "WITH m(id, rank)"))
		atomic_fetch_add(&builds, 1);
}

static void exec(struct db *db, const char *sql)
{
	CHECK(db_exec(db, sql, DBV0, NULL) == DB_OK);
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
	char err[256], url[96];
	snprintf(url, sizeof(url), "sqlite:///%s", path);
	CHECK(db_pool_open(url, "", 8, err, sizeof(err)));
	struct db *db = db_acquire();
	exec(db, "CREATE VIRTUAL TABLE product_fts USING fts5(name, brand, category, tags, description)");
	exec(db, "CREATE TABLE product_market (product_id, market_id, scope_id, category_id, brand_id, "
		 "price, popularity, created_at, in_stock, sizes, colors, stock_sizes, stock_colors)");
	product(db, 1, "Silk Scarf");
	product(db, 2, "Silk Silk Silk Tie"); /* more occurrences: ranked first */
	product(db, 3, "Cotton Tee");
	exec(db, "INSERT INTO product_fts (rowid, name) VALUES (4, 'Silk Wrap')"); /* not in market 1 */
	db_observer = observe;
	match_sets_budget(1 << 20);

	const struct match_set *a = match_set_get(db, 1, silk, 1);
	CHECK(a && a->n == 2 && builds == 1);
	CHECK(a->rows[0].id == 2 && a->rows[1].id == 1);
	CHECK(a->rows[0].price == 2000 && a->rows[0].category_id == 7 && a->rows[0].in_stock);
	CHECK(strcmp(a->rows[0].sizes, "|m|") == 0);
	const struct match_set *b = match_set_get(db, 1, silk, 1);
	CHECK(b == a && builds == 1); /* kept */
	match_set_release(b);
	const struct match_set *other = match_set_get(db, 2, silk, 1);
	CHECK(other && other->n == 0 && builds == 2); /* another market */
	match_set_release(other);

	product(db, 5, "Silk Shirt");
	const struct match_set *c = match_set_get(db, 1, silk, 1);
	CHECK(c == a && c->n == 2); /* same generation: the kept set */
	match_set_release(c);
	c = match_set_get(db, 1, silk, 2);
	CHECK(c != a && c->n == 3 && builds == 3); /* a write moved the generation on */
	CHECK(a->n == 2 && a->rows[1].id == 1); /* a holder's set stays whole */
	match_set_release(a);
	match_set_release(c);

	for (int i = 0; i < 2; i++) { /* no cache: built for each caller */
		const struct match_set *d = match_set_get(db, 1, silk, -1);
		CHECK(d && d->n == 3);
		match_set_release(d);
	}
	CHECK(builds == 5);
	match_sets_budget(0);
	for (int i = 0; i < 2; i++)
		match_set_release(match_set_get(db, 1, silk, 3));
	CHECK(builds == 7); /* over a zero budget nothing stays */
	db_release(db);

	match_sets_budget(1 << 20);
	pthread_t t[8];
	int n[8];
	for (int i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, ask, &n[i]);
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		CHECK(n[i] == 3);
	}
	CHECK(builds == 8); /* eight at once, one build */
	db_observer = NULL;
	match_sets_clear();
	db_pool_close();
}

int main(void)
{
	snprintf(path, sizeof(path), "/tmp/mandi-unit-matches-%d.db", (int)getpid());
	t_remove_sqlite(path);
	RUN(match_sets_kept_and_rebuilt);
	t_remove_sqlite(path);
	return t_done();
}
