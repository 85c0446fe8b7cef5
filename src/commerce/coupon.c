#include "commerce/coupon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "db/db.h"
#include "market/market.h"

#define COUPON_COLS                                                                      \
	"id, code, COALESCE(market_id, 0), kind, value, min_subtotal, COALESCE(starts_at, 0), " \
	"COALESCE(ends_at, 0), COALESCE(max_uses, 0), COALESCE(per_user_limit, 0), uses, active, " \
	"description, created_at"

static void coupon_row(const struct db_res *r, int i, struct coupon *c)
{
	c->id = db_int(r, i, 0);
	snprintf(c->code, sizeof(c->code), "%s", db_text(r, i, 1));
	c->market_id = db_int(r, i, 2);
	snprintf(c->kind, sizeof(c->kind), "%s", db_text(r, i, 3));
	c->value = db_int(r, i, 4);
	c->min_subtotal = db_int(r, i, 5);
	c->starts_at = db_int(r, i, 6);
	c->ends_at = db_int(r, i, 7);
	c->max_uses = db_int(r, i, 8);
	c->per_user_limit = db_int(r, i, 9);
	c->uses = db_int(r, i, 10);
	c->active = db_int(r, i, 11) != 0;
	snprintf(c->description, sizeof(c->description), "%s", db_text(r, i, 12));
	c->created_at = db_int(r, i, 13);
}

static enum merr coupon_load(struct db *db, const char *sql, struct db_val key, struct coupon *c)
{
	struct db_res res = {0};
	if (db_query(db, &res, sql, &key, 1) != DB_OK)
		return MERR_INTERNAL;
	enum merr e = res.nrows ? MERR_OK : MERR_NOT_FOUND;
	if (res.nrows)
		coupon_row(&res, 0, c);
	db_res_free(&res);
	return e;
}

enum merr coupon_find(struct db *db, const char *code, struct coupon *c)
{
	return coupon_load(db, "SELECT " COUPON_COLS " FROM coupons WHERE code = $1", DT(code), c);
}

enum merr coupon_get(struct db *db, int64_t id, struct coupon *c)
{
	return coupon_load(db, "SELECT " COUPON_COLS " FROM coupons WHERE id = $1", DI(id), c);
}

enum price_coupon_kind coupon_price_kind(const struct coupon *c)
{
	return strcmp(c->kind, "percent") == 0 ? PRICE_COUPON_PERCENT : PRICE_COUPON_FIXED;
}

enum merr coupon_check(struct db *db, const struct coupon *c, const struct market *m,
		       const char *user_id, int64_t subtotal, int64_t now, struct verr *e)
{
	char amount[48];
	if (!c->active || (c->starts_at && now < c->starts_at) || (c->ends_at && now >= c->ends_at)) {
		verr_set(e, MERR_COUPON_INVALID, "coupon_code", "coupon %s is not active now", c->code);
		return MERR_COUPON_INVALID;
	}
	if (c->market_id && c->market_id != m->id) {
		verr_set(e, MERR_COUPON_INVALID, "coupon_code", "coupon %s is not valid in %s", c->code,
			 m->code);
		return MERR_COUPON_INVALID;
	}
	if (subtotal < c->min_subtotal) {
		snprintf(amount, sizeof(amount), "%lld", (long long)c->min_subtotal);
		verr_set(e, MERR_COUPON_INVALID, "coupon_code",
			 "coupon %s needs a subtotal of at least %s minor units", c->code, amount);
		return MERR_COUPON_INVALID;
	}
	if (c->max_uses && c->uses >= c->max_uses) {
		verr_set(e, MERR_COUPON_INVALID, "coupon_code", "coupon %s has been used up", c->code);
		return MERR_COUPON_INVALID;
	}
	if (c->per_user_limit) {
		int64_t used = 0;
		if (db_scalar(db, &used, 0,
			      "SELECT uses FROM coupon_user_uses WHERE coupon_id = $1 AND user_id = $2",
			      DBV(DI(c->id), DT(user_id))) != DB_OK) {
			verr_set(e, MERR_INTERNAL, NULL, "internal error");
			return MERR_INTERNAL;
		}
		if (used >= c->per_user_limit) {
			verr_set(e, MERR_COUPON_INVALID, "coupon_code",
				 "you have already used coupon %s", c->code);
			return MERR_COUPON_INVALID;
		}
	}
	return MERR_OK;
}

