/*
 * Product recommendations, precomputed per market by a background job into
 * `product_recommendations` so a request only reads. A product's list blends
 * items bought together with it (orders of that market, not cancelled),
 * content similarity (category, brand, shared tags, price band) and
 * popularity; each row keeps the reason that put it there. The product
 * itself never appears; reads drop what has since left the market or sold
 * out.
 */
#ifndef MANDI_CATALOG_RECOMMEND_H
#define MANDI_CATALOG_RECOMMEND_H
#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"

struct db;

#define RECOMMEND_PER_PRODUCT 12

/** One stored recommendation. */
struct recommendation {
	int64_t product_id, score;
	const char *reason; /**< bought_together | similar | popular */
};

/** Recompute every product's recommendations in every market at `now`. */
bool recommend_refresh(struct db *db, int64_t now) __attribute__((warn_unused_result));

/**
 * Up to limit stored recommendations for product_id in market_id, best
 * first, only products still sold there with a variant in stock.
 * Returns the count or -1; *out in arena a.
 */
int recommend_read(struct db *db, struct arena *a, int64_t product_id, int64_t market_id, int limit,
		   struct recommendation **out);

#endif
