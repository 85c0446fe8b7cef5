#include "integration/discover.h"

#include <stdio.h>
#include <string.h>

#include "cache/cache.h"
#include "core/buf.h"
#include "core/jw.h"
#include "core/log.h"
#include "db/db.h"
#include "integration/client.h"
#include "market/market.h"

/* A product card in market $1: columns id, name, category, brand, price, popularity. */
#define CARD_SELECT                                                                          \
	"SELECT p.id, p.name, c.slug, COALESCE(b.name, ''), MIN(pp.price), p.popularity "    \
	"FROM products p JOIN categories c ON c.id = p.category_id "                         \
	"LEFT JOIN brands b ON b.id = p.brand_id "                                           \
	"JOIN product_variants v ON v.product_id = p.id "                                    \
	"JOIN product_prices pp ON pp.variant_id = v.id AND pp.market_id = $1 "              \
	"WHERE p.status = 'active' "
#define CARD_GROUP " GROUP BY p.id, p.name, c.slug, b.name, p.popularity "

static void card_from_row(struct product_card *c, const struct db_res *r, int row)
{
	memset(c, 0, sizeof(*c));
	c->id = db_int(r, row, 0);
	snprintf(c->name, sizeof(c->name), "%s", db_text(r, row, 1) ? db_text(r, row, 1) : "");
	snprintf(c->category, sizeof(c->category), "%s", db_text(r, row, 2) ? db_text(r, row, 2) : "");
	snprintf(c->brand, sizeof(c->brand), "%s", db_text(r, row, 3) ? db_text(r, row, 3) : "");
	c->price = db_int(r, row, 4);
	c->score = db_real(r, row, 5);
}

static void fill_from_rows(struct discover_result *out, const struct db_res *r, int limit)
{
	out->n = 0;
	for (int i = 0; i < r->nrows && out->n < limit && out->n < DISCOVER_MAX; i++)
		card_from_row(&out->items[out->n++], r, i);
}

/* Cards for the ids a service ranked, in the service's order, keeping its
 * scores; ids we do not sell in this market are dropped. */
static bool hydrate(struct db *db, const struct market *m, const int64_t *ids, const double *scores,
		    int n, int limit, struct discover_result *out)
{
	out->n = 0;
	if (n == 0)
		return true;
	struct db_val params[DISCOVER_MAX + 1];
	struct buf sql;
	buf_init(&sql, 1 << 16);
	buf_adds(&sql, CARD_SELECT "AND p.id IN (");
	params[0] = DI(m->id);
	for (int i = 0; i < n; i++) {
		buf_printf(&sql, "%s$%d", i ? ", " : "", i + 2);
		params[i + 1] = DI(ids[i]);
	}
	buf_adds(&sql, ")" CARD_GROUP);
	struct db_res r;
	int rc = db_query(db, &r, sql.p, params, n + 1);
	buf_free(&sql);
	if (rc != DB_OK)
		return false;
	for (int i = 0; i < n && out->n < limit; i++) {
		for (int row = 0; row < r.nrows; row++) {
			if (db_int(&r, row, 0) != ids[i])
				continue;
			struct product_card *c = &out->items[out->n++];
			card_from_row(c, &r, row);
			c->score = scores[i];
			break;
		}
	}
	db_res_free(&r);
	return true;
}

/*
 * Read a service's ranked list: {"products": [{"product_id": 1, "score": 0.9}, …]}.
 * Returns how many ids were read, or -1 when the shape is wrong.
 */
static int ranked_ids(json_t *doc, int64_t *ids, double *scores)
{
	json_t *arr = json_object_get(doc, "products");
	if (!json_is_array(arr))
		return -1;
	int n = 0;
	size_t i;
	json_t *it;
	json_array_foreach(arr, i, it)
	{
		json_t *id = json_object_get(it, "product_id");
		if (!json_is_integer(id) || json_integer_value(id) <= 0)
			return -1;
		if (n == DISCOVER_MAX)
			break;
		json_t *sc = json_object_get(it, "score");
		ids[n] = json_integer_value(id);
		scores[n] = json_is_number(sc) ? json_number_value(sc) : 0.0;
		n++;
	}
	return n;
}

