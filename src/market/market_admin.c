#include "market/market_admin.h"

#include "core/timeutil.h"
#include "db/db.h"

enum merr market_create(struct db *db, struct market *m, struct verr *e)
{
	enum merr rc = MERR_INTERNAL;
	struct db_res r = {0};
	verr_set(e, MERR_INTERNAL, "", "internal error");
	if (db_begin(db) != DB_OK)
		goto out;
	int q = db_query(db, &r,
			 "INSERT INTO markets (code, name, currency, tax_rate_bps, prices_include_tax, "
			 "free_shipping_threshold, languages, business_hours, timezone, cod_supported, "
			 "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
			 DBV(DT(m->code), DT(m->name), DT(m->currency), DI(m->tax_rate_bps),
			     DI(m->prices_include_tax), DI(m->free_shipping_threshold), DT(m->languages),
			     DT(m->business_hours), DT(m->timezone), DI(m->cod_supported), DI(time_now())));
	if (q == DB_CONSTRAINT) {
		verr_set(e, MERR_CONFLICT, "code", "market %s already exists", m->code);
		rc = MERR_CONFLICT;
		goto out;
	}
	if (q != DB_OK || r.nrows != 1)
		goto out;
	m->id = db_int(&r, 0, 0);
	for (int i = 0; i < m->ngateways; i++) {
		const struct market_gateway *g = &m->gateways[i];
		if (db_exec(db,
			    "INSERT INTO payment_gateways (market_id, code, name, kind, priority) "
			    "VALUES ($1, $2, $3, $4, $5)",
			    DBV(DI(m->id), DT(g->code), DT(g->name), DT(g->kind), DI(g->priority)),
			    NULL) != DB_OK)
			goto out;
	}
	for (int i = 0; i < m->nshipping; i++) {
		struct market_shipping *s = &m->shipping[i];
		struct db_res sr;
		if (db_query(db, &sr,
			     "INSERT INTO shipping_methods (market_id, code, name, cost, min_days, "
			     "max_days, carrier, position) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
			     "RETURNING id",
			     DBV(DI(m->id), DT(s->code), DT(s->name), DI(s->cost), DI(s->min_days),
				 DI(s->max_days), DT(s->carrier), DI(i))) != DB_OK)
			goto out;
		s->id = db_int(&sr, 0, 0);
		db_res_free(&sr);
	}
	if (db_commit(db) != DB_OK)
		goto out;
	rc = MERR_OK;
	e->code = MERR_OK;
out:
	db_res_free(&r);
	db_rollback(db);
	return rc;
}
