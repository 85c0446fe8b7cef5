/*
 * The outbound HTTP client the live gateway adapters use (libcurl): one call
 * per request, with connect and total timeouts, the answer parsed as JSON.
 * Secrets go into headers only and are never logged.
 */
#ifndef MANDI_PAYMENT_LIVE_H
#define MANDI_PAYMENT_LIVE_H
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"

/** A form or JSON body being built. */
struct live_form {
	struct buf b;
};

void live_form_init(struct live_form *f);
/** Append key=value, both percent-encoded. */
void live_form_add(struct live_form *f, const char *key, const char *value);
void live_form_addi(struct live_form *f, const char *key, int64_t value);
void live_form_free(struct live_form *f);

/** One response: HTTP status (0 when the call failed), parsed JSON body. */
struct live_resp {
	long status;
	json_t *json;     /**< NULL when the body is not JSON; owned: json_decref */
	char error[160];  /**< transport error (timeout, refused) when status == 0 */
	/** status == 0 after the request (or part of it) went out: a timeout
	 * or a dropped connection, so the gateway may have acted on it. A
	 * refused or unresolvable connection leaves this false. */
	bool maybe_sent;
	int64_t us;       /**< time spent */
};

/**
 * POST (or GET when body is NULL) to url. auth is a full Authorization header
 * value ("Bearer sk_…" or "Basic …"), content_type the body's type,
 * idempotency_key sent as Idempotency-Key when not NULL.
 */
bool live_call(const char *method, const char *url, const char *auth, const char *content_type,
	       const char *body, const char *idempotency_key, struct live_resp *out);
void live_resp_free(struct live_resp *r);
/** "Basic base64(user:pass)" into out. */
void live_basic_auth(char *out, size_t n, const char *user, const char *pass);
/** Global libcurl set-up; call once at start (idempotent). */
void live_init(void);

#endif
