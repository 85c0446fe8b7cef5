/* Shopper reads: product listings and search (issue 3 §4, §5). Responses are
 * rendered once and served from the "listing" / "search" caches until a
 * catalog write clears them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/events.h"
#include "api/catalog_api.h"
#include "cache/cache.h"
#include "cache/flight.h"
#include "catalog/product.h"
#include "catalog/recommend.h"
#include "catalog/search.h"
#include "core/cursor.h"
#include "core/log.h"
#include "db/db.h"
#include "integration/client.h"
#include "integration/personalize.h"

#define LISTING_TTL 60
#define SEARCH_MAX_LEN 200

/* A short string filter (size, colour): absent is NULL, empty or long is 400. */
static bool filter_str(struct req *r, const char *name, const char **out)
{
	const char *v = req_query(r, name);
	*out = v;
	if (v && (!*v || strlen(v) > 32)) {
		char msg[80];
		snprintf(msg, sizeof(msg), "'%s' must be 1-32 characters", name);
		reply_error(r, MERR_VALIDATION, name, msg);
		return false;
	}
	return true;
}

/*
 * Parse the filters, sort and page shared by listings and search into q,
 * and the cache key describing them into key. Replies 400 on bad input.
 */
static bool parse_query(struct req *r, struct listing_query *q, bool search, struct buf *key)
{
	const char *cat = req_query(r, "category"), *brand = req_query(r, "brand");
	const char *sort = req_query(r, "sort"), *stock = req_query(r, "in_stock"), *cursor;
	const struct market *mk = market_or_400(r, req_query(r, "market"), true);
	if (!mk)
		return false;
	memset(q, 0, sizeof(*q));
	q->market_id = mk->id;
	if (!query_int_or_400(r, "min_price", 0, PRODUCT_MAX_PRICE, -1, &q->min_price) ||
	    !query_int_or_400(r, "max_price", 0, PRODUCT_MAX_PRICE, -1, &q->max_price) ||
	    !filter_str(r, "size", &q->size) || !filter_str(r, "color", &q->color) ||
	    !page_or_400(r, &q->limit, &cursor))
		return false;
	if (q->size)
		q->size_like = listing_like(&r->a, q->size);
	if (q->color)
		q->color_like = listing_like(&r->a, q->color);
	if (q->min_price >= 0 && q->max_price >= 0 && q->min_price > q->max_price) {
		reply_error(r, MERR_VALIDATION, "min_price", "min_price is above max_price");
		return false;
	}
	if (cat && !(q->scope_id = category_id_of(req_db_read(r), cat))) {
		reply_error(r, MERR_VALIDATION, "category", "unknown category");
		return false;
	}
	if (brand && !(q->brand_id = brand_id_of(req_db_read(r), brand))) {
		reply_error(r, MERR_VALIDATION, "brand", "unknown brand");
		return false;
	}
	if (stock) {
		if (strcmp(stock, "true") && strcmp(stock, "false") && strcmp(stock, "1") && strcmp(stock, "0")) {
			reply_error(r, MERR_VALIDATION, "in_stock", "in_stock is true or false");
			return false;
		}
		q->in_stock = !strcmp(stock, "true") || !strcmp(stock, "1");
	}
	q->sort = search ? SORT_RELEVANCE : SORT_POPULAR;
	if (sort) {
		int i = 0;
		while (listing_sort_names[i] && strcmp(listing_sort_names[i], sort))
			i++;
		if (!listing_sort_names[i] || (i == SORT_RELEVANCE && !search)) {
			reply_error(r, MERR_VALIDATION, "sort",
				    search ? "sort is relevance, popular, newest, price_asc or price_desc"
					   : "sort is popular, newest, price_asc or price_desc");
			return false;
		}
		q->sort = (enum listing_sort)i;
	}
	if (cursor) {
		/* the sort is part of the cursor so one from another order is refused */
		int64_t k[3];
		if (!cursor_decode(cursor, k, 3) || k[0] != q->sort) {
			reply_error(r, MERR_VALIDATION, "cursor", "invalid cursor");
			return false;
		}
		q->after = true;
		q->after_key = k[1];
		q->after_id = k[2];
	}
	buf_printf(key, "%s|%d|%lld|%lld|%lld|%s|%s|%d|%d|%lld|%s", mk->code, (int)q->scope_id,
		   (long long)q->brand_id, (long long)q->min_price, (long long)q->max_price,
		   q->size ? q->size : "", q->color ? q->color : "", q->in_stock, (int)q->sort,
		   (long long)q->limit, cursor ? cursor : "");
	return true;
}

