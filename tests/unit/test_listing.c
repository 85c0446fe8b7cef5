/* Listings from a market's columns (catalog/search.c, listing_run with a
 * generation whose columns are kept) against the same listings from the
 * database (generation -1): on the demo catalog, every sort with each
 * filter and their mixes, page by page through the cursor, both ways give
 * the same items in the same order, every item once. The columns' walk
 * runs no listing statement; a catalog write seen under a new generation
 * is listed. Counted through db_observer. On SQLite, and on PostgreSQL
 * (a database of its own) when MANDI_TEST_PG_URL is set. */
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "app/seed.h"
#include "catalog/demo.h"
#include "catalog/matches.h"
#include "catalog/names.h"
#include "catalog/search.h"
#include "core/config.h"
#include "db/db.h"
#include "market/market.h"
#include "t.h"

static struct db *db;
static atomic_int pages; /* listing statements (the database's way) */

static void observe(const char *sql, int64_t us)
{
	(void)us;
	if (strstr(sql, "FROM (SELECT l.product_id, l.market_id, l.scope_id"))
		atomic_fetch_add(&pages, 1);
}

static const char *test_env(const char *name)
{
	static char url[128];
	if (strcmp(name, "DATABASE_URL") == 0) {
		snprintf(url, sizeof(url), "sqlite:////tmp/mandi-unit-listing-%d.db", (int)getpid());
		return url;
	}
	return NULL;
}

static int64_t scalar(const char *sql, const char *arg)
{
	int64_t v = 0;
	CHECK(db_scalar(db, &v, 0, sql, DBV(DT(arg))) == DB_OK);
	return v;
}

static bool same_item(const struct listing_item *x, const struct listing_item *y)
{
	return x->id == y->id && x->price == y->price && x->price_max == y->price_max &&
	       x->sort_key == y->sort_key && x->brand_id == y->brand_id && x->created_at == y->created_at &&
	       x->stock == y->stock && strcmp(x->name, y->name) == 0 && strcmp(x->brand, y->brand) == 0 &&
	       strcmp(x->category, y->category) == 0 && strcmp(x->images, y->images) == 0;
}

/* Page through q both ways (limit 7); returns the items listed, -1 when
 * the two ways differ anywhere. */
static int both_ways(struct listing_query q)
{
	struct listing_query m = q;
	int total = 0;
	int64_t *seen = NULL;
	for (;;) {
		struct arena a;
		arena_init(&a);
		struct listing_item *x, *y;
		int before = pages;
		int nx = listing_run(db, &a, &q, -1, &x);
		CHECK(nx <= 0 || pages > before); /* the database's way (an empty page may take a count) */
		before = pages;
		int ny = listing_run(db, &a, &m, 1, &y);
		CHECK(pages == before); /* the columns' way: no listing statement */
		bool same = nx >= 0 && nx == ny;
		for (int i = 0; same && i < nx; i++)
			same = same_item(&x[i], &y[i]);
		if (!same) {
			fprintf(stderr, "  pages differ: sort %d scope %lld brand %lld price %lld-%lld size %s color %s "
					"in_stock %d after %lld/%lld: %d vs %d items\n",
				q.sort, (long long)q.scope_id, (long long)q.brand_id, (long long)q.min_price,
				(long long)q.max_price, q.size ? q.size : "-", q.color ? q.color : "-", q.in_stock,
				(long long)q.after_key, (long long)q.after_id, nx, ny);
			arena_free(&a);
			free(seen);
			return -1;
		}
		int n = nx > q.limit ? (int)q.limit : nx;
		seen = realloc(seen, sizeof(*seen) * (size_t)(total + n + 1));
		for (int i = 0; i < n; i++) {
			for (int j = 0; j < total; j++)
				CHECK(seen[j] != x[i].id); /* every item once */
			seen[total++] = x[i].id;
		}
		bool more = nx > q.limit;
		if (more) {
			q.after = m.after = true;
			q.after_key = m.after_key = x[n - 1].sort_key;
			q.after_id = m.after_id = x[n - 1].id;
		}
		arena_free(&a);
		if (!more)
			break;
	}
	free(seen);
	return total;
}

