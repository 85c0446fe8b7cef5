/*
 * Orders: items and totals frozen at purchase, a human number per market
 * ("US-20261125-7K3F9Q"), and a status machine kept as a table:
 * confirmed → shipped → delivered, or confirmed → cancelled (stock goes
 * back). Every change writes an order_events row (the tracking history) and
 * queues a customer notification in the same transaction.
 */
#ifndef MANDI_ORDER_H
#define MANDI_ORDER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "commerce/pricing.h"
#include "core/error.h"
#include "core/jsonin.h"

struct db;
struct market;

struct order_item {
	int64_t product_id, variant_id, merchant_id;
	char sku[96];
	char name[256];
	int64_t quantity, unit_price, line_total;
};

struct order {
	int64_t id;
	char order_number[32];
	char user_id[128];
	const struct market *market;
	int64_t session_id;
	char status[16];
	char payment_status[24];
	struct price_totals totals;
	char coupon_code[64];     /**< "" when none */
	char shipping_method[24];
	char *shipping_address;   /**< JSON object text (malloc) */
	char gateway[24];
	int64_t transaction_id;   /**< 0 when none */
	bool payment_unconfirmed; /**< just placed, the gateway did not answer in time: the payment
				       is pending while it is reconciled (not stored; the API answers 202) */
	char carrier[64], tracking_number[64];
	int64_t created_at, updated_at;
	struct order_item *items; /**< malloc */
	int nitems;
};

/** One status-history entry. */
struct order_event {
	char status[16];
	char note[200];
	char actor[128];
	int64_t at;
};

/** A fresh order number for market code ("US-YYYYMMDD-XXXXXX", random suffix). */
void order_number_new(const char *market_code, int64_t now, char *out, size_t n);

/** Insert o (items, first "confirmed" event, confirmation notification)
 * inside the caller's transaction; fills o->id. */
enum merr order_insert(struct db *db, struct order *o);

/** Load by number with items. not_found when there is none. */
enum merr order_get(struct db *db, const char *order_number, struct order *o);

/** user_id's orders with id < before (0 = newest), newest first, at most
 * limit, with items. *out malloc'd; free each with order_free. */
int order_list_user(struct db *db, const char *user_id, int64_t before, int64_t limit,
		    struct order **out);

/** The status history, oldest first (*out malloc'd). */
int order_history(struct db *db, int64_t order_id, struct order_event **out);

/** Whether merchant_id sold at least one item in the order. */
bool order_has_merchant(const struct order *o, int64_t merchant_id);

/**
 * Move o to status `to` ("shipped" needs carrier and tracking number) if the
 * status table allows it from the current status, else invalid_state.
 * Cancelling puts the items' stock back and then refunds a captured
 * payment in full. One transaction, conditional on the status read, so two
 * concurrent moves cannot both apply.
 */
enum merr order_transition(struct db *db, struct order *o, const char *to, const char *carrier,
			   const char *tracking, const char *actor, struct verr *e);

/**
 * The payment an order was placed with turned out not taken (reconciled
 * after a gateway timeout): inside the caller's transaction, a confirmed
 * order becomes cancelled with payment_status failed, its items' stock goes
 * back, and the customer is told why. An order that moved on meanwhile
 * (cancelled already, shipped) only gets payment_status failed.
 */
enum merr order_cancel_unpaid(struct db *db, int64_t order_id, const char *note, int64_t now);

/** Free what order_get / order_list_user allocated inside o. */
void order_free(struct order *o);

#endif
