/*
 * Coupons: percent (value in basis points) or fixed (minor units), limited
 * to a market, a minimum subtotal, a validity window, a total number of uses
 * and a number of uses per user. Whether a coupon applies is judged with
 * coupon_check when it is attached and again when the order commits;
 * coupon_redeem is the commit-time step that holds the limits under
 * concurrency with conditional updates.
 */
#ifndef MANDI_COUPON_H
#define MANDI_COUPON_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "commerce/pricing.h"
#include "core/error.h"
#include "core/jsonin.h"

struct db;
struct market;

struct coupon {
	int64_t id;
	char code[64];
	int64_t market_id; /**< 0 = every market */
	char kind[16];     /**< percent | fixed */
	int64_t value, min_subtotal;
	int64_t starts_at, ends_at;     /**< 0 = open */
	int64_t max_uses, per_user_limit; /**< 0 = unlimited */
	int64_t uses;
	bool active;
	char description[256];
	int64_t created_at;
};

/** Load by code (case-sensitive, as printed); not_found when there is none. */
enum merr coupon_find(struct db *db, const char *code, struct coupon *c);
/** Load by id. */
enum merr coupon_get(struct db *db, int64_t id, struct coupon *c);

/**
 * Whether c applies to user_id's purchase of subtotal in market m at now.
 * coupon_invalid with a reason in e otherwise. Reads the user's uses.
 */
enum merr coupon_check(struct db *db, const struct coupon *c, const struct market *m,
		       const char *user_id, int64_t subtotal, int64_t now, struct verr *e);

/** The pricing kind of a coupon. */
enum price_coupon_kind coupon_price_kind(const struct coupon *c);

/**
 * Count one use for user_id inside the caller's order transaction: total
 * and per-user limits are checked by the UPDATEs themselves (rows affected),
 * so two checkouts at once cannot both take the last use. Returns
 * coupon_invalid when a limit was reached meanwhile.
 */
enum merr coupon_redeem(struct db *db, const struct coupon *c, const char *user_id,
			int64_t order_id, int64_t discount, int64_t now);

/** Create from admin input (validated by the caller); fills c->id. conflict on a taken code. */
enum merr coupon_create(struct db *db, struct coupon *c);
/** Replace the editable fields of coupon c->id. */
enum merr coupon_update(struct db *db, const struct coupon *c);
/** Deactivate (coupons with redemptions are kept for history). */
enum merr coupon_deactivate(struct db *db, int64_t id);
/** Coupons with id > after, at most limit, in id order; *out malloc'd. */
int coupon_list(struct db *db, int64_t after, int64_t limit, struct coupon **out);

#endif
