/*
 * Applying a parsed feed: one transaction, products in batches.
 *
 * Everything that can be decided without writing is decided per batch first:
 * bad rows, unknown markets and categories (a category map loaded once), who
 * owns the feed's product codes and SKUs (two queries per batch), brands (a
 * map for the whole file). A batch is then written inside one savepoint with
 * a constant number of multi-row statements, for the products it updates
 * and for the new ones (each batch's cells travel as one parameter, see
 * struct db_rows). Should the database refuse any of it (a SKU taken
 * meanwhile, stock below what is reserved…), the batch is rolled back and
 * redone product by product, a savepoint each, so the refusal lands on the
 * rows of its own product and nothing else.
 * product_market rows and the full-text index are rebuilt once per batch;
 * for the new products of a batch written whole, the listing rows are built
 * from what the importer holds (catalog/listing.c) instead.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/feed.h"
#include "catalog/inventory.h"
#include "catalog/listing.h"
#include "catalog/names.h"
#include "catalog/product.h"
#include "core/strmap.h"
#include "core/timeutil.h"
#include "db/db.h"
#include "market/market.h"

/* Products per savepoint: big enough that per-statement costs vanish, small
 * enough that a batch redone product by product stays cheap. */
#define FEED_BATCH 1000

/* Rows of one product, in feed order (indexes into f->rows). */
struct group {
	int n;
	int *rows;
	bool ready;     /* passed every check: written by the batch */
	int64_t id;     /* the merchant's existing product, 0 = new */
	struct product p;
};

struct importer {
	struct db *db;
	int64_t merchant_id;
	struct feed *f;
	struct feed_result *res;
	struct group *groups;
	struct strmap categories, brands; /* for the whole file */
	struct strmap codes, skus;        /* per batch: the database's answers */
	struct db_rows rows;             /* a batch's cells (the dialect's rows_from) */
	/* statements, with the dialect's rows_from filled in */
	const char *q_codes, *q_skus, *q_products, *q_variants, *q_prices, *q_stock;
	const char *q_set_products, *q_set_variants, *q_clear_prices, *q_set_stock, *q_alerts;
	int64_t *touched, *fresh; /* products the batch updated / inserted one by one */
	int ntouched, nfresh;
	struct product **listed; /* its new products, when written whole */
	int nlisted;
	const struct catalog_names *names; /* the category tree, for the whole file */
};

static void fail_group(struct feed *f, const struct group *g, int except)
{
	for (int k = 0; k < g->n; k++) {
		struct feed_row *r = &f->rows[g->rows[k]];
		if (k != except && !r->bad)
			feed_row_fail(f, r, "", "not applied: another row of the same product is invalid");
	}
}

/* Map an import error on variants[i].x / a product field to its row. */
static void report(struct feed *f, const struct group *g, const struct verr *e)
{
	int idx = 0;
	const char *field = e->field;
	if (strncmp(field, "variants[", 9) == 0) {
		idx = (int)strtol(field + 9, NULL, 10);
		const char *dot = strchr(field, '.');
		field = dot ? dot + 1 : "";
		if (idx < 0 || idx >= g->n)
			idx = 0;
	}
	feed_row_fail(f, &f->rows[g->rows[idx]], field, e->message);
	fail_group(f, g, idx);
}

/* Build the product for a group; false (after reporting) on a bad market. */
static bool group_product(struct feed *f, const struct group *g, int64_t merchant_id, struct product *p)
{
	const struct feed_row *r0 = &f->rows[g->rows[0]];
	memset(p, 0, sizeof(*p));
	p->merchant_id = merchant_id;
	p->external_id = r0->product_code;
	p->name = r0->name;
	p->brand = r0->brand;
	p->category = r0->category;
	p->description = r0->description;
	p->tags = r0->tags;
	p->status = r0->status;
	p->nvariants = g->n;
	p->variants = arena_alloc(f->a, sizeof(struct variant) * (size_t)g->n);
	for (int k = 0; k < g->n; k++) {
		const struct feed_row *r = &f->rows[g->rows[k]];
		struct variant *v = &p->variants[k];
		v->sku = r->sku;
		v->size = r->size;
		v->color = r->color;
		v->images = r->images;
		v->has_stock = r->stock >= 0;
		v->stock = r->stock >= 0 ? r->stock : 0;
		v->low_stock_threshold = r->low_stock_threshold >= 0 ? r->low_stock_threshold : 5;
		v->has_prices = true;
		for (int i = 0; i < r->nprices; i++) {
			const struct market *mk = market_get(r->prices[i].market);
			if (!mk) {
				char field[16];
				snprintf(field, sizeof(field), "price_%s", r->prices[i].market);
				for (char *c = field + 6; *c; c++)
					*c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
				feed_row_fail(f, (struct feed_row *)r, field, "unknown market");
				fail_group(f, g, k);
				return false;
			}
			v->prices[v->nprices++] = (struct variant_price){mk->id, r->prices[i].amount};
		}
	}
	return true;
}

