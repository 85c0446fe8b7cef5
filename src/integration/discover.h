/*
 * Product discovery that asks the platform's services first and falls back
 * on mandi's own data (no HTTP here: api/platform.c encodes the results).
 *
 * - similar products: WS3 visual search, else the same category in the
 *   market ranked by brand match and popularity;
 * - image search: WS3, else the market's most popular products (optionally
 *   in one category) — a fallback the response labels as such;
 * - trending: WS4, else the `trending_products` snapshot the trending-refresh
 *   job computes from our own data (computed live when the job has not run).
 *
 * Every result says which source answered and, when it is a fallback, why.
 */
#ifndef MANDI_INTEGRATION_DISCOVER_H
#define MANDI_INTEGRATION_DISCOVER_H
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "integration/client.h"

struct db;
struct market;

#define DISCOVER_MAX 50

/** A product as lists show it, priced in the market. */
struct product_card {
	int64_t id;
	char name[160];
	char category[48];
	char brand[80];
	int64_t price;  /**< lowest variant price in the market */
	double score;   /**< the source's ranking score */
};

/** A ranked list and where it came from. */
struct discover_result {
	struct product_card items[DISCOVER_MAX];
	int n;
	const char *source;          /**< "vision", "social", "catalog", "trending_snapshot", … */
	const char *fallback_reason; /**< NULL when the service answered */
	int64_t service_us;          /**< time spent waiting for the service */
};

/** Products like product_id. MERR_NOT_FOUND when it is not sold in the market. */
enum merr discover_similar(struct db *db, const struct market *m, int64_t product_id, int limit,
			   struct discover_result *out) __attribute__((warn_unused_result));
/** Products matching an image (request_json is forwarded to the vision service). */
enum merr discover_image_search(struct db *db, const struct market *m, const char *request_json,
				const char *category, int limit, struct discover_result *out)
	__attribute__((warn_unused_result));
/** Trending products in the market. */
enum merr discover_trending(struct db *db, const struct market *m, int limit,
			    struct discover_result *out) __attribute__((warn_unused_result));
/** Ask service svc for a ranked list ({"products": [{"product_id", "score"}]})
 * and hydrate it into out (source = the service's name). False, with
 * out->fallback_reason, when the caller should fall back. All such calls
 * are reads, so they are retried while the budget lasts. */
bool discover_from_service(struct db *db, const struct market *m, enum service_id svc,
			   const char *method, const char *path, const char *body, int limit,
			   struct discover_result *out);
/** The market's most popular products, in these categories when ncat > 0,
 * these brands first when nbrand > 0 (at most 8 of each are used). */
enum merr discover_popular_in(struct db *db, const struct market *m, const char *const *categories,
			      int ncat, const char *const *brands, int nbrand, int limit,
			      struct discover_result *out) __attribute__((warn_unused_result));
/** Recompute the trending snapshot of every market (the trending-refresh job). */
bool discover_refresh_trending(struct db *db, int64_t now);

#endif
