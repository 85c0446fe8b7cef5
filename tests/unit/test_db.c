/* The SQLite driver's prepared statement cache stays within its budget
 * (SQLITE_STMT_CACHE_MB) and statements it evicted still run; db_query_each
 * hands every row over once, in parts of at most its chunk; a db_rows
 * parameter reads back as it was written; db_query_ints keeps numbers as
 * numbers. */
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

/* A struct db_rows bound as one parameter comes back cell for cell through
 * the dialect's rows_from: integers, text with quotes and multi-byte
 * characters, empty text, NULL; columns past the batch's read NULL; an
 * empty batch gives no rows. */
static void test_rows_param(void)
{
	char err[256], url[96], sql[1200], from[1024];
	snprintf(url, sizeof(url), "sqlite:///%s", path);
	CHECK(db_pool_open(url, "", 1, err, sizeof(err)));
	struct db *db = db_acquire();
	snprintf(from, sizeof(from), db_conn_dialect(db)->rows_from, "$1");
	snprintf(sql, sizeof(sql), "SELECT CAST(c0 AS BIGINT), c1, c2, c3 FROM %s", from);
	struct db_rows rows;
	db_rows_init(&rows, 3);
	enum { N = 5000 };
	for (int i = 0; i < N; i++) {
		char t[32];
		snprintf(t, sizeof(t), "it's \"%d\" \xc3\xa9", i);
		db_rows_int(&rows, (int64_t)i * 1000000007LL);
		db_rows_text(&rows, i % 7 == 0 ? "" : t);
		if (i % 3 == 0)
			db_rows_null(&rows);
		else
			db_rows_textn(&rows, "|s|m|x", 5);
	}
	CHECK_INT(rows.nrows, N);
	struct db_res r;
	CHECK(db_query(db, &r, sql, DBV(DROWS(&rows))) == DB_OK);
	CHECK_INT(r.nrows, N);
	bool same = r.nrows == N;
	for (int i = 0; same && i < N; i++) {
		char t[32];
		snprintf(t, sizeof(t), "it's \"%d\" \xc3\xa9", i);
		same = db_int(&r, i, 0) == (int64_t)i * 1000000007LL &&
		       !strcmp(db_text(&r, i, 1), i % 7 == 0 ? "" : t) &&
		       (i % 3 == 0 ? db_text(&r, i, 2) == NULL : !strcmp(db_text(&r, i, 2), "|s|m|")) &&
		       db_text(&r, i, 3) == NULL;
	}
	CHECK(same);
	db_res_free(&r);
	/* reused for a batch of another shape; an empty one */
	db_rows_reset(&rows, 1);
	CHECK(db_query(db, &r, sql, DBV(DROWS(&rows))) == DB_OK && r.nrows == 0);
	db_res_free(&r);
	db_rows_int(&rows, 42);
	int64_t v = 0;
	snprintf(sql, sizeof(sql), "SELECT SUM(CAST(c0 AS BIGINT)) FROM %s", from);
	CHECK(db_scalar(db, &v, 0, sql, DBV(DROWS(&rows))) == DB_OK && v == 42);
	db_rows_free(&rows);
	db_release(db);
	db_pool_close();
}

/* db_query_ints keeps integers as numbers (no text cells), exact to the
 * last bit of an int64, a NULL as 0; an empty result has no rows. */
static void test_query_ints(void)
{
	char err[256], url[96];
	snprintf(url, sizeof(url), "sqlite:///%s", path);
	CHECK(db_pool_open(url, "", 1, err, sizeof(err)));
	struct db *db = db_acquire();
	struct db_res r;
	CHECK(db_query_ints(db, &r,
			    "WITH t(a, b) AS (VALUES (1, 20), (-3, NULL), (9007199254740993, $1)) "
			    "SELECT a, b FROM t",
			    DBV(DI(INT64_MIN))) == DB_OK);
	CHECK(r.nrows == 3 && r.ncols == 2 && r.ints);
	CHECK(db_int(&r, 0, 1) == 20 && db_int(&r, 1, 0) == -3 && db_int(&r, 1, 1) == 0);
	CHECK(db_int(&r, 2, 0) == 9007199254740993LL && db_int(&r, 2, 1) == INT64_MIN);
	CHECK(db_text(&r, 0, 0) == NULL && !db_isnull(&r, 2, 1) && db_int(&r, 3, 0) == 0);
	db_res_free(&r);
	CHECK(db_query_ints(db, &r, "SELECT 1 WHERE 0", DBV0) == DB_OK && r.nrows == 0);
	db_res_free(&r);
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
	RUN(test_rows_param);
	RUN(test_query_ints);
	t_remove_sqlite(path);
	return t_done();
}
