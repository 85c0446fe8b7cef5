/*
 * One database interface, two drivers (sqlite.c, pg.c), each a filled-in
 * `const struct db_driver`. Domain code writes one SQL dialect ($1
 * placeholders, RETURNING, ON CONFLICT); where the engines differ (locking,
 * full-text search, DDL types) the driver has a slot rather than an `if`.
 *
 * Results are materialised: every cell as text (NULL for SQL NULL), read with
 * db_int / db_text. Connections come from a per-process pool, one per
 * concurrent request at most; a connection is never shared between threads.
 */
#ifndef MANDI_DB_H
#define MANDI_DB_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Outcome of a database call. */
enum db_rc {
	DB_OK = 0,
	DB_ERROR = -1,      /**< anything else (logged) */
	DB_CONSTRAINT = -2, /**< unique / foreign key / check violation */
	DB_BUSY = -3,       /**< lock timeout or serialization failure: retry */
};

enum db_type { DB_NULL, DB_INT, DB_TEXT, DB_REAL, DB_ROWS };

/** Columns of a struct db_rows at most (c0 … c15 in the dialect's rows_from). */
#define DB_ROWS_MAX_COLS 16

/** One cell of a struct db_rows: an integer, text at offset i in its pool, or NULL. */
struct db_cell {
	enum db_type t;
	int64_t i; /**< the integer, or the text's offset in the pool */
	int64_t n; /**< text length */
};

/**
 * A batch of rows bound as one parameter (DROWS) and read in SQL through the
 * dialect's rows_from FROM item, whose columns are c0, c1, … in order. Cells
 * are appended row by row; text is copied in. SQLite reads the cells where
 * they are (a table-valued function: no parsing); PostgreSQL gets them as
 * JSON text, so a statement casts what it reads: CAST(c0 AS BIGINT).
 */
struct db_rows {
	int ncols;
	int nrows;    /**< complete rows so far */
	size_t ncells, cap;
	struct db_cell *cells;
	char *pool; /**< text, each value NUL-terminated */
	size_t pool_len, pool_cap;
};

/** Empty rows of ncols columns (1 … DB_ROWS_MAX_COLS: rows_from has no more). */
void db_rows_init(struct db_rows *r, int ncols);
/** Forget the rows, keep the storage, for rows of ncols columns. */
void db_rows_reset(struct db_rows *r, int ncols);
void db_rows_free(struct db_rows *r);
void db_rows_int(struct db_rows *r, int64_t v);
/** Text (NULL: an SQL NULL). */
void db_rows_text(struct db_rows *r, const char *s);
void db_rows_textn(struct db_rows *r, const char *s, size_t n);
void db_rows_null(struct db_rows *r);
/** Text of cell c (NUL-terminated). */
static inline const char *db_rows_str(const struct db_rows *r, const struct db_cell *c)
{
	return r->pool + c->i;
}

/** A bound parameter. Use the DI/DT/DR/DN/DROWS constructors. */
struct db_val {
	enum db_type t;
	int64_t i;
	double d;
	const char *s;
	const struct db_rows *rows;
};

#define DI(x) ((struct db_val){.t = DB_INT, .i = (x)})
#define DT(x) ((struct db_val){.t = (x) ? DB_TEXT : DB_NULL, .s = (x)})
/** A text value known not to be NULL (char arrays, where DT's test warns). */
#define DS(x) ((struct db_val){.t = DB_TEXT, .s = (x)})
#define DR(x) ((struct db_val){.t = DB_REAL, .d = (x)})
#define DN ((struct db_val){.t = DB_NULL})
#define DROWS(x) ((struct db_val){.t = DB_ROWS, .rows = (x)})
/** Parameter list for db_query/db_exec: DBV(DI(1), DT("x")). */
#define DBV(...) ((const struct db_val[]){__VA_ARGS__}), \
	(int)(sizeof((const struct db_val[]){__VA_ARGS__}) / sizeof(struct db_val))
#define DBV0 NULL, 0

/** A materialised result: rows × cols text cells, NULL for SQL NULL. */
struct db_res {
	int nrows, ncols;
	char **cells;
	char *blob; /**< when set, every cell points into this one allocation */
	int64_t affected;
	/** db_query_ints: every cell an integer, row-major (NULL as 0), in
	 * place of cells, from a driver that can (want_ints asks it to) */
	int64_t *ints;
	bool want_ints;
	/** db_query_each's part size and callback, for drivers that stream */
	int chunk;
	void (*each)(const struct db_res *part, void *ctx);
	void *ctx;
};

