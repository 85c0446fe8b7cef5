/*
 * Taking money: the one entry point checkout (and /api/payments/process)
 * uses to charge through a market's gateway. Gateways are tables of
 * function pointers in payment/gateways/, each with a sandbox mode that
 * behaves like the vendor's sandbox (CONTRACT §6).
 *
 * Order of operations for an order (DESIGN.md): stock is reserved first,
 * payment_charge runs OUTSIDE any database transaction, then the order is
 * committed in one transaction that also calls payment_link_order. When the
 * order cannot be committed after a successful charge, payment_void gives
 * the money back.
 */
#ifndef MANDI_PAYMENT_H
#define MANDI_PAYMENT_H
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "core/jsonin.h"

struct db;
struct market;

enum pay_status {
	PAY_SUCCEEDED, /**< captured: the order is paid */
	PAY_PENDING,   /**< accepted, money later (cod, UPI collect, review) */
	PAY_DECLINED,  /**< the gateway (or fraud rules) said no: 402 */
};

/** One charge attempt: inputs filled by the caller, outputs by payment_charge. */
struct pay_charge {
	/* in */
	const char *user_id;
	const struct market *market;
	json_t *payment;             /**< client's object, e.g. {"gateway":"stripe","token":"tok_visa"},
					  {"gateway":"upi","vpa":"success@razorpay"}, {"gateway":"cod"},
					  {"method_id": 12} (a saved method) */
	int64_t amount;              /**< minor units */
	const char *idempotency_key; /**< passed to live gateways; may be NULL */
	const char *client_ip;
	const char *description;     /**< e.g. the order number */
	const char *shipping_country;/**< for fraud rules; may be NULL */
	/* out */
	enum pay_status status;
	int64_t transaction_id;      /**< the payment_transactions row written for this attempt */
	char gateway[24];
	char payment_status[24];     /**< for the order: paid | cod_pending | pending | review | failed */
	char decline_code[48];
	char message[200];           /**< the gateway's reason when declined */
};

/**
 * Check c->payment against c->market before any stock moves: unknown shape
 * → MERR_VALIDATION (field "payment…"), a gateway the market does not offer
 * → MERR_GATEWAY_UNAVAILABLE, a raw card number → MERR_VALIDATION. Fills e.
 */
enum merr payment_validate(struct db *db, struct pay_charge *c, struct verr *e);

/**
 * Charge c->amount through the gateway and record a payment_transactions
 * row (order_id NULL until linked). A decline is not an error: it returns
 * MERR_OK with c->status == PAY_DECLINED. Errors are for bad input (as
 * payment_validate) or MERR_INTERNAL. Must not run inside a transaction on db.
 */
enum merr payment_charge(struct db *db, struct pay_charge *c, struct verr *e);

/** Link the transaction to its order (inside the order's transaction). */
int payment_link_order(struct db *db, int64_t transaction_id, int64_t order_id)
	__attribute__((warn_unused_result));

/** Give back a successful charge whose order could not be committed. */
enum merr payment_void(struct db *db, int64_t transaction_id, const char *reason);

#endif
