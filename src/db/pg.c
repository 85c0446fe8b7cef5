/*
 * PostgreSQL driver (libpq): one connection per pool slot, statements
 * prepared once per connection and cached by SQL text, parameters typed
 * (int8, float8, text) so `$1` means the same as on SQLite. A connection
 * lost to a server restart is reset and the statement retried once when no
 * transaction was open.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/jw.h"
#include "core/log.h"
#include "core/mem.h"
#include "db/db.h"

#define STMT_CACHE 512
#define MAX_PARAMS 64

struct pg_stmt {
	unsigned long hash;
	char *sql;
	char name[16];
	int nparams;
	unsigned types[MAX_PARAMS];
};

struct pg_conn {
	PGconn *c;
	struct pg_stmt cache[STMT_CACHE];
	int next_id;
	bool in_tx;
};

static bool pg_accepts(const char *url)
{
	return strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0;
}

static void forget_statements(struct pg_conn *pc)
{
	for (int i = 0; i < STMT_CACHE; i++) {
		free(pc->cache[i].sql);
		pc->cache[i].sql = NULL;
	}
}

static void pg_close(void *c)
{
	struct pg_conn *pc = c;
	if (!pc)
		return;
	forget_statements(pc);
	PQfinish(pc->c);
	free(pc);
}

static void quiet_notice(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

static void *pg_open(const char *url, char *err, size_t errlen)
{
	struct pg_conn *pc = xcalloc(1, sizeof(*pc));
	pc->c = PQconnectdb(url);
	if (PQstatus(pc->c) != CONNECTION_OK) {
		snprintf(err, errlen, "cannot connect to PostgreSQL: %s", PQerrorMessage(pc->c));
		pg_close(pc);
		return NULL;
	}
	PQsetNoticeProcessor(pc->c, quiet_notice, NULL);
	return pc;
}

static unsigned long hash(const char *s)
{
	unsigned long h = 5381;
	while (*s)
		h = h * 33 ^ (unsigned char)*s++;
	return h;
}

static int map_result(PGresult *r, const char *sql)
{
	ExecStatusType st = PQresultStatus(r);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return DB_OK;
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	if (state && strncmp(state, "23", 2) == 0)
		return DB_CONSTRAINT;
	if (state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
		      strcmp(state, "55P03") == 0))
		return DB_BUSY;
	log_error("postgresql: %s in: %.200s", PQresultErrorMessage(r), sql);
	return DB_ERROR;
}

static bool lost(struct pg_conn *pc)
{
	return PQstatus(pc->c) != CONNECTION_OK;
}

/* Reconnect after the server went away; prepared statements died with it. */
static bool reconnect(struct pg_conn *pc)
{
	forget_statements(pc);
	PQreset(pc->c);
	pc->in_tx = false;
	return PQstatus(pc->c) == CONNECTION_OK;
}

static unsigned oid_of(enum db_type t)
{
	switch (t) {
	case DB_INT: return 20;   /* int8 */
	case DB_REAL: return 701; /* float8 */
	case DB_TEXT: return 25;  /* text */
	case DB_ROWS: return 25;  /* JSON text, read by rows_from */
	default: return 0;        /* unknown: let the server infer */
	}
}

/* The cached statement for sql with these parameter types, preparing it on
 * first use. NULL when it cannot be prepared (error already logged). */