struct db;

/** What differs between engines, used by domain code through db_dialect(). */
struct db_dialect {
	const char *name;          /**< "sqlite" or "postgresql" */
	const char *for_update;    /**< " FOR UPDATE" or "" */
	const char *skip_locked;   /**< " FOR UPDATE SKIP LOCKED" or "" */
	const char *id_type;       /**< DDL for an auto-increment primary key */
	const char *migration_ext; /**< ".sqlite.sql" or ".pg.sql": driver-only migrations */
	/* Product full-text search (catalog/search.c). A query is terms joined by
	 * fts_and, each wrapped in fts_quote and followed by fts_prefix. */
	const char *fts_index[2];  /**< statements (NULL = none) that (re)index product $1 */
	const char *fts_delete;    /**< drop product $1 from the index */
	const char *fts_rebuild[2]; /**< statements (NULL = none) that reindex every active product */
	/** fts_index for every product listed in $1, JSON rows text ("[[1],[2]]");
	 * where there are two, the first only drops what is out of date and the
	 * second adds what is missing (for products just inserted, the second
	 * alone) */
	const char *fts_index_many[2];
	const char *fts_delete_many; /**< fts_delete for every product listed in $1 (as above) */
	/** SELECT product id, integer rank (higher = better) matching query $1 */
	const char *fts_match;
	const char *fts_quote;     /**< "\"" or "" */
	const char *fts_prefix;    /**< "*" or ":*" */
	const char *fts_and;       /**< " " or " & " */
	const char *str_agg;       /**< string aggregate taking (text, separator) */
	/** FROM item (printf format, %s = a text parameter such as "$1") with one
	 * row per element of a JSON array of arrays; each row's `value` is one
	 * element, read as CAST(value ->> 0 AS BIGINT), value ->> 1 … Bulk writes
	 * pass a batch as one parameter this way (no per-row placeholders). */
	const char *json_rows;
	/** FROM item (printf format, %s = a DROWS parameter such as "$1") over a
	 * struct db_rows, with columns c0 … c15 */
	const char *rows_from;
};

/** A driver: one per engine, in its own file. */
struct db_driver {
	struct db_dialect dialect;
	bool (*accepts)(const char *url);
	void *(*open)(const char *url, char *err, size_t errlen);
	void (*close)(void *conn);
	int (*query)(void *conn, const char *sql, const struct db_val *p, int n, struct db_res *res);
	int (*exec_script)(void *conn, const char *sql);
	int (*begin)(void *conn);
	/** "COMMIT" or "ROLLBACK" the transaction begin opened. */
	int (*end)(void *conn, const char *sql);
	bool (*ping)(void *conn);
	/** Periodic upkeep off the request path (SQLite: WAL checkpoint); may be NULL. */
	void (*maintain)(void *conn);
	/** Size the connection's page cache and the prepared statements it keeps
	 * (KiB, 0 = no limit); NULL when the engine has no such caches of its own. */
	void (*set_cache)(void *conn, int64_t page_kib, int64_t stmt_kib);
	/** Query plan text for the analytics optimiser; NULL if unsupported. */
	char *(*explain)(void *conn, const char *sql);
};

extern const struct db_driver db_sqlite;
extern const struct db_driver db_pg;

/* --- pool ---------------------------------------------------------------- */

/** Page cache and prepared statement budgets (KiB) that pools opened
 * afterwards share out between their connections, for engines with
 * per-connection caches (SQLite). 0 (the default) leaves each driver's own
 * default. */
void db_cache_budget(int64_t page_kib, int64_t stmt_kib);
/** Open the primary pool (size connections) and, if read_urls is non-empty,
 * a read pool over the comma-separated replicas. */
