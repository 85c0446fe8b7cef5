#include "commerce/address.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/jw.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "db/db.h"
#include "market/market.h"

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

bool address_postal_ok(const char *country, const char *code)
{
	size_t n = strlen(code);
	if (strcmp(country, "US") == 0)
		return (n == 5 && all_digits(code, 5)) ||
		       (n == 10 && all_digits(code, 5) && code[5] == '-' && all_digits(code + 6, 4));
	if (strcmp(country, "IN") == 0)
		return n == 6 && all_digits(code, 6) && code[0] != '0';
	return n >= 3 && n <= 10;
}

/* The address's text fields: one table drives parsing and the JSON snapshot. */
static const struct afield {
	const char *key;
	size_t off, size;
	bool required;
} afields[] = {
#define F(k, req) {#k, offsetof(struct address, k), sizeof(((struct address *)0)->k), req}
	F(name, true), F(line1, true), F(line2, false), F(city, true),
	F(state, false), F(postal_code, true), F(country, true), F(phone, false),
#undef F
};
#define NAFIELDS (sizeof(afields) / sizeof(afields[0]))

bool address_from_json(json_t *j, const char *prefix, struct address *a, struct verr *e)
{
	static const char *const allowed[] = {"name", "line1", "line2", "city", "state",
					      "postal_code", "country", "phone", "is_default", NULL};
	if (!jsonin_only(j, allowed, prefix, e))
		return false;
	for (size_t i = 0; i < NAFIELDS; i++) {
		const struct afield *f = &afields[i];
		const char *v;
		if (!jsonin_str(j, f->key, f->required, f->required ? 1 : 0, f->size - 1, "", &v, e)) {
			char field[96];
			snprintf(field, sizeof(field), "%s%s", prefix, e->field);
			snprintf(e->field, sizeof(e->field), "%s", field);
			return false;
		}
		snprintf((char *)a + f->off, f->size, "%s", v);
	}
	if (!jsonin_bool(j, "is_default", false, false, &a->is_default, e))
		return false;
	char field[96];
	snprintf(field, sizeof(field), "%scountry", prefix);
	/* markets are data: we ship to the countries we serve as markets, so a
	 * market added by an admin (e.g. DE) takes addresses with no code change */
	if (!market_get(a->country))
		return verr_set(e, MERR_VALIDATION, field, "country must be a market we ship to, e.g. US or IN");
	if (!address_postal_ok(a->country, a->postal_code)) {
		snprintf(field, sizeof(field), "%spostal_code", prefix);
		return verr_set(e, MERR_VALIDATION, field,
				strcmp(a->country, "US") == 0
					? "a US ZIP code is 5 digits or ZIP+4 (12345-6789)"
					: "an Indian PIN code is 6 digits not starting with 0");
	}
	return true;
}

#define ADDR_COLS "id, name, line1, line2, city, state, postal_code, country, phone, is_default, created_at"

static void address_row(const struct db_res *r, int i, struct address *a)
{
	a->id = db_int(r, i, 0);
	for (size_t k = 0; k < NAFIELDS; k++)
		snprintf((char *)a + afields[k].off, afields[k].size, "%s", db_text(r, i, (int)k + 1));
	a->is_default = db_int(r, i, 9) != 0;
	a->created_at = db_int(r, i, 10);
}

enum merr address_create(struct db *db, const char *user_id, struct address *a)
{
	struct db_res res = {0};
	enum merr e = MERR_INTERNAL;
	int64_t have = 0;
	a->created_at = time_now();
	if (db_begin(db) != DB_OK ||
	    db_scalar(db, &have, 0, "SELECT COUNT(*) FROM shipping_addresses WHERE user_id = $1",
		      DBV(DT(user_id))) != DB_OK)
		goto out;
	if (have >= 50) {
		e = MERR_VALIDATION;
		goto out;
	}
	if (have == 0)
		a->is_default = true;
	if (a->is_default &&
	    db_exec(db, "UPDATE shipping_addresses SET is_default = 0 WHERE user_id = $1",
		    DBV(DT(user_id)), NULL) != DB_OK)
		goto out;
	if (db_query(db, &res,
		     "INSERT INTO shipping_addresses (user_id, name, line1, line2, city, state, "
		     "postal_code, country, phone, is_default, created_at) "
		     "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
		     DBV(DT(user_id), DT(a->name), DT(a->line1), DT(a->line2), DT(a->city),
			 DT(a->state), DT(a->postal_code), DT(a->country), DT(a->phone),
			 DI(a->is_default), DI(a->created_at))) != DB_OK ||
	    res.nrows != 1)
		goto out;
	a->id = db_int(&res, 0, 0);
	if (db_commit(db) == DB_OK)
		e = MERR_OK;
out:
	db_rollback(db);
	db_res_free(&res);
	return e;
}

