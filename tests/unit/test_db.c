/* The SQLite driver's prepared statement cache stays within its budget
 * (SQLITE_STMT_CACHE_MB) and statements it evicted still run; db_query_each
 * hands every row over once, in parts of at most its chunk. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/db.h"
#include "t.h"

static char path[64];

/* Run n distinct statements (each a few KB of prepared program) on a fresh
 * one-connection pool with the given statement budget; true when every one
 * answered right. *grown: SQLite heap growth over the run. */
static bool distinct_statements(int64_t stmt_kib, int n, int64_t *grown)
{
	char err[256], url[96];
	snprintf(url, sizeof(url), "sqlite:///%s", path);
	db_cache_budget(256, stmt_kib);
	if (!db_pool_open(url, "", 1, err, sizeof(err))) {
		fprintf(stderr, "db: %s\n", err);
		return false;
	}
	struct db *db = db_acquire();
	int64_t before = sqlite3_memory_used();
	bool ok = true;
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < n; i++) {
			char sql[512];
			int64_t v = -1;
			snprintf(sql, sizeof(sql),
				 "SELECT %d + $1 + (SELECT COUNT(*) FROM (SELECT 1 UNION ALL SELECT 2 UNION ALL "
				 "SELECT 3) WHERE 1 = 0) + COALESCE((SELECT MAX(x) FROM (SELECT 0 AS x UNION "
				 "SELECT 0 UNION SELECT 0)), 0)",
				 i);
			ok &= db_scalar(db, &v, -1, sql, DBV(DI(round))) == DB_OK && v == i + round;
		}
	}
	*grown = sqlite3_memory_used() - before;
	db_release(db);
	db_pool_close();
	return ok;
}

static void test_stmt_cache_budget(void)
{
	int64_t unlimited = 0, limited = 0;
	/* 200 statements fit the 256 slots: without a budget all are kept */
	CHECK(distinct_statements(0, 200, &unlimited));
	CHECK(distinct_statements(64, 200, &limited));
	CHECK(limited < 96 * 1024);
	CHECK(unlimited > 4 * limited);
}

struct parts {
	int n, rows, biggest;
	int64_t sum;
	bool texts_right;
};

static void take(const struct db_res *part, void *ctx)
{
	struct parts *p = ctx;
	p->n++;
	p->rows += part->nrows;
	if (part->nrows > p->biggest)
		p->biggest = part->nrows;
	for (int i = 0; i < part->nrows; i++) {
		int64_t v = db_int(part, i, 0);
		char want[32];
		snprintf(want, sizeof(want), "row %lld", (long long)v);
		p->sum += v;
		p->texts_right &= strcmp(db_text(part, i, 1), want) == 0 && db_isnull(part, i, 2);
	}
}

static void test_query_each_parts(void)
{
	char err[256], url[96];
	snprintf(url, sizeof(url), "sqlite:///%s", path);
	CHECK(db_pool_open(url, "", 1, err, sizeof(err)));
	struct db *db = db_acquire();
	const char *sql = "WITH RECURSIVE n(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM n WHERE v < $1) "
			  "SELECT v, 'row ' || v, NULL FROM n";
	const int counts[] = {10000, 4096, 4095, 0};
	for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
		int rows = counts[k];
		struct parts p = {.texts_right = true};
		CHECK(db_query_each(db, sql, DBV(DI(rows)), 4096, take, &p) == DB_OK);
		CHECK(p.rows == (rows ? rows : 1) && p.texts_right); /* the recursion's first row is 1 */
		CHECK(p.biggest <= 4096 && p.n == (p.rows + 4095) / 4096);
		CHECK(p.sum == (int64_t)p.rows * (p.rows + 1) / 2);
	}
	struct parts p = {.texts_right = true};
	CHECK(db_query_each(db, "SELECT no_such_column", DBV0, 16, take, &p) != DB_OK && p.n == 0);
	db_release(db);
	db_pool_close();
}

int main(void)
{
	snprintf(path, sizeof(path), "/tmp/mandi-unit-db-%d.db", (int)getpid());
	/* the driver turns SQLite's memory statistics off at its first open;
	 * initialised here first, they stay on for sqlite3_memory_used() */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 1);
	sqlite3_initialize();
	RUN(test_stmt_cache_budget);
	RUN(test_query_each_parts);
	t_remove_sqlite(path);
	return t_done();
}