static void listing_columns_match_database(void)
{
	const struct market *us = market_get("US"), *in = market_get("IN");
	struct arena a;
	arena_init(&a);
	int64_t dresses = scalar("SELECT id FROM categories WHERE slug = $1", "dresses");
	int64_t maxi = scalar("SELECT id FROM categories WHERE slug = $1", "maxi-dresses");
	int64_t shoes = scalar("SELECT id FROM categories WHERE slug = $1", "shoes");
	int64_t zara = scalar("SELECT id FROM brands WHERE slug = $1", "zara");
	CHECK(dresses > 0 && maxi > 0 && shoes > 0 && zara > 0);
	/* the filters one by one and mixed; scope 0 is every category */
	const struct listing_query filters[] = {
	    {.scope_id = 0},
	    {.scope_id = dresses},
	    {.scope_id = maxi},
	    {.brand_id = zara},
	    {.min_price = 3000, .max_price = 6000},
	    {.size = "M"},
	    {.color = "Navy"},
	    {.in_stock = true},
	    {.in_stock = true, .size = "m"},
	    {.in_stock = true, .color = "black"},
	    {.in_stock = true, .size = "M", .color = "black"},
	    {.scope_id = dresses, .brand_id = zara, .in_stock = true, .min_price = 2000},
	    {.scope_id = dresses, .size = "XS", .color = "red", .max_price = 12000},
	    {.size = "no-such-size"},
	    {.scope_id = dresses, .size = "8"},              /* a shoe size: in the market, not the scope */
	    {.scope_id = shoes, .size = "8", .in_stock = true}, /* the scope's own sizes */
	    {.scope_id = maxi, .in_stock = true, .color = "Olive"},
	};
	int listed = 0, empty = 0;
	for (int mk = 0; mk < 2; mk++)
		for (int s = SORT_POPULAR; s <= SORT_PRICE_DESC; s++)
			for (size_t f = 0; f < sizeof(filters) / sizeof(filters[0]); f++) {
				struct listing_query q = filters[f];
				q.market_id = mk ? in->id : us->id;
				q.sort = (enum listing_sort)s;
				q.limit = 7;
				if (!q.min_price)
					q.min_price = -1;
				if (!q.max_price)
					q.max_price = -1;
				q.size_like = q.size ? listing_like(&a, q.size) : NULL;
				q.color_like = q.color ? listing_like(&a, q.color) : NULL;
				int n = both_ways(q);
				CHECK(n >= 0);
				listed += n > 0 ? n : 0;
				empty += n == 0;
			}
	/* the catalog is listed whole, in both markets, and filters bite */
	CHECK(listed > 4 * 600);
	CHECK(empty >= 16 && empty < 40); /* no-such-size and size 8 among dresses, 8 each */
	arena_free(&a);
}

/* A write under a new generation is listed from columns read after it;
 * the old generation's columns are not used for it. */
static void listing_columns_follow_generation(void)
{
	const struct market *us = market_get("US");
	struct listing_query q = {.market_id = us->id, .sort = SORT_PRICE_ASC, .limit = 3,
				  .min_price = -1, .max_price = -1};
	struct arena a;
	arena_init(&a);
	struct listing_item *it;
	CHECK(listing_run(db, &a, &q, 1, &it) == 4);
	int64_t cheapest = it[0].price;
	CHECK(db_exec(db, "UPDATE product_market SET price = 1 WHERE product_id = $1 AND market_id = $2",
		      DBV(DI(it[2].id), DI(us->id)), NULL) == DB_OK);
	int64_t moved = it[2].id;
	int before = pages;
	CHECK(listing_run(db, &a, &q, 2, &it) == 4); /* columns not read yet: the database */
	CHECK(pages == before + 1 && it[0].id == moved && it[0].price == 1);
	match_sets_settle();
	before = pages;
	CHECK(listing_run(db, &a, &q, 2, &it) == 4); /* read meanwhile */
	CHECK(pages == before && it[0].id == moved && it[1].price == cheapest);
	arena_free(&a);
}

/* The suite on a fresh database at url (migrated, the demo catalog seeded). */
static bool suite(const char *url)
{
	char err[256];
	if (!db_pool_open(url, "", 4, err, sizeof(err))) {
		fprintf(stderr, "db: %s\n", err);
		return false;
	}
	db = db_acquire();
	if (db_migrate(db) < 0 || !seed_reference(db) || !market_reload(db) || !demo_catalog_seed(db, 600)) {
		fprintf(stderr, "cannot prepare the database\n");
		return false;
	}
	db_observer = observe;
	match_sets_budget(64 << 20);
	match_columns_warm_all(1);
	match_sets_settle();
	RUN(listing_columns_match_database);
	RUN(listing_columns_follow_generation);
	db_observer = NULL;
	match_sets_clear();
	names_clear();
	db_release(db);
	db_pool_close();
	return true;
}

/* One statement on a connection of its own to url. */
static bool admin(const char *url, const char *sql)
{
	char err[256];
	if (!db_pool_open(url, "", 1, err, sizeof(err)))
		return false;
	struct db *c = db_acquire();
	bool ok = db_exec(c, sql, DBV0, NULL) == DB_OK;
	db_release(c);
	db_pool_close();
	return ok;
}

int main(void)
{
	char err[256];
	if (!config_load(test_env, err, sizeof(err))) {
		fprintf(stderr, "config: %s\n", err);
		return 1;
	}
	const char *file = cfg.database_url + strlen("sqlite:///");
	unlink(file);
	bool ok = suite(cfg.database_url);
	char wal[160];
	unlink(file);
	snprintf(wal, sizeof(wal), "%s-wal", file);
	unlink(wal);
	snprintf(wal, sizeof(wal), "%s-shm", file);
	unlink(wal);
	/* PostgreSQL too, on a database of its own, when the suite has one */
	const char *pg = getenv("MANDI_TEST_PG_URL");
	const char *slash = pg ? strrchr(pg, '/') : NULL;
	if (ok && slash) {
		char name[64], sql[128], url[512];
		snprintf(name, sizeof(name), "mandi_unit_listing_%d", (int)getpid());
		snprintf(url, sizeof(url), "%.*s/%s", (int)(slash - pg), pg, name);
		snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
		ok = admin(pg, sql) && suite(url);
		snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
		admin(pg, sql);
	}
	if (!ok)
		return 1;
	return t_done();
}
