/* Fraud rules: each rule fires on its own signal, scores add up and cap at
 * 100, thresholds decide approve / review / reject. */
#include "payment/fraud.h"
#include "t.h"

static const struct fraud_limits lim = {
	.velocity_user = 5, .velocity_ip = 30, .velocity_card = 4, .amount_multiple = 5,
	.new_account_s = 86400, .declines = 3, .review_score = 50, .reject_score = 80,
};

/* An ordinary payment: old account, normal amount, nothing recent. */
static struct fraud_signals calm(void)
{
	return (struct fraud_signals){.amount = 5000, .market_norm = 10000, .account_age_s = 30 * 86400};
}

static bool has(const struct fraud_result *r, const char *code)
{
	for (int i = 0; i < r->nreasons; i++)
		if (strcmp(r->reasons[i], code) == 0)
			return true;
	return false;
}

static void test_calm_payment_approved(void)
{
	struct fraud_signals s = calm();
	struct fraud_result r;
	fraud_score(&s, &lim, &r);
	CHECK_INT(r.score, 0);
	CHECK_INT(r.nreasons, 0);
	CHECK(r.decision == FRAUD_APPROVE);
}

static void one_rule(struct fraud_signals s, const char *code)
{
	struct fraud_result r;
	fraud_score(&s, &lim, &r);
	CHECK_INT(r.nreasons, 1);
	CHECK(has(&r, code));
	CHECK(r.score > 0 && r.score < 50);
	CHECK(r.decision == FRAUD_APPROVE);
}

static void test_each_rule_fires_alone(void)
{
	struct fraud_signals s = calm();
	s.user_payments = 5;
	one_rule(s, "velocity_user");
	s = calm();
	s.ip_payments = 30;
	one_rule(s, "velocity_ip");
	s = calm();
	s.card_payments = 4;
	one_rule(s, "velocity_card");
	s = calm();
	s.amount = 50001;
	s.account_age_s = 90 * 86400;
	one_rule(s, "amount_above_market_norm");
	s = calm();
	s.amount = 20001;
	s.account_age_s = 60;
	one_rule(s, "new_account_high_amount");
	s = calm();
	s.shipping_foreign = true;
	one_rule(s, "shipping_country_mismatch");
	s = calm();
	s.recent_declines = 3;
	one_rule(s, "repeated_declines");
}

static void test_thresholds_are_edges(void)
{
	struct fraud_signals s = calm();
	struct fraud_result r;
	s.user_payments = 4; /* one below */
	s.amount = 50000;    /* exactly 5x: not above */
	s.recent_declines = 2;
	fraud_score(&s, &lim, &r);
	CHECK_INT(r.score, 0);
}

static void test_two_rules_review_three_reject(void)
{
	struct fraud_signals s = calm();
	struct fraud_result r;
	s.amount = 60000;
	s.recent_declines = 3;
	fraud_score(&s, &lim, &r);
	CHECK_INT(r.score, 70);
	CHECK(r.decision == FRAUD_REVIEW);
	s.shipping_foreign = true;
	fraud_score(&s, &lim, &r);
	CHECK_INT(r.score, 90);
	CHECK(r.decision == FRAUD_REJECT);
	CHECK_STR(fraud_decision_name(r.decision), "reject");
}

static void test_score_caps_at_100(void)
{
	struct fraud_signals s = {.amount = 1000000, .market_norm = 100, .user_payments = 99, .ip_payments = 99,
				  .card_payments = 99, .account_age_s = 0, .recent_declines = 9,
				  .shipping_foreign = true};
	struct fraud_result r;
	fraud_score(&s, &lim, &r);
	CHECK_INT(r.score, 100);
	CHECK_INT(r.nreasons, 7);
	char json[256];
	fraud_reasons_json(&r, json, sizeof(json));
	CHECK(strstr(json, "\"velocity_user\"") && json[0] == '[' && json[strlen(json) - 1] == ']');
}

static void test_configured_thresholds_change_outcome(void)
{
	struct fraud_limits strict = lim;
	strict.review_score = 20;
	struct fraud_signals s = calm();
	s.shipping_foreign = true;
	struct fraud_result r;
	fraud_score(&s, &strict, &r);
	CHECK(r.decision == FRAUD_REVIEW);
}

int main(void)
{
	RUN(test_calm_payment_approved);
	RUN(test_each_rule_fires_alone);
	RUN(test_thresholds_are_edges);
	RUN(test_two_rules_review_three_reject);
	RUN(test_score_caps_at_100);
	RUN(test_configured_thresholds_change_outcome);
	return t_done();
}
