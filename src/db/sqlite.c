/*
 * SQLite driver: WAL, a busy timeout, one connection per pool slot, and a
 * per-connection cache of prepared statements keyed by SQL text, within a
 * byte budget (least recently used out first). `$N` placeholders are SQLite
 * named parameters; they are bound by number.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"
#include "core/strconv.h"
#include "db/db.h"
#include "db/sqlite_rank.h"
#include "db/sqlite_rows.h"

#define STMT_CACHE 256

struct cached {
	unsigned long hash;
	char *sql;
	sqlite3_stmt *st;
	size_t bytes;  /* the statement's heap and its text */
	uint64_t used; /* sqlite_conn.clock at the last use */
};

struct sqlite_conn {
	sqlite3 *db;
	struct cached cache[STMT_CACHE];
	/* the cached statements' bytes, and this connection's share of the
	 * budget (0 = no limit): a listing statement takes ~20 KB, and a
	 * connection that kept every variant it met held megabytes of them
	 * (bench/README.md, memory) */
	size_t stmt_bytes, stmt_budget;
	uint64_t clock;
	bool writing; /* holds write_mu: inside BEGIN IMMEDIATE … COMMIT/ROLLBACK */
	bool manual_checkpoints; /* automatic WAL checkpoint turned off */
};

/* Statement bytes cached by every connection, and the sum of their shares:
 * a connection keeps its share whatever the others do, and more while the
 * process as a whole is within budget (one busy connection of an idle pool
 * then keeps as many statements as the whole pool would). */
static atomic_size_t stmt_total, stmt_budget_total;

/* Set once the server's ticker checkpoints (see sq_maintain). */
static atomic_bool ticker_checkpoints;

/*
 * SQLite has one writer per database. Without this, a pooled connection that
 * finds the write lock taken gets SQLITE_BUSY and its busy handler sleeps
 * (1, 2, 5, 10 … ms) before retrying, so concurrent write transactions in one
 * process spend their time asleep. Queueing them on a mutex hands the lock
 * over as soon as the previous COMMIT returns. Other processes still meet
 * the file lock and the busy timeout.
 */
static pthread_mutex_t write_mu = PTHREAD_MUTEX_INITIALIZER;

/* Take write_mu for one autocommit write. Bounded: should a thread ever
 * write on a second connection while its first holds a transaction, it
 * falls back to SQLite's busy timeout after 10 s instead of waiting on
 * itself for ever. */
static bool lock_writer(void)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	return pthread_mutex_timedlock(&write_mu, &until) == 0;
}

static bool sq_accepts(const char *url)
{
	return strncmp(url, "sqlite:", 7) == 0;
}

/* sqlite:///rel.db → rel.db, sqlite:////abs.db → /abs.db, sqlite:x.db → x.db */
static const char *url_path(const char *url)
{
	const char *p = url + 7;
	if (strncmp(p, "///", 3) == 0)
		return p + 3;
	if (strncmp(p, "//", 2) == 0)
		return p + 2;
	return p;
}

/* Finalize a cached statement and free its slot. */
static void uncache(struct sqlite_conn *sc, struct cached *c)
{
	sqlite3_finalize(c->st);
	free(c->sql);
	sc->stmt_bytes -= c->bytes;
	atomic_fetch_sub(&stmt_total, c->bytes);
	memset(c, 0, sizeof(*c));
}

static void sq_close(void *c)
{
	struct sqlite_conn *sc = c;
	if (!sc)
		return;
	for (int i = 0; i < STMT_CACHE; i++)
		if (sc->cache[i].st)
			uncache(sc, &sc->cache[i]);
	atomic_fetch_sub(&stmt_budget_total, sc->stmt_budget);
	sqlite3_close(sc->db);
	free(sc);
}

/* No memory statistics (nothing reads them): with them on, every SQLite
 * allocation in every thread takes one process-wide mutex. Must precede
 * SQLite's initialisation, which the first open does. */
