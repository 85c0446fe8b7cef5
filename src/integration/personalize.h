/*
 * Personal suggestions from the platform's user service (WS1: preferences)
 * and AI styling engine (WS2: styling suggestions), with fallbacks on our
 * own data. GET /api/catalog/style-suggestions/{user_id} serves
 * personalize_suggestions(); GET /api/catalog/recommendations/{product_id}
 * blends both services into the stored recommendations through
 * personalize_recommendations().
 */
#ifndef MANDI_INTEGRATION_PERSONALIZE_H
#define MANDI_INTEGRATION_PERSONALIZE_H
#include "catalog/search.h"
#include "core/arena.h"
#include "integration/discover.h"

#define PREF_MAX 8

/** What WS1 says the shopper likes (empty lists when it could not say). */
struct user_prefs {
	char categories[PREF_MAX][48];
	int ncategories;
	char brands[PREF_MAX][80];
	int nbrands;
	char sizes[PREF_MAX][32]; /**< lower case, as product_market keeps them */
	int nsizes;
	char colors[PREF_MAX][32]; /**< lower case */
	int ncolors;
	int64_t price_min, price_max; /**< minor units, -1 when not said */
	char price_currency[4];       /**< the range applies in markets of this currency */
	const char *source;          /**< "user_service" or "none" */
	const char *fallback_reason; /**< why WS1 did not answer, or NULL */
};

/**
 * Suggestions for user_id in market m: WS2's ranked products (source "ai");
 * else the market's most popular products in the categories WS1 says the
 * user prefers, preferred brands first (source "preferences"); else the most
 * popular products (source "catalog_popular"). prefs gets what WS1 said.
 */
enum merr personalize_suggestions(struct db *db, const struct market *m, const char *user_id,
				  int limit, struct discover_result *out, struct user_prefs *prefs)
	__attribute__((warn_unused_result));

/** Ask WS1 for user_id's preferences (user_id NULL: an anonymous caller,
 * source "none" with fallback_reason "not_signed_in"). */
void personalize_prefs(const char *user_id, struct user_prefs *p);

/** One recommendation after blending. */
struct personal_rec {
	struct listing_item item; /**< as listings show it */
	const char *reason;       /**< bought_together | similar | popular | ai_styling */
	double score;             /**< the source's score (stored: integer) */
	bool from_ai;
	unsigned matched; /**< PREF_MATCH_* bits of the shopper's preferences it meets */
};

enum {
	PREF_MATCH_CATEGORY = 1 << 0,
	PREF_MATCH_BRAND = 1 << 1,
	PREF_MATCH_SIZE = 1 << 2,
	PREF_MATCH_COLOR = 1 << 3,
	PREF_MATCH_PRICE = 1 << 4,
};
/** "category", "brand", … for bit i of PREF_MATCH_*; NULL past the last. */
const char *personalize_match_name(int bit);

/** The blended list and what went into it. */
struct personal_recs {
	struct personal_rec *recs; /**< in arena */
	int n;
	struct user_prefs prefs;        /**< WS1's answer (or why there is none) */
	bool reranked;                  /**< preferences changed the stored order */
	const char *ai_source;          /**< "ai" when WS2 answered, else "none" */
	const char *ai_fallback_reason; /**< why WS2 did not answer, or NULL */
	int ai_blended;                 /**< how many of WS2's products made the list */
};

/**
 * Recommendations for product_id in market m: the stored list (a read of
 * what the recommendations job computed), re-ranked by the preferences WS1
 * holds for user_id (NULL: anonymous) and interleaved with WS2's
 * suggestions for the product — only products sold in m, in stock, never
 * product_id itself. Both services are asked at the same time, so the call
 * costs at most one INTEGRATION_TIMEOUT_MS; a service that is slow,
 * failing or down only leaves its part out. MERR_NOT_FOUND when product_id
 * is not sold in m. Everything in *out lives in arena a.
 */
enum merr personalize_recommendations(struct db *db, struct arena *a, const struct market *m,
				      int64_t product_id, const char *user_id, int limit,
				      struct personal_recs *out) __attribute__((warn_unused_result));

#endif
