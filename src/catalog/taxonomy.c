#include "catalog/taxonomy.h"

#include <stdio.h>
#include <string.h>

#include "catalog/product.h"
#include "core/timeutil.h"
#include "db/db.h"

int category_list(struct db *db, struct arena *a, int64_t market_id, struct category **out)
{
	struct db_res r;
	if (db_query(db, &r,
		     "SELECT c.id, COALESCE(c.parent_id, 0), c.slug, c.name, "
		     "COALESCE(o.display_order, c.display_order) AS ord FROM categories c "
		     "LEFT JOIN category_market_order o ON o.category_id = c.id AND o.market_id = $1 "
		     "ORDER BY ord, c.id",
		     DBV(DI(market_id))) != DB_OK)
		return -1;
	struct category *c = arena_alloc(a, sizeof(*c) * (size_t)(r.nrows + 1));
	for (int i = 0; i < r.nrows; i++)
		c[i] = (struct category){db_int(&r, i, 0), db_int(&r, i, 1), arena_strdup(a, db_text(&r, i, 2)),
					 arena_strdup(a, db_text(&r, i, 3)), db_int(&r, i, 4)};
	int n = r.nrows;
	db_res_free(&r);
	*out = c;
	return n;
}

/* Would making parent the parent of id create a cycle? Walk up from parent. */
static bool makes_cycle(struct db *db, int64_t id, int64_t parent)
{
	for (int depth = 0; parent && depth < 64; depth++) {
		if (parent == id)
			return true;
		if (db_scalar(db, &parent, 0, "SELECT COALESCE(parent_id, 0) FROM categories WHERE id = $1",
			      DBV(DI(parent))) != DB_OK)
			return true;
	}
	return parent != 0;
}

enum merr category_save(struct db *db, int64_t *id, const char *slug, const char *name,
			const char *parent_slug, int64_t display_order,
			const struct category_order *orders, int norders, struct verr *e)
{
	int64_t parent = 0;
	enum merr m = MERR_INTERNAL;
	if (db_begin(db) != DB_OK)
		return MERR_UNAVAILABLE;
	if (parent_slug && *parent_slug && !(parent = category_id_of(db, parent_slug))) {
		verr_set(e, MERR_VALIDATION, "parent", "unknown parent category '%.40s'", parent_slug);
		m = MERR_VALIDATION;
		goto out;
	}
	if (*id && parent && makes_cycle(db, *id, parent)) {
		verr_set(e, MERR_VALIDATION, "parent", "a category cannot sit under itself");
		m = MERR_VALIDATION;
		goto out;
	}
	int rc;
	if (!*id) {
		struct db_res r;
		rc = db_query(db, &r,
			      "INSERT INTO categories (slug, name, parent_id, display_order) VALUES ($1, $2, $3, $4) "
			      "RETURNING id",
			      DBV(DT(slug), DT(name), parent ? DI(parent) : DN,
				  DI(display_order < 0 ? 0 : display_order)));
		if (rc == DB_OK) {
			*id = db_int(&r, 0, 0);
			db_res_free(&r);
		}
	} else {
		int64_t n = 0;
		/* parent_slug "" moves the category to the top level */
		rc = db_exec(db,
			     "UPDATE categories SET slug = COALESCE($2, slug), name = COALESCE($3, name), "
			     "parent_id = CASE WHEN $4 = 1 THEN $5 ELSE parent_id END, "
			     "display_order = CASE WHEN $6 < 0 THEN display_order ELSE $6 END WHERE id = $1",
			     DBV(DI(*id), DT(slug), DT(name), DI(parent_slug != NULL), parent ? DI(parent) : DN,
				 DI(display_order)),
			     &n);
		if (rc == DB_OK && n == 0) {
			m = MERR_NOT_FOUND;
			goto out;
		}
	}
	if (rc == DB_CONSTRAINT) {
		verr_set(e, MERR_CONFLICT, "slug", "category '%.40s' already exists", slug ? slug : "");
		m = MERR_CONFLICT;
		goto out;
	}
	if (rc != DB_OK)
		goto out;
	for (int i = 0; i < norders; i++)
		if (db_exec(db,
			    "INSERT INTO category_market_order (category_id, market_id, display_order) "
			    "VALUES ($1, $2, $3) ON CONFLICT (category_id, market_id) DO UPDATE SET "
			    "display_order = $3",
			    DBV(DI(*id), DI(orders[i].market_id), DI(orders[i].display_order)), NULL) != DB_OK)
			goto out;
	/* a moved category changes which listings its products appear under */
	if (parent_slug && !product_reindex_all(db))
		goto out;
	m = db_commit(db) == DB_OK ? MERR_OK : MERR_INTERNAL;
out:
	if (m != MERR_OK)
		db_rollback(db);
	return m;
}

static const char BRAND_COLS[] =
	"SELECT b.id, b.name, b.slug, b.popularity_score, b.quality_rating, b.demographics, "
	"(SELECT COUNT(*) FROM products p WHERE p.brand_id = b.id AND p.status = 'active') FROM brands b ";

