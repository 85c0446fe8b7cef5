#include "payment/method.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/timeutil.h"
#include "db/db.h"
#include "market/market.h"
#include "payment/gateway.h"
#include "payment/payment.h"

/* A text parameter from a char array (never NULL). */
#define DA(x) ((struct db_val){.t = DB_TEXT, .s = (x)})

/* Which gateways keep which kinds of instrument. PayPal and Paytm need the
 * buyer each time (approval, OTP); cash on delivery has nothing to keep. */
static const struct saved_kind {
	const char *gateway, *type, *field;
} kinds[] = {
	{"stripe", "card", "token"},   {"apple_pay", "card", "token"}, {"razorpay", "card", "token"},
	{"razorpay", "upi", "vpa"},    {"upi", "upi", "vpa"},
};

static const struct saved_kind *find_kind(const char *gateway, const char *type)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i].gateway, gateway) == 0 && strcmp(kinds[i].type, type) == 0)
			return &kinds[i];
	return NULL;
}

json_t *method_payment_object(const struct pay_method *m)
{
	const struct saved_kind *k = find_kind(m->gateway, m->type);
	return json_pack("{ss ss}", "gateway", m->gateway, k ? k->field : "token", m->token);
}

#define METHOD_COLS                                                                              \
	"p.id, p.created_at, p.exp_month, p.exp_year, p.is_default, p.user_id, m.code, p.gateway, " \
	"p.type, p.token, p.brand, p.last4, p.fingerprint, p.nickname"

static void from_row(const struct db_res *r, int i, struct pay_method *m)
{
	memset(m, 0, sizeof(*m));
	m->id = db_int(r, i, 0);
	m->created_at = db_int(r, i, 1);
	m->exp_month = (int)db_int(r, i, 2);
	m->exp_year = (int)db_int(r, i, 3);
	m->is_default = db_int(r, i, 4) != 0;
	char *dst[] = {m->user_id, m->market, m->gateway, m->type, m->token,
		       m->brand, m->last4, m->fingerprint, m->nickname};
	size_t len[] = {sizeof(m->user_id), sizeof(m->market), sizeof(m->gateway),
			sizeof(m->type), sizeof(m->token), sizeof(m->brand),
			sizeof(m->last4), sizeof(m->fingerprint), sizeof(m->nickname)};
	for (int c = 0; c < 9; c++)
		gw_copy(dst[c], len[c], db_text(r, i, 5 + c));
}

enum merr method_get(struct db *db, int64_t id, struct pay_method *m)
{
	struct db_res r;
	if (db_query(db, &r,
		     "SELECT " METHOD_COLS " FROM payment_methods p JOIN markets m ON m.id = p.market_id "
		     "WHERE p.id = $1",
		     DBV(DI(id))) != DB_OK)
		return MERR_INTERNAL;
	enum merr rc = r.nrows ? MERR_OK : MERR_NOT_FOUND;
	if (r.nrows)
		from_row(&r, 0, m);
	db_res_free(&r);
	return rc;
}

int method_list(struct db *db, const char *user_id, const struct market *mk, struct pay_method **out)
{
	struct db_res r;
	*out = NULL;
	if (db_query(db, &r,
		     "SELECT " METHOD_COLS " FROM payment_methods p JOIN markets m ON m.id = p.market_id "
		     "WHERE p.user_id = $1 AND ($2 = 0 OR p.market_id = $2) ORDER BY p.is_default DESC, p.id",
		     DBV(DT(user_id), DI(mk ? mk->id : 0))) != DB_OK)
		return -1;
	struct pay_method *ms = xcalloc((size_t)(r.nrows ? r.nrows : 1), sizeof(*ms));
	for (int i = 0; i < r.nrows; i++)
		from_row(&r, i, &ms[i]);
	int n = r.nrows;
	db_res_free(&r);
	*out = ms;
	return n;
}

