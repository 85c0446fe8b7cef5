/* HTTP handlers: scale-out and platform integrations WS1-WS4 (issue 7). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "cache/cache.h"
#include "core/config.h"
#include "core/money.h"
#include "db/db.h"
#include "http/ratelimit.h"
#include "integration/client.h"
#include "integration/discover.h"
#include "integration/personalize.h"
#include "market/market_admin.h"

/* {"data": [cards], "next_cursor": null, "market", "currency", "source",
 * "fallback_reason"}: a client (and an operator reading logs) always sees
 * whether the platform service answered or mandi's own data did. */
static void write_discover(struct jw *w, const struct market *m, const struct discover_result *d)
{
	jw_key(w, "data");
	jw_arr(w);
	for (int i = 0; i < d->n; i++) {
		const struct product_card *c = &d->items[i];
		jw_obj(w);
		jw_kint(w, "id", c->id);
		jw_kstr(w, "name", c->name);
		jw_kstr(w, "category", c->category);
		jw_kstr_or_null(w, "brand", c->brand[0] ? c->brand : NULL);
		jw_money(w, "price", c->price, m->currency);
		jw_kstr(w, "currency", m->currency);
		jw_kreal(w, "score", c->score);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_knull(w, "next_cursor");
	jw_kstr(w, "market", m->code);
	jw_kstr(w, "currency", m->currency);
	jw_kstr(w, "source", d->source);
	jw_kstr_or_null(w, "fallback_reason", d->fallback_reason);
}

static void reply_discover(struct req *r, const struct market *m, const struct discover_result *d)
{
	struct jw w;
	reply_begin(r, &w);
	jw_obj(&w);
	write_discover(&w, m, d);
	jw_obj_end(&w);
	reply_end(r, 200);
}

static void reply_merr(struct req *r, enum merr e)
{
	reply_error(r, e, NULL, NULL);
}

static void similar(struct req *r)
{
	int64_t id, limit;
	const struct market *m = market_or_400(r, req_query(r, "market"), false);
	if (!m || !req_param_id(r, "product_id", &id) ||
	    !query_int_or_400(r, "limit", 1, DISCOVER_MAX, 10, &limit))
		return;
	struct discover_result d;
	enum merr e = discover_similar(req_db_read(r), m, id, (int)limit, &d);
	if (e != MERR_OK) {
		reply_error(r, e, e == MERR_NOT_FOUND ? "product_id" : NULL,
			    e == MERR_NOT_FOUND ? "no such product in this market" : NULL);
		return;
	}
	reply_discover(r, m, &d);
}

static bool base64_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n % 4)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool pad = c == '=' && i >= n - 2;
		if (!pad && !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			      (c >= '0' && c <= '9') || c == '+' || c == '/'))
			return false;
	}
	return true;
}

static bool slug_ok(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
			return false;
	return true;
}