static void sq_configure(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static void *sq_open(const char *url, char *err, size_t errlen)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, sq_configure);
	struct sqlite_conn *sc = xcalloc(1, sizeof(*sc));
	const char *path = url_path(url);
	int rc = sqlite3_open_v2(path, &sc->db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "cannot open SQLite database '%s': %s", path,
			 sc->db ? sqlite3_errmsg(sc->db) : sqlite3_errstr(rc));
		sq_close(sc);
		return NULL;
	}
	sqlite3_busy_timeout(sc->db, 10000);
	/* WAL lets readers run beside the single writer; NORMAL sync is durable
	 * across process crashes (only an OS crash can lose the last commits) */
	char *msg = NULL;
	if (sqlite3_exec(sc->db,
			 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
			 "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-16000;",
			 NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "cannot configure SQLite '%s': %s", path, msg ? msg : "?");
		sqlite3_free(msg);
		sq_close(sc);
		return NULL;
	}
	if ((rc = sqlite_rank_register(sc->db)) != SQLITE_OK) {
		snprintf(err, errlen, "cannot register mandi_rank on '%s': %s", path, sqlite3_errstr(rc));
		sq_close(sc);
		return NULL;
	}
	if ((rc = sqlite_rows_register(sc->db)) != SQLITE_OK) {
		snprintf(err, errlen, "cannot register mandi_rows on '%s': %s", path, sqlite3_errstr(rc));
		sq_close(sc);
		return NULL;
	}
	return sc;
}

static void sq_set_cache(void *c, int64_t page_kib, int64_t stmt_kib)
{
	struct sqlite_conn *sc = c;
	if (page_kib > 0) {
		char sql[64];
		snprintf(sql, sizeof(sql), "PRAGMA cache_size=-%lld", (long long)page_kib);
		sqlite3_exec(sc->db, sql, NULL, NULL, NULL);
	}
	atomic_fetch_sub(&stmt_budget_total, sc->stmt_budget);
	sc->stmt_budget = (size_t)stmt_kib << 10;
	atomic_fetch_add(&stmt_budget_total, sc->stmt_budget);
}

static unsigned long hash(const char *s)
{
	unsigned long h = 5381;
	while (*s)
		h = h * 33 ^ (unsigned char)*s++;
	return h;
}

static int map_rc(sqlite3 *db, int rc, const char *sql)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return DB_OK;
	case SQLITE_CONSTRAINT:
		return DB_CONSTRAINT;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return DB_BUSY;
	default:
		log_error("sqlite: %s in: %.200s", sqlite3_errmsg(db), sql);
		return DB_ERROR;
	}
}

/* The least recently used of n slots from first (wrapping), or NULL when
 * all are empty. */
static struct cached *lru(struct sqlite_conn *sc, unsigned first, int n)
{
	struct cached *old = NULL;
	for (int i = 0; i < n; i++) {
		struct cached *c = &sc->cache[(first + (unsigned)i) % STMT_CACHE];
		if (c->st && (!old || c->used < old->used))
			old = c;
	}
	return old;
}

/* A prepared statement for sql, from the cache when possible. *owned tells
 * the caller to finalize it (too big for the budget). A statement is only
 * ever evicted here, between two uses: none is running on this connection. */
