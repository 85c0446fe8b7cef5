/*
 * Personal suggestions from the platform's user service (WS1: preferences)
 * and AI styling engine (WS2: styling suggestions), with fallbacks on our
 * own data. The catalog's recommendations can blend these in through
 * personalize_suggestions(); GET /api/catalog/style-suggestions/{user_id}
 * serves them directly.
 */
#ifndef MANDI_INTEGRATION_PERSONALIZE_H
#define MANDI_INTEGRATION_PERSONALIZE_H
#include "integration/discover.h"

#define PREF_MAX 8

/** What WS1 says the shopper likes (empty lists when it could not say). */
struct user_prefs {
	char categories[PREF_MAX][48];
	int ncategories;
	char brands[PREF_MAX][80];
	int nbrands;
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

#endif
