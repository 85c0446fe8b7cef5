/*
 * The gateway interface (STYLE.md: a family of interchangeable backends is a
 * folder of files, each one filled-in `const struct gateway`). payment.c
 * picks the gateway by code, asks it to authorise and capture, and records
 * what happened; a gateway knows nothing of the database.
 *
 * Every gateway has a sandbox mode that behaves like the vendor's sandbox
 * (CONTRACT §6); Stripe (and Apple Pay, which Stripe processes) and Razorpay
 * (and UPI, which Razorpay processes) switch to their live adapters when a
 * live key is configured.
 */
#ifndef MANDI_GATEWAY_H
#define MANDI_GATEWAY_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/jsonin.h"

/** What a gateway call came to. */
enum gw_outcome {
	GW_CAPTURED,   /**< money taken (or, for authorise without capture, held) */
	GW_AUTHORISED, /**< held, capture pending (fraud review) */
	GW_PENDING,    /**< the customer still has to act (UPI collect, PayPal approval, COD) */
	GW_DECLINED,   /**< the issuer or wallet said no: not the gateway's fault */
	GW_ERROR,      /**< the gateway failed (timeout, 5xx, processing error): counts against its health */
	GW_INVALID,    /**< the input names nothing the gateway knows (unknown token) */
	GW_UNKNOWN,    /**< a live call timed out or dropped after the request went out:
			    the gateway may have charged; reconcile() finds out later */
};

/** One call's input. */
struct gw_req {
	const char *market;          /**< "US" */
	const char *currency;        /**< "USD" */
	json_t *payment;             /**< the client's object, or a saved method's {token|vpa} */
	int64_t amount;              /**< minor units */
	bool capture;                /**< false: authorise only (held for review) */
	const char *idempotency_key; /**< passed through to live gateways; may be NULL */
	const char *description;
};

/** One call's output. */
struct gw_res {
	char ref[96];          /**< the gateway's id for the payment/refund */
	char decline_code[48]; /**< vendor's code: card_declined, insufficient_funds … */
	char message[200];     /**< vendor's human reason */
	char brand[24];        /**< visa, mastercard, upi, paypal … */
	char last4[8];
	char fingerprint[72];  /**< stable id of the instrument, for velocity rules */
	bool live;             /**< went to the vendor's API */
};

/** A webhook event once its signature checked out. */
struct gw_event {
	char id[96];
	char type[64];
	char ref[96];      /**< the payment it is about */
	bool paid;         /**< moves the payment to paid … */
	bool failed;       /**< … or to failed (neither: ignored) */
	char message[200];
};

struct gateway {
	const char *code;
	/** Check the shape of a payment object (keys other than "gateway"). */
	bool (*check)(json_t *payment, struct verr *e);
	enum gw_outcome (*authorise)(const struct gw_req *q, struct gw_res *out);
	/** Capture a payment authorised earlier (after a fraud review). */
	enum gw_outcome (*capture)(const char *ref, int64_t amount, const char *currency,
				   struct gw_res *out);
	/** Refund amount of a captured payment (also voids an authorisation). */
	enum gw_outcome (*refund)(const char *ref, int64_t amount, const char *currency,
				  const char *idempotency_key, struct gw_res *out);
	/**
	 * Check a webhook's signature header over body at now and parse the
	 * event; false (with why) when forged, stale or malformed. NULL when
	 * the gateway sends no webhooks.
	 */
	bool (*verify_webhook)(const char *body, size_t len, const char *signature,
			       const char *event_id, int64_t now, struct gw_event *ev, char *why,
			       size_t whylen);
	/** Name of the signature header verify_webhook reads (event_id: the
	 * event-id header's value, for gateways that send the id there). */
	const char *signature_header;
	/** Whether the gateway is configured to run (keys present for live mode). */
	bool (*health)(void);
	/** Live mode (a live key configured): gateway_us is the vendor's time. */
	bool (*is_live)(void);
	/**
	 * Find out how an authorise that came to GW_UNKNOWN ended: q is the
	 * same request (same idempotency key), ref what the gateway had
	 * already told us (may be ""). Returns the outcome the first call
	 * would have had (ref, decline code and message in out), or
	 * GW_UNKNOWN / GW_ERROR while the gateway still cannot say. NULL for
	 * gateways that never answer GW_UNKNOWN (sandbox only).
	 */
	enum gw_outcome (*reconcile)(const struct gw_req *q, const char *ref, struct gw_res *out);
};

extern const struct gateway gw_stripe, gw_apple_pay, gw_paypal, gw_razorpay, gw_paytm, gw_upi,
	gw_cod;

/** The gateway with this code, or NULL. */
const struct gateway *gateway_find(const char *code);

/* --- helpers the gateway files share (gateways/common.c) --------------------- */

/** Copy a string into a fixed buffer, truncating. */
void gw_copy(char *dst, size_t n, const char *src);
/** A new random reference "prefix_XXXXXXXXXXXXXX" (sandbox ids). */
void gw_ref(char *dst, size_t n, const char *prefix);
/** Fingerprint of an instrument: hex SHA-256 of "gateway:identity", truncated. */
void gw_fingerprint(char *dst, size_t n, const char *gateway, const char *identity);
/** A string member of the payment object, or NULL. */
const char *gw_str(json_t *payment, const char *key);
/** Refuse members other than "gateway" and those listed (NULL-terminated). */
bool gw_only(json_t *payment, const char *const *allowed, struct verr *e);
/** Hex HMAC-SHA256 under key of p1 followed by p2 (n2 may be 0). */
bool gw_hmac_sha256_hex(const char *key, const char *p1, size_t n1, const char *p2, size_t n2,
			char hex[65]);
/** Decline with the vendor's code and message. */
/* Sandbox-only gateways (cod, paypal, paytm) share these: a capture of an
 * authorised sandbox payment always succeeds, the sandbox is always up,
 * and there is no live mode. */
enum gw_outcome gw_sandbox_capture(const char *ref, int64_t amount, const char *currency,
				   struct gw_res *out);
bool gw_sandbox_health(void);
bool gw_sandbox_never_live(void);
enum gw_outcome gw_decline(struct gw_res *out, const char *code, const char *message);

/* Stripe's sandbox, shared by Apple Pay (Stripe processes Apple Pay tokens). */
bool stripe_check(json_t *payment, struct verr *e);
enum gw_outcome stripe_authorise_as(const char *gateway, const struct gw_req *q, struct gw_res *out);
enum gw_outcome stripe_capture(const char *ref, int64_t amount, const char *currency,
			       struct gw_res *out);
enum gw_outcome stripe_refund(const char *ref, int64_t amount, const char *currency,
			      const char *idempotency_key, struct gw_res *out);
bool stripe_live(void);
enum gw_outcome stripe_reconcile(const struct gw_req *q, const char *ref, struct gw_res *out);
/* Razorpay, shared by UPI (Razorpay processes UPI). */
enum gw_outcome razorpay_authorise_as(const char *gateway, const struct gw_req *q,
				      struct gw_res *out);
enum gw_outcome razorpay_capture(const char *ref, int64_t amount, const char *currency,
				 struct gw_res *out);
enum gw_outcome razorpay_refund(const char *ref, int64_t amount, const char *currency,
				const char *idempotency_key, struct gw_res *out);
bool razorpay_verify_webhook(const char *body, size_t len, const char *signature,
			     const char *event_id, int64_t now, struct gw_event *ev, char *why,
			     size_t whylen);
bool razorpay_live(void);
enum gw_outcome razorpay_reconcile(const struct gw_req *q, const char *ref, struct gw_res *out);

#endif