static sqlite3_stmt *prepare(struct sqlite_conn *sc, const char *sql, bool *owned, int *rc)
{
	unsigned long h = hash(sql);
	unsigned slot = (unsigned)(h % STMT_CACHE);
	/* evictions leave holes: look at every slot of the window */
	for (int probe = 0; probe < 8; probe++) {
		struct cached *c = &sc->cache[(slot + probe) % STMT_CACHE];
		if (c->st && c->hash == h && strcmp(c->sql, sql) == 0) {
			c->used = ++sc->clock;
			*owned = false;
			return c->st;
		}
	}
	sqlite3_stmt *st = NULL;
	*rc = sqlite3_prepare_v3(sc->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
	if (*rc != SQLITE_OK)
		return NULL;
	size_t len = strlen(sql) + 1;
	size_t bytes = (size_t)sqlite3_stmt_status(st, SQLITE_STMTSTATUS_MEMUSED, 0) + len;
	*owned = sc->stmt_budget && bytes > sc->stmt_budget / 4;
	if (*owned)
		return st;
	struct cached *c = NULL;
	for (int probe = 0; probe < 8 && !c; probe++)
		if (!sc->cache[(slot + probe) % STMT_CACHE].st)
			c = &sc->cache[(slot + probe) % STMT_CACHE];
	if (!c) { /* a full window: its least recently used makes room */
		c = lru(sc, slot, 8);
		uncache(sc, c);
	}
	while (sc->stmt_budget && sc->stmt_bytes + bytes > sc->stmt_budget &&
	       atomic_load(&stmt_total) + bytes > atomic_load(&stmt_budget_total))
		uncache(sc, lru(sc, 0, STMT_CACHE));
	c->hash = h;
	c->sql = xmalloc(len);
	memcpy(c->sql, sql, len);
	c->st = st;
	c->bytes = bytes;
	c->used = ++sc->clock;
	sc->stmt_bytes += bytes;
	atomic_fetch_add(&stmt_total, bytes);
	return st;
}

static int bind(sqlite3_stmt *st, const struct db_val *p, int n)
{
	int count = sqlite3_bind_parameter_count(st);
	for (int i = 1; i <= count; i++) {
		const char *name = sqlite3_bind_parameter_name(st, i);
		int64_t k;
		if (!name || name[0] != '$' || !parse_i64(name + 1, 1, n, &k))
			return SQLITE_RANGE;
		const struct db_val *v = &p[k - 1];
		int rc;
		switch (v->t) {
		case DB_INT: rc = sqlite3_bind_int64(st, i, v->i); break;
		case DB_REAL: rc = sqlite3_bind_double(st, i, v->d); break;
		case DB_TEXT: rc = sqlite3_bind_text(st, i, v->s, -1, SQLITE_STATIC); break;
		case DB_ROWS: rc = sqlite3_bind_pointer(st, i, (void *)v->rows, SQLITE_ROWS_PTR, NULL); break;
		default: rc = sqlite3_bind_null(st, i); break;
		}
		if (rc != SQLITE_OK)
			return rc;
	}
	return SQLITE_OK;
}

/* Cells from offset + 1 into the blob (0 for NULL) to pointers. */
static void cells_point(struct db_res *res)
{
	for (size_t i = 0; res->cells && i < (size_t)res->nrows * (size_t)res->ncols; i++)
		if (res->cells[i])
			res->cells[i] = res->blob + ((uintptr_t)res->cells[i] - 1);
}

/* db_query_ints' rows: numbers stay numbers, no text to write here and
 * parse back. Returns the last sqlite3_step code. */
static int step_ints(sqlite3_stmt *st, struct db_res *res, int ncols)
{
	size_t cap = (size_t)(ncols > 0 ? ncols : 1) * 64;
	res->ints = xmalloc(cap * sizeof(int64_t));
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((size_t)(res->nrows + 1) * (size_t)ncols > cap) {
			cap *= 2;
			res->ints = xrealloc(res->ints, cap * sizeof(int64_t));
		}
		int64_t *row = res->ints + (size_t)res->nrows++ * (size_t)ncols;
		for (int i = 0; i < ncols; i++)
			row[i] = sqlite3_column_int64(st, i);
	}
	return rc;
}

static int sq_query(void *c, const char *sql, const struct db_val *p, int n, struct db_res *res)
{
	struct sqlite_conn *sc = c;
	bool owned = false;
	int rc = SQLITE_OK;
	sqlite3_stmt *st = prepare(sc, sql, &owned, &rc);
	if (!st)
		return map_rc(sc->db, rc, sql);
	rc = bind(st, p, n);
	if (rc != SQLITE_OK)
		goto out;
	/* a write outside a transaction (an autocommit INSERT, UPDATE …) needs
	 * the same single write lock: queue it on write_mu like a transaction
	 * rather than let it meet SQLITE_BUSY and sleep in the busy handler */
	bool queued = !sc->writing && !sqlite3_stmt_readonly(st) && lock_writer();
	int ncols = sqlite3_column_count(st);
	size_t cap = 0, blen = 0, bcap = 0;
	res->ncols = ncols;
	/* every cell's text goes into one growing blob (a malloc per cell cost
	 * more than the query for a 20-line cart); until the last row the cells
	 * hold offset + 1 into it (0 for NULL), as the blob may move */
	if (res->want_ints)
		rc = step_ints(st, res, ncols);
	while (!res->want_ints && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((size_t)(res->nrows + 1) * (size_t)ncols > cap) {
			cap = cap ? cap * 2 : (size_t)ncols * 8;
			res->cells = xrealloc(res->cells, cap * sizeof(char *));
		}
		char **row = res->cells + (size_t)res->nrows * (size_t)ncols;
		for (int i = 0; i < ncols; i++) {
			char digits[FMT_I64_MAX];
			const unsigned char *t;
			size_t len;
			if (sqlite3_column_type(st, i) == SQLITE_INTEGER) {
				/* SQLite's own int-to-text goes through a Mem conversion */
				char *d = fmt_i64(digits + sizeof(digits), sqlite3_column_int64(st, i));
				t = (const unsigned char *)d;
				len = (size_t)(digits + sizeof(digits) - d);
			} else {
				t = sqlite3_column_text(st, i);
				len = (size_t)sqlite3_column_bytes(st, i);
			}
			if (!t) {
				row[i] = NULL;
				continue;
			}
			if (blen + len + 1 > bcap) {
				bcap = bcap ? bcap * 2 : 512;
				while (blen + len + 1 > bcap)
					bcap *= 2;
				res->blob = xrealloc(res->blob, bcap);
			}
			memcpy(res->blob + blen, t, len);
			res->blob[blen + len] = 0;
			row[i] = (char *)(uintptr_t)(blen + 1);
			blen += len + 1;
		}
		if (++res->nrows == res->chunk && res->each) {
			/* a part of db_query_each: handed over, then its memory reused */
			cells_point(res);
			res->each(res, res->ctx);
			res->nrows = 0;
			blen = 0;
		}
	}
	cells_point(res);
	if (rc == SQLITE_DONE)
		res->affected = sqlite3_changes64(sc->db);
	if (queued)
		pthread_mutex_unlock(&write_mu);
out:;
	int mapped = map_rc(sc->db, rc, sql);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (owned)
		sqlite3_finalize(st);
	if (mapped != DB_OK)
		db_res_free(res);
	return mapped;
}

