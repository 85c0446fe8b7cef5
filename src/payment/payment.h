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
	PAY_UNKNOWN,   /**< a live gateway did not answer after the request went out: the
			    transaction is pending and the payment_reconcile job settles it */
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
	bool recurring;              /**< a renewal the customer agreed to: no fraud rules */
	int64_t subscription_id;     /**< set on renewals and first subscription charges */
	bool places_order;           /**< checkout: the order is placed with this payment, so if its
					  outcome is unknown and turns out declined the order is
					  cancelled and its stock returned */
	/* out */
	enum pay_status status;
	int64_t transaction_id;      /**< the payment_transactions row written for this attempt */
	char gateway[24];
	char payment_status[24];     /**< for the order: paid | cod_pending | pending | review | failed */
	char decline_code[48];
	char message[200];           /**< the gateway's reason when declined */
	char brand[24];
	char last4[8];
	int fraud_score;             /**< 0–100 */
	char fraud_decision[8];      /**< approve | review | reject */
	int64_t processing_us;       /**< our own time, gateway calls excluded */
	int64_t gateway_us;          /**< time spent in the gateway */
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

/** Whether transaction_id's outcome is unknown and still being reconciled. */
bool payment_reconciling(struct db *db, int64_t transaction_id);

/**
 * The payment_reconcile job: ask the gateway again about every payment whose
 * outcome was unknown and whose next attempt is due at now (same request,
 * same Idempotency-Key for Stripe; the order's payments for Razorpay), then
 * settle it: taken → the transaction succeeds and its order is paid (money
 * taken for an order that no longer wants it is refunded); not taken → the
 * transaction is declined and its order's payment failed (an order placed
 * with it is cancelled and its stock returned). While the gateway still
 * cannot say, attempts back off (PAYMENT_RECONCILE_DELAY_S doubling) up to
 * PAYMENT_RECONCILE_ATTEMPTS, then the payment is settled as failed and a
 * high alert asks a person to check it at the gateway.
 */
bool payment_reconcile_due(struct db *db, int64_t now);

/** Link the transaction to its order (inside the order's transaction). */
int payment_link_order(struct db *db, int64_t transaction_id, int64_t order_id)
	__attribute__((warn_unused_result));

/** Give back a successful charge whose order could not be committed. */
enum merr payment_void(struct db *db, int64_t transaction_id, const char *reason);

/* --- paying an existing order ---------------------------------------------------- */

/** What paying an order came to. */
struct pay_order_result {
	int64_t order_id;
	char order_number[48];
	char payment_status[24]; /**< the order's, afterwards */
};

/**
 * Pay order_id (owned by c->user_id unless as_admin) whose payment_status is
 * failed, pending or cod_pending, for its total, through c->payment. c->market
 * and c->amount are filled from the order. On success the order points at the
 * new transaction and an earlier pending one is voided; the order is claimed
 * with a conditional UPDATE so two concurrent payments never both stick (the
 * loser's charge is voided: MERR_INVALID_STATE). A decline returns MERR_OK
 * with c->status PAY_DECLINED.
 */
enum merr payment_process_order(struct db *db, int64_t order_id, const char *order_number,
				bool as_admin, struct pay_charge *c, struct pay_order_result *out,
				struct verr *e) __attribute__((warn_unused_result));

/* --- transactions and refunds ------------------------------------------------ */

/** A payment_transactions row. */
struct pay_txn {
	int64_t id, order_id, subscription_id, method_id;
	int64_t amount, captured, refunded;
	int64_t fraud_score, processing_us, gateway_us, created_at, updated_at;
	bool live;
	bool reconciling; /**< outcome unknown, being reconciled */
	char user_id[128], market[4], currency[4], gateway[24], status[16], payment_status[24];
	char gateway_ref[96], decline_code[48], message[200], brand[24], last4[8], fraud_reasons[256];
};

/** Read transaction id; MERR_NOT_FOUND when there is none. */
enum merr payment_txn_get(struct db *db, int64_t id, struct pay_txn *t);