enum merr coupon_redeem(struct db *db, const struct coupon *c, const char *user_id,
			int64_t order_id, int64_t discount, int64_t now)
{
	int64_t n = 0;
	/* the WHERE is the limit: of two concurrent redeemers of the last use,
	 * the second's UPDATE waits for the first and then matches no row */
	if (db_exec(db,
		    "UPDATE coupons SET uses = uses + 1 WHERE id = $1 AND active = 1 "
		    "AND (max_uses IS NULL OR uses < max_uses)",
		    DBV(DI(c->id)), &n) != DB_OK)
		return MERR_INTERNAL;
	if (n != 1)
		return MERR_COUPON_INVALID;
	if (c->per_user_limit) {
		if (db_exec(db,
			    "INSERT INTO coupon_user_uses (coupon_id, user_id, uses) VALUES ($1, $2, 1) "
			    "ON CONFLICT (coupon_id, user_id) DO UPDATE SET uses = coupon_user_uses.uses + 1 "
			    "WHERE coupon_user_uses.uses < $3",
			    DBV(DI(c->id), DT(user_id), DI(c->per_user_limit)), &n) != DB_OK)
			return MERR_INTERNAL;
		if (n != 1)
			return MERR_COUPON_INVALID;
	}
	if (db_exec(db,
		    "INSERT INTO coupon_redemptions (coupon_id, user_id, order_id, discount, created_at) "
		    "VALUES ($1, $2, $3, $4, $5)",
		    DBV(DI(c->id), DT(user_id), DI(order_id), DI(discount), DI(now)), NULL) != DB_OK)
		return MERR_INTERNAL;
	return MERR_OK;
}

static struct db_val opt(int64_t v)
{
	return v ? DI(v) : DN;
}

enum merr coupon_create(struct db *db, struct coupon *c)
{
	struct db_res res = {0};
	int rc = db_query(db, &res,
			  "INSERT INTO coupons (code, market_id, kind, value, min_subtotal, starts_at, "
			  "ends_at, max_uses, per_user_limit, active, description, created_at) "
			  "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
			  DBV(DT(c->code), opt(c->market_id), DT(c->kind), DI(c->value),
			      DI(c->min_subtotal), opt(c->starts_at), opt(c->ends_at), opt(c->max_uses),
			      opt(c->per_user_limit), DI(c->active), DT(c->description),
			      DI(c->created_at)));
	if (rc == DB_CONSTRAINT)
		return MERR_CONFLICT;
	if (rc != DB_OK || res.nrows != 1) {
		db_res_free(&res);
		return MERR_INTERNAL;
	}
	c->id = db_int(&res, 0, 0);
	db_res_free(&res);
	return MERR_OK;
}

enum merr coupon_update(struct db *db, const struct coupon *c)
{
	int64_t n = 0;
	int rc = db_exec(db,
			 "UPDATE coupons SET market_id = $2, kind = $3, value = $4, min_subtotal = $5, "
			 "starts_at = $6, ends_at = $7, max_uses = $8, per_user_limit = $9, active = $10, "
			 "description = $11 WHERE id = $1",
			 DBV(DI(c->id), opt(c->market_id), DT(c->kind), DI(c->value), DI(c->min_subtotal),
			     opt(c->starts_at), opt(c->ends_at), opt(c->max_uses), opt(c->per_user_limit),
			     DI(c->active), DT(c->description)),
			 &n);
	if (rc != DB_OK)
		return rc == DB_CONSTRAINT ? MERR_VALIDATION : MERR_INTERNAL;
	return n ? MERR_OK : MERR_NOT_FOUND;
}

enum merr coupon_deactivate(struct db *db, int64_t id)
{
	int64_t n = 0;
	if (db_exec(db, "UPDATE coupons SET active = 0 WHERE id = $1", DBV(DI(id)), &n) != DB_OK)
		return MERR_INTERNAL;
	return n ? MERR_OK : MERR_NOT_FOUND;
}

int coupon_list(struct db *db, int64_t after, int64_t limit, struct coupon **out)
{
	struct db_res res = {0};
	*out = NULL;
	if (db_query(db, &res, "SELECT " COUPON_COLS " FROM coupons WHERE id > $1 ORDER BY id LIMIT $2",
		     DBV(DI(after), DI(limit))) != DB_OK)
		return -1;
	*out = xcalloc((size_t)res.nrows + 1, sizeof(**out));
	for (int i = 0; i < res.nrows; i++)
		coupon_row(&res, i, &(*out)[i]);
	int n = res.nrows;
	db_res_free(&res);
	return n;
}
