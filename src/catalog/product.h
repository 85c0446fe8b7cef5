/*
 * Products, their variants (one SKU each), per-market prices and stock.
 * A product is sold in a market when one of its variants has a price there;
 * `product_market` keeps one row per (product, market) with the price range
 * and sort keys so listings walk a single index. Every write here keeps that
 * row and the full-text index in step (product_reindex).
 *
 * Strings in these structs point into the caller's arena (or the parsed
 * input they were decoded from); nothing here owns memory.
 */
#ifndef MANDI_CATALOG_PRODUCT_H
#define MANDI_CATALOG_PRODUCT_H
#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/error.h"
#include "core/jsonin.h"

struct db;

#define PRODUCT_MAX_VARIANTS 100
#define PRODUCT_MAX_TAGS 20
#define PRODUCT_MAX_MARKETS 8
#define PRODUCT_MAX_PRICE 100000000000LL /**< a billion in major units */
#define PRODUCT_MAX_STOCK 1000000000LL

/** Stock status of a variant or product, from available = stock - reserved. */
enum stock_status { STOCK_OUT = 0, STOCK_LOW, STOCK_IN };

/** One market's price of a variant. */
struct variant_price {
	int64_t market_id;
	int64_t amount;
};

struct variant {
	int64_t id;
	const char *sku;
	const char *size;  /**< may be NULL */
	const char *color; /**< may be NULL */
	const char *images; /**< JSON array text */
	int64_t stock, reserved, low_stock_threshold;
	bool has_stock; /**< input only: stock was given */
	struct variant_price prices[PRODUCT_MAX_MARKETS];
	int nprices;
	bool has_prices; /**< input only: prices were given (replace the set) */
};

#define CATEGORY_MAX_DEPTH 6

/** A category on a product's path from the root. */
struct category_ref {
	int64_t id;
	const char *slug, *name;
};

struct product {
	int64_t id, merchant_id, brand_id, category_id, popularity, created_at, updated_at;
	const char *external_id; /**< merchant's product code (feeds); may be NULL */
	const char *name;
	const char *brand;    /**< brand name; NULL = no brand */
	const char *category; /**< category slug */
	const char *description;
	const char *tags;     /**< JSON array text of strings */
	const char *status;   /**< active | draft | archived */
	struct variant *variants;
	int nvariants;
	struct category_ref path[CATEGORY_MAX_DEPTH]; /**< root first (product_load) */
	bool defer_reindex; /**< input only: the caller calls product_reindex_many */
	int npath;
};

/** Statuses a product may have, NULL-terminated. */
extern const char *const product_statuses[];

/** available = stock - reserved against the threshold. */
enum stock_status stock_status_of(int64_t stock, int64_t reserved, int64_t threshold);
/** "in_stock", "low_stock" or "out_of_stock". */
const char *stock_status_name(enum stock_status s);

/**
 * Insert p (with its variants, prices and stock) inside the caller's
 * transaction. Unknown brands are created; an unknown category is
 * validation_failed on "category"; a SKU that exists is conflict on
 * "variants[i].sku". Fills p->id and every variant id. On failure the caller
 * rolls back (nothing here is committed).
 */
enum merr product_insert(struct db *db, struct product *p, struct verr *e)
	__attribute__((warn_unused_result));
/** product_insert in its own transaction. */
enum merr product_create(struct db *db, struct product *p, struct verr *e)
	__attribute__((warn_unused_result));

/**
 * Apply the fields set in `patch` (NULL strings and has_* flags false mean
 * "leave as is") to product `id`, inside the caller's transaction. Variants
 * are upserted by SKU: a SKU of this product is updated, a new one added, one
 * belonging to another product is a conflict; unlisted variants are kept.
 * Given prices replace that variant's price set.
 */
enum merr product_apply(struct db *db, int64_t id, const struct product *patch, struct verr *e)
	__attribute__((warn_unused_result));
/** product_apply in its own transaction. */
enum merr product_update(struct db *db, int64_t id, const struct product *patch, struct verr *e)
	__attribute__((warn_unused_result));
/** Archive a product: it leaves listings, search and detail (SKUs stay taken
 * so orders keep their references). */
enum merr product_archive(struct db *db, int64_t id) __attribute__((warn_unused_result));

/**
 * Load product id with its variants (prices and stock included), brand name
 * and category slug into arena memory. MERR_NOT_FOUND when absent.
 */
enum merr product_load(struct db *db, struct arena *a, int64_t id, struct product *out)
	__attribute__((warn_unused_result));
/** The owning merchant of a product (0 when there is no such product). */
int64_t product_merchant(struct db *db, int64_t id);

/** Rebuild product id's product_market rows and full-text entry (inside the
 * caller's transaction). */
bool product_reindex(struct db *db, int64_t id) __attribute__((warn_unused_result));
/** product_reindex for many products at once (bulk writes defer it); fresh:
 * all of them inserted since they were last indexed (none has index rows). */
bool product_reindex_many(struct db *db, const int64_t *ids, int n, bool fresh)
	__attribute__((warn_unused_result));
/** The full-text rows of active products the caller's transaction has just
 * inserted (listing_insert_new calls it with their listing rows). */
bool product_fts_add(struct db *db, const int64_t *ids, int n) __attribute__((warn_unused_result));
/** Rebuild product_market and the full-text index for every product (bulk
 * loads do this once at the end). */
bool product_reindex_all(struct db *db) __attribute__((warn_unused_result));

/** Category id for a slug, 0 when unknown. */
int64_t category_id_of(struct db *db, const char *slug);
/** Brand id for a name or slug ("Levi's" and "levi-s" match), 0 when unknown. */
int64_t brand_id_of(struct db *db, const char *name);
/** Brand id for a name, creating the brand when new; 0 on error. */
int64_t brand_ensure(struct db *db, const char *name);
/** URL slug of a name into out ("Levi's Denim" → "levi-s-denim"). */
void catalog_slugify(const char *name, char *out, size_t n);

#endif
