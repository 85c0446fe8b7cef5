/*
 * Notifications through an outbox: notify_enqueue writes a row inside the
 * caller's transaction (so a message exists exactly when the business change
 * committed), and notify_deliver_due, run by a background job, sends due rows
 * through their channel with retries and backoff. Channels are data: "email"
 * (SMTP via libcurl), "webhook" and any other name configured as a webhook
 * URL (slack, sms, ...), and "log".
 */
#ifndef MANDI_NOTIFY_H
#define MANDI_NOTIFY_H
#include <stdbool.h>
#include <stdint.h>

struct db;

#define NOTIFY_MAX_ATTEMPTS 6

/**
 * Queue one message. kind says what it is ("order_confirmation",
 * "alert"...), channel how to send it, recipient the address for that
 * channel (an email address, a user id for log/webhook). Runs in the
 * caller's transaction when one is open. Returns a db_rc.
 */
int notify_enqueue(struct db *db, const char *kind, const char *channel, const char *recipient,
		   const char *subject, const char *body) __attribute__((warn_unused_result));

/** Send up to `batch` due messages at now; failures are retried with
 * exponential backoff up to NOTIFY_MAX_ATTEMPTS, then marked failed.
 * Returns false when the outbox could not be read. */
bool notify_deliver_due(struct db *db, int64_t now, int batch);

#endif