enum merr method_create(struct db *db, const struct pay_method_in *in, struct pay_method *out,
			struct verr *e)
{
	if (payment_looks_like_pan(in->token) || (in->nickname && payment_looks_like_pan(in->nickname)))
		return verr_set(e, MERR_VALIDATION, "token",
				"card numbers are not accepted; send the gateway's token (e.g. tok_visa)"),
		       MERR_VALIDATION;
	if (!market_gateway(in->market, in->gateway) || !gateway_find(in->gateway))
		return verr_set(e, MERR_GATEWAY_UNAVAILABLE, "gateway", "%s is not offered in %s",
				gateway_find(in->gateway) ? in->gateway : "this gateway", in->market->code),
		       MERR_GATEWAY_UNAVAILABLE;
	const struct saved_kind *k = find_kind(in->gateway, in->type);
	if (!k)
		return verr_set(e, MERR_VALIDATION, "type", "%s does not keep saved methods of type %s",
				in->gateway, in->type),
		       MERR_VALIDATION;
	struct pay_method m = {.is_default = in->is_default};
	gw_copy(m.user_id, sizeof(m.user_id), in->user_id);
	gw_copy(m.market, sizeof(m.market), in->market->code);
	gw_copy(m.gateway, sizeof(m.gateway), in->gateway);
	gw_copy(m.type, sizeof(m.type), in->type);
	gw_copy(m.token, sizeof(m.token), in->token);
	gw_copy(m.nickname, sizeof(m.nickname), in->nickname);
	json_t *p = method_payment_object(&m);
	const struct gateway *gw = gateway_find(in->gateway);
	if (!gw->check(p, e)) {
		json_decref(p);
		/* the field is the method's token, not a payment object's member */
		gw_copy(e->field, sizeof(e->field), "token");
		return e->code;
	}
	/* in the sandbox, a zero-amount authorisation tells brand and last 4
	 * (and refuses unknown tokens) without charging; live tokens were
	 * made by the vendor's client library and are taken as given */
	struct gw_req q = {.market = in->market->code, .currency = in->market->currency, .payment = p,
			   .amount = 0, .capture = false};
	struct gw_res res = {0};
	enum gw_outcome o = gw->is_live() ? GW_AUTHORISED : gw->authorise(&q, &res);
	json_decref(p);
	if (o == GW_INVALID || o == GW_DECLINED || o == GW_ERROR)
		return verr_set(e, MERR_VALIDATION, "token", "the gateway does not accept this token: %s",
				res.message[0] ? res.message : "unknown token"),
		       MERR_VALIDATION;
	gw_copy(m.brand, sizeof(m.brand), res.brand[0] ? res.brand : in->type);
	gw_copy(m.last4, sizeof(m.last4), res.last4);
	const char *family = strcmp(m.gateway, "apple_pay") == 0 ? "stripe"
			     : strcmp(m.gateway, "upi") == 0     ? "razorpay"
								 : m.gateway;
	gw_fingerprint(m.fingerprint, sizeof(m.fingerprint), family, m.token);
	int64_t now = time_now(), existing = 0;
	struct db_res r;
	bool ok = db_begin(db) == DB_OK &&
		  db_scalar(db, &existing, 0,
			    "SELECT COUNT(*) FROM payment_methods WHERE user_id = $1 AND market_id = $2",
			    DBV(DA(m.user_id), DI(in->market->id))) == DB_OK;
	if (ok && existing == 0)
		m.is_default = true;
	if (ok && m.is_default)
		ok = db_exec(db, "UPDATE payment_methods SET is_default = 0 WHERE user_id = $1 AND market_id = $2",
			     DBV(DA(m.user_id), DI(in->market->id)), NULL) == DB_OK;
	ok = ok && db_query(db, &r,
			    "INSERT INTO payment_methods (user_id, market_id, gateway, type, token, brand, last4, "
			    "fingerprint, nickname, is_default, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, "
			    "$8, $9, $10, $11) RETURNING id",
			    DBV(DA(m.user_id), DI(in->market->id), DA(m.gateway), DA(m.type), DA(m.token),
				DA(m.brand), DA(m.last4), DA(m.fingerprint), DT(m.nickname[0] ? m.nickname : NULL),
				DI(m.is_default), DI(now))) == DB_OK;
	if (ok) {
		m.id = db_int(&r, 0, 0);
		db_res_free(&r);
		ok = db_commit(db) == DB_OK;
	}
	if (!ok) {
		db_rollback(db);
		return verr_set(e, MERR_INTERNAL, NULL, "database error"), MERR_INTERNAL;
	}
	m.created_at = now;
	*out = m;
	return MERR_OK;
}

enum merr method_update(struct db *db, int64_t id, const char *nickname, bool set_default,
			struct pay_method *out, struct verr *e)
{
	struct pay_method m;
	enum merr r = method_get(db, id, &m);
	if (r != MERR_OK)
		return verr_set(e, r, NULL, r == MERR_NOT_FOUND ? "no such payment method" : "database error"), r;
	bool ok = db_begin(db) == DB_OK;
	if (ok && nickname)
		ok = db_exec(db, "UPDATE payment_methods SET nickname = $1 WHERE id = $2",
			     DBV(DT(*nickname ? nickname : NULL), DI(id)), NULL) == DB_OK;
	if (ok && set_default)
		ok = db_exec(db,
			     "UPDATE payment_methods SET is_default = CASE WHEN id = $1 THEN 1 ELSE 0 END "
			     "WHERE user_id = $2 AND market_id = (SELECT market_id FROM payment_methods WHERE id = $1)",
			     DBV(DI(id), DA(m.user_id)), NULL) == DB_OK;
	ok = ok && db_commit(db) == DB_OK;
	if (!ok) {
		db_rollback(db);
		return verr_set(e, MERR_INTERNAL, NULL, "database error"), MERR_INTERNAL;
	}
	r = method_get(db, id, out);
	return r == MERR_OK ? MERR_OK : (verr_set(e, r, NULL, "database error"), r);
}
