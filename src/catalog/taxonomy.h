/*
 * How the catalog is organised: categories (a tree, ordered per market),
 * brands (popularity, quality rating, demographics) and collections (named,
 * ordered product lists shown only during their activation period).
 * Results are in the caller's arena.
 */
#ifndef MANDI_CATALOG_TAXONOMY_H
#define MANDI_CATALOG_TAXONOMY_H
#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/error.h"
#include "core/jsonin.h"

struct db;

struct category {
	int64_t id, parent_id; /**< parent 0 = top level */
	const char *slug, *name;
	int64_t display_order; /**< the market's order, else the global one */
};

/** A per-market display order for a category. */
struct category_order {
	int64_t market_id, display_order;
};

/** Every category, ordered by (market's display order, id). */
int category_list(struct db *db, struct arena *a, int64_t market_id, struct category **out);
/**
 * Create (id 0) or update category id: slug/name/parent (NULL = keep on
 * update), global order (< 0 = keep) and per-market orders. A parent that
 * would make a cycle, an unknown parent or a taken slug are refused.
 */
enum merr category_save(struct db *db, int64_t *id, const char *slug, const char *name,
			const char *parent_slug, int64_t display_order,
			const struct category_order *orders, int norders, struct verr *e)
	__attribute__((warn_unused_result));

struct brand {
	int64_t id, popularity_score, quality_rating; /**< rating in tenths of a star */
	const char *name, *slug, *demographics;       /**< demographics: JSON array text */
	int64_t products;                             /**< active products (lists only) */
};

/** Up to limit brands with id > after, in id order. */
int brand_list(struct db *db, struct arena *a, int64_t after, int64_t limit, struct brand **out);
/** Load one brand. */
enum merr brand_get(struct db *db, struct arena *a, int64_t id, struct brand *out)
	__attribute__((warn_unused_result));
/** Create (b->id 0) or update a brand; NULL strings / negative numbers keep. */
enum merr brand_save(struct db *db, struct brand *b, struct verr *e) __attribute__((warn_unused_result));

struct collection {
	int64_t id, starts_at, ends_at; /**< 0 = open-ended */
	const char *name, *slug, *description;
	int64_t *product_ids;           /**< in display order */
	int nproducts;
	bool set_products;              /**< input only: replace the product list */
};

/** Create (c->id 0) or update a collection; unknown product ids are refused. */
enum merr collection_save(struct db *db, struct collection *c, struct verr *e)
	__attribute__((warn_unused_result));
enum merr collection_delete(struct db *db, int64_t id) __attribute__((warn_unused_result));
/**
 * Load a collection with its products in order. With market_id, only
 * products active and sold in that market are listed.
 */
enum merr collection_get(struct db *db, struct arena *a, int64_t id, int64_t market_id,
			 struct collection *out) __attribute__((warn_unused_result));
/** Collections active at now (starts_at <= now < ends_at, open ends count),
 * id > after, up to limit, in id order (products not loaded). */
int collection_list_active(struct db *db, struct arena *a, int64_t now, int64_t after, int64_t limit,
			   struct collection **out);

#endif