static struct pg_stmt *prepared(struct pg_conn *pc, const char *sql, const struct db_val *p, int n,
				int *rc)
{
	unsigned long h = hash(sql);
	unsigned types[MAX_PARAMS];
	for (int i = 0; i < n; i++)
		types[i] = oid_of(p[i].t);
	unsigned slot = (unsigned)(h % STMT_CACHE);
	struct pg_stmt *free_slot = NULL;
	for (int probe = 0; probe < 8; probe++) {
		struct pg_stmt *s = &pc->cache[(slot + probe) % STMT_CACHE];
		if (!s->sql) {
			if (!free_slot)
				free_slot = s;
			continue;
		}
		if (s->hash == h && s->nparams == n && strcmp(s->sql, sql) == 0 &&
		    memcmp(s->types, types, sizeof(unsigned) * (size_t)n) == 0)
			return s;
	}
	if (!free_slot)
		return NULL; /* cache full here: run unprepared */
	snprintf(free_slot->name, sizeof(free_slot->name), "m%d", pc->next_id++);
	PGresult *r = PQprepare(pc->c, free_slot->name, sql, n, types);
	*rc = map_result(r, sql);
	PQclear(r);
	if (*rc != DB_OK)
		return NULL;
	free_slot->hash = h;
	free_slot->sql = xstrdup(sql);
	free_slot->nparams = n;
	memcpy(free_slot->types, types, sizeof(unsigned) * (size_t)n);
	return free_slot;
}

/* A struct db_rows as the JSON rows rows_from reads ([[1,"a",null],…]). */
static void rows_json(struct buf *b, const struct db_rows *r)
{
	struct jw w;
	jw_init(&w, b);
	jw_arr(&w);
	for (int i = 0; i < r->nrows; i++) {
		jw_arr(&w);
		for (int j = 0; j < r->ncols; j++) {
			const struct db_cell *c = &r->cells[(size_t)i * (size_t)r->ncols + (size_t)j];
			if (c->t == DB_INT)
				jw_int(&w, c->i);
			else if (c->t == DB_TEXT)
				jw_strn(&w, db_rows_str(r, c), (size_t)c->n);
			else
				jw_null(&w);
		}
		jw_arr_end(&w);
	}
	jw_arr_end(&w);
}

static int run(struct pg_conn *pc, const char *sql, const struct db_val *p, int n, struct db_res *res)
{
	if (n > MAX_PARAMS) {
		log_error("postgresql: %d parameters (at most %d) in: %.200s", n, MAX_PARAMS, sql);
		return DB_ERROR;
	}
	char numbuf[MAX_PARAMS][32];
	const char *values[MAX_PARAMS];
	unsigned types[MAX_PARAMS];
	struct buf json[MAX_PARAMS]; /* DROWS parameters as text */
	int njson = 0;
	for (int i = 0; i < n; i++) {
		types[i] = oid_of(p[i].t);
		switch (p[i].t) {
		case DB_INT:
			snprintf(numbuf[i], sizeof(numbuf[i]), "%lld", (long long)p[i].i);
			values[i] = numbuf[i];
			break;
		case DB_REAL:
			snprintf(numbuf[i], sizeof(numbuf[i]), "%.17g", p[i].d);
			values[i] = numbuf[i];
			break;
		case DB_TEXT: values[i] = p[i].s; break;
		case DB_ROWS:
			buf_init(&json[njson], SIZE_MAX);
			rows_json(&json[njson], p[i].rows);
			values[i] = json[njson++].p;
			break;
		default: values[i] = NULL; break;
		}
	}
	int rc = DB_OK;
	struct pg_stmt *st = prepared(pc, sql, p, n, &rc);
	PGresult *r = NULL;
	if (st || rc == DB_OK)
		r = st ? PQexecPrepared(pc->c, st->name, n, values, NULL, NULL, 0)
		       : PQexecParams(pc->c, sql, n, types, values, NULL, NULL, 0);
	while (njson)
		buf_free(&json[--njson]);
	if (!r)
		return rc;
	rc = map_result(r, sql);
	if (rc == DB_OK) {
		int nr = PQntuples(r), nc = PQnfields(r);
		res->nrows = nr;
		res->ncols = nc;
		if (nr && nc) {
			res->cells = xcalloc((size_t)nr * (size_t)nc, sizeof(char *));
			for (int i = 0; i < nr; i++)
				for (int j = 0; j < nc; j++)
					if (!PQgetisnull(r, i, j))
						res->cells[i * nc + j] =
							xstrndup(PQgetvalue(r, i, j), (size_t)PQgetlength(r, i, j));
		}
		const char *aff = PQcmdTuples(r);
		res->affected = aff && *aff ? strtoll(aff, NULL, 10) : 0;
	}
	PQclear(r);
	return rc;
}