static void brand_row(struct arena *a, const struct db_res *r, int i, struct brand *b)
{
	b->id = db_int(r, i, 0);
	b->name = arena_strdup(a, db_text(r, i, 1));
	b->slug = arena_strdup(a, db_text(r, i, 2));
	b->popularity_score = db_int(r, i, 3);
	b->quality_rating = db_int(r, i, 4);
	b->demographics = arena_strdup(a, db_text(r, i, 5));
	b->products = db_int(r, i, 6);
}

int brand_list(struct db *db, struct arena *a, int64_t after, int64_t limit, struct brand **out)
{
	char sql[512];
	snprintf(sql, sizeof(sql), "%sWHERE b.id > $1 ORDER BY b.id LIMIT $2", BRAND_COLS);
	struct db_res r;
	if (db_query(db, &r, sql, DBV(DI(after), DI(limit))) != DB_OK)
		return -1;
	struct brand *b = arena_alloc(a, sizeof(*b) * (size_t)(r.nrows + 1));
	for (int i = 0; i < r.nrows; i++)
		brand_row(a, &r, i, &b[i]);
	int n = r.nrows;
	db_res_free(&r);
	*out = b;
	return n;
}

enum merr brand_get(struct db *db, struct arena *a, int64_t id, struct brand *out)
{
	char sql[512];
	snprintf(sql, sizeof(sql), "%sWHERE b.id = $1", BRAND_COLS);
	struct db_res r;
	if (db_query(db, &r, sql, DBV(DI(id))) != DB_OK)
		return MERR_INTERNAL;
	enum merr m = r.nrows ? MERR_OK : MERR_NOT_FOUND;
	if (r.nrows)
		brand_row(a, &r, 0, out);
	db_res_free(&r);
	return m;
}

enum merr brand_save(struct db *db, struct brand *b, struct verr *e)
{
	char slug[128] = "";
	if (b->name) {
		catalog_slugify(b->name, slug, sizeof(slug));
		if (!*slug) {
			verr_set(e, MERR_VALIDATION, "name", "a brand name needs a letter or digit");
			return MERR_VALIDATION;
		}
	}
	const char *sp = b->name ? slug : NULL;
	int rc;
	if (!b->id) {
		struct db_res r;
		rc = db_query(db, &r,
			      "INSERT INTO brands (name, slug, popularity_score, quality_rating, demographics, "
			      "created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
			      DBV(DT(b->name), DT(sp), DI(b->popularity_score < 0 ? 0 : b->popularity_score),
				  DI(b->quality_rating < 0 ? 0 : b->quality_rating),
				  DT(b->demographics ? b->demographics : "[]"), DI(time_now())));
		if (rc == DB_OK) {
			b->id = db_int(&r, 0, 0);
			db_res_free(&r);
		}
	} else {
		int64_t n = 0;
		rc = db_exec(db,
			     "UPDATE brands SET name = COALESCE($2, name), slug = COALESCE($3, slug), "
			     "popularity_score = CASE WHEN $4 < 0 THEN popularity_score ELSE $4 END, "
			     "quality_rating = CASE WHEN $5 < 0 THEN quality_rating ELSE $5 END, "
			     "demographics = COALESCE($6, demographics) WHERE id = $1",
			     DBV(DI(b->id), DT(b->name), DT(sp), DI(b->popularity_score), DI(b->quality_rating),
				 DT(b->demographics)),
			     &n);
		if (rc == DB_OK && !n)
			return MERR_NOT_FOUND;
	}
	if (rc == DB_CONSTRAINT) {
		verr_set(e, MERR_CONFLICT, "name", "a brand named like '%.40s' exists", b->name);
		return MERR_CONFLICT;
	}
	return rc == DB_OK ? MERR_OK : MERR_INTERNAL;
}

