#include "db/db.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/strconv.h"
#include "core/timeutil.h"

struct db {
	const struct db_driver *drv;
	void *conn;
	bool in_tx;
	struct pool *pool;
};

struct pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct db **free;
	int nfree, size;
	const struct db_driver *drv;
};

static struct pool primary, replica;
static const struct db_driver *drivers[] = {&db_sqlite, &db_pg};
void (*db_observer)(const char *sql, int64_t us);
static int64_t cache_budget_kib, stmt_budget_kib;

void db_cache_budget(int64_t page_kib, int64_t stmt_kib)
{
	cache_budget_kib = page_kib;
	stmt_budget_kib = stmt_kib;
}

/* One connection's part of a budget (KiB) shared by size, at least floor;
 * 0 stays 0 (no budget). */
static int64_t share(int64_t total, int size, int64_t floor)
{
	if (total <= 0)
		return 0;
	return total / size > floor ? total / size : floor;
}

static const struct db_driver *driver_for(const char *url)
{
	for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++)
		if (drivers[i]->accepts(url))
			return drivers[i];
	return NULL;
}

/* Fill a pool with `size` connections, spread round-robin over the
 * comma-separated urls. */
static bool pool_fill(struct pool *p, const char *urls, int size, char *err, size_t errlen)
{
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->free = xcalloc((size_t)size, sizeof(*p->free));
	p->size = size;
	char *list = xstrdup(urls);
	char *parts[16];
	int nparts = 0;
	for (char *s = list; s && nparts < 16;) {
		char *comma = strchr(s, ',');
		if (comma)
			*comma = '\0';
		if (*s)
			parts[nparts++] = s;
		s = comma ? comma + 1 : NULL;
	}
	bool ok = nparts > 0;
	for (int i = 0; ok && i < size; i++) {
		const char *url = parts[i % nparts];
		const struct db_driver *drv = driver_for(url);
		if (!drv) {
			snprintf(err, errlen, "no database driver for '%s'", url);
			ok = false;
			break;
		}
		void *c = drv->open(url, err, errlen);
		if (!c) {
			ok = false;
			break;
		}
		/* a pool of N shares the budget: memory does not grow with N */
		if ((cache_budget_kib > 0 || stmt_budget_kib > 0) && drv->set_cache)
			drv->set_cache(c, share(cache_budget_kib, size, 256), share(stmt_budget_kib, size, 64));
		struct db *db = xcalloc(1, sizeof(*db));
		db->drv = drv;
		db->conn = c;
		db->pool = p;
		p->drv = drv;
		p->free[p->nfree++] = db;
	}
	free(list);
	return ok;
}

bool db_pool_open(const char *url, const char *read_urls, int size, char *err, size_t errlen)
{
	if (!pool_fill(&primary, url, size, err, errlen))
		return false;
	if (read_urls && *read_urls)
		return pool_fill(&replica, read_urls, size, err, errlen);
	return true;
}

static void pool_drain(struct pool *p)
{
	for (int i = 0; i < p->nfree; i++) {
		p->free[i]->drv->close(p->free[i]->conn);
		free(p->free[i]);
	}
	free(p->free);
	memset(p, 0, sizeof(*p));
}

void db_pool_close(void)
{
	pool_drain(&primary);
	pool_drain(&replica);
}

static struct db *pool_take(struct pool *p)
{
	pthread_mutex_lock(&p->mu);
	while (p->nfree == 0)
		pthread_cond_wait(&p->cv, &p->mu);
	struct db *db = p->free[--p->nfree];
	pthread_mutex_unlock(&p->mu);
	return db;
}