/* One statement with %s replaced by the rows_from FROM item over parameter
 * param (a DROWS parameter, columns c0 …). */
static const char *stmt(struct importer *im, const char *fmt, const char *param)
{
	char from[1024];
	snprintf(from, sizeof(from), db_conn_dialect(im->db)->rows_from, param);
	return arena_printf(im->f->a, fmt, from);
}

/* Stock rows (variant id, stock, threshold) at $1; new variants take them
 * as they are, updated ones keep their threshold and reservations. */
#define STOCK_INSERT                                                                  \
	"INSERT INTO inventory (variant_id, stock, reserved, low_stock_threshold, "    \
	"updated_at) SELECT CAST(c0 AS BIGINT), CAST(c1 AS BIGINT), 0, "              \
	"CAST(c2 AS BIGINT), $1 FROM %s"

static bool importer_init(struct importer *im)
{
	im->q_codes = stmt(im,
			   "SELECT external_id, id FROM products WHERE merchant_id = $1 AND "
			   "external_id IN (SELECT c0 FROM %s)",
			   "$2");
	im->q_skus =
	    stmt(im,
		 "SELECT v.sku, p.id, p.merchant_id FROM product_variants v JOIN products p "
		 "ON p.id = v.product_id WHERE v.sku IN (SELECT c0 FROM %s)",
		 "$1");
	im->q_products =
	    stmt(im,
		 "INSERT INTO products (merchant_id, brand_id, category_id, name, description, "
		 "tags, status, created_at, updated_at, external_id) SELECT $1, "
		 "CAST(c1 AS BIGINT), CAST(c2 AS BIGINT), c3, c4, c5, c6, $2, $2, c0 FROM %s "
		 "RETURNING id, external_id",
		 "$3");
	im->q_variants = stmt(im,
			      "INSERT INTO product_variants (product_id, sku, size, color, images, "
			      "created_at) SELECT CAST(c0 AS BIGINT), c1, c2, c3, c4, $1 FROM %s "
			      "RETURNING id, sku",
			      "$2");
	im->q_prices = stmt(im,
			    "INSERT INTO product_prices (variant_id, market_id, price) SELECT "
			    "CAST(c0 AS BIGINT), CAST(c1 AS BIGINT), CAST(c2 AS BIGINT) FROM %s",
			    "$1");
	im->q_stock = stmt(im, STOCK_INSERT, "$2");
	/* updates: the same COALESCE rules as product_apply, a statement per table */
	im->q_set_products =
	    stmt(im,
		 "UPDATE products SET name = COALESCE(c1, name), "
		 "description = COALESCE(c2, description), tags = COALESCE(c3, tags), "
		 "status = COALESCE(c4, status), "
		 "category_id = COALESCE(CAST(c5 AS BIGINT), category_id), "
		 "brand_id = COALESCE(CAST(c6 AS BIGINT), brand_id), updated_at = $1 "
		 "FROM %s WHERE products.id = CAST(c0 AS BIGINT)",
		 "$2");
	im->q_set_variants = stmt(im,
				  "UPDATE product_variants SET size = COALESCE(c1, size), "
				  "color = COALESCE(c2, color), images = COALESCE(c3, images) "
				  "FROM %s WHERE product_variants.sku = c0 RETURNING id, sku",
				  "$1");
	im->q_clear_prices = stmt(im,
				  "DELETE FROM product_prices WHERE variant_id IN "
				  "(SELECT CAST(c0 AS BIGINT) FROM %s)",
				  "$1");
	/* stock below what is reserved fails the CHECK: the batch is redone */
	im->q_set_stock = stmt(im,
			       STOCK_INSERT " WHERE true ON CONFLICT (variant_id) DO UPDATE SET "
					    "stock = excluded.stock, updated_at = excluded.updated_at",
			       "$2");
	/* the variants inventory_check_alert has something to do for: at or
	 * below the threshold, or with an open alert to resolve */
	im->q_alerts =
	    stmt(im,
		 "SELECT i.variant_id FROM inventory i WHERE i.variant_id IN "
		 "(SELECT CAST(c0 AS BIGINT) FROM %s) AND "
		 "(i.stock - i.reserved <= i.low_stock_threshold OR EXISTS (SELECT 1 FROM "
		 "system_alerts a WHERE a.status = 'open' AND "
		 "a.dedup_key = 'low_stock:variant:' || i.variant_id))",
		 "$1");
	/* categories are a small table: read once for the whole file, their
	 * slugs for the rows and their tree for the listing rows' scopes */
	if (!(im->names = names_get(im->db, -1)))
		return false;
	for (int i = 0; i < im->names->ncats; i++) {
		bool found;
		const struct named *c = &im->names->cats[i];
		*strmap_slot(im->f->a, &im->categories, arena_strdup(im->f->a, c->slug), &found) = c->id;
	}
	return true;
}