static int sq_exec_script(void *c, const char *sql)
{
	struct sqlite_conn *sc = c;
	char *msg = NULL;
	int rc = sqlite3_exec(sc->db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK && msg)
		log_error("sqlite: %s", msg);
	sqlite3_free(msg);
	return rc == SQLITE_OK ? DB_OK : map_rc(sc->db, rc, sql);
}

/* One statement without parameters or rows (BEGIN IMMEDIATE, COMMIT,
 * ROLLBACK) from the statement cache: sqlite3_exec would parse it anew on
 * every transaction. */
static int step_cached(struct sqlite_conn *sc, const char *sql)
{
	bool owned = false;
	int rc = SQLITE_OK;
	sqlite3_stmt *st = prepare(sc, sql, &owned, &rc);
	if (!st)
		return map_rc(sc->db, rc, sql);
	rc = sqlite3_step(st);
	int mapped = map_rc(sc->db, rc, sql);
	sqlite3_reset(st);
	if (owned)
		sqlite3_finalize(st);
	return mapped;
}

static int sq_begin(void *c)
{
	struct sqlite_conn *sc = c;
	if (!sc->manual_checkpoints && atomic_load(&ticker_checkpoints)) {
		sqlite3_wal_autocheckpoint(sc->db, 0);
		sc->manual_checkpoints = true;
	}
	pthread_mutex_lock(&write_mu);
	/* IMMEDIATE takes the write lock up front, so two writers never
	 * deadlock upgrading from read to write */
	int rc = step_cached(c, "BEGIN IMMEDIATE");
	if (rc == DB_OK)
		sc->writing = true;
	else
		pthread_mutex_unlock(&write_mu);
	return rc;
}

/* COMMIT and ROLLBACK end the write transaction: give the mutex back (a
 * failed COMMIT leaves the transaction open; its ROLLBACK releases). */
static int sq_end(void *c, const char *sql)
{
	struct sqlite_conn *sc = c;
	int rc = step_cached(sc, sql);
	bool ended = strcmp(sql, "ROLLBACK") == 0 || rc == DB_OK || sqlite3_get_autocommit(sc->db);
	if (sc->writing && ended) {
		sc->writing = false;
		pthread_mutex_unlock(&write_mu);
	}
	return rc;
}

/* The server checkpoints the WAL once a second from its ticker thread, so
 * no request's COMMIT pays for copying pages back and fsyncing the database
 * (the automatic checkpoint runs inside whichever commit crosses 1000
 * pages). Once the ticker runs, each connection turns the automatic one off
 * at its next write; CLI commands, which have no ticker, keep it. */
