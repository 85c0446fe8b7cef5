/* Categories (tree, per-market order), brands and collections: public reads,
 * admin writes (issue 3 §1, §2, §4). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "api/catalog_api.h"
#include "catalog/product.h"
#include "catalog/search.h"
#include "catalog/taxonomy.h"
#include "core/timeutil.h"

static void reply_merr(struct req *r, enum merr m, const struct verr *e)
{
	if (m == MERR_INTERNAL || m == MERR_UNAVAILABLE || m == MERR_NOT_FOUND || !e->code)
		reply_error(r, m, NULL, NULL);
	else
		reply_verr(r, e);
}

/* --- categories ---------------------------------------------------------- */

static void write_subtree(struct jw *w, const struct category *c, int n, int64_t parent, int depth)
{
	jw_arr(w);
	for (int i = 0; i < n; i++) {
		if (c[i].parent_id != parent)
			continue;
		jw_obj(w);
		jw_kint(w, "id", c[i].id);
		jw_kstr(w, "slug", c[i].slug);
		jw_kstr(w, "name", c[i].name);
		jw_kint(w, "display_order", c[i].display_order);
		jw_key(w, "children");
		if (depth < 8)
			write_subtree(w, c, n, c[i].id, depth + 1);
		else
			jw_raw(w, "[]", 2);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

static void list_categories(struct req *r)
{
	const struct market *mk = market_or_400(r, req_query(r, "market"), false);
	if (!mk)
		return;
	struct category *c;
	int n = category_list(req_db_read(r), &r->a, mk->id, &c);
	if (n < 0) {
		reply_error(r, MERR_INTERNAL, NULL, NULL);
		return;
	}
	struct jw w;
	reply_begin(r, &w);
	jw_obj(&w);
	jw_kstr(&w, "market", mk->code);
	jw_key(&w, "data");
	write_subtree(&w, c, n, 0, 0);
	jw_knull(&w, "next_cursor");
	jw_obj_end(&w);
	reply_end(r, 200);
}

static void save_category(struct req *r, int64_t id)
{
	static const char *const fields[] = {"slug", "name", "parent", "display_order", "market_order",
					     NULL};
	json_t *j = req_json_or_400(r, fields);
	bool create = !id;
	if (!j)
		return;
	struct verr e = {0};
	const char *slug, *name, *parent;
	int64_t order;
	json_t *mo = NULL;
	if (!jsonin_str(j, "slug", !id, 2, 64, NULL, &slug, &e) ||
	    !jsonin_str(j, "name", !id, 1, 80, NULL, &name, &e) ||
	    !jsonin_str(j, "parent", false, 0, 64, NULL, &parent, &e) ||
	    !jsonin_int(j, "display_order", false, 0, 1000000, -1, &order, &e) ||
	    !jsonin_obj(j, "market_order", false, &mo, &e)) {
		reply_verr(r, &e);
		return;
	}
	char norm[80];
	if (slug) {
		catalog_slugify(slug, norm, sizeof(norm));
		if (strcmp(norm, slug) != 0) {
			reply_error(r, MERR_VALIDATION, "slug", "a slug is lower-case letters, digits and '-'");
			return;
		}
	}
	struct category_order orders[8];
	int norders = 0;
	const char *code;
	json_t *v;
	json_object_foreach(mo, code, v)
	{
		char f[40];
		snprintf(f, sizeof(f), "market_order.%.8s", code);
		const struct market *mk = market_get(code);
		if (!mk) {
			reply_error(r, MERR_UNKNOWN_MARKET, f, "unknown market");
			return;
		}
		if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1000000 ||
		    norders == 8) {
			reply_error(r, MERR_VALIDATION, f, "a display order is an integer from 0 to 1000000");
			return;
		}
		orders[norders++] = (struct category_order){mk->id, json_integer_value(v)};
	}
	enum merr m = category_save(req_db(r), &id, slug, name, parent, order, orders, norders, &e);
	if (m) {
		reply_merr(r, m, &e);
		return;
	}
	catalog_invalidate();
	struct jw w;
	reply_begin(r, &w);
	jw_obj(&w);
	jw_kint(&w, "id", id);
	if (slug)
		jw_kstr(&w, "slug", slug);
	if (name)
		jw_kstr(&w, "name", name);
	jw_obj_end(&w);
	reply_end(r, create ? 201 : 200);
}

static void create_category(struct req *r)
{
	save_category(r, 0);
}

static void update_category(struct req *r)
{
	int64_t id;
	if (req_param_id(r, "id", &id))
		save_category(r, id);
}

/* --- brands -------------------------------------------------------------- */

static void write_brand(struct jw *w, const struct brand *b)
{
	jw_obj(w);
	jw_kint(w, "id", b->id);
	jw_kstr(w, "name", b->name);
	jw_kstr(w, "slug", b->slug);
	jw_kint(w, "popularity_score", b->popularity_score);
	jw_kreal(w, "quality_rating", (double)b->quality_rating / 10.0);
	jw_key(w, "demographics");
	jw_raw(w, b->demographics, strlen(b->demographics));
	jw_kint(w, "product_count", b->products);
	jw_obj_end(w);
}

static void list_brands(struct req *r)
{
	int64_t limit, after;
	if (!id_page_or_400(r, &limit, &after))
		return;
	struct brand *b;
	int n = brand_list(req_db_read(r), &r->a, after, limit + 1, &b);
	if (n < 0) {
		reply_error(r, MERR_INTERNAL, NULL, NULL);
		return;
	}
	struct jw w;
	bool more;
	n = list_begin(r, &w, n, limit, &more);
	for (int i = 0; i < n; i++)
		write_brand(&w, &b[i]);
	list_end(r, &w, more, n ? b[n - 1].id : 0);
}

/* Demographics: a JSON array of short strings, re-rendered compactly. */
static bool demographics_or_400(struct req *r, json_t *arr, const char **out)
{
	*out = NULL;
	if (!arr)
		return true;
	struct buf b;
	buf_init(&b, 4096);
	struct jw w;
	jw_init(&w, &b);
	jw_arr(&w);
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		if (!json_is_string(v) || json_string_length(v) < 1 || json_string_length(v) > 40) {
			buf_free(&b);
			reply_error(r, MERR_VALIDATION, "demographics", "demographics are strings of 1-40 characters");
			return false;
		}
		jw_str(&w, json_string_value(v));
	}
	jw_arr_end(&w);
	*out = arena_strdup(&r->a, b.p);
	buf_free(&b);
	return true;
}