/* Look up which of the batch's product codes and SKUs exist (codes of this
 * merchant → product id; SKUs → product id and its merchant). */
static bool lookup_batch(struct importer *im, int from, int to)
{
	struct feed *f = im->f;
	strmap_clear(&im->codes);
	strmap_clear(&im->skus);
	for (int pass = 0; pass < 2; pass++) {
		db_rows_reset(&im->rows, 1);
		for (int g = from; g < to; g++) {
			const struct group *gr = &im->groups[g];
			if (!gr->ready)
				continue;
			for (int k = 0; k < (pass ? gr->n : 1); k++) {
				const struct feed_row *r = &f->rows[gr->rows[k]];
				db_rows_text(&im->rows, pass ? r->sku : r->product_code);
			}
		}
		struct db_res r;
		int rc = pass ? db_query(im->db, &r, im->q_skus, DBV(DROWS(&im->rows)))
			      : db_query(im->db, &r, im->q_codes, DBV(DI(im->merchant_id), DROWS(&im->rows)));
		if (rc != DB_OK)
			return false;
		for (int i = 0; i < r.nrows; i++) {
			bool found;
			const char *key = arena_strdup(f->a, db_text(&r, i, 0));
			if (!pass) {
				*strmap_slot(f->a, &im->codes, key, &found) = db_int(&r, i, 1);
			} else {
				/* the owner rides in the sign: another merchant's product is negative */
				int64_t pid = db_int(&r, i, 1);
				*strmap_slot(f->a, &im->skus, key, &found) =
					db_int(&r, i, 2) == im->merchant_id ? pid : -pid;
			}
		}
		db_res_free(&r);
	}
	return true;
}

/* The merchant's existing product for a group: by product code, else by any
 * SKU. A SKU of another merchant's product, or of another of this merchant's
 * products, is reported (returns -2). */
static int64_t existing_product(struct importer *im, const struct group *g)
{
	struct feed *f = im->f;
	int64_t id = strmap_get(&im->codes, f->rows[g->rows[0]].product_code, 0);
	for (int k = 0; k < g->n; k++) {
		struct feed_row *r = &f->rows[g->rows[k]];
		int64_t pid = strmap_get(&im->skus, r->sku, 0);
		if (pid < 0 || (pid && id && pid != id)) {
			feed_row_fail(f, r, "sku", pid < 0 ? "this SKU belongs to another merchant"
							   : "this SKU belongs to another of your products");
			fail_group(f, g, k);
			return -2;
		}
		if (pid)
			id = pid;
	}
	return id;
}

/* Category and brand ids for a group's product from the file-wide maps
 * (creating brands as the feed names them); false after reporting. */
static bool resolve_group(struct importer *im, struct group *g)
{
	struct product *p = &g->p;
	if (p->category) {
		p->category_id = strmap_get(&im->categories, p->category, 0);
		if (!p->category_id) {
			struct verr e = {0};
			verr_set(&e, MERR_VALIDATION, "category", "unknown category '%.40s'", p->category);
			report(im->f, g, &e);
			return false;
		}
		p->category = NULL; /* resolved: product_insert/apply take the id */
	}
	if (p->brand && *p->brand) {
		bool found;
		int64_t *id = strmap_slot(im->f->a, &im->brands, p->brand, &found);
		if (!found)
			*id = brand_ensure(im->db, p->brand);
		if (!*id) {
			struct verr e = {0};
			verr_set(&e, MERR_VALIDATION, "brand", "brand needs a letter or digit");
			report(im->f, g, &e);
			return false;
		}
		p->brand_id = *id;
		p->brand = NULL;
	}
	return true;
}

