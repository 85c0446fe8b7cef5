/*
 * One error enum for the whole service (curl's CURLcode): each value maps once
 * to an HTTP status and the contract's snake_case error code.
 */
#ifndef MANDI_ERROR_H
#define MANDI_ERROR_H

/* X(name, http status, contract code, default message) */
#define MANDI_ERRORS(X)                                                              \
	X(OK, 200, "ok", "ok")                                                       \
	X(INVALID_JSON, 400, "invalid_json", "the request body is not valid JSON")  \
	X(VALIDATION, 400, "validation_failed", "the request is not valid")         \
	X(UNAUTHORIZED, 401, "unauthorized", "a valid bearer token is required")    \
	X(PAYMENT_DECLINED, 402, "payment_declined", "the payment was declined")    \
	X(FORBIDDEN, 403, "forbidden", "you may not access this resource")          \
	X(NOT_FOUND, 404, "not_found", "no such resource")                          \
	X(METHOD_NOT_ALLOWED, 405, "method_not_allowed", "method not allowed here") \
	X(CONFLICT, 409, "conflict", "the resource already exists")                 \
	X(OUT_OF_STOCK, 409, "out_of_stock", "not enough stock")                    \
	X(IDEMPOTENCY_CONFLICT, 409, "idempotency_conflict",                        \
	  "this Idempotency-Key was used with a different request")                 \
	X(INVALID_STATE, 409, "invalid_state", "the resource is not in a state that allows this") \
	X(UNKNOWN_MARKET, 400, "unknown_market", "unknown market code")             \
	X(GATEWAY_UNAVAILABLE, 400, "gateway_unavailable",                          \
	  "this payment gateway is not offered in this market")                     \
	X(COUPON_INVALID, 400, "coupon_invalid", "the coupon does not apply")       \
	X(PAYLOAD_TOO_LARGE, 413, "payload_too_large", "the request body is too large") \
	X(UNSUPPORTED_MEDIA, 415, "unsupported_media_type", "send application/json") \
	X(RATE_LIMITED, 429, "rate_limited", "too many requests")                   \
	X(INTERNAL, 500, "internal_error", "internal error")                        \
	X(UNAVAILABLE, 503, "unavailable", "the service is temporarily unavailable")

/** Every outcome a domain or API function can report. */
enum merr {
#define X(name, status, code, msg) MERR_##name,
	MANDI_ERRORS(X)
#undef X
	MERR__COUNT
};

/** HTTP status for an error. */
int merr_status(enum merr e);
/** Contract error code, e.g. "out_of_stock". */
const char *merr_code(enum merr e);
/** Default human message. */
const char *merr_message(enum merr e);

#endif