static void save_brand(struct req *r, int64_t id)
{
	static const char *const fields[] = {"name", "popularity_score", "quality_rating", "demographics",
					     NULL};
	json_t *j = req_json_or_400(r, fields);
	if (!j)
		return;
	struct verr e = {0};
	struct brand b = {.id = id, .popularity_score = -1, .quality_rating = -1};
	json_t *demo = NULL;
	if (!jsonin_str(j, "name", !id, 1, 80, NULL, &b.name, &e) ||
	    !jsonin_int(j, "popularity_score", false, 0, 1000000000, -1, &b.popularity_score, &e) ||
	    !jsonin_arr(j, "demographics", false, 20, &demo, &e)) {
		reply_verr(r, &e);
		return;
	}
	json_t *q = json_object_get(j, "quality_rating");
	if (q) {
		double d = json_number_value(q);
		if (!json_is_number(q) || d < 0 || d > 5) {
			reply_error(r, MERR_VALIDATION, "quality_rating", "quality_rating is a number from 0 to 5");
			return;
		}
		b.quality_rating = (int64_t)llround(d * 10);
	}
	if (!demographics_or_400(r, demo, &b.demographics))
		return;
	enum merr m = brand_save(req_db(r), &b, &e);
	if (m) {
		reply_merr(r, m, &e);
		return;
	}
	catalog_invalidate();
	struct brand out;
	if (brand_get(req_db(r), &r->a, b.id, &out) != MERR_OK) {
		reply_error(r, MERR_INTERNAL, NULL, NULL);
		return;
	}
	struct jw w;
	reply_begin(r, &w);
	write_brand(&w, &out);
	reply_end(r, id ? 200 : 201);
}

static void create_brand(struct req *r)
{
	save_brand(r, 0);
}