/*
 * Insert the batch's new products with one statement per table. Variant
 * and product ids come back with their SKU / product code (RETURNING order
 * is not guaranteed) and are matched through the per-batch maps. False when
 * the database refused any of it (the caller rolls the batch back).
 */
static bool insert_new(struct importer *im, int from, int to, int64_t now)
{
	struct feed *f = im->f;
	struct db_rows *w = &im->rows;
	struct db_res r;
	int nnew = 0;
	/* products */
	db_rows_reset(w, 7);
	strmap_clear(&im->codes);
	for (int g = from; g < to; g++) {
		struct group *gr = &im->groups[g];
		if (!gr->ready || gr->id)
			continue;
		const struct product *p = &gr->p;
		bool found;
		*strmap_slot(f->a, &im->codes, p->external_id, &found) = g;
		db_rows_text(w, p->external_id);
		if (p->brand_id)
			db_rows_int(w, p->brand_id);
		else
			db_rows_null(w);
		db_rows_int(w, p->category_id);
		db_rows_text(w, p->name);
		db_rows_text(w, p->description ? p->description : "");
		db_rows_text(w, p->tags ? p->tags : "[]");
		db_rows_text(w, p->status ? p->status : "active");
		nnew++;
	}
	if (!nnew)
		return true;
	if (db_query(im->db, &r, im->q_products, DBV(DI(im->merchant_id), DI(now), DROWS(w))) != DB_OK)
		return false;
	bool ok = r.nrows == nnew;
	for (int i = 0; ok && i < r.nrows; i++) {
		int64_t g = strmap_get(&im->codes, db_text(&r, i, 1), -1);
		ok = g >= from && g < to;
		if (ok) {
			im->groups[g].p.id = db_int(&r, i, 0);
			im->groups[g].p.created_at = now;
		}
	}
	db_res_free(&r);
	if (!ok)
		return false;

	/* variants: the map gives a SKU's group and index within it */
	db_rows_reset(w, 5);
	strmap_clear(&im->skus);
	int nvar = 0;
	for (int g = from; g < to; g++) {
		struct group *gr = &im->groups[g];
		if (!gr->ready || gr->id)
			continue;
		for (int k = 0; k < gr->p.nvariants; k++) {
			const struct variant *v = &gr->p.variants[k];
			bool found;
			*strmap_slot(f->a, &im->skus, v->sku, &found) = (int64_t)g * 65536 + k;
			db_rows_int(w, gr->p.id);
			db_rows_text(w, v->sku);
			db_rows_text(w, v->size);
			db_rows_text(w, v->color);
			db_rows_text(w, v->images ? v->images : "[]");
			nvar++;
		}
	}
	if (db_query(im->db, &r, im->q_variants, DBV(DI(now), DROWS(w))) != DB_OK)
		return false;
	ok = r.nrows == nvar;
	for (int i = 0; ok && i < r.nrows; i++) {
		int64_t gk = strmap_get(&im->skus, db_text(&r, i, 1), -1);
		int g = (int)(gk / 65536), k = (int)(gk % 65536);
		ok = gk >= 0 && g >= from && g < to && k < im->groups[g].p.nvariants;
		if (ok)
			im->groups[g].p.variants[k].id = db_int(&r, i, 0);
	}
	db_res_free(&r);
	if (!ok)
		return false;

	/* prices, then stock (a new variant's threshold of 0 means the default,
	 * as product_insert has it) */
	for (int pass = 0; pass < 2; pass++) {
		db_rows_reset(w, 3);
		for (int g = from; g < to; g++) {
			struct group *gr = &im->groups[g];
			if (!gr->ready || gr->id)
				continue;
			for (int k = 0; k < gr->p.nvariants; k++) {
				struct variant *v = &gr->p.variants[k];
				if (pass && !v->low_stock_threshold)
					v->low_stock_threshold = 5;
				for (int i = 0; i < (pass ? 1 : v->nprices); i++) {
					db_rows_int(w, v->id);
					db_rows_int(w, pass ? v->stock : v->prices[i].market_id);
					db_rows_int(w, pass ? v->low_stock_threshold : v->prices[i].amount);
				}
			}
		}
		if (w->nrows && (pass ? db_exec(im->db, im->q_stock, DBV(DI(now), DROWS(w)), NULL)
				      : db_exec(im->db, im->q_prices, DBV(DROWS(w)), NULL)) != DB_OK)
			return false;
	}

	/* a new variant above its threshold has no alert to raise */
	for (int g = from; g < to; g++) {
		struct group *gr = &im->groups[g];
		if (!gr->ready || gr->id)
			continue;
		for (int k = 0; k < gr->p.nvariants; k++) {
			const struct variant *v = &gr->p.variants[k];
			if (v->stock <= v->low_stock_threshold && !inventory_check_alert(im->db, v->id, now))
				return false;
		}
		im->res->created++;
		im->listed[im->nlisted++] = &gr->p;
	}
	return true;
}

