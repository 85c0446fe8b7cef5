/* Sandbox gateways through payment_charge on a scratch SQLite database:
 * every gateway's success and decline path, card numbers refused, gateways a
 * market does not offer, webhook signatures. */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "app/seed.h"
#include "core/config.h"
#include "core/timeutil.h"
#include "db/db.h"
#include "market/market.h"
#include "payment/gateway.h"
#include "payment/method.h"
#include "payment/payment.h"
#include "payment/subscription.h"
#include "t.h"

static struct db *db;

static const char *test_env(const char *name)
{
	static char url[128];
	if (strcmp(name, "DATABASE_URL") == 0) {
		snprintf(url, sizeof(url), "sqlite:////tmp/mandi-unit-payment-%d.db", (int)getpid());
		return url;
	}
	if (strcmp(name, "STRIPE_WEBHOOK_SECRET") == 0)
		return "whsec_unit_test_secret";
	if (strcmp(name, "RAZORPAY_WEBHOOK_SECRET") == 0)
		return "rzp_unit_webhook_secret";
	if (strcmp(name, "FRAUD_VELOCITY_USER") == 0 || strcmp(name, "FRAUD_VELOCITY_IP") == 0 ||
	    strcmp(name, "FRAUD_VELOCITY_CARD") == 0)
		return "100000";
	return NULL;
}

static struct pay_charge charge(const char *market, const char *json, int64_t amount)
{
	static int n;
	static char users[64][32];
	struct pay_charge c = {0};
	snprintf(users[n % 64], sizeof(users[0]), "unit-user-%d", n);
	c.user_id = users[n++ % 64];
	c.market = market_get(market);
	c.payment = json_loads(json, 0, NULL);
	c.amount = amount;
	c.client_ip = "10.0.0.1";
	return c;
}

static enum merr run(struct pay_charge *c)
{
	struct verr e = {0};
	enum merr r = payment_charge(db, c, &e);
	json_decref(c->payment);
	c->payment = NULL;
	return r;
}

static void expect_ok(const char *market, const char *json, enum pay_status st, const char *pstatus)
{
	struct pay_charge c = charge(market, json, 2500);
	CHECK_INT(run(&c), MERR_OK);
	CHECK_INT(c.status, st);
	CHECK_STR(c.payment_status, pstatus);
	CHECK(c.transaction_id > 0);
	struct pay_txn t;
	CHECK_INT(payment_txn_get(db, c.transaction_id, &t), MERR_OK);
	CHECK_INT(t.amount, 2500);
	CHECK_STR(t.payment_status, pstatus);
}

static void expect_decline(const char *market, const char *json, const char *code)
{
	struct pay_charge c = charge(market, json, 2500);
	CHECK_INT(run(&c), MERR_OK);
	CHECK_INT(c.status, PAY_DECLINED);
	CHECK_STR(c.decline_code, code);
	CHECK(c.message[0] != 0);
	CHECK_STR(c.payment_status, "failed");
}

static void test_stripe_tokens(void)
{
	expect_ok("US", "{\"gateway\":\"stripe\",\"token\":\"tok_visa\"}", PAY_SUCCEEDED, "paid");
	expect_ok("US", "{\"gateway\":\"stripe\",\"token\":\"tok_mastercard\"}", PAY_SUCCEEDED, "paid");
	expect_ok("US", "{\"gateway\":\"stripe\",\"token\":\"pm_card_amex\"}", PAY_SUCCEEDED, "paid");
	expect_decline("US", "{\"gateway\":\"stripe\",\"token\":\"tok_chargeDeclined\"}", "generic_decline");
	expect_decline("US", "{\"gateway\":\"stripe\",\"token\":\"tok_chargeDeclinedInsufficientFunds\"}",
		       "insufficient_funds");
	expect_decline("US", "{\"gateway\":\"stripe\",\"token\":\"tok_chargeDeclinedExpiredCard\"}", "expired_card");
	struct pay_charge c = charge("US", "{\"gateway\":\"stripe\",\"token\":\"tok_visa\"}", 1234);
	CHECK_INT(run(&c), MERR_OK);
	CHECK_STR(c.brand, "visa");
	CHECK_STR(c.last4, "4242");
}