/* The members of a product summary (inside an object the caller opened). */
static void item_fields(struct jw *w, const struct listing_item *it, const struct market *mk)
{
	jw_kint(w, "id", it->id);
	jw_kstr(w, "name", it->name);
	jw_kstr_or_null(w, "brand", it->brand);
	jw_kstr(w, "category", it->category);
	jw_money(w, "price", it->price, mk->currency);
	jw_money(w, "price_max", it->price_max, mk->currency);
	jw_kstr(w, "currency", mk->currency);
	jw_kstr(w, "stock_status", stock_status_name((enum stock_status)it->stock));
	jw_key(w, "images");
	jw_raw(w, it->images ? it->images : "[]", it->images ? strlen(it->images) : 2);
	jw_time(w, "created_at", it->created_at);
}

void catalog_write_item(struct jw *w, const struct listing_item *it, const struct market *mk)
{
	jw_obj(w);
	item_fields(w, it, mk);
	jw_obj_end(w);
}

/* data + next_cursor of one page (items holds up to limit + 1). */
static void write_page(struct jw *w, const struct listing_query *q, const struct listing_item *items,
		       int n, const struct market *mk)
{
	bool more = n > q->limit;
	if (more)
		n = (int)q->limit;
	jw_key(w, "data");
	jw_arr(w);
	for (int i = 0; i < n; i++)
		catalog_write_item(w, &items[i], mk);
	jw_arr_end(w);
	int64_t k[3] = {q->sort, n ? items[n - 1].sort_key : 0, n ? items[n - 1].id : 0};
	jw_next_cursor(w, more, k, 3);
}

static bool serve_cached(struct req *r, const char *cache, const char *key)
{
	char *hit;
	size_t n;
	if (!cache_get(cache, key, &hit, &n))
		return false;
	reply_bytes(r, 200, NULL, hit, n);
	free(hit);
	return true;
}

/* serve_cached, or after a miss wait for a request already computing the
 * same key (cache/flight.h) and serve what it stored. False: compute it,
 * and when *lead, call flight_end after storing it (or failing). */
static bool serve_cached_once(struct req *r, const char *cache, const char *key, bool *lead)
{
	*lead = false;
	/* a hit needs no connection, and a follower must not hold one while
	 * it waits: misses being computed need every connection there is */
	req_db_release(r);
	if (serve_cached(r, cache, key))
		return true;
	if (strcmp(cache_backend_name(), "none") == 0)
		return false;
	*lead = flight_begin(cache, key);
	return !*lead && serve_cached(r, cache, key);
}

static void list_products(struct req *r)
{
	struct listing_query q;
	struct buf key;
	bool lead = false;
	buf_init(&key, 1024);
	if (!parse_query(r, &q, false, &key) || serve_cached_once(r, "listing", key.p, &lead))
		goto out;
	struct listing_item *items;
	/* the market's columns are kept under the search cache's generation
	 * (a catalog write clears both caches); read before the database, as
	 * search reads it */
	int64_t gen = cache_generation("search");
	int n = listing_run(req_db_read(r), &r->a, &q, gen, &items);
	if (n < 0) {
		reply_error(r, MERR_INTERNAL, NULL, NULL);
		goto out;
	}
	const struct market *mk = market_by_id(q.market_id);
	struct jw w;
	reply_begin(r, &w);
	jw_obj(&w);
	write_page(&w, &q, items, n, mk);
	jw_obj_end(&w);
	reply_end(r, 200);
	cache_set("listing", key.p, r->out.p, r->out.len, LISTING_TTL);
out:
	if (lead)
		flight_end("listing", key.p);
	buf_free(&key);
}