/*
 * Apply the batch's updates of existing products with one statement per
 * table, as product_apply does one by one: given fields replace, absent ones
 * stay; variants are matched by SKU (lookup_batch found them in this very
 * product) or added; given prices replace the variant's set; given stock is
 * set, then the low-stock alerts are checked where there is something to
 * raise or resolve. Must run before insert_new (which reuses the maps).
 */
static bool update_existing(struct importer *im, int from, int to, int64_t now)
{
	struct feed *f = im->f;
	struct db_rows *w = &im->rows;
	struct db_res r;
	db_rows_reset(w, 7);
	for (int g = from; g < to; g++) {
		struct group *gr = &im->groups[g];
		if (!gr->ready || !gr->id)
			continue;
		const struct product *p = &gr->p;
		db_rows_int(w, gr->id);
		db_rows_text(w, p->name);
		db_rows_text(w, p->description);
		db_rows_text(w, p->tags);
		db_rows_text(w, p->status);
		if (p->category_id)
			db_rows_int(w, p->category_id);
		else
			db_rows_null(w);
		if (p->brand_id)
			db_rows_int(w, p->brand_id);
		else
			db_rows_null(w);
	}
	int nprod = w->nrows;
	if (!nprod)
		return true;
	int64_t n = 0;
	if (db_exec(im->db, im->q_set_products, DBV(DI(now), DROWS(w)), &n) != DB_OK || n != nprod)
		return false;

	/* variants: known SKUs updated (ids come back), new ones inserted; the
	 * codes map (free by now) takes a SKU to its group and index */
	strmap_clear(&im->codes);
	for (int pass = 0; pass < 2; pass++) {
		db_rows_reset(w, pass ? 5 : 4);
		for (int g = from; g < to; g++) {
			struct group *gr = &im->groups[g];
			if (!gr->ready || !gr->id)
				continue;
			for (int k = 0; k < gr->p.nvariants; k++) {
				struct variant *v = &gr->p.variants[k];
				bool known = strmap_get(&im->skus, v->sku, 0) > 0;
				if (known != (pass == 0))
					continue;
				bool found;
				*strmap_slot(f->a, &im->codes, v->sku, &found) = (int64_t)g * 65536 + k;
				if (pass)
					db_rows_int(w, gr->id);
				db_rows_text(w, v->sku);
				db_rows_text(w, v->size);
				db_rows_text(w, v->color);
				db_rows_text(w, pass && !v->images ? "[]" : v->images);
			}
		}
		int rows = w->nrows;
		if (!rows)
			continue;
		if ((pass ? db_query(im->db, &r, im->q_variants, DBV(DI(now), DROWS(w)))
			  : db_query(im->db, &r, im->q_set_variants, DBV(DROWS(w)))) != DB_OK)
			return false;
		bool ok = r.nrows == rows;
		for (int i = 0; ok && i < r.nrows; i++) {
			int64_t gk = strmap_get(&im->codes, db_text(&r, i, 1), -1);
			int g = (int)(gk / 65536), k = (int)(gk % 65536);
			ok = gk >= 0 && g >= from && g < to && k < im->groups[g].p.nvariants;
			if (ok)
				im->groups[g].p.variants[k].id = db_int(&r, i, 0);
		}
		db_res_free(&r);
		if (!ok)
			return false;
	}

	/* prices: clear the variants' sets, then insert what the feed gives;
	 * stock: a new variant always gets a row (threshold 0 = the default),
	 * an existing one when the feed gives stock */
	for (int pass = 0; pass < 3; pass++) {
		db_rows_reset(w, pass ? 3 : 1);
		for (int g = from; g < to; g++) {
			struct group *gr = &im->groups[g];
			if (!gr->ready || !gr->id)
				continue;
			for (int k = 0; k < gr->p.nvariants; k++) {
				struct variant *v = &gr->p.variants[k];
				bool fresh = strmap_get(&im->skus, v->sku, 0) <= 0;
				if (pass == 0) {
					db_rows_int(w, v->id);
				} else if (pass == 1) {
					for (int i = 0; i < v->nprices; i++) {
						db_rows_int(w, v->id);
						db_rows_int(w, v->prices[i].market_id);
						db_rows_int(w, v->prices[i].amount);
					}
				} else if (fresh || v->has_stock) {
					if (fresh && !v->low_stock_threshold)
						v->low_stock_threshold = 5;
					db_rows_int(w, v->id);
					db_rows_int(w, v->stock);
					db_rows_int(w, v->low_stock_threshold);
				}
			}
		}
		int rc = DB_OK;
		if (w->nrows && pass == 0)
			rc = db_exec(im->db, im->q_clear_prices, DBV(DROWS(w)), NULL);
		else if (w->nrows && pass == 1)
			rc = db_exec(im->db, im->q_prices, DBV(DROWS(w)), NULL);
		else if (w->nrows)
			rc = db_exec(im->db, im->q_set_stock, DBV(DI(now), DROWS(w)), NULL);
		if (rc != DB_OK)
			return false;
	}

	/* low-stock alerts: new variants at or below their threshold, and the
	 * restocked or depleted existing ones the query picks out */
	db_rows_reset(w, 1);
	for (int g = from; g < to; g++) {
		struct group *gr = &im->groups[g];
		if (!gr->ready || !gr->id)
			continue;
		for (int k = 0; k < gr->p.nvariants; k++) {
			const struct variant *v = &gr->p.variants[k];
			if (strmap_get(&im->skus, v->sku, 0) <= 0) {
				if (v->stock <= v->low_stock_threshold && !inventory_check_alert(im->db, v->id, now))
					return false;
			} else if (v->has_stock) {
				db_rows_int(w, v->id);
			}
		}
	}
	if (w->nrows) {
		if (db_query(im->db, &r, im->q_alerts, DBV(DROWS(w))) != DB_OK)
			return false;
		bool ok = true;
		for (int i = 0; ok && i < r.nrows; i++)
			ok = inventory_check_alert(im->db, db_int(&r, i, 0), now);
		db_res_free(&r);
		if (!ok)
			return false;
	}
	for (int g = from; g < to; g++) {
		struct group *gr = &im->groups[g];
		if (!gr->ready || !gr->id)
			continue;
		im->res->updated++;
		im->touched[im->ntouched++] = gr->id;
	}
	return true;
}

