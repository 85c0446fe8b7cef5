/* The SQLite driver's prepared statement cache stays within its budget
 * (SQLITE_STMT_CACHE_MB) and statements it evicted still run. */
#include <sqlite3.h>
#include <stdlib.h>
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

int main(void)
{
	snprintf(path, sizeof(path), "/tmp/mandi-unit-db-%d.db", (int)getpid());
	/* the driver turns SQLite's memory statistics off at its first open;
	 * initialised here first, they stay on for sqlite3_memory_used() */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 1);
	sqlite3_initialize();
	RUN(test_stmt_cache_budget);
	t_remove_sqlite(path);
	return t_done();
}