static void write_facets(struct jw *w, const struct facets *f)
{
	jw_key(w, "facets");
	jw_obj(w);
	for (int i = 0; i < FACET__COUNT; i++) {
		jw_key(w, f->f[i].name);
		jw_arr(w);
		for (int k = 0; k < f->f[i].n; k++) {
			jw_obj(w);
			jw_kstr(w, "value", f->f[i].v[k].value);
			jw_kstr(w, "label", f->f[i].v[k].label);
			jw_kint(w, "count", f->f[i].v[k].count);
			jw_obj_end(w);
		}
		jw_arr_end(w);
	}
	jw_obj_end(w);
}

/* Cached search bodies start with {"total":N — read N back for the log. */
static int64_t cached_total(const char *body)
{
	static const char pre[] = "{\"total\":";
	if (strncmp(body, pre, sizeof(pre) - 1))
		return 0;
	return strtoll(body + sizeof(pre) - 1, NULL, 10);
}

static void search(struct req *r)
{
	const char *text = req_query(r, "q");
	struct listing_query q;
	struct buf key;
	bool lead = false;
	buf_init(&key, 1024);
	if (!text || !*text || strlen(text) > SEARCH_MAX_LEN) {
		reply_error(r, MERR_VALIDATION, "q", "'q' is required (1-200 characters)");
		goto out;
	}
	if (!parse_query(r, &q, true, &key))
		goto out;
	if (!(q.match = search_match_query(db_dialect(), &r->a, text))) {
		reply_error(r, MERR_VALIDATION, "q", "'q' needs at least one letter or digit");
		goto out;
	}
	buf_printf(&key, "|%s", q.match);
	int64_t total = 0;
	if (serve_cached_once(r, "search", key.p, &lead)) {
		total = cached_total(r->out.p);
	} else {
		struct listing_item *items;
		struct facets f;
		const struct market *mk = market_by_id(q.market_id);
		/* read before the database: a set built after this read may be
		 * newer than the generation it is kept under, never older */
		int64_t gen = cache_generation("search");
		int n = search_run(req_db_read(r), &r->a, &q, mk->currency, gen, &items, &f);
		if (n < 0) {
			reply_error(r, MERR_INTERNAL, NULL, NULL);
			goto out;
		}
		total = f.total;
		struct jw w;
		reply_begin(r, &w);
		jw_obj(&w);
		jw_kint(&w, "total", f.total);
		jw_kstr(&w, "query", text);
		write_page(&w, &q, items, n, mk);
		write_facets(&w, &f);
		jw_obj_end(&w);
		reply_end(r, 200);
		cache_set("search", key.p, r->out.p, r->out.len, LISTING_TTL);
	}
	/* the first page is the search; later pages are the same search read
	 * on. Queued: the count, the search_log row and (none found) the event
	 * are written in the analytics writer's next batch, not in the reply. */
	req_db_release(r); /* recording may store a batch on a connection of its own */
	if (!q.after)
		analytics_record_search(NULL, r->auth.authenticated ? r->auth.sub : NULL,
					q.market_id, text, total);
out:
	if (lead)
		flight_end("search", key.p);
	buf_free(&key);
}

/* {"source", "fallback_reason"} of one service, as the other integration
 * endpoints report theirs. */
static void write_source(struct jw *w, const char *key, const char *source, const char *why)
{
	jw_key(w, key);
	jw_obj(w);
	jw_kstr(w, "source", source);
	jw_kstr_or_null(w, "fallback_reason", why);
	jw_obj_end(w);
}

/*
 * The stored recommendations, re-ranked by the caller's WS1 preferences and
 * blended with WS2's suggestions when those services answer. "source" is
 * what shaped the list last ("ai", "preferences" or "stored"), "sources" all
 * that did, "fallback_reason" why a configured service added nothing, and
 * "preferences" / "ai" say the same per service. Only an answer that no
 * service could have changed (none configured for this caller) is cached.
 */
