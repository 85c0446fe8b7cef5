/*
 * Checkout sessions and order completion.
 *
 * A session prices the user's cart (CONTRACT §4) and walks the steps
 * address → shipping → payment. It holds the cart's stock for
 * RESERVATION_TTL seconds (stock_reservations rows; inventory.reserved
 * carries their sum), released by checkout_release_expired or on
 * completion. Completion follows DESIGN.md: reserve → charge (outside any
 * transaction) → one transaction that converts the reservation into a sale,
 * writes the order, redeems the coupon, links the payment and queues the
 * confirmation. A decline releases the stock and leaves the session open;
 * a failure after a successful charge voids the charge.
 */
#ifndef MANDI_CHECKOUT_H
#define MANDI_CHECKOUT_H
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "commerce/address.h"
#include "commerce/cart.h"
#include "commerce/coupon.h"
#include "commerce/order.h"
#include "commerce/pricing.h"
#include "core/error.h"
#include "core/jsonin.h"

struct db;
struct market;

/** A loaded session with its lines priced now. */
struct checkout {
	int64_t id;
	char user_id[128];
	const struct market *market;
	int64_t cart_id;          /**< 0 for a buy-now */
	char status[16];          /**< open | completed | cancelled */
	bool express;
	int64_t address_id;
	char *address;            /**< JSON snapshot (malloc) or NULL */
	char method[24];          /**< "" until chosen (priced as standard) */
	int64_t coupon_id;
	struct coupon coupon;     /**< valid when coupon_id */
	bool coupon_applies;      /**< and discounts these totals */
	int64_t payment_method_id;
	int64_t order_id;
	int64_t expires_at, created_at, updated_at;
	int64_t reserved_units;   /**< units held for this session now */
	struct cart *cart;        /**< malloc */
	struct price_totals totals;
};

/** What PUT /api/checkout/{id}/update may change (NULL / false = keep). */
struct checkout_change {
	bool set_address;
	int64_t address_id;         /**< a saved address, or 0 with `address` */
	const struct address *address;
	const char *method;
	const char *coupon_code;    /**< "" removes the coupon */
};

/** The session's current step: address, shipping, payment or completed. */
const char *checkout_step(const struct checkout *s);

/** Open a session on user_id's cart in m (validation_failed when empty).
 * Express fills the default address, the cheapest method and the default
 * saved payment method. Stock is held when available. */
enum merr checkout_start(struct db *db, const char *user_id, const struct market *m, bool express,
			 struct checkout *s, struct verr *e);

/** Load session id with its cart priced now. not_found when there is none. */
enum merr checkout_load(struct db *db, int64_t id, struct checkout *s);

/** Apply changes to an open session (coupon_invalid changes nothing). */
enum merr checkout_update(struct db *db, struct checkout *s, const struct checkout_change *ch,
			  struct verr *e);

/**
 * Complete the open session s with the client's payment object (NULL: the
 * session's saved method). On success o is the order (free with order_free).
 * Errors: validation_failed, gateway_unavailable, out_of_stock,
 * coupon_invalid, payment_declined (the gateway's reason in e->message),
 * invalid_state for a session no longer open.
 */
enum merr checkout_complete(struct db *db, struct checkout *s, json_t *payment,
			    const char *idempotency_key, const char *client_ip, struct order *o,
			    struct verr *e);

/**
 * Buy now: qty of one variant straight to an order, through a session of its
 * own (the user's cart is untouched), using the default address unless
 * address is given and the default saved method unless payment is given.
 */
enum merr checkout_buy_now(struct db *db, const char *user_id, const struct market *m,
			   int64_t product_id, int64_t variant_id, int64_t qty,
			   const struct address *address, json_t *payment,
			   const char *idempotency_key, const char *client_ip, struct order *o,
			   struct verr *e);

/** Release reservations that expired at now (background job). */
bool checkout_release_expired(struct db *db, int64_t now);

/** Free what checkout_load / checkout_start allocated inside s. */
void checkout_free(struct checkout *s);

#endif
