#include "catalog/product.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/inventory.h"
#include "core/buf.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "db/db.h"

int64_t category_id_of(struct db *db, const char *slug)
{
	int64_t id;
	if (db_scalar(db, &id, 0, "SELECT id FROM categories WHERE slug = $1", DBV(DT(slug))) != DB_OK)
		return 0;
	return id;
}

int64_t brand_id_of(struct db *db, const char *name)
{
	char slug[128];
	catalog_slugify(name, slug, sizeof(slug));
	const char *sp = slug; /* DT() tests its argument for NULL */
	int64_t id = 0;
	if (!*slug || db_scalar(db, &id, 0, "SELECT id FROM brands WHERE slug = $1", DBV(DT(sp))) != DB_OK)
		return 0;
	return id;
}

int64_t brand_ensure(struct db *db, const char *name)
{
	char slug[128];
	catalog_slugify(name, slug, sizeof(slug));
	const char *sp = slug; /* DT() tests its argument for NULL */
	if (!*slug)
		return 0;
	int64_t id = 0;
	/* look first: the common case is a known brand, and an INSERT that does
	 * nothing still takes the write lock on PostgreSQL's index */
	if (db_scalar(db, &id, 0, "SELECT id FROM brands WHERE slug = $1", DBV(DT(sp))) != DB_OK)
		return 0;
	if (id)
		return id;
	if (db_exec(db,
		    "INSERT INTO brands (name, slug, created_at) VALUES ($1, $2, $3) "
		    "ON CONFLICT DO NOTHING",
		    DBV(DT(name), DT(sp), DI(time_now())), NULL) != DB_OK ||
	    db_scalar(db, &id, 0, "SELECT id FROM brands WHERE slug = $1", DBV(DT(sp))) != DB_OK)
		return 0;
	return id;
}

/* Write a variant's stock row (insert or set). */
static enum merr put_stock(struct db *db, const struct variant *v, int64_t now, bool fresh)
{
	int rc = db_exec(db,
			 "INSERT INTO inventory (variant_id, stock, reserved, low_stock_threshold, updated_at) "
			 "VALUES ($1, $2, 0, $3, $4) ON CONFLICT (variant_id) DO UPDATE SET stock = $2, "
			 "updated_at = $4",
			 DBV(DI(v->id), DI(v->stock), DI(v->low_stock_threshold), DI(now)), NULL);
	if (rc == DB_CONSTRAINT)
		return MERR_CONFLICT; /* stock below what is reserved */
	if (rc != DB_OK)
		return MERR_INTERNAL;
	/* a new variant above its threshold has no alert to raise or resolve */
	if (fresh && v->stock > v->low_stock_threshold)
		return MERR_OK;
	return inventory_check_alert(db, v->id, now) ? MERR_OK : MERR_INTERNAL;
}

static enum merr put_prices(struct db *db, const struct variant *v, bool replace)
{
	if (replace && db_exec(db, "DELETE FROM product_prices WHERE variant_id = $1", DBV(DI(v->id)),
			       NULL) != DB_OK)
		return MERR_INTERNAL;
	for (int k = 0; k < v->nprices; k++)
		if (db_exec(db, "INSERT INTO product_prices (variant_id, market_id, price) VALUES ($1, $2, $3)",
			    DBV(DI(v->id), DI(v->prices[k].market_id), DI(v->prices[k].amount)),
			    NULL) != DB_OK)
			return MERR_INTERNAL;
	return MERR_OK;
}

static enum merr insert_variant(struct db *db, int64_t product_id, int idx, struct variant *v,
				int64_t now, struct verr *e)
{
	struct db_res r;
	int rc = db_query(db, &r,
			  "INSERT INTO product_variants (product_id, sku, size, color, images, created_at) "
			  "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
			  DBV(DI(product_id), DT(v->sku), DT(v->size), DT(v->color),
			      DT(v->images ? v->images : "[]"), DI(now)));
	if (rc == DB_CONSTRAINT) {
		char f[48];
		snprintf(f, sizeof(f), "variants[%d].sku", idx);
		verr_set(e, MERR_CONFLICT, f, "SKU '%s' already exists", v->sku);
		return MERR_CONFLICT;
	}
	if (rc != DB_OK)
		return MERR_INTERNAL;
	v->id = db_int(&r, 0, 0);
	db_res_free(&r);
	if (!v->low_stock_threshold)
		v->low_stock_threshold = 5;
	enum merr m = put_prices(db, v, false);
	return m ? m : put_stock(db, v, now, true);
}