static void test_apple_pay_paypal(void)
{
	expect_ok("US", "{\"gateway\":\"apple_pay\",\"token\":\"tok_visa\"}", PAY_SUCCEEDED, "paid");
	expect_decline("US", "{\"gateway\":\"apple_pay\",\"token\":\"tok_chargeDeclined\"}", "generic_decline");
	expect_ok("US", "{\"gateway\":\"paypal\",\"payer_email\":\"buyer@example.com\"}", PAY_SUCCEEDED, "paid");
	expect_decline("US",
		       "{\"gateway\":\"paypal\",\"payer_email\":\"buyer@example.com\","
		       "\"mock_application_code\":\"INSTRUMENT_DECLINED\"}",
		       "INSTRUMENT_DECLINED");
}

static void test_india_gateways(void)
{
	expect_ok("IN", "{\"gateway\":\"razorpay\",\"vpa\":\"success@razorpay\"}", PAY_SUCCEEDED, "paid");
	expect_decline("IN", "{\"gateway\":\"razorpay\",\"vpa\":\"failure@razorpay\"}", "payment_failed");
	expect_ok("IN", "{\"gateway\":\"upi\",\"vpa\":\"success@razorpay\"}", PAY_SUCCEEDED, "paid");
	expect_ok("IN", "{\"gateway\":\"upi\",\"vpa\":\"success@razorpay\",\"flow\":\"collect\"}", PAY_PENDING,
		  "pending");
	expect_decline("IN", "{\"gateway\":\"upi\",\"vpa\":\"failure@razorpay\"}", "payment_failed");
	expect_ok("IN", "{\"gateway\":\"paytm\",\"mobile\":\"7777777777\",\"otp\":\"489871\"}", PAY_SUCCEEDED,
		  "paid");
	expect_decline("IN", "{\"gateway\":\"paytm\",\"mobile\":\"7777777777\",\"otp\":\"000000\"}", "invalid_otp");
	expect_ok("IN", "{\"gateway\":\"cod\"}", PAY_PENDING, "cod_pending");
}

static void test_gateway_not_offered(void)
{
	const char *cases[][2] = {{"US", "{\"gateway\":\"cod\"}"},
				  {"US", "{\"gateway\":\"razorpay\",\"vpa\":\"success@razorpay\"}"},
				  {"IN", "{\"gateway\":\"stripe\",\"token\":\"tok_visa\"}"},
				  {"IN", "{\"gateway\":\"bitcoin\"}"}};
	for (size_t i = 0; i < 4; i++) {
		struct pay_charge c = charge(cases[i][0], cases[i][1], 100);
		struct verr e = {0};
		CHECK_INT(payment_validate(db, &c, &e), MERR_GATEWAY_UNAVAILABLE);
		CHECK_INT(payment_charge(db, &c, &e), MERR_GATEWAY_UNAVAILABLE);
		CHECK_INT(c.transaction_id, 0);
		json_decref(c.payment);
	}
}

static void test_card_numbers_refused(void)
{
	CHECK(payment_looks_like_pan("4242424242424242"));
	CHECK(payment_looks_like_pan("4111 1111 1111 1111"));
	CHECK(payment_looks_like_pan("card 5555-5555-5555-4444 exp"));
	CHECK(!payment_looks_like_pan("4242424242424241")); /* fails Luhn */
	CHECK(!payment_looks_like_pan("7777777777"));
	CHECK(!payment_looks_like_pan("tok_visa"));
	const char *cases[] = {"{\"gateway\":\"stripe\",\"token\":\"4242424242424242\"}",
			       "{\"gateway\":\"stripe\",\"number\":\"4242 4242 4242 4242\",\"token\":\"tok_visa\"}",
			       "{\"gateway\":\"stripe\",\"card\":{\"number\":4242424242424242}}"};
	for (size_t i = 0; i < 3; i++) {
		struct pay_charge c = charge("US", cases[i], 100);
		struct verr e = {0};
		CHECK_INT(payment_charge(db, &c, &e), MERR_VALIDATION);
		CHECK(strstr(e.message, "4242") == NULL);
		json_decref(c.payment);
	}
	int64_t rows = -1;
	CHECK_INT(db_scalar(db, &rows, -1,
			    "SELECT COUNT(*) FROM payment_transactions WHERE gateway_ref LIKE '%4242424242%' "
			    "OR message LIKE '%4242424242%'",
			    DBV0),
		  DB_OK);
	CHECK_INT(rows, 0);
}

static void test_bad_shapes(void)
{
	const char *cases[][2] = {{"US", "{\"gateway\":\"stripe\"}"},
				  {"US", "{\"gateway\":\"stripe\",\"token\":\"visa\"}"},
				  {"US", "{\"gateway\":\"stripe\",\"token\":\"tok_nonsense\"}"},
				  {"IN", "{\"gateway\":\"upi\"}"},
				  {"IN", "{\"gateway\":\"paytm\",\"mobile\":\"12\"}"},
				  {"US", "{\"token\":\"tok_visa\"}"}};
	for (size_t i = 0; i < 6; i++) {
		struct pay_charge c = charge(cases[i][0], cases[i][1], 100);
		struct verr e = {0};
		CHECK_INT(payment_charge(db, &c, &e), MERR_VALIDATION);
		json_decref(c.payment);
	}
}