void db_suspend(struct db *db)
{
	if (!db || !db->conn || db->in_tx)
		return;
	/* the pool holds struct db handles: hand it a new one carrying this
	 * connection, and keep the caller's handle empty until db_resume */
	struct db *lent = xcalloc(1, sizeof(*lent));
	*lent = *db;
	db->conn = NULL;
	struct pool *p = db->pool;
	pthread_mutex_lock(&p->mu);
	p->free[p->nfree++] = lent;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

void db_resume(struct db *db)
{
	if (!db || db->conn)
		return;
	struct db *got = pool_take(db->pool);
	db->drv = got->drv;
	db->conn = got->conn;
	free(got);
}

struct db *db_acquire(void)
{
	return pool_take(&primary);
}

struct db *db_acquire_read(void)
{
	return replica.size ? pool_take(&replica) : pool_take(&primary);
}

void db_release(struct db *db)
{
	if (!db)
		return;
	if (db->in_tx)
		db_rollback(db);
	struct pool *p = db->pool;
	pthread_mutex_lock(&p->mu);
	p->free[p->nfree++] = db;
	pthread_mutex_unlock(&p->mu);
	/* signalled after the unlock: a waiter woken while the mutex is still
	 * held only goes back to sleep on it (two context switches per handoff
	 * when many requests queue on a small pool); pool_take re-checks */
	pthread_cond_signal(&p->cv);
}

const struct db_dialect *db_dialect(void)
{
	/* every primary connection shares one driver */
	return primary.drv ? &primary.drv->dialect : &db_sqlite.dialect;
}

void db_maintain(void)
{
	if (!primary.drv || !primary.drv->maintain)
		return;
	struct db *db = db_acquire();
	db->drv->maintain(db->conn);
	db_release(db);
}

bool db_healthy(void)
{
	struct db *db = db_acquire();
	bool ok = db->drv->ping(db->conn);
	db_release(db);
	return ok;
}

int db_read_replicas(void)
{
	return replica.size;
}

static void observe(const char *sql, int64_t t0)
{
	if (db_observer)
		db_observer(sql, time_mono_us() - t0);
}

static int query(struct db *db, struct db_res *res, const char *sql, const struct db_val *p, int n,
		 bool want_ints)
{
	memset(res, 0, sizeof(*res));
	res->want_ints = want_ints;
	int64_t t0 = time_mono_us();
	int rc = db->drv->query(db->conn, sql, p, n, res);
	observe(sql, t0);
	return rc;
}

int db_query(struct db *db, struct db_res *res, const char *sql, const struct db_val *p, int n)
{
	return query(db, res, sql, p, n, false);
}

int db_query_ints(struct db *db, struct db_res *res, const char *sql, const struct db_val *p, int n)
{
	return query(db, res, sql, p, n, true);
}

int db_query_each(struct db *db, const char *sql, const struct db_val *p, int n, int chunk,
		  void (*fn)(const struct db_res *part, void *ctx), void *ctx)
{
	struct db_res res = {.chunk = chunk, .each = fn, .ctx = ctx};
	int64_t t0 = time_mono_us();
	int rc = db->drv->query(db->conn, sql, p, n, &res);
	observe(sql, t0); /* a streaming engine's time includes fn's for the parts before */
	if (rc == DB_OK && res.nrows)
		fn(&res, ctx); /* the last part, or all of it */
	db_res_free(&res);
	return rc;
}

int db_exec(struct db *db, const char *sql, const struct db_val *p, int n, int64_t *affected)
{
	struct db_res res;
	int rc = db_query(db, &res, sql, p, n);
	if (affected)
		*affected = rc == DB_OK ? res.affected : 0;
	db_res_free(&res);
	return rc;
}

int db_scalar(struct db *db, int64_t *out, int64_t def, const char *sql, const struct db_val *p,
	      int n)
{
	struct db_res res;
	*out = def;
	int rc = db_query(db, &res, sql, p, n);
	if (rc == DB_OK && res.nrows > 0 && !db_isnull(&res, 0, 0))
		*out = db_int(&res, 0, 0);
	db_res_free(&res);
	return rc;
}

int db_begin(struct db *db)
{
	int rc = db->drv->begin(db->conn);
	if (rc == DB_OK)
		db->in_tx = true;
	return rc;
}

int db_commit(struct db *db)
{
	int rc = db->drv->end(db->conn, "COMMIT");
	if (rc != DB_OK)
		db_rollback(db);
	db->in_tx = false;
	return rc;
}

void db_rollback(struct db *db)
{
	if (!db->in_tx)
		return;
	(void)db->drv->end(db->conn, "ROLLBACK");
	db->in_tx = false;
}

bool db_in_tx(struct db *db)
{
	return db->in_tx;
}

const struct db_dialect *db_conn_dialect(struct db *db)
{
	return &db->drv->dialect;
}

char *db_explain(struct db *db, const char *sql)
{
	return db->drv->explain ? db->drv->explain(db->conn, sql) : NULL;
}

void db_res_free(struct db_res *res)
{
	if (res->cells) {
		for (int i = 0; !res->blob && i < res->nrows * res->ncols; i++)
			free(res->cells[i]);
		free(res->cells);
	}
	free(res->blob);
	free(res->ints);
	memset(res, 0, sizeof(*res));
}

static bool in_res(const struct db_res *res, int row, int col)
{
	return row >= 0 && row < res->nrows && col >= 0 && col < res->ncols;
}

const char *db_text(const struct db_res *res, int row, int col)
{
	if (!res->cells || !in_res(res, row, col))
		return NULL;
	return res->cells[row * res->ncols + col];
}

int64_t db_int(const struct db_res *res, int row, int col)
{
	if (res->ints)
		return in_res(res, row, col) ? res->ints[(size_t)row * (size_t)res->ncols + (size_t)col] : 0;
	const char *s = db_text(res, row, col);
	int64_t v = 0;
	if (s && !parse_i64(s, INT64_MIN, INT64_MAX, &v)) {
		/* numeric aggregates may come back as "12.0" */
		v = (int64_t)strtod(s, NULL);
	}
	return v;
}

double db_real(const struct db_res *res, int row, int col)
{
	const char *s = db_text(res, row, col);
	return s ? strtod(s, NULL) : 0.0;
}

bool db_isnull(const struct db_res *res, int row, int col)
{
	if (res->ints)
		return !in_res(res, row, col);
	return db_text(res, row, col) == NULL;
}

/* --- migrations ------------------------------------------------------------ */

struct embedded_file {
	const char *name;
	const unsigned char *data;
	size_t len;
};
extern const struct embedded_file embedded_migrations[];

/* "007_x.sqlite.sql" runs only on SQLite, "007_x.pg.sql" only on PostgreSQL,
 * "007_x.sql" on both. */
static bool migration_applies(const char *name, const struct db_dialect *d)
{
	size_t n = strlen(name);
	const char *others[] = {".sqlite.sql", ".pg.sql"};
	for (size_t i = 0; i < 2; i++) {
		size_t m = strlen(others[i]);
		if (n > m && strcmp(name + n - m, others[i]) == 0)
			return strcmp(others[i], d->migration_ext) == 0;
	}
	return true;
}

/* Replace @ID@ with the driver's auto-increment key type. */
static char *render_ddl(const char *sql, size_t len, const struct db_dialect *d)
{
	size_t cap = len * 2 + 64, o = 0;
	char *out = xmalloc(cap);
	for (size_t i = 0; i < len;) {
		if (strncmp(sql + i, "@ID@", 4) == 0) {
			size_t m = strlen(d->id_type);
			if (o + m + 1 >= cap)
				out = xrealloc(out, cap = (o + m) * 2 + 64);
			memcpy(out + o, d->id_type, m);
			o += m;
			i += 4;
			continue;
		}
		if (o + 2 >= cap)
			out = xrealloc(out, cap *= 2);
		out[o++] = sql[i++];
	}
	out[o] = '\0';
	return out;
}

int db_migrate(struct db *db)
{
	const struct db_dialect *d = &db->drv->dialect;
	if (db->drv->exec_script(db->conn, "CREATE TABLE IF NOT EXISTS schema_migrations ("
					   "version TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)") != DB_OK)
		return -1;
	int applied = 0;
	for (const struct embedded_file *m = embedded_migrations; m->name; m++) {
		if (!migration_applies(m->name, d))
			continue;
		if (db_begin(db) != DB_OK)
			return -1;
		/* serialise concurrent migrators: SQLite's BEGIN IMMEDIATE already
		 * does; PostgreSQL takes a transaction-scoped advisory lock */
		if (strcmp(d->name, "postgresql") == 0 &&
		    db_exec(db, "SELECT pg_advisory_xact_lock(727274)", DBV0, NULL) != DB_OK)
			goto fail;
		int64_t done;
		if (db_scalar(db, &done, 0, "SELECT COUNT(*) FROM schema_migrations WHERE version = $1",
			      DBV(DT(m->name))) != DB_OK)
			goto fail;
		if (done) {
			db_rollback(db);
			continue;
		}
		char *sql = render_ddl((const char *)m->data, m->len, d);
		int rc = db->drv->exec_script(db->conn, sql);
		free(sql);
		if (rc != DB_OK) {
			log_error("migration %s failed", m->name);
			goto fail;
		}
		if (db_exec(db, "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
			    DBV(DT(m->name), DI(time_now())), NULL) != DB_OK ||
		    db_commit(db) != DB_OK)
			goto fail;
		log_info("migration %s applied", m->name);
		applied++;
	}
	return applied;
fail:
	db_rollback(db);
	return -1;
}

void db_rows_init(struct db_rows *r, int ncols)
{
	memset(r, 0, sizeof(*r));
	r->ncols = ncols;
}

void db_rows_reset(struct db_rows *r, int ncols)
{
	r->ncols = ncols;
	r->nrows = 0;
	r->ncells = r->pool_len = 0;
}

void db_rows_free(struct db_rows *r)
{
	free(r->cells);
	free(r->pool);
	db_rows_init(r, r->ncols);
}

static void rows_cell(struct db_rows *r, struct db_cell c)
{
	if (r->ncells == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 1024;
		r->cells = xrealloc(r->cells, sizeof(*r->cells) * r->cap);
	}
	r->cells[r->ncells++] = c;
	r->nrows = (int)(r->ncells / (size_t)r->ncols);
}

void db_rows_int(struct db_rows *r, int64_t v)
{
	rows_cell(r, (struct db_cell){.t = DB_INT, .i = v});
}

void db_rows_textn(struct db_rows *r, const char *s, size_t n)
{
	if (r->pool_len + n + 1 > r->pool_cap) {
		while (r->pool_len + n + 1 > r->pool_cap)
			r->pool_cap = r->pool_cap ? r->pool_cap * 2 : 16384;
		r->pool = xrealloc(r->pool, r->pool_cap);
	}
	memcpy(r->pool + r->pool_len, s, n);
	r->pool[r->pool_len + n] = 0;
	rows_cell(r, (struct db_cell){.t = DB_TEXT, .i = (int64_t)r->pool_len, .n = (int64_t)n});
	r->pool_len += n + 1;
}

void db_rows_text(struct db_rows *r, const char *s)
{
	if (s)
		db_rows_textn(r, s, strlen(s));
	else
		db_rows_null(r);
}

void db_rows_null(struct db_rows *r)
{
	rows_cell(r, (struct db_cell){.t = DB_NULL});
}

void db_json_ids(struct buf *b, const int64_t *ids, int n)
{
	buf_reset(b);
	buf_addc(b, '[');
	for (int i = 0; i < n; i++)
		buf_printf(b, "%s[%lld]", i ? "," : "", (long long)ids[i]);
	buf_addc(b, ']');
}

void db_ids_in(struct buf *b, const struct db_dialect *d)
{
	buf_adds(b, " IN (SELECT CAST(value ->> 0 AS BIGINT) FROM ");
	buf_printf(b, d->json_rows, "$1");
	buf_addc(b, ')');
}

void db_rows_ids(struct db_rows *r, const int64_t *ids, int n)
{
	db_rows_init(r, 1);
	for (int i = 0; i < n; i++)
		db_rows_int(r, ids[i]);
}

void db_rows_in(struct buf *b, const struct db_dialect *d, const char *param)
{
	buf_adds(b, " IN (SELECT CAST(c0 AS BIGINT) FROM ");
	buf_printf(b, d->rows_from, param);
	buf_addc(b, ')');
}