static void recommendations(struct req *r)
{
	int64_t id, limit;
	if (!req_param_id(r, "product_id", &id))
		return;
	const struct market *mk = market_or_400(r, req_query(r, "market"), true);
	if (!mk || !query_int_or_400(r, "limit", 1, RECOMMEND_PER_PRODUCT, 8, &limit))
		return;
	const char *user = r->auth.authenticated ? r->auth.sub : NULL;
	bool cacheable = !svc_configured(SVC_AI) && !(user && svc_configured(SVC_USER));
	char key[64];
	snprintf(key, sizeof(key), "%lld:%s:%lld", (long long)id, mk->code, (long long)limit);
	if (cacheable && serve_cached(r, "recommend", key))
		return;
	struct personal_recs pr;
	enum merr e = personalize_recommendations(req_db_read(r), &r->a, mk, id, user, (int)limit, &pr);
	if (e != MERR_OK) {
		reply_error(r, e, NULL, e == MERR_NOT_FOUND ? "no such product in this market" : NULL);
		return;
	}
	bool prefs_used = strcmp(pr.prefs.source, "user_service") == 0;
	const char *prefs_why = pr.prefs.fallback_reason;
	/* an anonymous caller or a user WS1 does not know is not a failure */
	bool prefs_failed = prefs_why && strcmp(prefs_why, "not_signed_in") != 0 &&
			    strcmp(prefs_why, "no_preferences") != 0;
	struct jw w;
	reply_begin(r, &w);
	jw_obj(&w);
	jw_kint(&w, "product_id", id);
	jw_kstr(&w, "market", mk->code);
	jw_key(&w, "data");
	jw_arr(&w);
	for (int i = 0; i < pr.n; i++) {
		const struct personal_rec *c = &pr.recs[i];
		jw_obj(&w);
		item_fields(&w, &c->item, mk);
		jw_kstr(&w, "reason", c->reason);
		if (c->from_ai)
			jw_kreal(&w, "score", c->score);
		else
			jw_kint(&w, "score", (int64_t)c->score);
		if (prefs_used) {
			jw_key(&w, "matched");
			jw_arr(&w);
			for (int b = 0; personalize_match_name(b); b++)
				if (c->matched & (1u << b))
					jw_str(&w, personalize_match_name(b));
			jw_arr_end(&w);
		}
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_knull(&w, "next_cursor");
	jw_kstr(&w, "source", pr.ai_blended ? "ai" : prefs_used ? "preferences" : "stored");
	jw_kstr_or_null(&w, "fallback_reason",
			pr.ai_fallback_reason ? pr.ai_fallback_reason : prefs_failed ? prefs_why : NULL);
	jw_key(&w, "sources");
	jw_arr(&w);
	if (pr.n > pr.ai_blended)
		jw_str(&w, "stored");
	if (prefs_used)
		jw_str(&w, "preferences");
	if (pr.ai_blended)
		jw_str(&w, "ai");
	jw_arr_end(&w);
	write_source(&w, "preferences", pr.prefs.source, prefs_why);
	write_source(&w, "ai", pr.ai_source, pr.ai_fallback_reason);
	jw_obj_end(&w);
	reply_end(r, 200);
	if (cacheable)
		cache_set("recommend", key, r->out.p, r->out.len, LISTING_TTL);
}

const struct route routes_catalog_browse[] = {
	{"GET", "/api/catalog/recommendations/{product_id}", recommendations, ROLE_PUBLIC, RF_AUTH_OPTIONAL, "Recommendations for a product in a market, personalised by WS1 and blended with WS2 when they answer"},
	{"GET", "/api/catalog/products", list_products, ROLE_PUBLIC, RF_NONE, "Product listing with filters, sorts and cursor pages"},
	{"GET", "/api/catalog/search", search, ROLE_PUBLIC, RF_NONE, "Ranked full-text product search with facets"},
	{0},
};
