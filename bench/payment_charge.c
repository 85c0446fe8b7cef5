/*
 * Our own time per payment, measured around the whole payment_charge call
 * (resolve, breaker window, fraud signals, sandbox gateway, the recording
 * transaction) on a scratch database: no HTTP, no checkout around it.
 *
 *   bench/payment_charge DATABASE_URL PAYMENTS THREADS
 *
 * Built and run by bench/payments.sh. Prints one markdown table row.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/seed.h"
#include "core/config.h"
#include "core/timeutil.h"
#include "db/db.h"
#include "market/market.h"
#include "payment/payment.h"

static const char *const payments[][2] = {
	{"US", "{\"gateway\":\"stripe\",\"token\":\"tok_visa\"}"},
	{"US", "{\"gateway\":\"apple_pay\",\"token\":\"tok_mastercard\"}"},
	{"US", "{\"gateway\":\"paypal\",\"payer_email\":\"b@example.com\"}"},
	{"IN", "{\"gateway\":\"razorpay\",\"vpa\":\"success@razorpay\"}"},
	{"IN", "{\"gateway\":\"upi\",\"vpa\":\"success@razorpay\"}"},
	{"IN", "{\"gateway\":\"paytm\",\"mobile\":\"7777777777\",\"otp\":\"489871\"}"},
	{"IN", "{\"gateway\":\"cod\"}"},
};
#define NP (sizeof(payments) / sizeof(payments[0]))

static int per_thread;
static int64_t *times;

static const char *env(const char *name)
{
	/* the bench pays thousands of times from one address with test cards */
	if (strcmp(name, "FRAUD_VELOCITY_USER") == 0 || strcmp(name, "FRAUD_VELOCITY_IP") == 0 ||
	    strcmp(name, "FRAUD_VELOCITY_CARD") == 0)
		return "1000000";
	if (strcmp(name, "MANDI_LOG_LEVEL") == 0)
		return "warn";
	return getenv(name);
}

static int cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static void *worker(void *arg)
{
	int t = (int)(intptr_t)arg;
	struct db *db = db_acquire();
	for (int i = 0; i < per_thread; i++) {
		char user[48];
		snprintf(user, sizeof(user), "bench-%d-%d", t, i % 50);
		const char *const *p = payments[(size_t)(t + i) % NP];
		struct pay_charge c = {.user_id = user, .market = market_get(p[0]),
				       .payment = json_loads(p[1], 0, NULL), .amount = 5000 + i % 100,
				       .client_ip = "10.1.2.3"};
		struct verr e;
		int64_t t0 = time_mono_us();
		enum merr r = payment_charge(db, &c, &e);
		times[t * per_thread + i] = time_mono_us() - t0;
		json_decref(c.payment);
		if (r != MERR_OK || c.status == PAY_DECLINED) {
			fprintf(stderr, "payment failed: %s %s\n", e.message, c.message);
			exit(1);
		}
	}
	db_release(db);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s DATABASE_URL PAYMENTS THREADS\n", argv[0]);
		return 2;
	}
	setenv("DATABASE_URL", argv[1], 1);
	int total = atoi(argv[2]), threads = atoi(argv[3]);
	char err[256];
	if (total <= 0 || threads <= 0 || !config_load(env, err, sizeof(err)) ||
	    !db_pool_open(cfg.database_url, "", threads + 1, err, sizeof(err))) {
		fprintf(stderr, "setup: %s\n", err);
		return 1;
	}
	struct db *db = db_acquire();
	if (db_migrate(db) < 0 || !seed_reference(db) || !market_reload(db)) {
		fprintf(stderr, "cannot prepare the database\n");
		return 1;
	}
	db_release(db);
	per_thread = total / threads;
	times = calloc((size_t)(per_thread * threads), sizeof(*times));
	pthread_t th[64];
	if (threads > 64)
		threads = 64;
	int64_t t0 = time_mono_us();
	for (int t = 0; t < threads; t++)
		pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t);
	for (int t = 0; t < threads; t++)
		pthread_join(th[t], NULL);
	int64_t wall = time_mono_us() - t0;
	int n = per_thread * threads;
	qsort(times, (size_t)n, sizeof(*times), cmp);
#define MS(i) (times[(i)] / 1000.0)
	printf("| payment_charge, %s, %d thread%s | %d | %.2f | %.2f | %.2f | %.2f | %.0f/s |\n",
	       db_dialect()->name, threads, threads > 1 ? "s" : "", n, MS(n / 2), MS(n * 95 / 100),
	       MS(n * 99 / 100), MS(n - 1), n / (wall / 1e6));
	free(times);
	db_pool_close();
	return 0;
}