static int pg_query(void *c, const char *sql, const struct db_val *p, int n, struct db_res *res)
{
	struct pg_conn *pc = c;
	if (lost(pc) && (pc->in_tx || !reconnect(pc)))
		return DB_ERROR;
	int rc = run(pc, sql, p, n, res);
	if (rc != DB_OK && lost(pc) && !pc->in_tx && reconnect(pc)) {
		db_res_free(res);
		rc = run(pc, sql, p, n, res);
	}
	return rc;
}

static int pg_exec_script(void *c, const char *sql)
{
	struct pg_conn *pc = c;
	if (lost(pc) && !reconnect(pc))
		return DB_ERROR;
	PGresult *r = PQexec(pc->c, sql);
	int rc = map_result(r, sql);
	PQclear(r);
	if (strcmp(sql, "COMMIT") == 0 || strcmp(sql, "ROLLBACK") == 0)
		pc->in_tx = false;
	return rc;
}

static int pg_begin(void *c)
{
	struct pg_conn *pc = c;
	int rc = pg_exec_script(c, "BEGIN");
	pc->in_tx = rc == DB_OK;
	return rc;
}

static bool pg_ping(void *c)
{
	struct db_res r = {0};
	int rc = pg_query(c, "SELECT 1", NULL, 0, &r);
	db_res_free(&r);
	return rc == DB_OK;
}

/* Highest $n placeholder in sql (0 when none). */
static int max_param(const char *sql)
{
	int max = 0;
	for (const char *p = sql; *p; p++) {
		if (*p != '$' || p[1] < '1' || p[1] > '9')
			continue;
		int n = 0;
		for (p++; *p >= '0' && *p <= '9' && n < 10000; p++)
			n = n * 10 + (*p - '0');
		max = n > max ? n : max;
		p--;
	}
	return max;
}

/* Plain EXPLAIN refuses $n placeholders; a statement with parameters is
 * prepared and its generic plan (the one valid for any values) explained. */
static char *pg_explain(void *c, const char *sql)
{
	struct pg_conn *pc = c;
	char *q = NULL;
	int np = max_param(sql);
	if (np > 0) {
		PQclear(PQexec(pc->c, "DEALLOCATE IF EXISTS mandi_explain"));
		PGresult *p = PQprepare(pc->c, "mandi_explain", sql, 0, NULL);
		bool ok = PQresultStatus(p) == PGRES_COMMAND_OK;
		PQclear(p);
		if (!ok)
			return NULL;
		PQclear(PQexec(pc->c, "SET plan_cache_mode = force_generic_plan"));
		size_t cap = 64 + (size_t)np * 6;
		q = xmalloc(cap);
		size_t o = (size_t)snprintf(q, cap, "EXPLAIN EXECUTE mandi_explain(");
		for (int i = 0; i < np; i++)
			o += (size_t)snprintf(q + o, cap - o, "%sNULL", i ? "," : "");
		snprintf(q + o, cap - o, ")");
	} else if (asprintf(&q, "EXPLAIN %s", sql) < 0) {
		return NULL;
	}
	PGresult *r = PQexec(pc->c, q);
	free(q);
	if (np > 0) {
		PQclear(PQexec(pc->c, "DEALLOCATE mandi_explain"));
		PQclear(PQexec(pc->c, "RESET plan_cache_mode"));
	}
	char *out = NULL;
	size_t len = 0;
	if (PQresultStatus(r) == PGRES_TUPLES_OK) {
		FILE *f = open_memstream(&out, &len);
		for (int i = 0; i < PQntuples(r); i++)
			fprintf(f, "%s\n", PQgetvalue(r, i, 0));
		fclose(f);
	}
	PQclear(r);
	return out;
}