/* Write one group's product (insert or update, reindex deferred). */
static enum merr write_group(struct importer *im, struct group *g, struct verr *e)
{
	struct product p = g->p;
	p.defer_reindex = true;
	if (g->id) {
		p.external_id = NULL;
		return product_apply(im->db, g->id, &p, e);
	}
	enum merr m = product_insert(im->db, &p, e);
	g->p.id = p.id;
	return m;
}

/* The batch as a whole, updates then new products. MERR_OK, or anything
 * else after which the caller rolls the batch back. */
static enum merr write_batch(struct importer *im, int from, int to)
{
	int64_t now = time_now();
	int created = im->res->created, updated = im->res->updated;
	int ntouched = im->ntouched, nlisted = im->nlisted;
	if (!update_existing(im, from, to, now) || !insert_new(im, from, to, now))
		goto refused;
	return MERR_OK;
refused:
	im->res->created = created;
	im->res->updated = updated;
	im->ntouched = ntouched;
	im->nlisted = nlisted;
	return MERR_CONFLICT;
}

/* Product by product, each in its own savepoint (a refused batch). False
 * only when the database failed as a whole. */
static bool write_one_by_one(struct importer *im, int from, int to)
{
	for (int g = from; g < to; g++) {
		struct group *gr = &im->groups[g];
		if (!gr->ready)
			continue;
		if (db_exec(im->db, "SAVEPOINT feed_product", DBV0, NULL) != DB_OK)
			return false;
		struct verr e = {0};
		enum merr m = write_group(im, gr, &e);
		if (m == MERR_INTERNAL || m == MERR_UNAVAILABLE)
			return false;
		if (m != MERR_OK) {
			report(im->f, gr, &e);
			if (db_exec(im->db, "ROLLBACK TO SAVEPOINT feed_product", DBV0, NULL) != DB_OK)
				return false;
		} else {
			if (gr->id) {
				im->res->updated++;
				im->touched[im->ntouched++] = gr->id;
			} else {
				im->res->created++;
				im->fresh[im->nfresh++] = gr->p.id;
			}
		}
		if (db_exec(im->db, "RELEASE SAVEPOINT feed_product", DBV0, NULL) != DB_OK)
			return false;
	}
	return true;
}

