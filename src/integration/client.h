/*
 * Clients of the platform's other services (the handoff's WS1-WS4), one
 * entry per service in a table (client.c): base URL from configuration, a
 * per-call budget (INTEGRATION_TIMEOUT_MS, retries included), retries only
 * for calls the caller marks safe, and a circuit breaker per service so a
 * dead service costs a request nothing after a few failures.
 *
 * Callers always have a fallback: a failed call returns false with the
 * reason, and the caller answers from mandi's own data and says so.
 */
#ifndef MANDI_INTEGRATION_CLIENT_H
#define MANDI_INTEGRATION_CLIENT_H
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct jw;

/** The services, in the handoff's order. */
enum service_id { SVC_USER, SVC_AI, SVC_VISION, SVC_SOCIAL, SVC__COUNT };

/** Why a call gave no answer (SVC_OK when it did). */
enum svc_outcome {
	SVC_OK,
	SVC_NOT_CONFIGURED, /**< its *_SERVICE_URL is empty */
	SVC_CIRCUIT_OPEN,   /**< too many recent failures: not called */
	SVC_TIMEOUT,        /**< no answer within the budget */
	SVC_UNREACHABLE,    /**< connection refused / reset / DNS */
	SVC_HTTP_ERROR,     /**< answered with a non-2xx status */
	SVC_BAD_RESPONSE,   /**< 2xx, but not the JSON object we expect */
};

/** The result of one call. json is a new reference on SVC_OK (caller decrefs). */
struct svc_result {
	enum svc_outcome outcome;
	long status;  /**< last HTTP status, 0 if none */
	int attempts; /**< HTTP attempts made (0 when not called) */
	int64_t us;   /**< wall time spent */
	json_t *json;
};

/**
 * Call service id: method + path (already escaped) relative to its base URL,
 * with an optional JSON body. retry_safe: the call has no side effects, so a
 * connection failure or a 502/503/504 is retried while the budget lasts.
 * Returns true on a 2xx JSON object answer (out->json set).
 */
bool svc_call(enum service_id id, const char *method, const char *path, const char *body,
	      bool retry_safe, struct svc_result *out) __attribute__((warn_unused_result));

/** "ok", "timeout", "circuit_open", … for responses and logs. */
const char *svc_outcome_name(enum svc_outcome o);
/** The service's name ("user", "ai", "vision", "social"). */
const char *svc_name(enum service_id id);
/** Whether the service has a URL configured. */
bool svc_configured(enum service_id id);
/** Write every service's configuration, breaker state and counters as a JSON array. */
void svc_write_status(struct jw *w);
/** Initialise libcurl once per process (before threads start). */
void svc_global_init(void);

#endif