static void sq_maintain(void *c)
{
	struct sqlite_conn *sc = c;
	atomic_store(&ticker_checkpoints, true);
	sqlite3_wal_checkpoint_v2(sc->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
}

static bool sq_ping(void *c)
{
	struct db_res r = {0};
	int rc = sq_query(c, "SELECT 1", NULL, 0, &r);
	db_res_free(&r);
	return rc == DB_OK;
}

static char *sq_explain(void *c, const char *sql)
{
	struct sqlite_conn *sc = c;
	char *q = NULL;
	if (asprintf(&q, "EXPLAIN QUERY PLAN %s", sql) < 0)
		return NULL;
	sqlite3_stmt *st = NULL;
	char *out = NULL;
	size_t len = 0;
	if (sqlite3_prepare_v2(sc->db, q, -1, &st, NULL) == SQLITE_OK) {
		FILE *f = open_memstream(&out, &len);
		while (sqlite3_step(st) == SQLITE_ROW)
			fprintf(f, "%s\n", (const char *)sqlite3_column_text(st, 3));
		fclose(f);
	}
	sqlite3_finalize(st);
	free(q);
	return out;
}

const struct db_driver db_sqlite = {
	.dialect = {
		.name = "sqlite",
		.for_update = "",
		.skip_locked = "",
		.id_type = "INTEGER PRIMARY KEY AUTOINCREMENT",
		.migration_ext = ".sqlite.sql",
		.fts_index = {"DELETE FROM product_fts WHERE rowid = $1",
			      "INSERT INTO product_fts (rowid, name, brand, category, tags, description) "
			      "SELECT p.id, p.name, COALESCE(b.name, ''), c.name, p.tags, p.description "
			      "FROM products p JOIN categories c ON c.id = p.category_id "
			      "LEFT JOIN brands b ON b.id = p.brand_id WHERE p.id = $1"},
		.fts_delete = "DELETE FROM product_fts WHERE rowid = $1",
		/* one statement per batch: FTS5 flushes its pending terms into a new
		 * segment at the end of every statement that writes it. Only rows
		 * whose text changed are dropped and written again (the table keeps
		 * its text): a feed sending its products again mostly changes none,
		 * and tokenising everything again was 0.8 s of a 50,000-product
		 * re-import */
		.fts_index_many = {"DELETE FROM product_fts WHERE rowid IN (SELECT p.id FROM products p "
				   "JOIN categories c ON c.id = p.category_id LEFT JOIN brands b ON "
				   "b.id = p.brand_id JOIN product_fts f ON f.rowid = p.id WHERE p.id IN "
				   "(SELECT value ->> 0 FROM json_each($1)) AND (f.name IS NOT p.name OR "
				   "f.brand IS NOT COALESCE(b.name, '') OR f.category IS NOT c.name OR "
				   "f.tags IS NOT p.tags OR f.description IS NOT p.description))",
				   "INSERT INTO product_fts (rowid, name, brand, category, tags, description) "
				   "SELECT p.id, p.name, COALESCE(b.name, ''), c.name, p.tags, p.description "
				   "FROM products p JOIN categories c ON c.id = p.category_id "
				   "LEFT JOIN brands b ON b.id = p.brand_id "
				   "WHERE p.id IN (SELECT value ->> 0 FROM json_each($1)) AND NOT EXISTS "
				   "(SELECT 1 FROM product_fts f WHERE f.rowid = p.id)"},
		.fts_delete_many = "DELETE FROM product_fts WHERE rowid IN (SELECT value ->> 0 FROM json_each($1))",
		.fts_rebuild = {"DELETE FROM product_fts",
				"INSERT INTO product_fts (rowid, name, brand, category, tags, description) "
				"SELECT p.id, p.name, COALESCE(b.name, ''), c.name, p.tags, p.description "
				"FROM products p JOIN categories c ON c.id = p.category_id "
				"LEFT JOIN brands b ON b.id = p.brand_id WHERE p.status = 'active'"},
		/* mandi_rank (sqlite_rank.c): BM25 without length normalisation,
		 * higher is better; weights favour name, then brand */
		.fts_match = "SELECT rowid, CAST(mandi_rank(product_fts, 10.0, 6.0, 3.0, 3.0, 1.0) * 1000000 "
			     "AS INTEGER) FROM product_fts WHERE product_fts MATCH $1",
		.fts_quote = "\"",
		.fts_prefix = "*",
		.str_agg = "group_concat",
		.json_rows = "json_each(%s)",
		.rows_from = "mandi_rows(%s)",
		.fts_and = " ",
	},
	.accepts = sq_accepts,
	.open = sq_open,
	.close = sq_close,
	.query = sq_query,
	.exec_script = sq_exec_script,
	.begin = sq_begin,
	.end = sq_end,
	.ping = sq_ping,
	.maintain = sq_maintain,
	.set_cache = sq_set_cache,
	.explain = sq_explain,
};