static void update_brand(struct req *r)
{
	int64_t id;
	if (req_param_id(r, "id", &id))
		save_brand(r, id);
}

/* --- collections --------------------------------------------------------- */

static void write_collection(struct req *r, struct jw *w, const struct collection *c,
			     const struct market *mk)
{
	jw_obj(w);
	jw_kint(w, "id", c->id);
	jw_kstr(w, "name", c->name);
	jw_kstr(w, "slug", c->slug);
	jw_kstr(w, "description", c->description);
	jw_time(w, "starts_at", c->starts_at);
	jw_time(w, "ends_at", c->ends_at);
	if (mk) {
		struct listing_item *items;
		int n = listing_by_ids(req_db_read(r), &r->a, mk->id, c->product_ids, c->nproducts, &items);
		jw_kstr(w, "market", mk->code);
		jw_key(w, "products");
		jw_arr(w);
		for (int i = 0; i < n; i++)
			catalog_write_item(w, &items[i], mk);
		jw_arr_end(w);
	} else {
		jw_key(w, "product_ids");
		jw_arr(w);
		for (int i = 0; i < c->nproducts; i++)
			jw_int(w, c->product_ids[i]);
		jw_arr_end(w);
	}
	jw_obj_end(w);
}

static bool is_active(const struct collection *c, int64_t now)
{
	return (!c->starts_at || c->starts_at <= now) && (!c->ends_at || c->ends_at > now);
}

static void list_collections(struct req *r)
{
	const struct market *mk = market_or_400(r, req_query(r, "market"), true);
	int64_t limit, after;
	if (!mk || !id_page_or_400(r, &limit, &after))
		return;
	struct db *db = req_db_read(r);
	struct collection *cs;
	int n = collection_list_active(db, &r->a, time_now(), after, limit + 1, &cs);
	if (n < 0) {
		reply_error(r, MERR_INTERNAL, NULL, NULL);
		return;
	}
	struct jw w;
	bool more;
	n = list_begin(r, &w, n, limit, &more);
	for (int i = 0; i < n; i++) {
		struct collection full;
		if (collection_get(db, &r->a, cs[i].id, mk->id, &full) == MERR_OK)
			write_collection(r, &w, &full, mk);
	}
	list_end(r, &w, more, n ? cs[n - 1].id : 0);
}

static void get_collection(struct req *r)
{
	int64_t id;
	if (!req_param_id(r, "id", &id))
		return;
	const struct market *mk = market_or_400(r, req_query(r, "market"), true);
	if (!mk)
		return;
	struct collection c;
	enum merr m = collection_get(req_db_read(r), &r->a, id, mk->id, &c);
	if (m == MERR_OK && !is_active(&c, time_now()) && !is_admin(r))
		m = MERR_NOT_FOUND; /* outside its period a collection is not shown */
	if (m) {
		reply_error(r, m, NULL, NULL);
		return;
	}
	struct jw w;
	reply_begin(r, &w);
	write_collection(r, &w, &c, mk);
	reply_end(r, 200);
}

/* A time field: RFC 3339 string, null (clears: -1) or absent (keeps: 0). */
static bool time_field(struct req *r, json_t *j, const char *key, int64_t *out)
{
	json_t *v = json_object_get(j, key);
	*out = 0;
	if (!v)
		return true;
	if (json_is_null(v)) {
		*out = -1;
		return true;
	}
	if (!json_is_string(v) || (*out = time_parse_rfc3339(json_string_value(v))) <= 0) {
		reply_error(r, MERR_VALIDATION, key, "a time is an RFC 3339 string or null");
		return false;
	}
	return true;
}

