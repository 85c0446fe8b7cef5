/* Markets and merchants (CONTRACT §3, §7). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "market/merchant.h"

static void list_markets(struct req *r)
{
	size_t n;
	const char *json = market_list_json(&n);
	reply_bytes(r, 200, NULL, json, n);
}

static void write_merchant(struct jw *w, const struct merchant *m, bool full)
{
	jw_obj(w);
	jw_kint(w, "id", m->id);
	jw_kstr(w, "name", m->name);
	jw_kstr(w, "code", m->code);
	jw_kstr(w, "market", m->market);
	jw_kstr(w, "integration_type", m->integration_type);
	if (full) /* commission is the merchant's and the operator's business */
		jw_kint(w, "commission_rate_bps", m->commission_rate_bps);
	jw_kstr(w, "status", m->status);
	jw_time(w, "created_at", m->created_at);
	jw_obj_end(w);
}

static void list_merchants(struct req *r)
{
	const struct market *mk = market_or_400(r, req_query(r, "market"), false);
	int64_t limit, after;
	if (!mk || !id_page_or_400(r, &limit, &after))
		return;
	struct merchant *ms;
	int n = merchant_list(req_db(r), mk->id, after, limit + 1, &ms);
	if (n < 0) {
		reply_error(r, MERR_INTERNAL, NULL, NULL);
		return;
	}
	struct jw w;
	bool more;
	n = list_begin(r, &w, n, limit, &more);
	for (int i = 0; i < n; i++)
		write_merchant(&w, &ms[i], is_admin(r));
	list_end(r, &w, more, n ? ms[n - 1].id : 0);
	free(ms);
}

static void create_merchant(struct req *r)
{
	static const char *const fields[] = {"name", "code", "market", "integration_type",
					     "commission_rate_bps", NULL};
	json_t *j = req_json_or_400(r, fields);
	if (!j)
		return;
	struct verr e;
	const char *name, *code, *market, *type;
	int64_t bps;
	if (!jsonin_str(j, "name", true, 1, 120, NULL, &name, &e) ||
	    !jsonin_str(j, "code", true, 1, 64, NULL, &code, &e) ||
	    !jsonin_str(j, "market", true, 1, 8, NULL, &market, &e) ||
	    !jsonin_str(j, "integration_type", true, 1, 16, NULL, &type, &e) ||
	    !jsonin_int(j, "commission_rate_bps", true, 0, 10000, 0, &bps, &e)) {
		reply_verr(r, &e);
		return;
	}
	struct merchant m = {.commission_rate_bps = bps};
	snprintf(m.name, sizeof(m.name), "%s", name);
	snprintf(m.code, sizeof(m.code), "%s", code);
	snprintf(m.market, sizeof(m.market), "%s", market);
	snprintf(m.integration_type, sizeof(m.integration_type), "%s", type);
	if (strlen(type) >= sizeof(m.integration_type)) {
		reply_error(r, MERR_VALIDATION, "integration_type", "integration_type must be api, feed or manual");
		return;
	}
	if (merchant_create(req_db(r), &m, &e) != MERR_OK) {
		if (e.code == MERR_OK || e.code == MERR_INTERNAL)
			reply_error(r, MERR_INTERNAL, NULL, NULL);
		else
			reply_verr(r, &e);
		return;
	}
	struct jw w;
	reply_begin(r, &w);
	write_merchant(&w, &m, true);
	reply_end(r, 201);
}

const struct route routes_market[] = {
	{"GET", "/api/ecommerce/markets", list_markets, ROLE_PUBLIC, RF_NONE, "Markets with currency, tax, gateways, shipping"},
	{"GET", "/api/ecommerce/merchants", list_merchants, ROLE_PUBLIC, RF_NONE, "A market's merchants"},
	{"POST", "/api/ecommerce/merchants", create_merchant, ROLE_ADMIN, RF_NONE, "Create a merchant (admin)"},
	{0},
};