static enum merr resolve_refs(struct db *db, struct product *p, struct verr *e)
{
	if (p->category) {
		p->category_id = category_id_of(db, p->category);
		if (!p->category_id) {
			verr_set(e, MERR_VALIDATION, "category", "unknown category '%.40s'", p->category);
			return MERR_VALIDATION;
		}
	}
	if (p->brand && *p->brand) {
		p->brand_id = brand_ensure(db, p->brand);
		if (!p->brand_id) {
			verr_set(e, MERR_VALIDATION, "brand", "brand needs a letter or digit");
			return MERR_VALIDATION;
		}
	}
	return MERR_OK;
}

enum merr product_insert(struct db *db, struct product *p, struct verr *e)
{
	enum merr m = resolve_refs(db, p, e);
	if (m)
		return m;
	int64_t now = time_now();
	p->created_at = p->updated_at = now;
	if (!p->status)
		p->status = "active";
	struct db_res r;
	int rc = db_query(db, &r,
			  "INSERT INTO products (merchant_id, brand_id, category_id, name, description, tags, "
			  "status, created_at, updated_at, external_id) "
			  "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9) RETURNING id",
			  DBV(DI(p->merchant_id), p->brand_id ? DI(p->brand_id) : DN, DI(p->category_id),
			      DT(p->name), DT(p->description ? p->description : ""),
			      DT(p->tags ? p->tags : "[]"), DT(p->status), DI(now), DT(p->external_id)));
	if (rc == DB_CONSTRAINT) {
		verr_set(e, MERR_CONFLICT, "external_id", "this merchant already has product '%.40s'",
			 p->external_id ? p->external_id : "");
		return MERR_CONFLICT;
	}
	if (rc != DB_OK)
		return MERR_INTERNAL;
	p->id = db_int(&r, 0, 0);
	db_res_free(&r);
	for (int i = 0; i < p->nvariants; i++)
		if ((m = insert_variant(db, p->id, i, &p->variants[i], now, e)) != MERR_OK)
			return m;
	if (p->defer_reindex)
		return MERR_OK;
	return product_reindex(db, p->id) ? MERR_OK : MERR_INTERNAL;
}

enum merr product_create(struct db *db, struct product *p, struct verr *e)
{
	if (db_begin(db) != DB_OK)
		return MERR_UNAVAILABLE;
	enum merr m = product_insert(db, p, e);
	if (m == MERR_OK && db_commit(db) != DB_OK)
		m = MERR_INTERNAL;
	if (m != MERR_OK)
		db_rollback(db);
	return m;
}

/* Update (or add) one variant of product id from the patch. */
static enum merr apply_variant(struct db *db, int64_t id, int idx, struct variant *v, int64_t now,
			       struct verr *e)
{
	struct db_res r;
	if (db_query(db, &r, "SELECT id, product_id FROM product_variants WHERE sku = $1",
		     DBV(DT(v->sku))) != DB_OK)
		return MERR_INTERNAL;
	int64_t vid = r.nrows ? db_int(&r, 0, 0) : 0, owner = r.nrows ? db_int(&r, 0, 1) : 0;
	db_res_free(&r);
	if (!vid)
		return insert_variant(db, id, idx, v, now, e);
	if (owner != id) {
		char f[48];
		snprintf(f, sizeof(f), "variants[%d].sku", idx);
		verr_set(e, MERR_CONFLICT, f, "SKU '%s' belongs to another product", v->sku);
		return MERR_CONFLICT;
	}
	v->id = vid;
	if (db_exec(db,
		    "UPDATE product_variants SET size = COALESCE($2, size), color = COALESCE($3, color), "
		    "images = COALESCE($4, images) WHERE id = $1",
		    DBV(DI(vid), DT(v->size), DT(v->color), DT(v->images)), NULL) != DB_OK)
		return MERR_INTERNAL;
	enum merr m = MERR_OK;
	if (v->has_prices)
		m = put_prices(db, v, true);
	if (!m && v->has_stock) {
		m = put_stock(db, v, now, false);
		if (m == MERR_CONFLICT) {
			char f[48];
			snprintf(f, sizeof(f), "variants[%d].stock", idx);
			verr_set(e, MERR_CONFLICT, f, "stock cannot go below the %s reserved units",
				 "already");
		}
	}
	return m;
}

