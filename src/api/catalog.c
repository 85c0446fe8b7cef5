/* HTTP handlers: products (create, update, archive, detail) and the route
 * table of the catalog area; listings/search, taxonomy, inventory and feeds
 * live in catalog_*.c beside this file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/catalog_api.h"
#include "cache/cache.h"
#include "catalog/inventory.h"
#include "catalog/product.h"
#include "market/merchant.h"

/* Product detail is cached per market; reads of a product far outnumber writes */
#define PRODUCT_TTL 300

void catalog_invalidate(void)
{
	static const char *const caches[] = {"product", "listing", "search", "recommend", NULL};
	for (const char *const *c = caches; *c; c++)
		cache_clear(*c);
}

/* Prefix the field a jsonin helper named with the path of its container. */
static bool in_path(struct verr *e, const char *fmt, int idx)
{
	char pre[32], f[sizeof(e->field) + sizeof(pre)];
	snprintf(pre, sizeof(pre), fmt, idx);
	snprintf(f, sizeof(f), "%s%s", pre, e->field);
	memcpy(e->field, f, sizeof(e->field) - 1);
	e->field[sizeof(e->field) - 1] = 0;
	return false;
}

static bool sku_ok(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

/* prices: {"US": 4999, "IN": 249900} keyed by market code */
static bool decode_prices(json_t *o, struct variant *v, int idx, struct verr *e)
{
	const char *code;
	json_t *val;
	char f[64];
	v->has_prices = true;
	json_object_foreach(o, code, val)
	{
		snprintf(f, sizeof(f), "variants[%d].prices.%.8s", idx, code);
		const struct market *mk = market_get(code);
		if (!mk)
			return verr_set(e, MERR_UNKNOWN_MARKET, f, "unknown market '%.8s'", code);
		if (!json_is_integer(val))
			return verr_set(e, MERR_VALIDATION, f, "a price is an integer in minor units");
		json_int_t a = json_integer_value(val);
		if (a < 0 || a > PRODUCT_MAX_PRICE)
			return verr_set(e, MERR_VALIDATION, f, "a price must be between 0 and %lld",
					PRODUCT_MAX_PRICE);
		if (v->nprices == PRODUCT_MAX_MARKETS)
			return verr_set(e, MERR_VALIDATION, f, "too many markets");
		v->prices[v->nprices++] = (struct variant_price){mk->id, a};
	}
	return true;
}

static bool decode_variant(json_t *o, struct variant *v, int idx, bool create, struct verr *e)
{
	static const char *const fields[] = {"sku", "size", "color", "stock", "prices", "images",
					     "low_stock_threshold", NULL};
	char pre[32];
	snprintf(pre, sizeof(pre), "variants[%d].", idx);
	if (!json_is_object(o))
		return verr_set(e, MERR_VALIDATION, pre, "each variant is an object");
	json_t *prices = NULL, *images = NULL;
	snprintf(pre, sizeof(pre), "variants[%d]", idx);
	if (!jsonin_only(o, fields, pre, e))
		return false;
	if (!jsonin_str(o, "sku", true, 1, 64, NULL, &v->sku, e) ||
	    !jsonin_str(o, "size", false, 1, 32, NULL, &v->size, e) ||
	    !jsonin_str(o, "color", false, 1, 32, NULL, &v->color, e) ||
	    !jsonin_int(o, "stock", false, 0, PRODUCT_MAX_STOCK, 0, &v->stock, e) ||
	    !jsonin_int(o, "low_stock_threshold", false, 0, PRODUCT_MAX_STOCK, 5,
			&v->low_stock_threshold, e) ||
	    !jsonin_obj(o, "prices", create, &prices, e) ||
	    !jsonin_arr(o, "images", false, 20, &images, e))
		return in_path(e, "variants[%d].", idx);
	if (!sku_ok(v->sku)) {
		verr_set(e, MERR_VALIDATION, "sku", "a SKU is letters, digits, '-', '_' or '.'");
		return in_path(e, "variants[%d].", idx);
	}
	v->has_stock = json_object_get(o, "stock") != NULL || create;
	if (images) {
		size_t i;
		json_t *u;
		json_array_foreach(images, i, u) if (!json_is_string(u))
		{
			snprintf(pre, sizeof(pre), "variants[%d].images", idx);
			return verr_set(e, MERR_VALIDATION, pre, "images are URL strings");
		}
		v->images = json_dumps(images, JSON_COMPACT);
	}
	return !prices || decode_prices(prices, v, idx, e);
}

/*
 * Decode a product body (create: the contract's required fields; update:
 * any subset). Strings stay in r->json; the tags and images JSON texts are
 * re-rendered (jansson strings, freed with the request's arena copy).
 */
static bool decode_product(struct req *r, json_t *j, struct product *p, bool create, struct verr *e)
{
	json_t *tags = NULL, *vars = NULL;
	int64_t merchant = 0;
	if (!jsonin_int(j, "merchant_id", false, 1, INT64_MAX, 0, &merchant, e) ||
	    !jsonin_str(j, "name", create, 1, 200, NULL, &p->name, e) ||
	    !jsonin_str(j, "brand", false, 1, 80, NULL, &p->brand, e) ||
	    !jsonin_str(j, "category", create, 1, 64, NULL, &p->category, e) ||
	    !jsonin_str(j, "description", false, 0, 10000, create ? "" : NULL, &p->description, e) ||
	    !jsonin_str(j, "status", false, 1, 16, NULL, &p->status, e) ||
	    !jsonin_arr(j, "tags", false, PRODUCT_MAX_TAGS, &tags, e) ||
	    !jsonin_arr(j, "variants", create, PRODUCT_MAX_VARIANTS, &vars, e))
		return false;
	p->merchant_id = merchant;
	if (p->status) {
		bool ok = false;
		for (const char *const *s = product_statuses; *s; s++)
			ok |= strcmp(*s, p->status) == 0;
		if (!ok)
			return verr_set(e, MERR_VALIDATION, "status", "status is active, draft or archived");
	}
	if (tags) {
		struct buf b;
		buf_init(&b, 8192);
		struct jw w;
		jw_init(&w, &b);
		jw_arr(&w);
		size_t i;
		json_t *t;
		json_array_foreach(tags, i, t)
		{
			if (!json_is_string(t) || json_string_length(t) < 1 || json_string_length(t) > 40) {
				buf_free(&b);
				return verr_set(e, MERR_VALIDATION, "tags", "tags are strings of 1-40 characters");
			}
			jw_str(&w, json_string_value(t));
		}
		jw_arr_end(&w);
		p->tags = arena_strdup(&r->a, b.p);
		buf_free(&b);
	}
	if (create && json_array_size(vars) == 0)
		return verr_set(e, MERR_VALIDATION, "variants", "a product needs at least one variant");
	p->nvariants = (int)json_array_size(vars);
	p->variants = arena_alloc(&r->a, sizeof(struct variant) * (size_t)(p->nvariants + 1));
	for (int i = 0; i < p->nvariants; i++) {
		struct variant *v = &p->variants[i];
		bool ok = decode_variant(json_array_get(vars, (size_t)i), v, i, create, e);
		if (v->images) { /* json_dumps gave malloc'ed text: keep an arena copy */
			char *img = arena_strdup(&r->a, v->images);
			free((char *)v->images);
			v->images = img;
		}
		if (!ok)
			return false;
		for (int k = 0; k < i; k++)
			if (strcmp(p->variants[k].sku, v->sku) == 0) {
				char f[48];
				snprintf(f, sizeof(f), "variants[%d].sku", i);
				return verr_set(e, MERR_VALIDATION, f, "SKU '%s' appears twice", v->sku);
			}
	}
	return true;
}

static void reply_merr(struct req *r, enum merr m, const struct verr *e)
{
	if (m == MERR_INTERNAL || m == MERR_UNAVAILABLE || !e->code)
		reply_error(r, m, NULL, NULL);
	else
		reply_verr(r, e);
}

static void write_category_path(struct jw *w, const struct product *p)
{
	jw_key(w, "category_path");
	jw_arr(w);
	for (int i = 0; i < p->npath; i++) {
		jw_obj(w);
		jw_kint(w, "id", p->path[i].id);
		jw_kstr(w, "slug", p->path[i].slug);
		jw_kstr(w, "name", p->path[i].name);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

static const struct variant_price *price_in(const struct variant *v, int64_t market_id)
{
	for (int k = 0; k < v->nprices; k++)
		if (v->prices[k].market_id == market_id)
			return &v->prices[k];
	return NULL;
}

/*
 * The product as clients see it. With a market: only variants sold there,
 * each with price + display, and the product's price range and stock status
 * in that market. Without one: every variant with all its prices.
 */
static void write_product(struct jw *w, const struct product *p,
			  const struct market *mk)
{
	jw_obj(w);
	jw_kint(w, "id", p->id);
	jw_kint(w, "merchant_id", p->merchant_id);
	jw_kstr(w, "name", p->name);
	jw_kstr_or_null(w, "brand", p->brand);
	if (p->brand_id)
		jw_kint(w, "brand_id", p->brand_id);
	else
		jw_knull(w, "brand_id");
	jw_kstr(w, "category", p->category);
	write_category_path(w, p);
	jw_kstr(w, "description", p->description);
	jw_key(w, "tags");
	jw_raw(w, p->tags, strlen(p->tags));
	jw_kstr(w, "status", p->status);
	jw_time(w, "created_at", p->created_at);
	jw_time(w, "updated_at", p->updated_at);
	int64_t lo = -1, hi = -1;
	enum stock_status best = STOCK_OUT;
	if (mk) {
		jw_kstr(w, "market", mk->code);
		jw_kstr(w, "currency", mk->currency);
	}
	jw_key(w, "variants");
	jw_arr(w);
	for (int i = 0; i < p->nvariants; i++) {
		const struct variant *v = &p->variants[i];
		const struct variant_price *pr = mk ? price_in(v, mk->id) : NULL;
		if (mk && !pr)
			continue;
		enum stock_status st = stock_status_of(v->stock, v->reserved, v->low_stock_threshold);
		jw_obj(w);
		jw_kint(w, "id", v->id);
		jw_kstr(w, "sku", v->sku);
		jw_kstr_or_null(w, "size", v->size);
		jw_kstr_or_null(w, "color", v->color);
		jw_key(w, "images");
		jw_raw(w, v->images ? v->images : "[]", v->images ? strlen(v->images) : 2);
		jw_kint(w, "stock", v->stock);
		jw_kint(w, "reserved", v->reserved);
		jw_kint(w, "available", v->stock - v->reserved > 0 ? v->stock - v->reserved : 0);
		jw_kint(w, "low_stock_threshold", v->low_stock_threshold);
		jw_kstr(w, "stock_status", stock_status_name(st));
		if (pr) {
			jw_money(w, "price", pr->amount, mk->currency);
			jw_kstr(w, "currency", mk->currency);
			lo = lo < 0 || pr->amount < lo ? pr->amount : lo;
			hi = pr->amount > hi ? pr->amount : hi;
			best = st > best ? st : best;
		}
		jw_key(w, "prices");
		jw_obj(w);
		for (int k = 0; k < v->nprices; k++) {
			const struct market *pm = market_by_id(v->prices[k].market_id);
			if (pm)
				jw_kint(w, pm->code, v->prices[k].amount);
		}
		jw_obj_end(w);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	if (mk) {
		jw_money(w, "price", lo, mk->currency);
		jw_money(w, "price_max", hi, mk->currency);
		jw_kstr(w, "stock_status", stock_status_name(best));
	}
	jw_obj_end(w);
}

/* Owner checks shared by the write handlers: the product exists and the
 * caller may manage its merchant. Replies and returns false otherwise. */
static bool product_owner_or_4xx(struct req *r, int64_t id)
{
	int64_t m = product_merchant(req_db(r), id);
	if (!m) {
		reply_error(r, MERR_NOT_FOUND, NULL, "no such product");
		return false;
	}
	return merchant_or_403(r, m);
}

static const char *const product_fields[] = {"merchant_id", "name", "brand", "category",
					     "description", "tags", "variants", "status", NULL};

static void reply_product(struct req *r, struct db *db, int64_t id, int status)
{
	struct product p;
	enum merr m = product_load(db, &r->a, id, &p);
	if (m) {
		reply_error(r, m, NULL, NULL);
		return;
	}
	struct jw w;
	reply_begin(r, &w);
	write_product(&w, &p, NULL);
	reply_end(r, status);
}

static void create_product(struct req *r)
{
	json_t *j = req_json_or_400(r, product_fields);
	if (!j)
		return;
	struct verr e = {0};
	struct product p = {0};
	if (!decode_product(r, j, &p, true, &e)) {
		reply_verr(r, &e);
		return;
	}
	if (!p.merchant_id && r->auth.role == ROLE_MERCHANT)
		p.merchant_id = r->auth.merchant_id;
	if (!p.merchant_id) {
		reply_error(r, MERR_VALIDATION, "merchant_id", "'merchant_id' is required");
		return;
	}
	if (!merchant_or_403(r, p.merchant_id))
		return;
	struct merchant mer;
	if (merchant_get(req_db(r), p.merchant_id, NULL, &mer) != MERR_OK) {
		reply_error(r, MERR_VALIDATION, "merchant_id", "no such merchant");
		return;
	}
	enum merr m = product_create(req_db(r), &p, &e);
	if (m) {
		reply_merr(r, m, &e);
		return;
	}
	catalog_invalidate();
	reply_product(r, req_db(r), p.id, 201);
}

static void update_product(struct req *r)
{
	int64_t id;
	if (!req_param_id(r, "id", &id))
		return;
	json_t *j = req_json_or_400(r, product_fields);
	if (!j || !product_owner_or_4xx(r, id))
		return;
	struct verr e = {0};
	struct product p = {0};
	if (!decode_product(r, j, &p, false, &e)) {
		reply_verr(r, &e);
		return;
	}
	if (json_object_get(j, "merchant_id") && p.merchant_id != product_merchant(req_db(r), id)) {
		reply_error(r, MERR_VALIDATION, "merchant_id", "a product cannot change merchant");
		return;
	}
	enum merr m = product_update(req_db(r), id, &p, &e);
	if (m) {
		reply_merr(r, m, &e);
		return;
	}
	catalog_invalidate();
	reply_product(r, req_db(r), id, 200);
}

static void delete_product(struct req *r)
{
	int64_t id;
	if (!req_param_id(r, "id", &id) || !product_owner_or_4xx(r, id))
		return;
	enum merr m = product_archive(req_db(r), id);
	if (m) {
		reply_error(r, m, NULL, NULL);
		return;
	}
	catalog_invalidate();
	reply_product(r, req_db(r), id, 200);
}

static void get_product(struct req *r)
{
	int64_t id;
	if (!req_param_id(r, "id", &id))
		return;
	const char *mq = req_query(r, "market");
	const struct market *mk = NULL;
	if (mq && !(mk = market_or_400(r, mq, true)))
		return;
	char key[64];
	snprintf(key, sizeof(key), "%lld:%s", (long long)id, mk ? mk->code : "-");
	char *hit;
	size_t n;
	if (cache_get("product", key, &hit, &n)) {
		reply_bytes(r, 200, NULL, hit, n);
		free(hit);
		return;
	}
	struct db *db = req_db_read(r);
	struct product p;
	enum merr m = product_load(db, &r->a, id, &p);
	if (m == MERR_OK && strcmp(p.status, "active") != 0)
		m = MERR_NOT_FOUND; /* drafts and archived products are not shown */
	if (m) {
		reply_error(r, m, NULL, m == MERR_NOT_FOUND ? "no such product" : NULL);
		return;
	}
	bool sold = !mk;
	for (int i = 0; !sold && i < p.nvariants; i++)
		sold = price_in(&p.variants[i], mk->id) != NULL;
	if (!sold) {
		reply_error(r, MERR_NOT_FOUND, NULL, "this product is not sold in this market");
		return;
	}
	struct jw w;
	reply_begin(r, &w);
	write_product(&w, &p, mk);
	reply_end(r, 200);
	cache_set("product", key, r->out.p, r->out.len, PRODUCT_TTL);
}

static void write_inventory(struct jw *w, const struct inventory *inv)
{
	jw_obj(w);
	jw_kint(w, "variant_id", inv->variant_id);
	jw_kint(w, "product_id", inv->product_id);
	jw_kstr(w, "sku", inv->sku);
	jw_kint(w, "stock", inv->stock);
	jw_kint(w, "reserved", inv->reserved);
	jw_kint(w, "available", inv->stock > inv->reserved ? inv->stock - inv->reserved : 0);
	jw_kint(w, "low_stock_threshold", inv->low_stock_threshold);
	jw_kstr(w, "stock_status",
		stock_status_name(stock_status_of(inv->stock, inv->reserved, inv->low_stock_threshold)));
	jw_time(w, "updated_at", inv->updated_at);
	jw_obj_end(w);
}

/* The variant's stock row if the caller may manage it; replies otherwise. */
static bool inventory_or_4xx(struct req *r, int64_t *variant_id, struct inventory *inv)
{
	if (!req_param_id(r, "variant_id", variant_id))
		return false;
	enum merr m = inventory_get(req_db(r), *variant_id, inv);
	if (m) {
		reply_error(r, m, NULL, m == MERR_NOT_FOUND ? "no such variant" : NULL);
		return false;
	}
	return merchant_or_403(r, inv->merchant_id);
}

static void get_inventory(struct req *r)
{
	int64_t vid;
	struct inventory inv;
	if (!inventory_or_4xx(r, &vid, &inv))
		return;
	struct jw w;
	reply_begin(r, &w);
	write_inventory(&w, &inv);
	reply_end(r, 200);
}

static void put_inventory(struct req *r)
{
	static const char *const fields[] = {"stock", "low_stock_threshold", NULL};
	int64_t vid, stock, threshold;
	struct inventory inv;
	json_t *j = req_json_or_400(r, fields);
	if (!j || !inventory_or_4xx(r, &vid, &inv))
		return;
	struct verr e = {0};
	if (!jsonin_int(j, "stock", false, 0, PRODUCT_MAX_STOCK, -1, &stock, &e) ||
	    !jsonin_int(j, "low_stock_threshold", false, 0, PRODUCT_MAX_STOCK, -1, &threshold, &e)) {
		reply_verr(r, &e);
		return;
	}
	if (stock < 0 && threshold < 0) {
		reply_error(r, MERR_VALIDATION, "stock", "send stock and/or low_stock_threshold");
		return;
	}
	enum merr m = inventory_set(req_db(r), vid, stock, threshold, &inv, &e);
	if (m) {
		reply_merr(r, m, &e);
		return;
	}
	catalog_invalidate();
	struct jw w;
	reply_begin(r, &w);
	write_inventory(&w, &inv);
	reply_end(r, 200);
}

const struct route routes_catalog[] = {
	{"GET", "/api/inventory/{variant_id}", get_inventory, ROLE_MERCHANT, RF_NONE, "Stock of a variant (owner/admin)"},
	{"PUT", "/api/inventory/{variant_id}", put_inventory, ROLE_MERCHANT, RF_NONE, "Set stock or low-stock threshold (owner/admin)"},
	{"POST", "/api/catalog/products", create_product, ROLE_MERCHANT, RF_NONE, "Create a product (merchant/admin)"},
	{"GET", "/api/catalog/products/{id}", get_product, ROLE_PUBLIC, RF_NONE, "Product detail"},
	{"PUT", "/api/catalog/products/{id}", update_product, ROLE_MERCHANT, RF_NONE, "Update a product (owner/admin)"},
	{"DELETE", "/api/catalog/products/{id}", delete_product, ROLE_MERCHANT, RF_NONE, "Archive a product (owner/admin)"},
	{0},
};