static void save_collection(struct req *r, int64_t id)
{
	static const char *const fields[] = {"name", "slug", "description", "starts_at", "ends_at",
					     "product_ids", NULL};
	json_t *j = req_json_or_400(r, fields);
	if (!j)
		return;
	struct verr e = {0};
	struct collection c = {.id = id};
	json_t *ids = NULL;
	if (!jsonin_str(j, "name", !id, 1, 120, NULL, &c.name, &e) ||
	    !jsonin_str(j, "slug", !id, 2, 64, NULL, &c.slug, &e) ||
	    !jsonin_str(j, "description", false, 0, 2000, NULL, &c.description, &e) ||
	    !jsonin_arr(j, "product_ids", false, 500, &ids, &e)) {
		reply_verr(r, &e);
		return;
	}
	if (!time_field(r, j, "starts_at", &c.starts_at) || !time_field(r, j, "ends_at", &c.ends_at))
		return;
	if (c.starts_at > 0 && c.ends_at > 0 && c.ends_at <= c.starts_at) {
		reply_error(r, MERR_VALIDATION, "ends_at", "ends_at must be after starts_at");
		return;
	}
	if (ids) {
		c.set_products = true;
		c.nproducts = (int)json_array_size(ids);
		c.product_ids = arena_alloc(&r->a, sizeof(int64_t) * (size_t)(c.nproducts + 1));
		for (int i = 0; i < c.nproducts; i++) {
			json_t *v = json_array_get(ids, (size_t)i);
			if (!json_is_integer(v) || json_integer_value(v) < 1) {
				char f[40];
				snprintf(f, sizeof(f), "product_ids[%d]", i);
				reply_error(r, MERR_VALIDATION, f, "product ids are positive integers");
				return;
			}
			c.product_ids[i] = json_integer_value(v);
		}
	}
	if (!id && c.starts_at < 0)
		c.starts_at = 0;
	if (!id && c.ends_at < 0)
		c.ends_at = 0;
	enum merr m = collection_save(req_db(r), &c, &e);
	if (m) {
		reply_merr(r, m, &e);
		return;
	}
	catalog_invalidate();
	struct collection out;
	if (collection_get(req_db(r), &r->a, c.id, 0, &out) != MERR_OK) {
		reply_error(r, MERR_INTERNAL, NULL, NULL);
		return;
	}
	struct jw w;
	reply_begin(r, &w);
	write_collection(r, &w, &out, NULL);
	reply_end(r, id ? 200 : 201);
}

static void create_collection(struct req *r)
{
	save_collection(r, 0);
}

static void update_collection(struct req *r)
{
	int64_t id;
	if (req_param_id(r, "id", &id))
		save_collection(r, id);
}

static void delete_collection(struct req *r)
{
	int64_t id;
	if (!req_param_id(r, "id", &id))
		return;
	enum merr m = collection_delete(req_db(r), id);
	if (m) {
		reply_error(r, m, NULL, NULL);
		return;
	}
	catalog_invalidate();
	struct jw w;
	reply_begin(r, &w);
	jw_obj(&w);
	jw_kint(&w, "id", id);
	jw_kbool(&w, "deleted", true);
	jw_obj_end(&w);
	reply_end(r, 200);
}

const struct route routes_catalog_taxonomy[] = {
	{"GET", "/api/catalog/categories", list_categories, ROLE_PUBLIC, RF_NONE, "Category tree in a market's order"},
	{"POST", "/api/catalog/categories", create_category, ROLE_ADMIN, RF_NONE, "Create a category (admin)"},
	{"PUT", "/api/catalog/categories/{id}", update_category, ROLE_ADMIN, RF_NONE, "Update a category and its per-market order (admin)"},
	{"GET", "/api/catalog/brands", list_brands, ROLE_PUBLIC, RF_NONE, "Brands"},
	{"POST", "/api/catalog/brands", create_brand, ROLE_ADMIN, RF_NONE, "Create a brand (admin)"},
	{"PUT", "/api/catalog/brands/{id}", update_brand, ROLE_ADMIN, RF_NONE, "Update a brand (admin)"},
	{"GET", "/api/catalog/collections", list_collections, ROLE_PUBLIC, RF_NONE, "Active collections with their products"},
	{"POST", "/api/catalog/collections", create_collection, ROLE_ADMIN, RF_NONE, "Create a collection (admin)"},
	{"GET", "/api/catalog/collections/{id}", get_collection, ROLE_PUBLIC, RF_NONE, "One active collection"},
	{"PUT", "/api/catalog/collections/{id}", update_collection, ROLE_ADMIN, RF_NONE, "Update a collection (admin)"},
	{"DELETE", "/api/catalog/collections/{id}", delete_collection, ROLE_ADMIN, RF_NONE, "Delete a collection (admin)"},
	{0},
};