enum merr product_apply(struct db *db, int64_t id, const struct product *patch, struct verr *e)
{
	struct product p = *patch;
	enum merr m = resolve_refs(db, &p, e);
	if (m)
		return m;
	int64_t now = time_now(), n;
	if (db_exec(db,
		    "UPDATE products SET name = COALESCE($2, name), description = COALESCE($3, description), "
		    "tags = COALESCE($4, tags), status = COALESCE($5, status), "
		    "category_id = COALESCE($6, category_id), brand_id = COALESCE($7, brand_id), "
		    "updated_at = $8 WHERE id = $1",
		    DBV(DI(id), DT(p.name), DT(p.description), DT(p.tags), DT(p.status),
			p.category_id ? DI(p.category_id) : DN, p.brand_id ? DI(p.brand_id) : DN, DI(now)),
		    &n) != DB_OK)
		return MERR_INTERNAL;
	if (n == 0)
		return MERR_NOT_FOUND;
	for (int i = 0; i < p.nvariants; i++)
		if ((m = apply_variant(db, id, i, &p.variants[i], now, e)) != MERR_OK)
			return m;
	if (patch->defer_reindex)
		return MERR_OK;
	return product_reindex(db, id) ? MERR_OK : MERR_INTERNAL;
}

enum merr product_update(struct db *db, int64_t id, const struct product *patch, struct verr *e)
{
	if (db_begin(db) != DB_OK)
		return MERR_UNAVAILABLE;
	enum merr m = product_apply(db, id, patch, e);
	if (m == MERR_OK && db_commit(db) != DB_OK)
		m = MERR_INTERNAL;
	if (m != MERR_OK)
		db_rollback(db);
	return m;
}

enum merr product_archive(struct db *db, int64_t id)
{
	struct product patch = {.status = "archived"};
	struct verr e;
	return product_update(db, id, &patch, &e);
}

int64_t product_merchant(struct db *db, int64_t id)
{
	int64_t m;
	if (db_scalar(db, &m, 0, "SELECT merchant_id FROM products WHERE id = $1", DBV(DI(id))) != DB_OK)
		return 0;
	return m;
}

enum merr product_load(struct db *db, struct arena *a, int64_t id, struct product *out)
{
	memset(out, 0, sizeof(*out));
	struct db_res r;
	if (db_query(db, &r,
		     "SELECT p.id, p.merchant_id, p.brand_id, p.category_id, p.popularity, p.created_at, "
		     "p.updated_at, p.external_id, p.name, b.name, c.slug, p.description, p.tags, p.status "
		     "FROM products p JOIN categories c ON c.id = p.category_id "
		     "LEFT JOIN brands b ON b.id = p.brand_id WHERE p.id = $1",
		     DBV(DI(id))) != DB_OK)
		return MERR_INTERNAL;
	if (!r.nrows) {
		db_res_free(&r);
		return MERR_NOT_FOUND;
	}
	out->id = db_int(&r, 0, 0);
	out->merchant_id = db_int(&r, 0, 1);
	out->brand_id = db_int(&r, 0, 2);
	out->category_id = db_int(&r, 0, 3);
	out->popularity = db_int(&r, 0, 4);
	out->created_at = db_int(&r, 0, 5);
	out->updated_at = db_int(&r, 0, 6);
	out->external_id = arena_strdup(a, db_text(&r, 0, 7));
	out->name = arena_strdup(a, db_text(&r, 0, 8));
	out->brand = arena_strdup(a, db_text(&r, 0, 9));
	out->category = arena_strdup(a, db_text(&r, 0, 10));
	out->description = arena_strdup(a, db_text(&r, 0, 11));
	out->tags = arena_strdup(a, db_text(&r, 0, 12));
	out->status = arena_strdup(a, db_text(&r, 0, 13));
	db_res_free(&r);

