/*
 * System alerts: raised by rules (evaluated every minute by a job) or by an
 * operator, deduplicated while open (system_alerts.dedup_key, backed by a
 * partial unique index), delivered by severity through the notification
 * outbox (critical: email + slack + sms; high: email + slack; medium: email;
 * low: dashboard only), limited to the channels ALERT_NOTIFICATIONS enables.
 */
#ifndef MANDI_ALERTS_H
#define MANDI_ALERTS_H
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"

struct db;

struct alert {
	int64_t id;
	char alert_type[64];
	char severity[16];
	char message[512];
	char *context; /**< JSON object text (malloc'ed; alert_free) */
	char status[16];
	char dedup_key[160];
	int64_t created_at, acknowledged_at, resolved_at;
	char resolution[256];
};

/** Free what an alert owns. */
void alert_free(struct alert *a);
/** Whether s is low, medium, high or critical. */
bool alert_severity_ok(const char *s);

/**
 * Raise an alert unless one with the same dedup_key (when not NULL) is
 * still open or acknowledged. *created tells which happened; out gets the
 * new or the existing alert. Queues its notifications in the same
 * transaction. context_json must be a JSON object text (or NULL).
 */
enum merr alert_raise(struct db *db, const char *type, const char *severity, const char *message,
		      const char *context_json, const char *dedup_key, int64_t now,
		      struct alert *out, bool *created) __attribute__((warn_unused_result));

/** Acknowledge (open → acknowledged) or resolve (open/acknowledged → resolved). */
enum merr alert_acknowledge(struct db *db, int64_t id, int64_t now, struct alert *out)
	__attribute__((warn_unused_result));
enum merr alert_resolve(struct db *db, int64_t id, const char *resolution, int64_t now,
			struct alert *out) __attribute__((warn_unused_result));

/** Alerts newest first with id < before (0 = from the newest); status may be
 * NULL (all) or open/acknowledged/resolved. Returns count or -1. */
int alert_list(struct db *db, const char *status, const char *severity, int64_t before,
	       int limit, struct alert **out);

/** Evaluate every enabled rule at now: raise what crosses, resolve what cleared. */
bool alerts_evaluate(struct db *db, int64_t now);

#endif