bool discover_from_service(struct db *db, const struct market *m, enum service_id svc,
			   const char *method, const char *path, const char *body, int limit,
			   struct discover_result *out)
{
	struct svc_result res;
	bool ok = svc_call(svc, method, path, body, true, &res);
	out->service_us = res.us;
	if (!ok) {
		out->fallback_reason = svc_outcome_name(res.outcome);
		return false;
	}
	int64_t ids[DISCOVER_MAX];
	double scores[DISCOVER_MAX];
	int n = ranked_ids(res.json, ids, scores);
	json_decref(res.json);
	if (n < 0) {
		out->fallback_reason = svc_outcome_name(SVC_BAD_RESPONSE);
		log_warn("service %s: %s answered an unexpected shape", svc_name(svc), path);
		return false;
	}
	if (!hydrate(db, m, ids, scores, n, limit, out)) {
		out->fallback_reason = "database_error";
		return false;
	}
	out->source = svc_name(svc);
	out->fallback_reason = NULL;
	return true;
}

enum merr discover_similar(struct db *db, const struct market *m, int64_t product_id, int limit,
			   struct discover_result *out)
{
	memset(out, 0, sizeof(*out));
	int64_t sold = 0;
	if (db_scalar(db, &sold, 0,
		      "SELECT COUNT(*) FROM products p JOIN product_variants v ON v.product_id = p.id "
		      "JOIN product_prices pp ON pp.variant_id = v.id AND pp.market_id = $1 "
		      "WHERE p.id = $2 AND p.status = 'active'",
		      DBV(DI(m->id), DI(product_id))) != DB_OK)
		return MERR_INTERNAL;
	if (!sold)
		return MERR_NOT_FOUND;
	char path[128];
	snprintf(path, sizeof(path), "/api/vision/similar-products/%lld?market=%s&limit=%d",
		 (long long)product_id, m->code, limit);
	if (discover_from_service(db, m, SVC_VISION, "GET", path, NULL, limit, out)) {
		/* the query product itself is not "similar" to itself */
		int k = 0;
		for (int i = 0; i < out->n; i++)
			if (out->items[i].id != product_id)
				out->items[k++] = out->items[i];
		out->n = k;
		return MERR_OK;
	}
	struct db_res r;
	if (db_query(db, &r,
		     CARD_SELECT "AND p.id <> $2 AND p.category_id = "
				 "(SELECT category_id FROM products WHERE id = $2)" CARD_GROUP
				 "ORDER BY CASE WHEN p.brand_id = (SELECT brand_id FROM products "
				 "WHERE id = $2) THEN 1 ELSE 0 END DESC, p.popularity DESC, p.id LIMIT $3",
		     DBV(DI(m->id), DI(product_id), DI(limit))) != DB_OK)
		return MERR_INTERNAL;
	fill_from_rows(out, &r, limit);
	db_res_free(&r);
	out->source = "catalog";
	return MERR_OK;
}

enum merr discover_popular_in(struct db *db, const struct market *m, const char *const *categories,
			      int ncat, const char *const *brands, int nbrand, int limit,
			      struct discover_result *out)
{
	struct db_val params[2 + 2 * 8 + 1];
	int np = 0;
	struct buf sql;
	buf_init(&sql, 1 << 14);
	buf_adds(&sql, CARD_SELECT);
	params[np++] = DI(m->id);
	if (ncat > 8)
		ncat = 8;
	if (nbrand > 8)
		nbrand = 8;
	if (ncat > 0) {
		buf_adds(&sql, "AND c.slug IN (");
		for (int i = 0; i < ncat; i++) {
			buf_printf(&sql, "%s$%d", i ? ", " : "", np + 1);
			params[np++] = DT(categories[i]);
		}
		buf_adds(&sql, ")");
	}
	buf_adds(&sql, CARD_GROUP "ORDER BY ");
	if (nbrand > 0) {
		buf_adds(&sql, "CASE WHEN b.name IN (");
		for (int i = 0; i < nbrand; i++) {
			buf_printf(&sql, "%s$%d", i ? ", " : "", np + 1);
			params[np++] = DT(brands[i]);
		}
		buf_adds(&sql, ") THEN 1 ELSE 0 END DESC, ");
	}
	buf_printf(&sql, "p.popularity DESC, p.id LIMIT $%d", np + 1);
	params[np++] = DI(limit);
	struct db_res r;
	int rc = db_query(db, &r, sql.p, params, np);
	buf_free(&sql);
	if (rc != DB_OK)
		return MERR_INTERNAL;
	fill_from_rows(out, &r, limit);
	db_res_free(&r);
	return MERR_OK;
}

static enum merr popular(struct db *db, const struct market *m, const char *category, int limit,
			 struct discover_result *out)
{
	if (category)
		return discover_popular_in(db, m, &category, 1, NULL, 0, limit, out);