	/* categories are a shallow tree: collect the chain up, then reverse it */
	struct category_ref up[CATEGORY_MAX_DEPTH];
	for (int64_t cid = out->category_id; cid && out->npath < CATEGORY_MAX_DEPTH; out->npath++) {
		if (db_query(db, &r, "SELECT id, slug, name, parent_id FROM categories WHERE id = $1",
			     DBV(DI(cid))) != DB_OK)
			return MERR_INTERNAL;
		if (!r.nrows) {
			db_res_free(&r);
			break;
		}
		up[out->npath] = (struct category_ref){db_int(&r, 0, 0), arena_strdup(a, db_text(&r, 0, 1)),
						       arena_strdup(a, db_text(&r, 0, 2))};
		cid = db_int(&r, 0, 3);
		db_res_free(&r);
	}
	for (int i = 0; i < out->npath; i++)
		out->path[i] = up[out->npath - 1 - i];

	/* variants with their stock, then all their prices in one query */
	if (db_query(db, &r,
		     "SELECT v.id, v.sku, v.size, v.color, v.images, COALESCE(i.stock, 0), "
		     "COALESCE(i.reserved, 0), COALESCE(i.low_stock_threshold, 5) FROM product_variants v "
		     "LEFT JOIN inventory i ON i.variant_id = v.id WHERE v.product_id = $1 ORDER BY v.id",
		     DBV(DI(id))) != DB_OK)
		return MERR_INTERNAL;
	out->nvariants = r.nrows;
	out->variants = arena_alloc(a, sizeof(struct variant) * (size_t)(r.nrows ? r.nrows : 1));
	for (int i = 0; i < r.nrows; i++) {
		struct variant *v = &out->variants[i];
		v->id = db_int(&r, i, 0);
		v->sku = arena_strdup(a, db_text(&r, i, 1));
		v->size = arena_strdup(a, db_text(&r, i, 2));
		v->color = arena_strdup(a, db_text(&r, i, 3));
		v->images = arena_strdup(a, db_text(&r, i, 4));
		v->stock = db_int(&r, i, 5);
		v->reserved = db_int(&r, i, 6);
		v->low_stock_threshold = db_int(&r, i, 7);
	}
	db_res_free(&r);
	if (db_query(db, &r,
		     "SELECT pp.variant_id, pp.market_id, pp.price FROM product_prices pp "
		     "JOIN product_variants v ON v.id = pp.variant_id WHERE v.product_id = $1 "
		     "ORDER BY pp.variant_id, pp.market_id",
		     DBV(DI(id))) != DB_OK)
		return MERR_INTERNAL;
	for (int i = 0, vi = 0; i < r.nrows; i++) {
		int64_t vid = db_int(&r, i, 0);
		while (vi < out->nvariants && out->variants[vi].id < vid)
			vi++;
		if (vi == out->nvariants)
			break;
		struct variant *v = &out->variants[vi];
		if (v->id == vid && v->nprices < PRODUCT_MAX_MARKETS)
			v->prices[v->nprices++] =
				(struct variant_price){db_int(&r, i, 1), db_int(&r, i, 2)};
	}
	db_res_free(&r);
	return MERR_OK;
}

/* product_market rows of the active products matching the last %s (a
 * condition on p): one per market where a variant has a price, times scope 0
 * and every category on the product's path, with the sizes and colours sold
 * there (see 005_catalog_scope.sql), those of the variants with units
 * available (008_listing_stock.sql) and the best stock status and first
 * variant's images (090_listing_items.sql; "+v.id" keeps PostgreSQL off the
 * primary key there). The other %s are the engine's string aggregate. CROSS
 * JOIN keeps the products outside: SQLite otherwise walks the scopes and
 * builds an automatic index over the aggregated rows, and the rows arrive in
 * product order, which their indexes take more cheaply (-9 % of the
 * instructions of a 1,000-product batch). catalog/listing.c builds the same
 * rows in C for a feed's new products: change the two together (a feed
 * test compares them). */
