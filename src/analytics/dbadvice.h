/*
 * Database optimisation advice: a slow-query log fed by db_observer
 * (statements slower than SLOW_QUERY_MS, kept per SQL text in process and
 * flushed each minute to slow_queries), and an analysis of the top queries
 * by total time: their plan (EXPLAIN QUERY PLAN / EXPLAIN) and index
 * suggestions where the plan scans a large table in full, stored in
 * database_optimizations.
 */
#ifndef MANDI_DBADVICE_H
#define MANDI_DBADVICE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct db;

/** The db_observer hook: note one statement and how long it took. */
void dbadvice_observe(const char *sql, int64_t us);
/** Write what was noted since the last flush to slow_queries. */
bool dbadvice_flush(struct db *db, int64_t now);

/** Rows a table must have before a full scan of it earns a suggestion. */
#define DBADVICE_LARGE_TABLE 1000

struct dbadvice {
	char fingerprint[24];
	char *sql;
	int64_t calls, total_us, max_us;
	char *plan;        /**< NULL when the engine could not explain it */
	char *suggestions; /**< JSON array text */
};

/**
 * Analyse the `max` slowest statements (by total time) logged since `since`:
 * explain each on db, derive suggestions, upsert database_optimizations.
 * Returns how many were written to out (caller frees with dbadvice_free), -1 on error.
 */
int dbadvice_analyse(struct db *db, int64_t since, int64_t now, struct dbadvice *out, int max);
void dbadvice_free(struct dbadvice *a, int n);

/** Tables a plan reads in full (SQLite "SCAN t", PostgreSQL "Seq Scan on t");
 * writes up to max names of at most 63 bytes; returns the count. */
int dbadvice_full_scans(const char *plan, char names[][64], int max);
/** The table a plan's name stands for in sql: itself when used unaliased
 * ("FROM orders"), the table of an alias ("FROM orders o", "JOIN orders AS o"),
 * "" when it is neither (a subquery's alias). */
void dbadvice_resolve_alias(const char *sql, const char *name, char *out, size_t n);
/** Columns sql compares with a placeholder ("col = $1", "t.col >= $2"),
 * comma-separated into out, each once. */
void dbadvice_filter_columns(const char *sql, char *out, size_t n);

#endif