	struct db_res r;
	int rc = category
			 ? db_query(db, &r,
				    CARD_SELECT "AND c.slug = $2" CARD_GROUP
						"ORDER BY p.popularity DESC, p.id LIMIT $3",
				    DBV(DI(m->id), DT(category), DI(limit)))
			 : db_query(db, &r,
				    CARD_SELECT CARD_GROUP "ORDER BY p.popularity DESC, p.id LIMIT $2",
				    DBV(DI(m->id), DI(limit)));
	if (rc != DB_OK)
		return MERR_INTERNAL;
	fill_from_rows(out, &r, limit);
	db_res_free(&r);
	return MERR_OK;
}

enum merr discover_image_search(struct db *db, const struct market *m, const char *request_json,
				const char *category, int limit, struct discover_result *out)
{
	memset(out, 0, sizeof(*out));
	if (discover_from_service(db, m, SVC_VISION, "POST", "/api/vision/product-search", request_json, limit,
			 out))
		return MERR_OK;
	/* nothing can look at the image: offer what sells, and say so */
	out->source = "catalog_popular";
	return popular(db, m, category, limit, out);
}

enum merr discover_trending(struct db *db, const struct market *m, int limit,
			    struct discover_result *out)
{
	memset(out, 0, sizeof(*out));
	char path[96];
	snprintf(path, sizeof(path), "/api/social/trending-products?market=%s&limit=%d", m->code, limit);
	if (discover_from_service(db, m, SVC_SOCIAL, "GET", path, NULL, limit, out))
		return MERR_OK;
	struct db_res r;
	if (db_query(db, &r,
		     "SELECT product_id, score FROM trending_products WHERE market_id = $1 "
		     "ORDER BY rank LIMIT $2",
		     DBV(DI(m->id), DI(limit))) != DB_OK)
		return MERR_INTERNAL;
	if (r.nrows > 0) {
		int64_t ids[DISCOVER_MAX];
		double scores[DISCOVER_MAX];
		int n = 0;
		for (int i = 0; i < r.nrows && n < DISCOVER_MAX; i++, n++) {
			ids[n] = db_int(&r, i, 0);
			scores[n] = db_real(&r, i, 1);
		}
		db_res_free(&r);
		if (!hydrate(db, m, ids, scores, n, limit, out))
			return MERR_INTERNAL;
		out->source = "trending_snapshot";
		return MERR_OK;
	}
	db_res_free(&r);
	/* the job has not run yet (new market, fresh database): compute it now */
	out->source = "catalog_popular";
	return popular(db, m, NULL, limit, out);
}

/*
 * Replace each market's snapshot in one transaction, so a reader sees the
 * old list or the new one, never half. The score is the catalog's popularity
 * counter; the snapshot is what lets the endpoint answer from one indexed
 * read while the social service is down. Ranks are upserted and the ranks
 * past the new list deleted: another instance replacing the same snapshot
 * at the same time (a scheduled run beside `mandi jobs run-once`) may have
 * written ranks after this DELETE looked, and the list written last wins
 * whole instead of the run failing on a duplicate rank.
 */
bool discover_refresh_trending(struct db *db, int64_t now)
{
	int nm;
	const struct market *ms = market_all(&nm);
	for (int k = 0; k < nm; k++) {
		struct discover_result top;
		memset(&top, 0, sizeof(top));
		if (popular(db, &ms[k], NULL, DISCOVER_MAX, &top) != MERR_OK)
			return false;
		if (db_begin(db) != DB_OK)
			return false;
		if (db_exec(db, "DELETE FROM trending_products WHERE market_id = $1", DBV(DI(ms[k].id)),
			    NULL) != DB_OK)
			goto fail;
		for (int i = 0; i < top.n; i++)
			if (db_exec(db,
				    "INSERT INTO trending_products (market_id, product_id, rank, score, "
				    "computed_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (market_id, rank) "
				    "DO UPDATE SET product_id = excluded.product_id, score = excluded.score, "
				    "computed_at = excluded.computed_at",
				    DBV(DI(ms[k].id), DI(top.items[i].id), DI(i + 1),
					DI((int64_t)top.items[i].score), DI(now)),
				    NULL) != DB_OK)
				goto fail;
		if (db_exec(db, "DELETE FROM trending_products WHERE market_id = $1 AND rank > $2",
			    DBV(DI(ms[k].id), DI(top.n)), NULL) != DB_OK)
			goto fail;
		if (db_commit(db) != DB_OK)
			return false;
	}
	/* every instance's cached trending answers are now stale */
	cache_clear("trending");
	return true;
fail:
	db_rollback(db);
	return false;
}