/* Check, write and reindex groups [from, to). False when the database
 * failed as a whole. */
static bool import_batch(struct importer *im, int from, int to)
{
	struct feed *f = im->f;
	int ready = 0;
	for (int g = from; g < to; g++) {
		struct group *gr = &im->groups[g];
		bool bad = false;
		for (int k = 0; k < gr->n; k++)
			bad |= f->rows[gr->rows[k]].bad;
		if (bad) { /* never half a product */
			fail_group(f, gr, -1);
			continue;
		}
		if (group_product(f, gr, im->merchant_id, &gr->p))
			gr->ready = true, ready++;
	}
	if (!ready)
		return true;
	if (!lookup_batch(im, from, to))
		return false;
	for (int g = from; g < to; g++) {
		struct group *gr = &im->groups[g];
		if (!gr->ready)
			continue;
		gr->id = existing_product(im, gr);
		gr->ready = gr->id >= 0 && resolve_group(im, gr);
	}
	im->ntouched = im->nfresh = im->nlisted = 0;
	if (db_exec(im->db, "SAVEPOINT feed_batch", DBV0, NULL) != DB_OK)
		return false;
	if (write_batch(im, from, to) != MERR_OK) {
		if (db_exec(im->db, "ROLLBACK TO SAVEPOINT feed_batch", DBV0, NULL) != DB_OK ||
		    !write_one_by_one(im, from, to))
			return false;
	}
	return db_exec(im->db, "RELEASE SAVEPOINT feed_batch", DBV0, NULL) == DB_OK &&
	       product_reindex_many(im->db, im->touched, im->ntouched, false) &&
	       product_reindex_many(im->db, im->fresh, im->nfresh, true) &&
	       listing_insert_new(im->db, im->names, im->listed, im->nlisted);
}

bool feed_import(struct db *db, int64_t merchant_id, struct feed *f, struct feed_result *res)
{
	memset(res, 0, sizeof(*res));
	res->received = f->nrows;
	if (f->fatal)
		return true;
	struct importer im = {.db = db, .merchant_id = merchant_id, .f = f, .res = res};
	/* the parser grouped rows by product code, in order of first row */
	int ngroups = f->ngroups;
	im.groups = arena_alloc(f->a, sizeof(*im.groups) * (size_t)(ngroups + 1));
	for (int i = 0; i < f->nrows; i++)
		if (f->rows[i].group >= 0)
			im.groups[f->rows[i].group].n++;
	for (int g = 0; g < ngroups; g++) {
		im.groups[g].rows = arena_alloc(f->a, sizeof(int) * (size_t)im.groups[g].n);
		im.groups[g].n = 0;
	}
	for (int i = 0; i < f->nrows; i++)
		if (f->rows[i].group >= 0)
			im.groups[f->rows[i].group].rows[im.groups[f->rows[i].group].n++] = i;
	im.touched = arena_alloc(f->a, sizeof(int64_t) * FEED_BATCH);
	im.fresh = arena_alloc(f->a, sizeof(int64_t) * FEED_BATCH);
	im.listed = arena_alloc(f->a, sizeof(*im.listed) * FEED_BATCH);
	db_rows_init(&im.rows, 1);

	bool ok = false;
	if (db_begin(db) != DB_OK)
		goto out;
	if (!importer_init(&im))
		goto fail;
	for (int g = 0; g < ngroups; g += FEED_BATCH)
		if (!import_batch(&im, g, g + FEED_BATCH < ngroups ? g + FEED_BATCH : ngroups))
			goto fail;
	if (db_commit(db) != DB_OK)
		goto fail;
	res->failed = f->error_rows;
	ok = true;
	goto out;
fail:
	db_rollback(db);
out:
	db_rows_free(&im.rows);
	names_release(im.names);
	return ok;
}