enum merr collection_save(struct db *db, struct collection *c, struct verr *e)
{
	enum merr m = MERR_INTERNAL;
	int rc;
	if (db_begin(db) != DB_OK)
		return MERR_UNAVAILABLE;
	if (!c->id) {
		struct db_res r;
		rc = db_query(db, &r,
			      "INSERT INTO collections (name, slug, description, starts_at, ends_at, created_at) "
			      "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
			      DBV(DT(c->name), DT(c->slug), DT(c->description ? c->description : ""),
				  c->starts_at ? DI(c->starts_at) : DN, c->ends_at ? DI(c->ends_at) : DN,
				  DI(time_now())));
		if (rc == DB_OK) {
			c->id = db_int(&r, 0, 0);
			db_res_free(&r);
		}
	} else {
		int64_t n = 0;
		/* a negative time clears a bound; 0 keeps it */
		rc = db_exec(db,
			     "UPDATE collections SET name = COALESCE($2, name), slug = COALESCE($3, slug), "
			     "description = COALESCE($4, description), "
			     "starts_at = CASE WHEN $5 = 0 THEN starts_at WHEN $5 < 0 THEN NULL ELSE $5 END, "
			     "ends_at = CASE WHEN $6 = 0 THEN ends_at WHEN $6 < 0 THEN NULL ELSE $6 END "
			     "WHERE id = $1",
			     DBV(DI(c->id), DT(c->name), DT(c->slug), DT(c->description), DI(c->starts_at),
				 DI(c->ends_at)),
			     &n);
		if (rc == DB_OK && !n) {
			m = MERR_NOT_FOUND;
			goto out;
		}
	}
	if (rc == DB_CONSTRAINT) {
		verr_set(e, MERR_CONFLICT, "slug", "collection '%.40s' already exists", c->slug ? c->slug : "");
		m = MERR_CONFLICT;
		goto out;
	}
	if (rc != DB_OK)
		goto out;
	if (c->set_products) {
		if (db_exec(db, "DELETE FROM collection_products WHERE collection_id = $1", DBV(DI(c->id)),
			    NULL) != DB_OK)
			goto out;
		for (int i = 0; i < c->nproducts; i++) {
			rc = db_exec(db,
				     "INSERT INTO collection_products (collection_id, product_id, position) "
				     "VALUES ($1, $2, $3)",
				     DBV(DI(c->id), DI(c->product_ids[i]), DI(i)), NULL);
			if (rc == DB_CONSTRAINT) {
				char f[40];
				snprintf(f, sizeof(f), "product_ids[%d]", i);
				verr_set(e, MERR_VALIDATION, f, "no such product, or listed twice");
				m = MERR_VALIDATION;
				goto out;
			}
			if (rc != DB_OK)
				goto out;
		}
	}
	m = db_commit(db) == DB_OK ? MERR_OK : MERR_INTERNAL;
out:
	if (m != MERR_OK)
		db_rollback(db);
	return m;
}

enum merr collection_delete(struct db *db, int64_t id)
{
	int64_t n = 0;
	if (db_exec(db, "DELETE FROM collections WHERE id = $1", DBV(DI(id)), &n) != DB_OK)
		return MERR_INTERNAL;
	return n ? MERR_OK : MERR_NOT_FOUND;
}

static const char COLLECTION_COLS[] =
	"SELECT id, name, slug, description, COALESCE(starts_at, 0), COALESCE(ends_at, 0) FROM collections ";

static void collection_row(struct arena *a, const struct db_res *r, int i, struct collection *c)
{
	c->id = db_int(r, i, 0);
	c->name = arena_strdup(a, db_text(r, i, 1));
	c->slug = arena_strdup(a, db_text(r, i, 2));
	c->description = arena_strdup(a, db_text(r, i, 3));
	c->starts_at = db_int(r, i, 4);
	c->ends_at = db_int(r, i, 5);
}

enum merr collection_get(struct db *db, struct arena *a, int64_t id, int64_t market_id,
			 struct collection *out)
{
	memset(out, 0, sizeof(*out));
	char sql[256];
	snprintf(sql, sizeof(sql), "%sWHERE id = $1", COLLECTION_COLS);
	struct db_res r;
	if (db_query(db, &r, sql, DBV(DI(id))) != DB_OK)
		return MERR_INTERNAL;
	if (!r.nrows) {
		db_res_free(&r);
		return MERR_NOT_FOUND;
	}
	collection_row(a, &r, 0, out);
	db_res_free(&r);
	int rc = market_id
			 ? db_query(db, &r,
				    "SELECT cp.product_id FROM collection_products cp JOIN product_market l ON "
				    "l.product_id = cp.product_id AND l.market_id = $2 AND l.scope_id = 0 "
				    "WHERE cp.collection_id = $1 "
				    "ORDER BY cp.position",
				    DBV(DI(id), DI(market_id)))
			 : db_query(db, &r,
				    "SELECT product_id FROM collection_products WHERE collection_id = $1 "
				    "ORDER BY position",
				    DBV(DI(id)));
	if (rc != DB_OK)
		return MERR_INTERNAL;
	out->nproducts = r.nrows;
	out->product_ids = arena_alloc(a, sizeof(int64_t) * (size_t)(r.nrows + 1));
	for (int i = 0; i < r.nrows; i++)
		out->product_ids[i] = db_int(&r, i, 0);
	db_res_free(&r);
	return MERR_OK;
}

int collection_list_active(struct db *db, struct arena *a, int64_t now, int64_t after, int64_t limit,
			   struct collection **out)
{
	char sql[512];
	snprintf(sql, sizeof(sql),
		 "%sWHERE id > $2 AND (starts_at IS NULL OR starts_at <= $1) AND "
		 "(ends_at IS NULL OR ends_at > $1) ORDER BY id LIMIT $3",
		 COLLECTION_COLS);
	struct db_res r;
	if (db_query(db, &r, sql, DBV(DI(now), DI(after), DI(limit))) != DB_OK)
		return -1;
	struct collection *c = arena_alloc(a, sizeof(*c) * (size_t)(r.nrows + 1));
	for (int i = 0; i < r.nrows; i++)
		collection_row(a, &r, i, &c[i]);
	int n = r.nrows;
	db_res_free(&r);
	*out = c;
	return n;
}