/* gateway and shipping codes: apple_pay, same_day */
static bool code_ok(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

/* Image search is the expensive proxy (uploads to the vision service), so it
 * is rate limited per caller; over Redis the budget is shared by every
 * instance behind the load balancer. */
static void image_search(struct req *r)
{
	static const char *const fields[] = {"market", "image_url", "image_base64", "category",
					     "limit", NULL};
	const char *who = r->auth.authenticated ? r->auth.sub : r->client_ip;
	char key[200];
	snprintf(key, sizeof(key), "image-search:%s", who);
	if (!ratelimit_allow(key, (int)cfg.image_search_rate_limit, 60)) {
		char *retry = arena_printf(&r->a, "%d", ratelimit_retry_after(60));
		reply_error(r, MERR_RATE_LIMITED, NULL, "too many image searches; try again shortly");
		reply_header(r, "Retry-After", retry);
		return;
	}
	json_t *j = req_json_or_400(r, fields);
	if (!j)
		return;
	struct verr e;
	const char *market, *url, *b64, *category;
	int64_t limit;
	if (!jsonin_str(j, "market", false, 1, 8, NULL, &market, &e) ||
	    !jsonin_str(j, "image_url", false, 1, 2048, NULL, &url, &e) ||
	    !jsonin_str(j, "image_base64", false, 4, 1000000, NULL, &b64, &e) ||
	    !jsonin_str(j, "category", false, 1, 47, NULL, &category, &e) ||
	    !jsonin_int(j, "limit", false, 1, DISCOVER_MAX, 10, &limit, &e)) {
		reply_verr(r, &e);
		return;
	}
	const struct market *m = market_or_400(r, market, false);
	if (!m)
		return;
	if ((url == NULL) == (b64 == NULL)) {
		reply_error(r, MERR_VALIDATION, "image_url", "send exactly one of image_url and image_base64");
		return;
	}
	if (url && strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0) {
		reply_error(r, MERR_VALIDATION, "image_url", "image_url must be an http(s) URL");
		return;
	}
	if (b64 && !base64_ok(b64)) {
		reply_error(r, MERR_VALIDATION, "image_base64", "image_base64 must be base64");
		return;
	}
	if (category && !slug_ok(category)) {
		reply_error(r, MERR_VALIDATION, "category", "category must be a category slug");
		return;
	}
	json_t *fwd = json_pack("{s:s, s:I}", "market", m->code, "limit", (json_int_t)limit);
	json_object_set_new(fwd, url ? "image_url" : "image_base64", json_string(url ? url : b64));
	if (category)
		json_object_set_new(fwd, "category", json_string(category));
	char *body = json_dumps(fwd, JSON_COMPACT);
	json_decref(fwd);
	struct discover_result d;
	enum merr rc = discover_image_search(req_db_read(r), m, body, category, (int)limit, &d);
	free(body);
	if (rc != MERR_OK) {
		reply_merr(r, rc);
		return;
	}
	reply_discover(r, m, &d);
}

/*
 * Trending is the storefront's hot read: the rendered answer is cached
 * (shared by every instance with CACHE_TYPE=redis) when it came from a
 * stable source — the social service or our snapshot. A fallback forced by a
 * failing service is not cached, so recovery shows at once; the
 * trending-refresh job clears the cache when it writes a new snapshot.
 */
#define TRENDING_CACHE "trending"
#define TRENDING_TTL_S 60

static void trending(struct req *r)
{
	int64_t limit;
	const struct market *m = market_or_400(r, req_query(r, "market"), false);
	if (!m || !query_int_or_400(r, "limit", 1, DISCOVER_MAX, 20, &limit))
		return;
	char key[48];
	snprintf(key, sizeof(key), "%s:%lld", m->code, (long long)limit);
	char *hit;
	size_t n;
	if (cache_get(TRENDING_CACHE, key, &hit, &n)) {
		reply_bytes(r, 200, NULL, hit, n);
		free(hit);
		reply_header(r, "X-Cache", "hit");
		return;
	}
	struct discover_result d;
	enum merr e = discover_trending(req_db_read(r), m, (int)limit, &d);
	if (e != MERR_OK) {
		reply_merr(r, e);
		return;
	}
	reply_discover(r, m, &d);
	reply_header(r, "X-Cache", "miss");
	if (strcmp(d.source, "social") == 0 || strcmp(d.source, "trending_snapshot") == 0)
		cache_set(TRENDING_CACHE, key, r->out.p, r->out.len, TRENDING_TTL_S);
}

static bool upper_code(const char *s, size_t n)
{
	if (strlen(s) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 'A' || s[i] > 'Z')
			return false;
	return true;
}

/* languages: 1-8 tags like "de-DE"; written back as compact JSON text. */
static bool read_languages(json_t *j, char *out, size_t outn, struct verr *e)
{
	json_t *arr;
	if (!jsonin_arr(j, "languages", true, 8, &arr, e))
		return false;
	if (json_array_size(arr) == 0)
		return verr_set(e, MERR_VALIDATION, "languages", "list at least one language");
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		const char *s = json_string_value(v);
		size_t n = s ? strlen(s) : 0;
		bool ok = n >= 2 && n <= 12;
		for (size_t k = 0; ok && k < n; k++)
			ok = (s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z') || s[k] == '-';
		if (!ok)
			return verr_set(e, MERR_VALIDATION, "languages",
					"languages must be tags like \"de-DE\"");
	}
	char *txt = json_dumps(arr, JSON_COMPACT);
	bool fits = txt && strlen(txt) < outn;
	if (fits)
		snprintf(out, outn, "%s", txt);
	free(txt);
	return fits || verr_set(e, MERR_VALIDATION, "languages", "too many languages");
}

static bool read_gateways(json_t *j, struct market *m, struct verr *e)
{
	static const char *const fields[] = {"code", "name", "kind", NULL};
	static const char *const kinds[] = {"card", "wallet", "upi", "cod", "bank"};
	json_t *arr;
	if (!jsonin_arr(j, "gateways", true, MARKET_MAX_GATEWAYS, &arr, e))
		return false;
	if (json_array_size(arr) == 0)
		return verr_set(e, MERR_VALIDATION, "gateways", "list at least one payment gateway");
	size_t i;
	json_t *g;
	json_array_foreach(arr, i, g)
	{
		char field[32];
		snprintf(field, sizeof(field), "gateways[%zu]", i);
		const char *code, *name, *kind;
		if (!json_is_object(g))
			return verr_set(e, MERR_VALIDATION, field, "each gateway is an object");
		if (!jsonin_only(g, fields, field, e) ||
		    !jsonin_str(g, "code", true, 1, 23, NULL, &code, e) ||
		    !jsonin_str(g, "name", false, 1, 47, code, &name, e) ||
		    !jsonin_str(g, "kind", true, 1, 15, NULL, &kind, e))
			return false;
		bool known = false;
		for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
			known |= strcmp(kind, kinds[k]) == 0;
		if (!known || !code_ok(code))
			return verr_set(e, MERR_VALIDATION, field,
					"a gateway has a lower-case code and kind card, wallet, upi, cod or bank");
		for (int k = 0; k < m->ngateways; k++)
			if (strcmp(m->gateways[k].code, code) == 0)
				return verr_set(e, MERR_VALIDATION, field, "gateway %s is listed twice", code);
		struct market_gateway *mg = &m->gateways[m->ngateways++];
		snprintf(mg->code, sizeof(mg->code), "%s", code);
		snprintf(mg->name, sizeof(mg->name), "%s", name);
		snprintf(mg->kind, sizeof(mg->kind), "%s", kind);
		mg->priority = (int)i + 1;
		m->cod_supported |= strcmp(kind, "cod") == 0;
	}
	return true;
}

static bool read_shipping(json_t *j, struct market *m, struct verr *e)
{
	static const char *const fields[] = {"code", "name", "cost", "min_days", "max_days",
					     "carrier", NULL};
	json_t *arr;
	if (!jsonin_arr(j, "shipping_methods", true, MARKET_MAX_SHIPPING, &arr, e))
		return false;
	bool standard = false;
	size_t i;
	json_t *s;
	json_array_foreach(arr, i, s)
	{
		char field[40];
		snprintf(field, sizeof(field), "shipping_methods[%zu]", i);
		const char *code, *name, *carrier;
		int64_t cost, lo, hi;
		if (!json_is_object(s))
			return verr_set(e, MERR_VALIDATION, field, "each shipping method is an object");
		if (!jsonin_only(s, fields, field, e) ||
		    !jsonin_str(s, "code", true, 1, 23, NULL, &code, e) ||
		    !jsonin_str(s, "name", false, 1, 47, code, &name, e) ||
		    !jsonin_int(s, "cost", true, 0, 100000000, 0, &cost, e) ||
		    !jsonin_int(s, "min_days", true, 0, 365, 0, &lo, e) ||
		    !jsonin_int(s, "max_days", true, 0, 365, 0, &hi, e) ||
		    !jsonin_str(s, "carrier", false, 1, 47, "", &carrier, e))
			return false;
		if (!code_ok(code))
			return verr_set(e, MERR_VALIDATION, field, "code must be lower-case, e.g. standard");
		if (hi < lo)
			return verr_set(e, MERR_VALIDATION, field, "max_days must be at least min_days");
		for (int k = 0; k < m->nshipping; k++)
			if (strcmp(m->shipping[k].code, code) == 0)
				return verr_set(e, MERR_VALIDATION, field, "method %s is listed twice", code);
		struct market_shipping *ms = &m->shipping[m->nshipping++];
		snprintf(ms->code, sizeof(ms->code), "%s", code);
		snprintf(ms->name, sizeof(ms->name), "%s", name);
		snprintf(ms->carrier, sizeof(ms->carrier), "%s", carrier);
		ms->cost = cost;
		ms->min_days = (int)lo;
		ms->max_days = (int)hi;
		standard |= strcmp(code, "standard") == 0;
	}
	/* pricing assumes standard shipping until the shopper picks a method */
	if (!standard)
		return verr_set(e, MERR_VALIDATION, "shipping_methods", "a market needs a 'standard' shipping method");
	return true;
}

/*
 * POST /api/ecommerce/markets (admin): a new market is a row, not code. It
 * is served at once on this instance (and within the market-reload interval
 * on the others) when SUPPORTED_MARKETS is "*" or lists its code; the
 * response says which with "served".
 */
static void create_market(struct req *r)
{
	static const char *const fields[] = {"code", "name", "currency", "tax_rate_bps",
					     "prices_include_tax", "free_shipping_threshold",
					     "languages", "business_hours", "timezone", "gateways",
					     "shipping_methods", NULL};
	json_t *j = req_json_or_400(r, fields);
	if (!j)
		return;
	struct verr e;
	struct market *m = arena_alloc(&r->a, sizeof(*m));
	memset(m, 0, sizeof(*m));
	const char *code, *name, *currency, *hours, *tz;
	int64_t bps, threshold;
	bool inclusive;
	if (!jsonin_str(j, "code", true, 2, 2, NULL, &code, &e) ||
	    !jsonin_str(j, "name", true, 1, 63, NULL, &name, &e) ||
	    !jsonin_str(j, "currency", true, 3, 3, NULL, &currency, &e) ||
	    !jsonin_int(j, "tax_rate_bps", true, 0, 10000, 0, &bps, &e) ||
	    !jsonin_bool(j, "prices_include_tax", true, false, &inclusive, &e) ||
	    !jsonin_int(j, "free_shipping_threshold", true, 0, 100000000000LL, 0, &threshold, &e) ||
	    !jsonin_str(j, "business_hours", false, 1, 31, "9AM-9PM", &hours, &e) ||
	    !jsonin_str(j, "timezone", true, 3, 47, NULL, &tz, &e)) {
		reply_verr(r, &e);
		return;
	}
	if (!upper_code(code, 2)) {
		reply_error(r, MERR_VALIDATION, "code", "code must be two upper-case letters, e.g. EU");
		return;
	}
	if (!upper_code(currency, 3)) {
		reply_error(r, MERR_VALIDATION, "currency", "currency must be an ISO 4217 code, e.g. EUR");
		return;
	}
	if (strcmp(tz, "UTC") != 0 && !strchr(tz, '/')) {
		reply_error(r, MERR_VALIDATION, "timezone", "timezone must be an IANA name, e.g. Europe/Berlin");
		return;
	}
	snprintf(m->code, sizeof(m->code), "%s", code);
	snprintf(m->name, sizeof(m->name), "%s", name);
	snprintf(m->currency, sizeof(m->currency), "%s", currency);
	snprintf(m->business_hours, sizeof(m->business_hours), "%s", hours);
	snprintf(m->timezone, sizeof(m->timezone), "%s", tz);
	m->tax_rate_bps = bps;
	m->prices_include_tax = inclusive;
	m->free_shipping_threshold = threshold;
	if (!read_languages(j, m->languages, sizeof(m->languages), &e) || !read_gateways(j, m, &e) ||
	    !read_shipping(j, m, &e)) {
		reply_verr(r, &e);
		return;
	}
	struct db *db = req_db(r);
	if (market_create(db, m, &e) != MERR_OK) {
		if (e.code == MERR_CONFLICT)
			reply_verr(r, &e);
		else
			reply_error(r, MERR_INTERNAL, NULL, NULL);
		return;
	}
	if (!market_reload(db)) {
		reply_error(r, MERR_INTERNAL, NULL, "the market was stored but could not be loaded");
		return;
	}
	const struct market *live = market_get(m->code);
	struct jw w;
	reply_begin(r, &w);
	jw_obj(&w);
	market_write_fields(&w, live ? live : m);
	jw_kbool(&w, "served", live != NULL);
	jw_obj_end(&w);
	reply_end(r, 201);
}

/* WS1 preferences + WS2 styling suggestions for the signed-in shopper. */
static void style_suggestions(struct req *r)
{
	int64_t limit;
	const char *user = req_param(r, "user_id");
	const struct market *m = market_or_400(r, req_query(r, "market"), false);
	if (!m || !owner_or_403(r, user) ||
	    !query_int_or_400(r, "limit", 1, DISCOVER_MAX, 10, &limit))
		return;
	struct discover_result d;
	struct user_prefs p;
	enum merr e = personalize_suggestions(req_db_read(r), m, user, (int)limit, &d, &p);
	if (e != MERR_OK) {
		reply_merr(r, e);
		return;
	}
	struct jw w;
	reply_begin(r, &w);
	jw_obj(&w);
	write_discover(&w, m, &d);
	jw_key(&w, "preferences");
	jw_obj(&w);
	jw_kstr(&w, "source", p.source);
	jw_kstr_or_null(&w, "fallback_reason", p.fallback_reason);
	jw_key(&w, "categories");
	jw_arr(&w);
	for (int i = 0; i < p.ncategories; i++)
		jw_str(&w, p.categories[i]);
	jw_arr_end(&w);
	jw_key(&w, "brands");
	jw_arr(&w);
	for (int i = 0; i < p.nbrands; i++)
		jw_str(&w, p.brands[i]);
	jw_arr_end(&w);
	jw_obj_end(&w);
	jw_obj_end(&w);
	reply_end(r, 200);
}

static void integrations(struct req *r)
{
	struct jw w;
	reply_begin(r, &w);
	jw_obj(&w);
	jw_key(&w, "data");
	svc_write_status(&w);
	jw_knull(&w, "next_cursor");
	jw_obj_end(&w);
	reply_end(r, 200);
}

const struct route routes_platform[] = {
	{"GET", "/api/catalog/similar/{product_id}", similar, ROLE_PUBLIC, RF_NONE, "Visually similar products (WS3, catalog fallback)"},
	{"POST", "/api/catalog/image-search", image_search, ROLE_PUBLIC, RF_AUTH_OPTIONAL, "Products matching an image (WS3, popular fallback)"},
	{"GET", "/api/catalog/style-suggestions/{user_id}", style_suggestions, ROLE_CUSTOMER, RF_NONE, "Styling suggestions for a shopper (WS2, WS1 preferences, own-data fallback)"},
	{"GET", "/api/social/trending-products", trending, ROLE_PUBLIC, RF_NONE, "Trending products (WS4, own-data fallback)"},
	{"POST", "/api/ecommerce/markets", create_market, ROLE_ADMIN, RF_NONE, "Add a market as data (admin)"},
	{"GET", "/api/platform/integrations", integrations, ROLE_ADMIN, RF_NONE, "WS1-WS4 circuit breakers and counters (admin)"},
	{0},
};