static const char LISTING_INSERT[] =
	"INSERT INTO product_market (product_id, market_id, scope_id, category_id, brand_id, price, "
	"price_max, popularity, created_at, sizes, colors, in_stock, stock_level, stock_sizes, "
	"stock_colors, image) "
	"WITH RECURSIVE up(category_id, scope_id) AS (SELECT id, id FROM categories UNION ALL "
	"SELECT up.category_id, c.parent_id FROM up JOIN categories c ON c.id = up.scope_id "
	"WHERE c.parent_id IS NOT NULL), scopes(category_id, scope_id) AS (SELECT category_id, "
	"scope_id FROM up UNION ALL SELECT id, 0 FROM categories) "
	"SELECT x.id, x.market_id, s.scope_id, x.category_id, x.brand_id, x.price, x.price_max, "
	"x.popularity, x.created_at, x.sizes, x.colors, x.in_stock, x.stock_level, "
	"COALESCE(x.stock_sizes, '|'), "
	"COALESCE(x.stock_colors, '|'), CASE WHEN s.scope_id = 0 THEN (SELECT v.images FROM "
	"product_variants v WHERE v.product_id = x.id ORDER BY +v.id LIMIT 1) END FROM (SELECT p.id, pp.market_id, p.category_id, "
	"p.brand_id, MIN(pp.price) AS price, MAX(pp.price) AS price_max, p.popularity, p.created_at, "
	"'|' || %s(LOWER(COALESCE(v.size, '')), '|') || '|' AS sizes, "
	"'|' || %s(LOWER(COALESCE(v.color, '')), '|') || '|' AS colors, "
	"MAX(CASE WHEN i.stock - i.reserved > 0 THEN 1 ELSE 0 END) AS in_stock, "
	"MAX(CASE WHEN i.stock - i.reserved > i.low_stock_threshold THEN 2 WHEN i.stock - i.reserved > 0 "
	"THEN 1 ELSE 0 END) AS stock_level, "
	"'|' || %s(CASE WHEN i.stock - i.reserved > 0 THEN LOWER(COALESCE(v.size, '')) END, '|') "
	"|| '|' AS stock_sizes, "
	"'|' || %s(CASE WHEN i.stock - i.reserved > 0 THEN LOWER(COALESCE(v.color, '')) END, '|') "
	"|| '|' AS stock_colors "
	"FROM products p JOIN product_variants v ON v.product_id = p.id "
	"JOIN product_prices pp ON pp.variant_id = v.id LEFT JOIN inventory i ON i.variant_id = v.id "
	"WHERE p.status = 'active'%s "
	"GROUP BY p.id, pp.market_id, p.category_id, p.brand_id, p.popularity, p.created_at) x "
	"CROSS JOIN scopes s WHERE s.category_id = x.category_id";

/*
 * Rebuilding the rows of products that have them: what the rebuild would
 * not make again goes first — every row of a product no longer active or
 * moved to another category (its scopes change with it), and the rows of a
 * market none of its variants has a price in any more — then LISTING_INSERT
 * writes only the rows that differ from what is there. A feed updating
 * products it already sent mostly changes nothing here, and deleting and
 * inserting every row again had been 4.4 s of a 7 s re-import of 50,000
 * products (six B-trees per row, twice).
 */
static const char LISTING_STALE[] =
	" AND (NOT EXISTS (SELECT 1 FROM products p WHERE p.id = product_market.product_id AND "
	"p.status = 'active' AND p.category_id = product_market.category_id) OR NOT EXISTS (SELECT 1 "
	"FROM product_variants v JOIN product_prices pp ON pp.variant_id = v.id WHERE v.product_id = "
	"product_market.product_id AND pp.market_id = product_market.market_id))";
static const char LISTING_UPSERT[] =
	" ON CONFLICT (product_id, market_id, scope_id) DO UPDATE SET brand_id = excluded.brand_id, "
	"price = excluded.price, price_max = excluded.price_max, popularity = excluded.popularity, "
	"created_at = excluded.created_at, sizes = excluded.sizes, colors = excluded.colors, "
	"in_stock = excluded.in_stock, stock_level = excluded.stock_level, "
	"stock_sizes = excluded.stock_sizes, stock_colors = excluded.stock_colors, image = excluded.image "
	"WHERE product_market.brand_id IS DISTINCT FROM excluded.brand_id OR "
	"product_market.price <> excluded.price OR product_market.price_max <> excluded.price_max OR "
	"product_market.popularity <> excluded.popularity OR "
	"product_market.created_at <> excluded.created_at OR product_market.sizes <> excluded.sizes OR "
	"product_market.colors <> excluded.colors OR product_market.in_stock <> excluded.in_stock OR "
	"product_market.stock_level <> excluded.stock_level OR "
	"product_market.stock_sizes <> excluded.stock_sizes OR "
	"product_market.stock_colors <> excluded.stock_colors OR "
	"product_market.image IS DISTINCT FROM excluded.image";