static void test_link_and_refund(void)
{
	struct pay_charge c = charge("US", "{\"gateway\":\"stripe\",\"token\":\"tok_visa\"}", 1000);
	CHECK_INT(run(&c), MERR_OK);
	struct pay_refund f;
	struct verr e;
	CHECK_INT(payment_refund(db, c.transaction_id, 400, "size", "admin", NULL, &f, &e), MERR_OK);
	CHECK_INT(f.amount, 400);
	CHECK_INT(payment_refund(db, c.transaction_id, 700, "more", "admin", NULL, &f, &e), MERR_VALIDATION);
	CHECK_INT(payment_refund(db, c.transaction_id, 0, "rest", "admin", NULL, &f, &e), MERR_OK);
	CHECK_INT(f.amount, 600);
	CHECK_INT(payment_refund(db, c.transaction_id, 0, "again", "admin", NULL, &f, &e), MERR_INVALID_STATE);
	struct pay_txn t;
	CHECK_INT(payment_txn_get(db, c.transaction_id, &t), MERR_OK);
	CHECK_INT(t.refunded, 1000);
}

static void test_void(void)
{
	struct pay_charge c = charge("US", "{\"gateway\":\"stripe\",\"token\":\"tok_visa\"}", 1000);
	CHECK_INT(run(&c), MERR_OK);
	CHECK_INT(payment_void(db, c.transaction_id, "order failed"), MERR_OK);
	struct pay_txn t;
	CHECK_INT(payment_txn_get(db, c.transaction_id, &t), MERR_OK);
	CHECK_STR(t.status, "voided");
}

static void test_cod_collected_then_refundable(void)
{
	struct pay_charge c = charge("IN", "{\"gateway\":\"cod\"}", 89900);
	CHECK_INT(run(&c), MERR_OK);
	struct pay_refund f;
	struct verr e;
	CHECK_INT(payment_refund(db, c.transaction_id, 0, "x", "admin", NULL, &f, &e), MERR_INVALID_STATE);
	CHECK_INT(payment_cod_collected(db, c.transaction_id), MERR_OK);
	CHECK_INT(payment_cod_collected(db, c.transaction_id), MERR_INVALID_STATE);
	struct pay_txn t;
	CHECK_INT(payment_txn_get(db, c.transaction_id, &t), MERR_OK);
	CHECK_STR(t.status, "succeeded");
	CHECK_INT(t.captured, 89900);
	CHECK_INT(payment_refund(db, c.transaction_id, 0, "returned", "admin", NULL, &f, &e), MERR_OK);
	CHECK_INT(f.amount, 89900);
	struct pay_charge card = charge("US", "{\"gateway\":\"stripe\",\"token\":\"tok_visa\"}", 100);
	CHECK_INT(run(&card), MERR_OK);
	CHECK_INT(payment_cod_collected(db, card.transaction_id), MERR_INVALID_STATE);
}

static int64_t renew_at;

static void *renew_thread(void *arg)
{
	(void)arg;
	struct db *mine = db_acquire();
	if (!sub_renew_due(mine, renew_at))
		fprintf(stderr, "  sub_renew_due failed\n");
	db_release(mine);
	return NULL;
}

/* Two runners without the job lease (as if it had expired under one of
 * them): the per-period invoice and the claimed attempt still bill once. */
