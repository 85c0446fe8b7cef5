/* Applying a parsed feed: one transaction, a savepoint per product. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/feed.h"
#include "catalog/product.h"
#include "db/db.h"
#include "market/market.h"

/* Rows of one product, in feed order (indexes into f->rows). */
struct group {
	int n;
	int *rows;
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

/* The merchant's existing product for a group: by product code, else by any
 * SKU. A SKU of another merchant's product is an error (returns -1). */
static int64_t existing_product(struct db *db, int64_t merchant_id, struct feed *f, const struct group *g)
{
	int64_t id = 0;
	const struct feed_row *r0 = &f->rows[g->rows[0]];
	if (db_scalar(db, &id, 0, "SELECT id FROM products WHERE merchant_id = $1 AND external_id = $2",
		      DBV(DI(merchant_id), DT(r0->product_code))) != DB_OK)
		return -1;
	for (int k = 0; k < g->n; k++) {
		struct feed_row *r = &f->rows[g->rows[k]];
		struct db_res res;
		if (db_query(db, &res,
			     "SELECT p.id, p.merchant_id FROM product_variants v JOIN products p ON "
			     "p.id = v.product_id WHERE v.sku = $1",
			     DBV(DT(r->sku))) != DB_OK)
			return -1;
		int64_t pid = res.nrows ? db_int(&res, 0, 0) : 0, owner = res.nrows ? db_int(&res, 0, 1) : 0;
		db_res_free(&res);
		if (pid && (owner != merchant_id || (id && pid != id))) {
			feed_row_fail(f, r, "sku", owner != merchant_id ? "this SKU belongs to another merchant"
								   : "this SKU belongs to another of your products");
			fail_group(f, g, k);
			return -2;
		}
		if (pid)
			id = pid;
	}
	return id;
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

bool feed_import(struct db *db, int64_t merchant_id, struct feed *f, struct feed_result *res)
{
	memset(res, 0, sizeof(*res));
	res->received = f->nrows;
	if (f->fatal)
		return true;
	/* the parser grouped rows by product code, in order of first row */
	int ngroups = f->ngroups;
	struct group *groups = arena_alloc(f->a, sizeof(*groups) * (size_t)(ngroups + 1));
	for (int i = 0; i < f->nrows; i++)
		if (f->rows[i].group >= 0)
			groups[f->rows[i].group].n++;
	for (int g = 0; g < ngroups; g++) {
		groups[g].rows = arena_alloc(f->a, sizeof(int) * (size_t)groups[g].n);
		groups[g].n = 0;
	}
	for (int i = 0; i < f->nrows; i++)
		if (f->rows[i].group >= 0)
			groups[f->rows[i].group].rows[groups[f->rows[i].group].n++] = i;

	/* products written, reindexed together at the end (listing rows, search) */
	int64_t *touched = arena_alloc(f->a, sizeof(int64_t) * (size_t)(ngroups + 1));
	int ntouched = 0;
	if (db_begin(db) != DB_OK)
		return false;
	for (int g = 0; g < ngroups; g++) {
		struct group *gr = &groups[g];
		bool bad = false;
		for (int k = 0; k < gr->n; k++)
			bad |= f->rows[gr->rows[k]].bad;
		if (bad) { /* never half a product */
			fail_group(f, gr, -1);
			continue;
		}
		struct product p;
		if (!group_product(f, gr, merchant_id, &p))
			continue;
		if (db_exec(db, "SAVEPOINT feed_product", DBV0, NULL) != DB_OK)
			goto fail;
		int64_t id = existing_product(db, merchant_id, f, gr);
		if (id == -1)
			goto fail;
		struct verr e = {0};
		enum merr m = MERR_OK;
		p.defer_reindex = true;
		if (id > 0) {
			p.external_id = NULL;
			m = product_apply(db, id, &p, &e);
		} else if (id == 0) {
			m = product_insert(db, &p, &e);
		}
		if (m == MERR_INTERNAL || m == MERR_UNAVAILABLE)
			goto fail;
		if (id >= 0 && m != MERR_OK)
			report(f, gr, &e);
		if (id < 0 || m != MERR_OK) {
			if (db_exec(db, "ROLLBACK TO SAVEPOINT feed_product", DBV0, NULL) != DB_OK)
				goto fail;
		} else if (id > 0) {
			res->updated++;
			touched[ntouched++] = id;
		} else {
			res->created++;
			touched[ntouched++] = p.id;
		}
		if (db_exec(db, "RELEASE SAVEPOINT feed_product", DBV0, NULL) != DB_OK)
			goto fail;
	}
	if (!product_reindex_many(db, touched, ntouched) || db_commit(db) != DB_OK)
		goto fail;
	res->failed = f->error_rows;
	return true;
fail:
	db_rollback(db);
	return false;
}
