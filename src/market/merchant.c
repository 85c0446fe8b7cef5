#include "market/merchant.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "core/mem.h"
#include "core/timeutil.h"
#include "db/db.h"
#include "market/market.h"

const char *const merchant_integration_types[] = {"api", "feed", "manual", NULL};

static bool code_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < 2 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
			return false;
	return true;
}

static const char SELECT_COLS[] =
	"SELECT m.id, m.name, m.code, k.code, m.integration_type, m.commission_rate_bps, m.status, "
	"m.created_at FROM merchants m JOIN markets k ON k.id = m.market_id ";

static void from_row(const struct db_res *r, int i, struct merchant *m)
{
	m->id = db_int(r, i, 0);
	snprintf(m->name, sizeof(m->name), "%s", db_text(r, i, 1));
	snprintf(m->code, sizeof(m->code), "%s", db_text(r, i, 2));
	snprintf(m->market, sizeof(m->market), "%s", db_text(r, i, 3));
	snprintf(m->integration_type, sizeof(m->integration_type), "%s", db_text(r, i, 4));
	m->commission_rate_bps = db_int(r, i, 5);
	snprintf(m->status, sizeof(m->status), "%s", db_text(r, i, 6));
	m->created_at = db_int(r, i, 7);
}

enum merr merchant_create(struct db *db, struct merchant *m, struct verr *e)
{
	if (!code_ok(m->code)) {
		verr_set(e, MERR_VALIDATION, "code", "code must be 2-64 letters, digits, '-' or '_'");
		return MERR_VALIDATION;
	}
	bool type_ok = false;
	for (const char *const *t = merchant_integration_types; *t; t++)
		type_ok |= strcmp(*t, m->integration_type) == 0;
	if (!type_ok) {
		verr_set(e, MERR_VALIDATION, "integration_type",
			 "integration_type must be api, feed or manual");
		return MERR_VALIDATION;
	}
	const struct market *mk = market_get(m->market);
	if (!mk) {
		verr_set(e, MERR_UNKNOWN_MARKET, "market", "unknown market '%s'", m->market);
		return MERR_UNKNOWN_MARKET;
	}
	m->created_at = time_now();
	snprintf(m->status, sizeof(m->status), "active");
	struct db_res r;
	int rc = db_query(db, &r,
			  "INSERT INTO merchants (name, code, market_id, integration_type, "
			  "commission_rate_bps, status, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) "
			  "RETURNING id",
			  DBV(DT(m->name), DT(m->code), DI(mk->id), DT(m->integration_type),
			      DI(m->commission_rate_bps), DT(m->status), DI(m->created_at)));
	if (rc == DB_CONSTRAINT) {
		verr_set(e, MERR_CONFLICT, "code", "a merchant with code '%s' already exists", m->code);
		return MERR_CONFLICT;
	}
	if (rc != DB_OK)
		return MERR_INTERNAL;
	m->id = db_int(&r, 0, 0);
	db_res_free(&r);
	return MERR_OK;
}

int merchant_list(struct db *db, int64_t market_id, int64_t after_id, int64_t limit,
		  struct merchant **out)
{
	char sql[512];
	snprintf(sql, sizeof(sql), "%s WHERE m.market_id = $1 AND m.id > $2 ORDER BY m.id LIMIT $3",
		 SELECT_COLS);
	struct db_res r;
	*out = NULL;
	if (db_query(db, &r, sql, DBV(DI(market_id), DI(after_id), DI(limit))) != DB_OK)
		return -1;
	*out = xcalloc((size_t)r.nrows + 1, sizeof(struct merchant));
	for (int i = 0; i < r.nrows; i++)
		from_row(&r, i, &(*out)[i]);
	int n = r.nrows;
	db_res_free(&r);
	return n;
}

enum merr merchant_get(struct db *db, int64_t id, const char *code, struct merchant *out)
{
	char sql[512];
	snprintf(sql, sizeof(sql), "%s WHERE m.id = $1 OR m.code = $2", SELECT_COLS);
	struct db_res r;
	if (db_query(db, &r, sql, DBV(DI(id), DT(code ? code : ""))) != DB_OK)
		return MERR_INTERNAL;
	enum merr rc = r.nrows ? MERR_OK : MERR_NOT_FOUND;
	if (r.nrows)
		from_row(&r, 0, out);
	db_res_free(&r);
	return rc;
}