const struct db_driver db_pg = {
	.dialect = {
		.name = "postgresql",
		.for_update = " FOR UPDATE",
		.skip_locked = " FOR UPDATE SKIP LOCKED",
		.id_type = "BIGSERIAL PRIMARY KEY",
		.migration_ext = ".pg.sql",
		.fts_index = {"UPDATE products SET search_vector = "
			      "setweight(to_tsvector('simple', name), 'A') || "
			      "setweight(to_tsvector('simple', COALESCE((SELECT b.name FROM brands b "
			      "WHERE b.id = products.brand_id), '')), 'B') || "
			      "setweight(to_tsvector('simple', (SELECT c.name FROM categories c "
			      "WHERE c.id = products.category_id) || ' ' || tags), 'C') || "
			      "setweight(to_tsvector('simple', description), 'D') WHERE id = $1",
			      NULL},
		.fts_delete = "UPDATE products SET search_vector = NULL WHERE id = $1",
		.fts_index_many = {"UPDATE products SET search_vector = "
				   "setweight(to_tsvector('simple', name), 'A') || "
				   "setweight(to_tsvector('simple', COALESCE((SELECT b.name FROM brands b "
				   "WHERE b.id = products.brand_id), '')), 'B') || "
				   "setweight(to_tsvector('simple', (SELECT c.name FROM categories c "
				   "WHERE c.id = products.category_id) || ' ' || tags), 'C') || "
				   "setweight(to_tsvector('simple', description), 'D') WHERE id IN "
				   "(SELECT CAST(value ->> 0 AS BIGINT) FROM json_array_elements(CAST($1 AS json)))",
				   NULL},
		.fts_delete_many = "UPDATE products SET search_vector = NULL WHERE id IN "
				   "(SELECT CAST(value ->> 0 AS BIGINT) FROM json_array_elements(CAST($1 AS json)))",
		.fts_rebuild = {"UPDATE products SET search_vector = "
				"setweight(to_tsvector('simple', name), 'A') || "
				"setweight(to_tsvector('simple', COALESCE((SELECT b.name FROM brands b "
				"WHERE b.id = products.brand_id), '')), 'B') || "
				"setweight(to_tsvector('simple', (SELECT c.name FROM categories c "
				"WHERE c.id = products.category_id) || ' ' || tags), 'C') || "
				"setweight(to_tsvector('simple', description), 'D') WHERE status = 'active'",
				NULL},
		.fts_match = "SELECT id, CAST(ts_rank(search_vector, to_tsquery('simple', $1)) * 1000000 "
			     "AS BIGINT) FROM products WHERE search_vector @@ to_tsquery('simple', $1)",
		.fts_quote = "",
		.fts_prefix = ":*",
		.str_agg = "string_agg",
		.json_rows = "json_array_elements(CAST(%s AS json))",
		/* PostgreSQL inlines the subquery: only the columns read are extracted */
		.rows_from = "(SELECT value ->> 0 AS c0, value ->> 1 AS c1, value ->> 2 AS c2, "
			     "value ->> 3 AS c3, value ->> 4 AS c4, value ->> 5 AS c5, value ->> 6 AS c6, "
			     "value ->> 7 AS c7, value ->> 8 AS c8, value ->> 9 AS c9, value ->> 10 AS c10, "
			     "value ->> 11 AS c11, value ->> 12 AS c12, value ->> 13 AS c13, "
			     "value ->> 14 AS c14, value ->> 15 AS c15 "
			     "FROM json_array_elements(CAST(%s AS json))) AS batch",
		.fts_and = " & ",
	},
	.accepts = pg_accepts,
	.open = pg_open,
	.close = pg_close,
	.query = pg_query,
	.exec_script = pg_exec_script,
	.begin = pg_begin,
	.end = pg_exec_script,
	.ping = pg_ping,
	.explain = pg_explain,
};
