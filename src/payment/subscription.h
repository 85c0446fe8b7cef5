/*
 * Subscriptions: plans per market, a subscription charged through a saved
 * payment method, renewed by a background job. Each period is billed through
 * one subscription_invoices row, unique per (subscription, period start), and
 * each attempt on it is claimed with a conditional UPDATE, so two processes
 * running the job never charge a period twice. Dunning: a failed renewal
 * makes the subscription past_due and is retried every SUBSCRIPTION_RETRY_S,
 * three times; then it is canceled.
 */
#ifndef MANDI_SUBSCRIPTION_H
#define MANDI_SUBSCRIPTION_H
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "core/jsonin.h"

struct db;
struct market;

#define SUB_MAX_RETRIES 3

struct plan {
	int64_t id, price;
	int interval_days;
	char market[4], currency[4], code[48], name[64], description[200];
};

struct sub {
	int64_t id, plan_id, payment_method_id;
	int64_t current_period_start, current_period_end, next_retry_at, canceled_at, created_at;
	int64_t price;
	int failed_attempts, interval_days;
	bool cancel_at_period_end;
	char user_id[128], market[4], currency[4], status[16], plan_code[48], plan_name[64];
	int64_t last_transaction_id;
};

/** Active plans of a market; count or -1 (*out malloc'd). */
int sub_plans(struct db *db, const struct market *m, struct plan **out);

/** Subscribe user to plan_id in market m paying with saved method_id (first
 * period charged now). A decline is MERR_PAYMENT_DECLINED with the reason. */
enum merr sub_create(struct db *db, const char *user_id, const struct market *m, int64_t plan_id,
		     int64_t method_id, const char *client_ip, const char *idempotency_key,
		     struct sub *out, struct verr *e) __attribute__((warn_unused_result));
/** One subscription; MERR_NOT_FOUND when none. */
enum merr sub_get(struct db *db, int64_t id, struct sub *s);
/** A user's subscriptions, newest first, with id < before (0: from the
 * newest), at most limit; count or -1. */
int sub_list(struct db *db, const char *user_id, int64_t before, int64_t limit, struct sub **out);
/** Cancel now (status canceled) or at the period's end (cancel_at_period_end). */
enum merr sub_cancel(struct db *db, int64_t id, bool at_period_end, struct sub *out, struct verr *e)
	__attribute__((warn_unused_result));
/** The job: renew (or retry, or end) every subscription due at now. */
bool sub_renew_due(struct db *db, int64_t now);

#endif
