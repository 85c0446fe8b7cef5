#include "payment/fraud.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/config.h"
#include "db/db.h"
#include "market/market.h"

/* Below FRAUD_NORM_MIN_SAMPLES recent successful payments the market norm
 * comes from configuration (FRAUD_NORM_US / FRAUD_NORM_IN) */
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

/*
 * The market norm (average successful payment over 30 days) moves slowly
 * and costs a scan, so each process recomputes it at most once a minute.
 */
#define NORM_CACHE_S 60
#define NORM_MARKETS 16

static struct {
	int64_t market_id, at, value; /* value 0: too few samples */
} norms[NORM_MARKETS];
static pthread_mutex_t norm_lock = PTHREAD_MUTEX_INITIALIZER;

static bool count(struct db *db, int64_t *out, const char *sql, const struct db_val *p, int n);

static bool market_norm(struct db *db, const struct market *m, int64_t now, int64_t *out)
{
	int slot = -1;
	pthread_mutex_lock(&norm_lock);
	for (int i = 0; i < NORM_MARKETS && slot < 0; i++)
		if (norms[i].market_id == m->id || !norms[i].market_id)
			slot = i;
	bool fresh = slot >= 0 && norms[slot].market_id == m->id && now - norms[slot].at < NORM_CACHE_S &&
		     now >= norms[slot].at;
	if (fresh)
		*out = norms[slot].value;
	pthread_mutex_unlock(&norm_lock);
	if (fresh)
		return true;
	int64_t samples = 0, avg = 0;
	if (!count(db, &samples,
		   "SELECT COUNT(*) FROM payment_transactions WHERE market_id = $1 AND status = 'succeeded' "
		   "AND created_at >= $2",
		   DBV(DI(m->id), DI(now - NORM_WINDOW_S))) ||
	    (samples >= cfg.fraud_norm_min_samples &&
	     !count(db, &avg,
		    "SELECT CAST(AVG(amount) AS BIGINT) FROM payment_transactions WHERE market_id = $1 "
		    "AND status = 'succeeded' AND created_at >= $2",
		    DBV(DI(m->id), DI(now - NORM_WINDOW_S)))))
		return false;
	*out = samples >= cfg.fraud_norm_min_samples ? avg : 0;
	if (slot >= 0) {
		pthread_mutex_lock(&norm_lock);
		norms[slot].market_id = m->id;
		norms[slot].at = now;
		norms[slot].value = *out;
		pthread_mutex_unlock(&norm_lock);
	}
	return true;
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
	int64_t first = 0, norm = 0;
	struct db_res r;
	/* the user's three signals in one round trip */
	bool ok = db_query(db, &r,
			   "SELECT COALESCE(SUM(CASE WHEN created_at >= $2 THEN 1 ELSE 0 END), 0), "
			   "COALESCE(SUM(CASE WHEN status = 'declined' AND created_at >= $3 THEN 1 ELSE 0 END), 0), "
			   "COALESCE(MIN(created_at), 0) FROM payment_transactions WHERE user_id = $1",
			   DBV(DT(user_id), DI(since), DI(now - DECLINE_WINDOW_S))) == DB_OK;
	if (ok) {
		s->user_payments = db_int(&r, 0, 0);
		s->recent_declines = db_int(&r, 0, 1);
		first = db_int(&r, 0, 2);
		db_res_free(&r);
	}
	/* the rules only ask whether a count reached its threshold, so counting
	 * stops there: a busy address (a NAT, a shared test card) costs no more
	 * than a quiet one */
	ok = ok &&
	     (!client_ip || count(db, &s->ip_payments,
				  "SELECT COUNT(*) FROM (SELECT 1 FROM payment_transactions WHERE client_ip = $1 "
				  "AND created_at >= $2 LIMIT $3) x",
				  DBV(DT(client_ip), DI(since), DI(cfg.fraud_velocity_ip)))) &&
	     (!fingerprint || !*fingerprint ||
	      count(db, &s->card_payments,
		    "SELECT COUNT(*) FROM (SELECT 1 FROM payment_transactions WHERE fingerprint = $1 "
		    "AND created_at >= $2 LIMIT $3) x",
		    DBV(DT(fingerprint), DI(since), DI(cfg.fraud_velocity_card)))) &&
	     market_norm(db, m, now, &norm);
	s->account_age_s = first > 0 ? now - first : 0;
	s->market_norm = norm > 0 ? norm : strcmp(m->code, "IN") == 0 ? cfg.fraud_norm_in : cfg.fraud_norm_us;
	s->shipping_foreign = shipping_country && *shipping_country &&
			      strcasecmp(shipping_country, m->code) != 0;
	return ok;
}
