#include "payment/fraud.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/config.h"
#include "db/db.h"
#include "market/market.h"

/* Below this many recent successful payments the market norm comes from
 * configuration (FRAUD_NORM_US / FRAUD_NORM_IN) */
#define NORM_MIN_SAMPLES 20
#define NORM_WINDOW_S (30 * 86400)
#define DECLINE_WINDOW_S 86400

void fraud_limits_from_config(struct fraud_limits *l)
{
	l->velocity_user = cfg.fraud_velocity_user;
	l->velocity_ip = cfg.fraud_velocity_ip;
	l->velocity_card = cfg.fraud_velocity_card;
	l->amount_multiple = cfg.fraud_amount_multiple;
	l->new_account_s = cfg.fraud_new_account_s;
	l->declines = cfg.fraud_declines;
	l->review_score = cfg.fraud_review_score;
	l->reject_score = cfg.fraud_reject_score;
}

/*
 * The rules. With the default thresholds (review 50, reject 80) no rule
 * decides alone: two signals together ask for a review, three reject.
 */
enum rule_id { R_VEL_USER, R_VEL_IP, R_VEL_CARD, R_AMOUNT, R_NEW_ACCOUNT, R_SHIP, R_DECLINES };

static const struct rule {
	const char *code;
	int points;
} rules[] = {
	[R_VEL_USER] = {"velocity_user", 30},
	[R_VEL_IP] = {"velocity_ip", 25},
	[R_VEL_CARD] = {"velocity_card", 30},
	[R_AMOUNT] = {"amount_above_market_norm", 35},
	[R_NEW_ACCOUNT] = {"new_account_high_amount", 25},
	[R_SHIP] = {"shipping_country_mismatch", 20},
	[R_DECLINES] = {"repeated_declines", 35},
};

static bool fires(enum rule_id id, const struct fraud_signals *s, const struct fraud_limits *l)
{
	int64_t norm = s->market_norm > 0 ? s->market_norm : 1;
	switch (id) {
	case R_VEL_USER:
		return s->user_payments >= l->velocity_user;
	case R_VEL_IP:
		return s->ip_payments >= l->velocity_ip;
	case R_VEL_CARD:
		return s->card_payments >= l->velocity_card;
	case R_AMOUNT:
		return s->amount > norm * l->amount_multiple;
	case R_NEW_ACCOUNT:
		/* "high" for a new account is twice the norm */
		return s->account_age_s < l->new_account_s && s->amount > 2 * norm;
	case R_SHIP:
		return s->shipping_foreign;
	case R_DECLINES:
		return s->recent_declines >= l->declines;
	}
	return false;
}

void fraud_score(const struct fraud_signals *s, const struct fraud_limits *l, struct fraud_result *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		if (!fires((enum rule_id)i, s, l))
			continue;
		out->score += rules[i].points;
		if (out->nreasons < FRAUD_MAX_REASONS)
			out->reasons[out->nreasons++] = rules[i].code;
	}
	if (out->score > 100)
		out->score = 100;
	out->decision = out->score >= l->reject_score   ? FRAUD_REJECT
			: out->score >= l->review_score ? FRAUD_REVIEW
							: FRAUD_APPROVE;
}

const char *fraud_decision_name(enum fraud_decision d)
{
	return d == FRAUD_REJECT ? "reject" : d == FRAUD_REVIEW ? "review" : "approve";
}

void fraud_reasons_json(const struct fraud_result *r, char *out, size_t n)
{
	size_t o = (size_t)snprintf(out, n, "[");
	for (int i = 0; i < r->nreasons && o < n; i++)
		o += (size_t)snprintf(out + o, n - o, "%s\"%s\"", i ? "," : "", r->reasons[i]);
	if (o < n)
		snprintf(out + o, n - o, "]");
}

static bool count(struct db *db, int64_t *out, const char *sql, const struct db_val *p, int n)
{
	return db_scalar(db, out, 0, sql, p, n) == DB_OK;
}

bool fraud_gather(struct db *db, const struct market *m, const char *user_id, const char *client_ip,
		  const char *fingerprint, int64_t amount, const char *shipping_country, int64_t now,
		  struct fraud_signals *s)
{
	memset(s, 0, sizeof(*s));
	s->amount = amount;
	int64_t since = now - cfg.fraud_velocity_window_s;
	int64_t first = 0, samples = 0, avg = 0;
	bool ok =
		count(db, &s->user_payments,
		      "SELECT COUNT(*) FROM payment_transactions WHERE user_id = $1 AND created_at >= $2",
		      DBV(DT(user_id), DI(since))) &&
		(!client_ip || count(db, &s->ip_payments,
				     "SELECT COUNT(*) FROM payment_transactions WHERE client_ip = $1 AND created_at >= $2",
				     DBV(DT(client_ip), DI(since)))) &&
		(!fingerprint || !*fingerprint ||
		 count(db, &s->card_payments,
		       "SELECT COUNT(*) FROM payment_transactions WHERE fingerprint = $1 AND created_at >= $2",
		       DBV(DT(fingerprint), DI(since)))) &&
		count(db, &s->recent_declines,
		      "SELECT COUNT(*) FROM payment_transactions WHERE user_id = $1 AND status = 'declined' "
		      "AND created_at >= $2",
		      DBV(DT(user_id), DI(now - DECLINE_WINDOW_S))) &&
		count(db, &first, "SELECT MIN(created_at) FROM payment_transactions WHERE user_id = $1",
		      DBV(DT(user_id))) &&
		count(db, &samples,
		      "SELECT COUNT(*) FROM payment_transactions WHERE market_id = $1 AND status = 'succeeded' "
		      "AND created_at >= $2",
		      DBV(DI(m->id), DI(now - NORM_WINDOW_S))) &&
		(samples < NORM_MIN_SAMPLES ||
		 count(db, &avg,
		       "SELECT CAST(AVG(amount) AS BIGINT) FROM payment_transactions WHERE market_id = $1 "
		       "AND status = 'succeeded' AND created_at >= $2",
		       DBV(DI(m->id), DI(now - NORM_WINDOW_S))));
	s->account_age_s = first > 0 ? now - first : 0;
	s->market_norm = samples >= NORM_MIN_SAMPLES && avg > 0
				 ? avg
				 : strcmp(m->code, "IN") == 0 ? cfg.fraud_norm_in : cfg.fraud_norm_us;
	s->shipping_foreign = shipping_country && *shipping_country &&
			      strcasecmp(shipping_country, m->code) != 0;
	return ok;
}