/** A refund row. */
struct pay_refund {
	int64_t id, transaction_id, amount, created_at;
	char currency[4], reason[200], status[16], gateway_ref[96], created_by[128];
};

/** Refunds of a transaction, oldest first, into a malloc'd array; count or -1. */
int payment_refunds(struct db *db, int64_t transaction_id, struct pay_refund **out);

/**
 * Refund amount (0: everything not yet refunded) of a captured transaction.
 * The amount is reserved with one conditional UPDATE (refunded + amount <=
 * captured) before the gateway is called, so concurrent refunds never exceed
 * what was captured; a gateway failure gives the reservation back. The
 * order's payment_status becomes partially_refunded or refunded.
 */
enum merr payment_refund(struct db *db, int64_t transaction_id, int64_t amount, const char *reason,
			 const char *by, const char *idempotency_key, struct pay_refund *out,
			 struct verr *e) __attribute__((warn_unused_result));

/**
 * Cash on delivery collected (the courier has the money): the pending COD
 * transaction becomes succeeded and captured, so it can be refunded like any
 * other; the caller (order delivery) sets the order's payment_status to paid.
 * MERR_INVALID_STATE unless it is a pending COD transaction.
 */
enum merr payment_cod_collected(struct db *db, int64_t transaction_id)
	__attribute__((warn_unused_result));

/* --- webhooks ------------------------------------------------------------------ */

struct pay_webhook_result {
	bool duplicate;          /**< this event id was seen before: nothing done */
	int64_t transaction_id;  /**< the payment it moved, 0 if none */
	char type[64];
	char status[16];         /**< the transaction's status afterwards */
};

/**
 * Verify (signature, timestamp) and apply a gateway's webhook: events are
 * recorded once by (gateway, id); a payment-succeeded/failed event moves a
 * pending transaction (and its order) to paid/failed. A bad signature is
 * MERR_UNAUTHORIZED; a gateway without webhooks MERR_NOT_FOUND.
 */
enum merr payment_webhook(struct db *db, const char *gateway, const char *body, size_t len,
			  const char *signature, const char *event_id, struct pay_webhook_result *out,
			  struct verr *e) __attribute__((warn_unused_result));
/** The header carrying gateway's webhook signature, NULL if it has no webhooks. */
const char *payment_webhook_signature_header(const char *gateway);

/* --- fraud reviews ------------------------------------------------------------- */

struct pay_review {
	int64_t id, transaction_id, order_id, amount, score, created_at, decided_at;
	char user_id[128], currency[4], gateway[24], reasons[256], status[16], decided_by[128],
		note[200];
};

/** Reviews with this status (NULL: all) after id `after`, at most limit; count or -1. */
int payment_reviews(struct db *db, const char *status, int64_t after, int64_t limit,
		    struct pay_review **out);
/**
 * Decide a pending review: approve captures the held payment (order paid),
 * reject releases it (order payment failed). MERR_INVALID_STATE when it was
 * decided already (also when two admins race).
 */
enum merr payment_review_decide(struct db *db, int64_t id, bool approve, const char *by,
				const char *note, struct pay_review *out, struct verr *e)
	__attribute__((warn_unused_result));

/* --- gateway health ------------------------------------------------------------ */

struct pay_gateway_health {
	char market[4], code[24], kind[16];
	int64_t successes, failures, avg_latency_us;
	int64_t window_attempts, window_failures;
	int64_t avg_processing_us; /**< our own time per payment through it, over the window */
	bool breaker_open;
};

/** The gateway_stats job: fold settled gateway_attempts into payment_gateways'
 * counters and delete attempts older than a day (or the breaker window). */
bool payment_gateway_stats(struct db *db, int64_t now);

/** Health of every market's gateways at now into a malloc'd array; count or -1. */
int payment_gateway_health(struct db *db, int64_t now, struct pay_gateway_health **out);

/** Whether a text looks like a card number (13–19 digits, Luhn-valid, spaces/dashes allowed). */
bool payment_looks_like_pan(const char *s);
/** Whether any string or integer anywhere in j looks like a card number. */
bool payment_json_has_pan(json_t *j);

#endif
