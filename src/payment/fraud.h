/*
 * Fraud scoring: a table of rules, each adding points (the total capped at
 * 100) and a reason when it fires. fraud_score is pure (unit-tested);
 * fraud_gather reads the signals from the database. Thresholds come from the
 * configuration (FRAUD_*); the outcome is approve, review (an admin decides)
 * or reject.
 */
#ifndef MANDI_FRAUD_H
#define MANDI_FRAUD_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct db;
struct market;

/** What the rules look at. */
struct fraud_signals {
	int64_t amount;
	int64_t market_norm;        /**< a typical payment in this market */
	int64_t user_payments;      /**< payments by this user in the velocity window */
	int64_t ip_payments;        /**< … from this client IP (counted up to its threshold) */
	int64_t card_payments;      /**< … with this instrument (counted up to its threshold) */
	int64_t account_age_s;      /**< since the user's first payment (0: first one now) */
	int64_t recent_declines;    /**< this user's declines in the last 24 h */
	bool shipping_foreign;      /**< shipping country is not the market's */
};

/** Thresholds (from cfg by fraud_limits_from_config). */
struct fraud_limits {
	int64_t velocity_user, velocity_ip, velocity_card;
	int64_t amount_multiple;
	int64_t new_account_s;
	int64_t declines;
	int64_t review_score, reject_score;
};

enum fraud_decision { FRAUD_APPROVE, FRAUD_REVIEW, FRAUD_REJECT };

#define FRAUD_MAX_REASONS 8

struct fraud_result {
	int score; /**< 0–100 */
	enum fraud_decision decision;
	const char *reasons[FRAUD_MAX_REASONS]; /**< static strings: rule codes */
	int nreasons;
};

void fraud_limits_from_config(struct fraud_limits *l);
/** Score s against l. */
void fraud_score(const struct fraud_signals *s, const struct fraud_limits *l, struct fraud_result *out);
/** "approve" | "review" | "reject". */
const char *fraud_decision_name(enum fraud_decision d);
/** The reasons as a JSON array text into out. */
void fraud_reasons_json(const struct fraud_result *r, char *out, size_t n);

/**
 * Read the signals for a payment by user_id from client_ip with instrument
 * fingerprint (may be NULL) in market m at now. Returns false on a database
 * error.
 */
bool fraud_gather(struct db *db, const struct market *m, const char *user_id, const char *client_ip,
		  const char *fingerprint, int64_t amount, const char *shipping_country, int64_t now,
		  struct fraud_signals *s) __attribute__((warn_unused_result));

#endif