/* The first row of sql (parameters p, n) as an address. */
static enum merr address_one(struct db *db, const char *sql, const struct db_val *p, int n,
			     struct address *a)
{
	struct db_res res = {0};
	if (db_query(db, &res, sql, p, n) != DB_OK)
		return MERR_INTERNAL;
	enum merr e = res.nrows ? MERR_OK : MERR_NOT_FOUND;
	if (res.nrows)
		address_row(&res, 0, a);
	db_res_free(&res);
	return e;
}

enum merr address_get(struct db *db, const char *user_id, int64_t id, struct address *a)
{
	return address_one(db, "SELECT " ADDR_COLS " FROM shipping_addresses WHERE user_id = $1 AND id = $2",
			   DBV(DT(user_id), DI(id)), a);
}

enum merr address_default(struct db *db, const char *user_id, struct address *a)
{
	return address_one(db,
			   "SELECT " ADDR_COLS " FROM shipping_addresses WHERE user_id = $1 "
			   "ORDER BY is_default DESC, id LIMIT 1",
			   DBV(DT(user_id)), a);
}

enum merr address_set_default(struct db *db, const char *user_id, int64_t id)
{
	int64_t n = 0;
	enum merr e = MERR_INTERNAL;
	if (db_begin(db) != DB_OK ||
	    db_exec(db, "UPDATE shipping_addresses SET is_default = 0 WHERE user_id = $1",
		    DBV(DT(user_id)), NULL) != DB_OK ||
	    db_exec(db, "UPDATE shipping_addresses SET is_default = 1 WHERE user_id = $1 AND id = $2",
		    DBV(DT(user_id), DI(id)), &n) != DB_OK)
		goto out;
	if (n == 0) {
		e = MERR_NOT_FOUND;
		goto out;
	}
	if (db_commit(db) == DB_OK)
		e = MERR_OK;
out:
	db_rollback(db);
	return e;
}

enum merr address_delete(struct db *db, const char *user_id, int64_t id)
{
	int64_t n = 0;
	/* sessions keep a JSON snapshot, so the row may go; the link is cleared */
	if (db_exec(db, "UPDATE checkout_sessions SET shipping_address_id = NULL "
			"WHERE user_id = $1 AND shipping_address_id = $2",
		    DBV(DT(user_id), DI(id)), NULL) != DB_OK ||
	    db_exec(db, "DELETE FROM shipping_addresses WHERE user_id = $1 AND id = $2",
		    DBV(DT(user_id), DI(id)), &n) != DB_OK)
		return MERR_INTERNAL;
	return n ? MERR_OK : MERR_NOT_FOUND;
}

int address_list(struct db *db, const char *user_id, struct address **out)
{
	struct db_res res = {0};
	*out = NULL;
	if (db_query(db, &res,
		     "SELECT " ADDR_COLS " FROM shipping_addresses WHERE user_id = $1 "
		     "ORDER BY is_default DESC, id LIMIT 50",
		     DBV(DT(user_id))) != DB_OK)
		return -1;
	*out = xcalloc((size_t)res.nrows + 1, sizeof(**out));
	for (int i = 0; i < res.nrows; i++)
		address_row(&res, i, &(*out)[i]);
	int n = res.nrows;
	db_res_free(&res);
	return n;
}

char *address_json(const struct address *a)
{
	struct buf b;
	struct jw w;
	buf_init(&b, 8192);
	jw_init(&w, &b);
	jw_obj(&w);
	if (a->id)
		jw_kint(&w, "id", a->id);
	for (size_t k = 0; k < NAFIELDS; k++)
		jw_kstr(&w, afields[k].key, (const char *)a + afields[k].off);
	jw_obj_end(&w);
	return buf_take(&b, NULL);
}
