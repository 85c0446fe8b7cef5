/*
 * Idempotency-Key middleware (CONTRACT §1) for routes flagged RF_IDEMPOTENT.
 * The key row (user, key, request hash) is inserted before the handler runs,
 * under UNIQUE (user_id, idem_key): exactly one request acts. A duplicate
 * with the same hash waits for that row to be done and replays its status
 * and body; a different hash gets 409 idempotency_conflict. Server errors
 * (5xx) are not remembered, so the client may retry them.
 *
 * With CACHE_TYPE=redis a completed key's answer is also a shared record in
 * Redis, so a replay (or a reused key's 409) on any instance is answered
 * without touching the database; first requests, duplicates in flight and
 * a down Redis go through the rows as above.
 */
#ifndef MANDI_IDEMPOTENCY_H
#define MANDI_IDEMPOTENCY_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/req.h"

struct db;

/** A parsed shared record: the request hash (64 hex digits, not
 * terminated), the status and the body, all pointing into the record. */
struct idem_record {
	const char *hash;
	int status;
	const char *body;
	size_t body_len;
};

/** Parse a shared record "<64-hex hash> <status>\n<body>" of n bytes (not
 * NUL-terminated; what Redis handed back, so untrusted). False unless the
 * hash is 64 hex digits and the status 200..499. */
bool idempotency_record_parse(const char *v, size_t n, struct idem_record *out);

/** How long a key is remembered (CONTRACT: at least 24 h). */
#define IDEMPOTENCY_TTL_S (24 * 3600 + 600)

/** server_hooks.around: run handler under r's Idempotency-Key, if it sent one. */
void idempotency_around(struct req *r, void (*handler)(struct req *r));

/** Forget keys older than IDEMPOTENCY_TTL_S at now, and pending rows a
 * crashed process left behind (background job). */
bool idempotency_cleanup(struct db *db, int64_t now);

#endif