/* listing_attrs rows (see 008_listing_attrs.sql) of the active products
 * matching the %s conditions on p (twice the same). */
static const char ATTRS_INSERT[] =
	"INSERT INTO listing_attrs (category_id, attr, product_id) "
	"SELECT p.category_id, 's:' || LOWER(COALESCE(v.size, '')), p.id FROM products p "
	"JOIN product_variants v ON v.product_id = p.id WHERE p.status = 'active'%s UNION "
	"SELECT p.category_id, 'c:' || LOWER(COALESCE(v.color, '')), p.id FROM products p "
	"JOIN product_variants v ON v.product_id = p.id WHERE p.status = 'active'%s";

/* LISTING_INSERT for the products matching cond, into sql. */
static void listing_insert_sql(struct buf *sql, const struct db_dialect *d, const char *cond)
{
	buf_printf(sql, LISTING_INSERT, d->str_agg, d->str_agg, d->str_agg, d->str_agg, cond);
}

bool product_reindex(struct db *db, int64_t id)
{
	const struct db_dialect *d = db_conn_dialect(db);
	struct buf sql;
	buf_init(&sql, 4096);
	listing_insert_sql(&sql, d, " AND p.id = $1");
	bool ok = db_exec(db, "DELETE FROM product_market WHERE product_id = $1", DBV(DI(id)), NULL) ==
			  DB_OK &&
		  db_exec(db, sql.p, DBV(DI(id)), NULL) == DB_OK &&
		  db_exec(db, "DELETE FROM listing_attrs WHERE product_id = $1", DBV(DI(id)), NULL) == DB_OK;
	buf_reset(&sql);
	buf_printf(&sql, ATTRS_INSERT, " AND p.id = $1", " AND p.id = $1");
	ok = ok && db_exec(db, sql.p, DBV(DI(id)), NULL) == DB_OK;
	buf_free(&sql);
	if (!ok)
		return false;
	int64_t active = 0;
	if (db_scalar(db, &active, 0, "SELECT COUNT(*) FROM products WHERE id = $1 AND status = 'active'",
		      DBV(DI(id))) != DB_OK)
		return false;
	if (!active)
		return db_exec(db, d->fts_delete, DBV(DI(id)), NULL) == DB_OK;
	for (int i = 0; i < 2 && d->fts_index[i]; i++)
		if (db_exec(db, d->fts_index[i], DBV(DI(id)), NULL) != DB_OK)
			return false;
	return true;
}

/* Full-text rows of active products ids[0..n) (n at most a chunk): out of
 * date ones dropped first unless fresh (just inserted: none), then the
 * missing ones written (the dialect's fts_index_many). js is scratch. */
static bool fts_many(struct db *db, struct buf *js, const int64_t *ids, int n, bool fresh)
{
	const struct db_dialect *d = db_conn_dialect(db);
	db_json_ids(js, ids, n);
	for (int j = fresh && d->fts_index_many[1]; j < 2 && d->fts_index_many[j]; j++)
		if (db_exec(db, d->fts_index_many[j], DBV(DT(js->p)), NULL) != DB_OK)
			return false;
	return true;
}

bool product_fts_add(struct db *db, const int64_t *ids, int n)
{
	enum { CHUNK = 1000 };
	struct buf js;
	buf_init(&js, (size_t)24 * CHUNK + 16);
	bool ok = true;
	for (int off = 0; ok && off < n; off += CHUNK)
		ok = fts_many(db, &js, ids + off, n - off < CHUNK ? n - off : CHUNK, true);
	buf_free(&js);
	return ok;
}

