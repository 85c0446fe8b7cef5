/* Shared helpers for API handlers (decode + validate → domain → encode). */
#ifndef MANDI_API_H
#define MANDI_API_H
#include <stdbool.h>

#include "http/req.h"
#include "http/router.h"
#include "market/market.h"

/**
 * The market named by `code` (a query parameter or body field); replies 400
 * unknown_market (or validation_failed when required and missing) and returns
 * NULL otherwise. With required == false a missing code gives DEFAULT_MARKET.
 */
const struct market *market_or_400(struct req *r, const char *code, bool required);

/** Write the money triple {key: amount, key_display: "…"} for currency. */
void jw_money(struct jw *w, const char *key, int64_t amount, const char *currency);

/** Write a time as RFC 3339 (or null when t <= 0). */
void jw_time(struct jw *w, const char *key, int64_t t);

/**
 * Lists keyed by id (CONTRACT §1): id_page_or_400 reads `limit` and the
 * `cursor` (the previous page's last id; replies 400 on a bad one); the
 * caller fetches limit + 1 rows after that id; list_begin opens
 * {"data": [ and returns how many of the fetched rows to write; list_end
 * closes it with next_cursor after last_id and replies 200.
 */
bool id_page_or_400(struct req *r, int64_t *limit, int64_t *after);
/** Open {"data": [ for a complete (unpaged) list; close it with
 * list_end(r, w, false, 0), which writes "next_cursor": null. */
void list_open(struct req *r, struct jw *w);
int list_begin(struct req *r, struct jw *w, int fetched, int64_t limit, bool *more);
void list_end(struct req *r, struct jw *w, bool more, int64_t last_id);

/** Write "next_cursor": the encoded keys, or null when there is no next page. */
void jw_next_cursor(struct jw *w, bool more, const int64_t *keys, int nkeys);

extern const struct route routes_system[];
extern const struct route routes_market[];
extern const struct route routes_catalog[];
extern const struct route routes_catalog_browse[];
extern const struct route routes_catalog_taxonomy[];
extern const struct route routes_catalog_feed[];
extern const struct route routes_commerce[];
extern const struct route routes_orders[];
extern const struct route routes_payments[];
extern const struct route routes_analytics[];
extern const struct route routes_platform[];

#endif
