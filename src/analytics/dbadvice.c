#include "analytics/dbadvice.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/jw.h"
#include "core/mem.h"
#include "db/db.h"
#include "jobs/jobs.h"

#define SLOTS 256

struct noted {
	char *sql;
	unsigned long long hash;
	int64_t calls, total_us, max_us;
};

static struct noted noted[SLOTS];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static unsigned long long fnv(const char *s)
{
	unsigned long long h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

void dbadvice_observe(const char *sql, int64_t us)
{
	if (us < cfg.slow_query_ms * 1000 || !sql)
		return;
	unsigned long long h = fnv(sql);
	pthread_mutex_lock(&mu);
	for (int i = 0; i < SLOTS; i++) {
		struct noted *n = &noted[(h + (unsigned long long)i) % SLOTS];
		if (n->sql && n->hash != h)
			continue;
		if (!n->sql) {
			n->sql = xstrndup(sql, strnlen(sql, 4000));
			n->hash = h;
		}
		n->calls++;
		n->total_us += us;
		if (us > n->max_us)
			n->max_us = us;
		break;
	}
	pthread_mutex_unlock(&mu);
}

bool dbadvice_flush(struct db *db, int64_t now)
{
	/* take the table out under the lock; the inserts below are observed too */
	struct noted *copy = xcalloc(SLOTS, sizeof(*copy));
	pthread_mutex_lock(&mu);
	memcpy(copy, noted, sizeof(noted));
	memset(noted, 0, sizeof(noted));
	pthread_mutex_unlock(&mu);
	bool ok = true;
	for (int i = 0; i < SLOTS; i++) {
		struct noted *n = &copy[i];
		if (!n->sql)
			continue;
		char fp[24];
		snprintf(fp, sizeof(fp), "%016llx", n->hash);
		const char *fpp = fp;
		if (db_exec(db,
			    "INSERT INTO slow_queries (minute, instance, fingerprint, sql_text, calls, "
			    "total_us, max_us) VALUES ($1, $2, $3, $4, $5, $6, $7)",
			    DBV(DI(now - now % 60), DT(jobs_holder()), DT(fpp), DT(n->sql), DI(n->calls),
				DI(n->total_us), DI(n->max_us)),
			    NULL) != DB_OK)
			ok = false;
		free(n->sql);
	}
	free(copy);
	return ok;
}

int dbadvice_full_scans(const char *plan, char names[][64], int max)
{
	int n = 0;
	for (const char *line = plan; line && *line && n < max;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		const char *name = NULL;
		const char *p;
		/* SQLite: "SCAN t" or "SCAN t AS x" (an index use says "USING ... INDEX") */
		if ((p = strstr(line, "SCAN ")) && p < line + len && (p == line || p[-1] == ' ' || p[-1] == '-') &&
		    !memmem(line, len, "USING", 5))
			name = p + 5;
		/* PostgreSQL: "Seq Scan on t" */
		if ((p = strstr(line, "Seq Scan on ")) && p < line + len)
			name = p + 12;
		if (name) {
			size_t k = 0;
			while (k < 63 && (isalnum((unsigned char)name[k]) || name[k] == '_'))
				k++;
			if (k) {
				bool dup = false;
				for (int i = 0; i < n; i++)
					dup |= strncmp(names[i], name, k) == 0 && names[i][k] == '\0';
				if (!dup) {
					memcpy(names[n], name, k);
					names[n][k] = '\0';
					n++;
				}
			}
		}
		line = end ? end + 1 : NULL;
	}
	return n;
}

void dbadvice_filter_columns(const char *sql, char *out, size_t n)
{
	size_t o = 0;
	out[0] = '\0';
	for (const char *p = sql; *p; p++) {
		if (*p != '$')
			continue;
		/* walk back over " <op> " to the identifier before it */
		const char *q = p - 1;
		while (q > sql && *q == ' ')
			q--;
		const char *op_end = q;
		while (q > sql && strchr("=<>!", *q))
			q--;
		if (q == op_end)
			continue;
		while (q > sql && *q == ' ')
			q--;
		const char *id_end = q + 1;
		while (q > sql && (isalnum((unsigned char)q[-1]) || q[-1] == '_'))
			q--;
		size_t len = (size_t)(id_end - q);
		if (!len || len > 63 || !isalpha((unsigned char)*q))
			continue;
		char col[64];
		memcpy(col, q, len);
		col[len] = '\0';
		/* each column once */
		bool seen = false;
		for (const char *s = out; *s;) {
			size_t l = strcspn(s, ",");
			seen |= l == len && strncmp(s, col, len) == 0;
			s += l;
			if (*s == ',')
				s++;
		}
		if (seen || o + len + 2 >= n)
			continue;
		o += (size_t)snprintf(out + o, n - o, "%s%s", o ? "," : "", col);
	}
}

/* Next word of sql at *p: an identifier (letters, digits, _) or one other
 * character; false at the end. */
static bool next_word(const char **p, char *out, size_t n)
{
	const char *s = *p;
	while (*s && isspace((unsigned char)*s))
		s++;
	if (!*s)
		return false;
	size_t k = 0;
	if (isalnum((unsigned char)*s) || *s == '_') {
		while ((isalnum((unsigned char)*s) || *s == '_') && k + 1 < n)
			out[k++] = *s++;
		while (isalnum((unsigned char)*s) || *s == '_')
			s++;
	} else {
		out[k++] = *s++;
	}
	out[k] = '\0';
	*p = s;
	return true;
}

void dbadvice_resolve_alias(const char *sql, const char *name, char *out, size_t n)
{
	char w[64], table[64], alias[64];
	const char *p = sql;
	out[0] = '\0';
	while (next_word(&p, w, sizeof(w))) {
		if (strcasecmp(w, "FROM") != 0 && strcasecmp(w, "JOIN") != 0)
			continue;
		const char *save = p;
		if (!next_word(&p, table, sizeof(table)) || !(isalpha((unsigned char)table[0]) || table[0] == '_')) {
			p = save;
			continue;
		}
		const char *after = p;
		if (next_word(&p, alias, sizeof(alias)) && strcasecmp(alias, "AS") == 0 &&
		    !next_word(&p, alias, sizeof(alias)))
			alias[0] = '\0';
		if (strcmp(table, name) == 0 || strcmp(alias, name) == 0) {
			snprintf(out, n, "%s", table);
			return;
		}
		p = after;
	}
}

static bool safe_ident(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

/* Suggestions as a JSON array of {table, rows, reason, suggestion}. */
static char *suggest(struct db *db, const char *sql, const char *plan)
{
	struct buf b;
	buf_init(&b, 64 * 1024);
	struct jw w;
	jw_init(&w, &b);
	jw_arr(&w);
	char tables[8][64];
	int nt = plan ? dbadvice_full_scans(plan, tables, 8) : 0;
	for (int i = 0; i < nt; i++) {
		/* SQLite's plan names aliases ("SCAN o"); find the table behind one */
		char table[64];
		dbadvice_resolve_alias(sql, tables[i], table, sizeof(table));
		if (!*table || !safe_ident(table))
			continue;
		snprintf(tables[i], sizeof(tables[i]), "%s", table);
		char q[600];
		snprintf(q, sizeof(q), "SELECT COUNT(*) FROM %s", tables[i]);
		int64_t rows = 0;
		if (db_scalar(db, &rows, 0, q, DBV0) != DB_OK || rows < DBADVICE_LARGE_TABLE)
			continue;
		char cols[256], text[1024];
		dbadvice_filter_columns(sql, cols, sizeof(cols));
		jw_obj(&w);
		jw_kstr(&w, "table", tables[i]);
		jw_kint(&w, "rows", rows);
		jw_kstr(&w, "reason", "the plan reads every row of this table");
		if (*cols) {
			snprintf(text, sizeof(text), "CREATE INDEX ON %s (%s)", tables[i], cols);
			jw_kstr(&w, "suggestion", text);
		} else {
			jw_kstr(&w, "suggestion",
				"the query filters on no parameter: add a WHERE clause or LIMIT, or "
				"keep an aggregate instead of scanning");
		}
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	size_t len;
	return buf_take(&b, &len);
}

int dbadvice_analyse(struct db *db, int64_t since, int64_t now, struct dbadvice *out, int max)
{
	struct db_res r;
	if (db_query(db, &r,
		     "SELECT fingerprint, MIN(sql_text), SUM(calls), SUM(total_us), MAX(max_us) "
		     "FROM slow_queries WHERE minute >= $1 GROUP BY fingerprint "
		     "ORDER BY SUM(total_us) DESC, fingerprint LIMIT $2",
		     DBV(DI(since), DI(max))) != DB_OK)
		return -1;
	int n = r.nrows;
	for (int i = 0; i < n; i++) {
		struct dbadvice *a = &out[i];
		memset(a, 0, sizeof(*a));
		snprintf(a->fingerprint, sizeof(a->fingerprint), "%s", db_text(&r, i, 0));
		a->sql = xstrdup(db_text(&r, i, 1));
		a->calls = db_int(&r, i, 2);
		a->total_us = db_int(&r, i, 3);
		a->max_us = db_int(&r, i, 4);
		a->plan = db_explain(db, a->sql);
		a->suggestions = suggest(db, a->sql, a->plan);
		const char *fp = a->fingerprint, *plan = a->plan ? a->plan : "", *sg = a->suggestions;
		if (db_exec(db,
			    "INSERT INTO database_optimizations (fingerprint, sql_text, calls, total_us, "
			    "max_us, plan, suggestions, analyzed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
			    "ON CONFLICT (fingerprint) DO UPDATE SET calls = $3, total_us = $4, max_us = $5, "
			    "plan = $6, suggestions = $7, analyzed_at = $8",
			    DBV(DT(fp), DT(a->sql), DI(a->calls), DI(a->total_us), DI(a->max_us), DT(plan),
				DT(sg), DI(now)),
			    NULL) != DB_OK) {
			dbadvice_free(out, i + 1);
			db_res_free(&r);
			return -1;
		}
	}
	db_res_free(&r);
	return n;
}

void dbadvice_free(struct dbadvice *a, int n)
{
	for (int i = 0; i < n; i++) {
		free(a[i].sql);
		free(a[i].plan);
		free(a[i].suggestions);
	}
}