/*
 * A constant number of statements per chunk of products whatever its size:
 * the ids travel as one JSON parameter, so the statement text (and its
 * prepared plan) is the same for every chunk and PostgreSQL's parameter
 * limit does not apply. The full-text index is written by one statement per
 * chunk too (FTS5 writes a segment at the end of each statement). Products
 * just inserted (fresh) have no rows to delete first.
 */
bool product_reindex_many(struct db *db, const int64_t *ids, int n, bool fresh)
{
	enum { CHUNK = 1000 };
	const struct db_dialect *d = db_conn_dialect(db);
	struct buf js, sql, cond;
	bool ok = true;
	buf_init(&js, (size_t)24 * CHUNK + 16);
	buf_init(&sql, 8192);
	buf_init(&cond, 256);
	buf_adds(&cond, " AND p.id");
	db_ids_in(&cond, d);
	int64_t *active = xmalloc(sizeof(int64_t) * CHUNK), *gone = xmalloc(sizeof(int64_t) * CHUNK);
	for (int off = 0; ok && off < n; off += CHUNK) {
		int k = n - off < CHUNK ? n - off : CHUNK;
		db_json_ids(&js, ids + off, k);
		const char *jp = js.p;
		if (!fresh) {
			buf_reset(&sql);
			buf_adds(&sql, "DELETE FROM product_market WHERE product_id");
			db_ids_in(&sql, d);
			buf_adds(&sql, LISTING_STALE);
			ok = db_exec(db, sql.p, DBV(DT(jp)), NULL) == DB_OK;
			buf_reset(&sql);
			buf_adds(&sql, "DELETE FROM listing_attrs WHERE product_id");
			db_ids_in(&sql, d);
			ok = ok && db_exec(db, sql.p, DBV(DT(jp)), NULL) == DB_OK;
		}
		buf_reset(&sql);
		listing_insert_sql(&sql, d, cond.p);
		if (!fresh)
			buf_adds(&sql, LISTING_UPSERT);
		ok = ok && db_exec(db, sql.p, DBV(DT(jp)), NULL) == DB_OK;
		buf_reset(&sql);
		buf_printf(&sql, ATTRS_INSERT, cond.p, cond.p);
		ok = ok && db_exec(db, sql.p, DBV(DT(jp)), NULL) == DB_OK;
		struct db_res r;
		buf_reset(&sql);
		buf_printf(&sql, "SELECT p.id, p.status = 'active' FROM products p WHERE 1 = 1%s", cond.p);
		if (!ok || db_query(db, &r, sql.p, DBV(DT(jp))) != DB_OK) {
			ok = false;
			break;
		}
		int na = 0, ng = 0;
		for (int i = 0; i < r.nrows && i < CHUNK; i++) {
			const char *act = db_text(&r, i, 1);
			if (act && (act[0] == '1' || act[0] == 't'))
				active[na++] = db_int(&r, i, 0);
			else
				gone[ng++] = db_int(&r, i, 0);
		}
		db_res_free(&r);
		if (na)
			ok = fts_many(db, &js, active, na, fresh);
		if (ok && ng) {
			db_json_ids(&js, gone, ng);
			jp = js.p;
			ok = db_exec(db, d->fts_delete_many, DBV(DT(jp)), NULL) == DB_OK;
		}
	}
	free(active);
	free(gone);
	buf_free(&js);
	buf_free(&sql);
	buf_free(&cond);
	return ok;
}

bool product_reindex_all(struct db *db)
{
	const struct db_dialect *d = db_conn_dialect(db);
	struct buf sql;
	buf_init(&sql, 4096);
	listing_insert_sql(&sql, d, "");
	bool ok = db_exec(db, "DELETE FROM product_market", DBV0, NULL) == DB_OK &&
		  db_exec(db, sql.p, DBV0, NULL) == DB_OK &&
		  db_exec(db, "DELETE FROM listing_attrs", DBV0, NULL) == DB_OK;
	buf_reset(&sql);
	buf_printf(&sql, ATTRS_INSERT, "", "");
	ok = ok && db_exec(db, sql.p, DBV0, NULL) == DB_OK;
	buf_free(&sql);
	if (!ok)
		return false;
	for (int i = 0; i < 2 && d->fts_rebuild[i]; i++)
		if (db_exec(db, d->fts_rebuild[i], DBV0, NULL) != DB_OK)
			return false;
	return true;
}