static void test_renewal_bills_once_without_lease(void)
{
	const struct market *us = market_get("US");
	int64_t ids[3], plan = 0;
	CHECK_INT(db_scalar(db, &plan, 0, "SELECT id FROM subscription_plans WHERE market_id = $1", DBV(DI(us->id))),
		  DB_OK);
	for (int i = 0; i < 3; i++) {
		char user[32];
		snprintf(user, sizeof(user), "renew-user-%d", i);
		struct pay_method_in in = {.user_id = user, .market = us, .gateway = "stripe", .type = "card",
					   .token = "tok_visa"};
		struct pay_method m;
		struct verr e;
		struct sub sb;
		CHECK_INT(method_create(db, &in, &m, &e), MERR_OK);
		CHECK_INT(sub_create(db, user, us, plan, m.id, NULL, NULL, &sb, &e), MERR_OK);
		ids[i] = sb.id;
		renew_at = sb.current_period_end + 5;
	}
	pthread_t a, b;
	pthread_create(&a, NULL, renew_thread, NULL);
	pthread_create(&b, NULL, renew_thread, NULL);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	for (int i = 0; i < 3; i++) {
		int64_t n = 0;
		CHECK_INT(db_scalar(db, &n, 0, "SELECT COUNT(*) FROM payment_transactions WHERE subscription_id = $1",
				    DBV(DI(ids[i]))),
			  DB_OK);
		CHECK_INT(n, 2);
		struct sub sb;
		CHECK_INT(sub_get(db, ids[i], &sb), MERR_OK);
		CHECK_STR(sb.status, "active");
		CHECK_INT(sb.current_period_start, renew_at - 5);
	}
	/* a runner that read the subscriptions before the renewal above was
	 * stored sees the old period: the period's invoice stops it */
	for (int i = 0; i < 3; i++) {
		struct sub sb;
		CHECK_INT(sub_get(db, ids[i], &sb), MERR_OK);
		int64_t len = sb.current_period_end - sb.current_period_start;
		CHECK_INT(db_exec(db, "UPDATE subscriptions SET current_period_start = $1, current_period_end = $2 WHERE id = $3",
				  DBV(DI(sb.current_period_start - len), DI(sb.current_period_start), DI(ids[i])), NULL),
			  DB_OK);
	}
	CHECK(sub_renew_due(db, renew_at));
	for (int i = 0; i < 3; i++) {
		int64_t n = 0;
		CHECK_INT(db_scalar(db, &n, 0, "SELECT COUNT(*) FROM payment_transactions WHERE subscription_id = $1",
				    DBV(DI(ids[i]))),
			  DB_OK);
		CHECK_INT(n, 2);
	}
}

static void test_stripe_signature(void)
{
	const char *body = "{\"id\":\"evt_1\",\"type\":\"payment_intent.succeeded\",\"data\":{\"object\":{\"id\":\"pi_1\"}}}";
	int64_t now = time_now();
	char ts[24], hex[65], sig[128];
	int n = snprintf(ts, sizeof(ts), "%lld.", (long long)now);
	CHECK(gw_hmac_sha256_hex("whsec_unit_test_secret", ts, (size_t)n, body, strlen(body), hex));
	snprintf(sig, sizeof(sig), "t=%lld,v1=%s", (long long)now, hex);
	struct gw_event ev = {0};
	char why[160];
	CHECK(gw_stripe.verify_webhook(body, strlen(body), sig, NULL, now, &ev, why, sizeof(why)));
	CHECK_STR(ev.id, "evt_1");
	CHECK_STR(ev.ref, "pi_1");
	CHECK(ev.paid);
	/* stale: the same signature 301 s later */
	CHECK(!gw_stripe.verify_webhook(body, strlen(body), sig, NULL, now + 301, &ev, why, sizeof(why)));
	/* forged: one hex digit changed */
	sig[strlen(sig) - 1] = sig[strlen(sig) - 1] == '0' ? '1' : '0';
	CHECK(!gw_stripe.verify_webhook(body, strlen(body), sig, NULL, now, &ev, why, sizeof(why)));
	CHECK(!gw_stripe.verify_webhook(body, strlen(body), "v1=abc", NULL, now, &ev, why, sizeof(why)));
}

int main(void)
{
	char err[256];
	if (!config_load(test_env, err, sizeof(err))) {
		fprintf(stderr, "config: %s\n", err);
		return 1;
	}
	unlink(cfg.database_url + strlen("sqlite:///"));
	if (!db_pool_open(cfg.database_url, "", 4, err, sizeof(err))) {
		fprintf(stderr, "db: %s\n", err);
		return 1;
	}
	db = db_acquire();
	if (db_migrate(db) < 0 || !seed_reference(db) || !market_reload(db)) {
		fprintf(stderr, "cannot prepare the database\n");
		return 1;
	}
	RUN(test_stripe_tokens);
	RUN(test_apple_pay_paypal);
	RUN(test_india_gateways);
	RUN(test_gateway_not_offered);
	RUN(test_card_numbers_refused);
	RUN(test_bad_shapes);
	RUN(test_link_and_refund);
	RUN(test_void);
	RUN(test_cod_collected_then_refundable);
	RUN(test_renewal_bills_once_without_lease);
	RUN(test_stripe_signature);
	db_release(db);
	db_pool_close();
	unlink(cfg.database_url + strlen("sqlite:///"));
	return t_done();
}