bool db_pool_open(const char *url, const char *read_urls, int size, char *err, size_t errlen);
void db_pool_close(void);
/** Take a primary connection (blocks while all are busy). */
struct db *db_acquire(void);
/** Take a connection for reads that may lag (a replica when configured). */
struct db *db_acquire_read(void);
/** Give a connection back; rolls back a transaction left open. */
void db_release(struct db *db);
/**
 * Lend db's connection back to the pool while its holder waits on something
 * slow that needs no database (a payment gateway call): 50 payments waiting
 * 300 ms on a gateway would otherwise hold 50 connections and queue every
 * other request behind the pool. db must not be in a transaction; until
 * db_resume it must not be used. db_resume takes a connection again (the
 * same or another one of the pool), waiting for one if need be.
 */
void db_suspend(struct db *db);
void db_resume(struct db *db);
/** The primary driver's dialect. */
const struct db_dialect *db_dialect(void);
/** Periodic upkeep of the primary (called once a second by the server). */
void db_maintain(void);
/** Whether the primary answers (for /health). */
bool db_healthy(void);
/** Connections to replicas currently configured (0 = none). */
int db_read_replicas(void);

/* --- queries ------------------------------------------------------------- */

/** Run one statement, materialising its rows into res (free with db_res_free). */
int db_query(struct db *db, struct db_res *res, const char *sql, const struct db_val *p, int n)
	__attribute__((warn_unused_result));
/** db_query for rows of integers only (ids, ranks): a driver that can
 * keeps them as numbers, not text (db_int reads them; db_text does not). */
int db_query_ints(struct db *db, struct db_res *res, const char *sql, const struct db_val *p, int n)
	__attribute__((warn_unused_result));
/** db_query for results too big to hold at once: fn sees the rows in parts
 * of at most chunk rows, each freed after it (an engine that cannot stream
 * gives one part). */
int db_query_each(struct db *db, const char *sql, const struct db_val *p, int n, int chunk,
		  void (*fn)(const struct db_res *part, void *ctx), void *ctx)
	__attribute__((warn_unused_result));
/** Run one statement for its effect; *affected gets the rows changed (may be NULL). */
int db_exec(struct db *db, const char *sql, const struct db_val *p, int n, int64_t *affected)
	__attribute__((warn_unused_result));
/** First column of the first row as an integer, def when no row / NULL. */
int db_scalar(struct db *db, int64_t *out, int64_t def, const char *sql, const struct db_val *p,
	      int n) __attribute__((warn_unused_result));
/** Begin a write transaction (BEGIN IMMEDIATE on SQLite). */
int db_begin(struct db *db) __attribute__((warn_unused_result));
int db_commit(struct db *db) __attribute__((warn_unused_result));
/** Roll back if a transaction is open; safe to call anytime. */
void db_rollback(struct db *db);
/** Whether a transaction is open on db. */
bool db_in_tx(struct db *db);
/** Dialect of this connection. */
const struct db_dialect *db_conn_dialect(struct db *db);
/** Plan for sql on this connection, or NULL. Caller frees. */
char *db_explain(struct db *db, const char *sql);

void db_res_free(struct db_res *res);
struct buf;
/** b = "[[1],[2],…]": ids as the JSON rows the dialect's json_rows reads, so
 * any number of them travel as one text parameter. */
void db_json_ids(struct buf *b, const int64_t *ids, int n);
/** Append " IN (…)": the ids db_json_ids put in parameter $1. */
void db_ids_in(struct buf *b, const struct db_dialect *d);
/** r = ids as rows of one column (db_rows_init done here; db_rows_free after). */
void db_rows_ids(struct db_rows *r, const int64_t *ids, int n);
/** Append " IN (…)" over the ids db_rows_ids put in DROWS parameter param
 * ("$3"): one statement text whatever their count, so it is prepared once. */
void db_rows_in(struct buf *b, const struct db_dialect *d, const char *param);
/** Cell text, NULL for SQL NULL or out of range. */
const char *db_text(const struct db_res *res, int row, int col);
/** Cell as int64 (0 for NULL). */
int64_t db_int(const struct db_res *res, int row, int col);
/** Cell as double (0 for NULL). */
double db_real(const struct db_res *res, int row, int col);
bool db_isnull(const struct db_res *res, int row, int col);

/* --- migrations ---------------------------------------------------------- */

/** Apply pending embedded migrations, each in its own transaction. Returns
 * how many ran, or -1. Safe to run from several processes at once. */
int db_migrate(struct db *db);

/** Slow-query hook: called with SQL text and duration after each statement. */
extern void (*db_observer)(const char *sql, int64_t us);

#endif
