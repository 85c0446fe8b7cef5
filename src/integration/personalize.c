#include "integration/personalize.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/product.h"
#include "catalog/recommend.h"
#include "core/buf.h"
#include "core/mem.h"
#include "db/db.h"
#include "market/market.h"

/* Percent-encode a user id (a JWT sub: any string) for a URL path segment. */
static void path_escape(char *out, size_t n, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (; *s && o + 4 < n; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
}

/* Copy up to max strings that fit from a JSON array of strings (lower-cased
 * when lower). Returns how many were copied. */
static int read_strings(json_t *arr, char *dst, size_t width, int max, bool lower)
{
	int n = 0;
	size_t i;
	json_t *v;
	if (!json_is_array(arr))
		return 0;
	json_array_foreach(arr, i, v)
	{
		const char *s = json_string_value(v);
		if (!s || !*s || strlen(s) >= width || n == max)
			continue;
		char *d = dst + (size_t)n++ * width;
		snprintf(d, width, "%s", s);
		for (; lower && *d; d++)
			if (*d >= 'A' && *d <= 'Z')
				*d = (char)(*d - 'A' + 'a');
	}
	return n;
}

static int64_t read_amount(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_integer(v) && json_integer_value(v) >= 0 ? (int64_t)json_integer_value(v) : -1;
}

/* WS1: {"categories": ["dresses"], "brands": ["Zara"], "sizes": ["M"],
 * "colors": ["red"], "price_range": {"min": 2000, "max": 8000, "currency":
 * "USD"}, …} — unknown keys ignored, every key optional. */
static void fetch_prefs(const char *esc_user, struct user_prefs *p)
{
	char path[512];
	snprintf(path, sizeof(path), "/api/users/%s/preferences", esc_user);
	struct svc_result res;
	if (!svc_call(SVC_USER, "GET", path, NULL, true, &res)) {
		/* a 404 is an unknown user: no preferences, not a failure */
		p->fallback_reason = res.outcome == SVC_HTTP_ERROR && res.status == 404
					     ? "no_preferences"
					     : svc_outcome_name(res.outcome);
		return;
	}
	p->ncategories = read_strings(json_object_get(res.json, "categories"), p->categories[0],
				      sizeof(p->categories[0]), PREF_MAX, false);
	p->nbrands = read_strings(json_object_get(res.json, "brands"), p->brands[0],
				  sizeof(p->brands[0]), PREF_MAX, false);
	p->nsizes = read_strings(json_object_get(res.json, "sizes"), p->sizes[0], sizeof(p->sizes[0]),
				 PREF_MAX, true);
	p->ncolors = read_strings(json_object_get(res.json, "colors"), p->colors[0],
				  sizeof(p->colors[0]), PREF_MAX, true);
	json_t *range = json_object_get(res.json, "price_range");
	const char *cur = json_string_value(json_object_get(range, "currency"));
	if (json_is_object(range) && cur && strlen(cur) == 3) {
		p->price_min = read_amount(range, "min");
		p->price_max = read_amount(range, "max");
		snprintf(p->price_currency, sizeof(p->price_currency), "%s", cur);
	}
	json_decref(res.json);
	p->source = "user_service";
}

void personalize_prefs(const char *user_id, struct user_prefs *p)
{
	memset(p, 0, sizeof(*p));
	p->source = "none";
	p->price_min = p->price_max = -1;
	if (!user_id) {
		p->fallback_reason = "not_signed_in";
		return;
	}
	char esc[384];
	path_escape(esc, sizeof(esc), user_id);
	fetch_prefs(esc, p);
}

enum merr personalize_suggestions(struct db *db, const struct market *m, const char *user_id,
				  int limit, struct discover_result *out, struct user_prefs *prefs)
{
	char esc[384];
	path_escape(esc, sizeof(esc), user_id);
	memset(out, 0, sizeof(*out));
	personalize_prefs(user_id, prefs);
	char path[512];
	snprintf(path, sizeof(path), "/api/ai/styling-suggestions/%s?market=%s&limit=%d", esc, m->code,
		 limit);
	if (discover_from_service(db, m, SVC_AI, "GET", path, NULL, limit, out))
		return MERR_OK;
	const char *why = out->fallback_reason;
	const char *cats[PREF_MAX], *brands[PREF_MAX];
	for (int i = 0; i < prefs->ncategories; i++)
		cats[i] = prefs->categories[i];
	for (int i = 0; i < prefs->nbrands; i++)
		brands[i] = prefs->brands[i];
	enum merr e = MERR_OK;
	if (prefs->ncategories > 0 || prefs->nbrands > 0) {
		e = discover_popular_in(db, m, cats, prefs->ncategories, brands, prefs->nbrands, limit,
					out);
		out->source = "preferences";
	}
	if (e == MERR_OK && out->n == 0) {
		e = discover_popular_in(db, m, NULL, 0, NULL, 0, limit, out);
		out->source = "catalog_popular";
	}
	out->fallback_reason = why;
	return e;
}

static const char *const match_names[] = {"category", "brand", "size", "color", "price"};

const char *personalize_match_name(int bit)
{
	return bit >= 0 && bit < (int)(sizeof(match_names) / sizeof(match_names[0])) ? match_names[bit]
										    : NULL;
}

struct prefs_job {
	const char *user_id;
	struct user_prefs *prefs;
};

static void *prefs_thread(void *arg)
{
	struct prefs_job *job = arg;
	personalize_prefs(job->user_id, job->prefs);
	return NULL;
}

/* WS2's suggestions for the product: {"products": [{"product_id", "score"}]}.
 * Returns how many ids were read (0 with *why set when it gave none). */
static int ask_ai(const struct market *m, int64_t product_id, const char *user_id, int limit,
		  int64_t *ids, double *scores, const char **why)
{
	json_t *req = json_pack("{s:I, s:s, s:I}", "product_id", (json_int_t)product_id, "market",
				m->code, "limit", (json_int_t)limit);
	if (user_id)
		json_object_set_new(req, "user_id", json_string(user_id));
	char *body = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	struct svc_result res;
	/* a recommendation request changes nothing at WS2: safe to retry */
	bool ok = svc_call(SVC_AI, "POST", "/api/ai/recommendations", body, true, &res);
	free(body);
	*why = NULL;
	if (!ok) {
		*why = svc_outcome_name(res.outcome);
		return 0;
	}
	json_t *arr = json_object_get(res.json, "products");
	int n = 0;
	size_t i;
	json_t *it;
	if (!json_is_array(arr))
		n = -1;
	json_array_foreach(arr, i, it)
	{
		json_t *id = json_object_get(it, "product_id"), *sc = json_object_get(it, "score");
		if (!json_is_integer(id) || json_integer_value(id) <= 0) {
			n = -1;
			break;
		}
		if (n == DISCOVER_MAX)
			break;
		ids[n] = json_integer_value(id);
		scores[n++] = json_is_number(sc) ? json_number_value(sc) : 0.0;
	}
	json_decref(res.json);
	if (n < 0) {
		*why = svc_outcome_name(SVC_BAD_RESPONSE);
		return 0;
	}
	return n;
}

static bool listed(const char *bars, const char (*want)[32], int n)
{
	char pat[40];
	for (int i = 0; i < n; i++) {
		snprintf(pat, sizeof(pat), "|%s|", want[i]);
		if (bars && strstr(bars, pat))
			return true;
	}
	return false;
}

/* PREF_MATCH_* bits of each candidate, and -1 in *penalty[i] when its price
 * is outside the shopper's range. One read of the sizes and colours the
 * candidates offer in the market. */
static bool match_prefs(struct db *db, const struct market *m, const struct user_prefs *p,
			struct personal_rec *c, int n, int *penalty)
{
	bool priced = p->price_currency[0] && strcmp(p->price_currency, m->currency) == 0;
	for (int i = 0; i < n; i++) {
		const struct listing_item *it = &c[i].item;
		penalty[i] = 0;
		for (int k = 0; k < p->ncategories; k++)
			if (it->category && strcmp(it->category, p->categories[k]) == 0)
				c[i].matched |= PREF_MATCH_CATEGORY;
		for (int k = 0; k < p->nbrands; k++)
			if (it->brand && strcmp(it->brand, p->brands[k]) == 0)
				c[i].matched |= PREF_MATCH_BRAND;
		if (priced && (p->price_min >= 0 || p->price_max >= 0)) {
			if ((p->price_min >= 0 && it->price < p->price_min) ||
			    (p->price_max >= 0 && it->price > p->price_max))
				penalty[i] = -1;
			else
				c[i].matched |= PREF_MATCH_PRICE;
		}
	}
	if (n == 0 || (p->nsizes == 0 && p->ncolors == 0))
		return true;
	struct db_val params[2 * DISCOVER_MAX + 2];
	struct buf sql;
	buf_init(&sql, 1 << 14);
	buf_adds(&sql, "SELECT product_id, sizes, colors FROM product_market WHERE market_id = $1 "
		       "AND scope_id = 0 AND product_id IN (");
	params[0] = DI(m->id);
	for (int i = 0; i < n; i++) {
		buf_printf(&sql, "%s$%d", i ? ", " : "", i + 2);
		params[i + 1] = DI(c[i].item.id);
	}
	buf_adds(&sql, ")");
	struct db_res r;
	int rc = db_query(db, &r, sql.p, params, n + 1);
	buf_free(&sql);
	if (rc != DB_OK)
		return false;
	for (int row = 0; row < r.nrows; row++)
		for (int i = 0; i < n; i++) {
			if (c[i].item.id != db_int(&r, row, 0))
				continue;
			if (listed(db_text(&r, row, 1), p->sizes, p->nsizes))
				c[i].matched |= PREF_MATCH_SIZE;
			if (listed(db_text(&r, row, 2), p->colors, p->ncolors))
				c[i].matched |= PREF_MATCH_COLOR;
		}
	db_res_free(&r);
	return true;
}

/* Stable sort of the stored candidates by how many preferences each meets
 * (a price outside the range counts against); ties keep the stored order. */
static bool rerank(struct personal_rec *c, const int *penalty, int n)
{
	int *rank = xcalloc((size_t)n + 1, sizeof(int));
	bool moved = false;
	for (int i = 0; i < n; i++)
		rank[i] = __builtin_popcount(c[i].matched) + penalty[i];
	for (int i = 1; i < n; i++) {
		struct personal_rec x = c[i];
		int rx = rank[i], k = i;
		while (k > 0 && rank[k - 1] < rx) {
			c[k] = c[k - 1];
			rank[k] = rank[k - 1];
			k--;
			moved = true;
		}
		c[k] = x;
		rank[k] = rx;
	}
	free(rank);
	return moved;
}

enum merr personalize_recommendations(struct db *db, struct arena *a, const struct market *m,
				      int64_t product_id, const char *user_id, int limit,
				      struct personal_recs *out)
{
	memset(out, 0, sizeof(*out));
	out->ai_source = "none";
	struct listing_item *self;
	int ns = listing_by_ids(db, a, m->id, &product_id, 1, &self);
	if (ns <= 0)
		return ns < 0 ? MERR_INTERNAL : MERR_NOT_FOUND;

	/* WS1 on a thread while WS2 is asked here: one budget, not two */
	pthread_t th;
	struct prefs_job job = {user_id, &out->prefs};
	bool threaded = user_id && svc_configured(SVC_USER) &&
			pthread_create(&th, NULL, prefs_thread, &job) == 0;
	if (!threaded)
		personalize_prefs(user_id, &out->prefs);
	int64_t ai_ids[DISCOVER_MAX];
	double ai_scores[DISCOVER_MAX];
	int nai = ask_ai(m, product_id, user_id, limit, ai_ids, ai_scores, &out->ai_fallback_reason);
	if (!out->ai_fallback_reason)
		out->ai_source = "ai";
	if (threaded)
		pthread_join(th, NULL);
	bool personal = strcmp(out->prefs.source, "user_service") == 0;

	/* the stored list: every candidate when preferences may reorder it */
	struct recommendation *rec;
	int nr = recommend_read(db, a, product_id, m->id, personal ? RECOMMEND_PER_PRODUCT : limit, &rec);
	if (nr < 0)
		return MERR_INTERNAL;
	int64_t *ids = arena_alloc(a, sizeof(int64_t) * (size_t)(nr + nai + 1));
	for (int i = 0; i < nr; i++)
		ids[i] = rec[i].product_id;
	for (int i = 0; i < nai; i++)
		ids[nr + i] = ai_ids[i];
	struct listing_item *items, *ai_items;
	int ni = listing_by_ids(db, a, m->id, ids, nr, &items);
	int nai_items = nai ? listing_by_ids(db, a, m->id, ids + nr, nai, &ai_items) : 0;
	if (ni < 0 || nai_items < 0)
		return MERR_INTERNAL;

	int ncand = 0;
	struct personal_rec *cand = arena_alloc(a, sizeof(*cand) * (size_t)(ni + nai_items + 1));
	/* items come back in rec's order, minus any that left the market meanwhile */
	for (int i = 0, k = 0; i < ni; i++) {
		while (k < nr && rec[k].product_id != items[i].id)
			k++;
		if (k == nr)
			break;
		cand[ncand++] = (struct personal_rec){
			.item = items[i], .reason = rec[k].reason, .score = (double)rec[k].score};
	}
	int nstored = ncand;
	for (int i = 0, k = 0; i < nai_items; i++) {
		while (k < nai && ai_ids[k] != ai_items[i].id)
			k++;
		if (k == nai)
			break;
		/* WS2 does not know our stock or markets: only what we can sell now */
		if (ai_items[i].id == product_id || ai_items[i].stock == STOCK_OUT)
			continue;
		cand[ncand++] = (struct personal_rec){
			.item = ai_items[i], .reason = "ai_styling", .score = ai_scores[k], .from_ai = true};
	}
	if (personal) {
		int *penalty = arena_alloc(a, sizeof(int) * (size_t)(ncand + 1));
		if (!match_prefs(db, m, &out->prefs, cand, ncand, penalty))
			return MERR_INTERNAL;
		out->reranked = rerank(cand, penalty, nstored);
	}

	/* interleave: stored, WS2, stored, WS2 … each product once */
	out->recs = arena_alloc(a, sizeof(*out->recs) * (size_t)(limit + 1));
	int si = 0, ai = nstored;
	bool take_ai = false;
	while (out->n < limit && (si < nstored || ai < ncand)) {
		struct personal_rec *c;
		if ((take_ai && ai < ncand) || si == nstored)
			c = &cand[ai++];
		else
			c = &cand[si++];
		take_ai = !take_ai;
		bool dup = false;
		for (int i = 0; i < out->n && !dup; i++)
			dup = out->recs[i].item.id == c->item.id;
		if (dup)
			continue;
		out->recs[out->n++] = *c;
		out->ai_blended += c->from_ai;
	}
	return MERR_OK;
}
