/* Platform modules without a server: the in-process rate limiter, the
 * SUPPORTED_MARKETS rules for markets added as data, and the service client's
 * behaviour when a service is not configured. */
#include <stdio.h>
#include <string.h>

#include "cache/cache.h"
#include "core/config.h"
#include "http/ratelimit.h"
#include "integration/client.h"
#include "t.h"

static void ratelimit_counts_per_key_without_redis(void)
{
	CHECK(cache_init("memory", NULL, 1 << 20)); /* no shared counters: per process */
	CHECK_INT(cache_incr("x", 10), -1);
	char a[64], b[64];
	snprintf(a, sizeof(a), "unit-a-%p", (void *)a);
	snprintf(b, sizeof(b), "unit-b-%p", (void *)b);
	/* a 3600 s window: the test cannot straddle two windows unless it runs
	 * exactly at the hour, and then only the first check could differ */
	CHECK(ratelimit_allow(a, 3, 3600));
	CHECK(ratelimit_allow(a, 3, 3600));
	CHECK(ratelimit_allow(a, 3, 3600));
	CHECK(!ratelimit_allow(a, 3, 3600));
	CHECK(!ratelimit_allow(a, 3, 3600));
	CHECK(ratelimit_allow(b, 1, 3600)); /* keys are independent */
	CHECK(!ratelimit_allow(b, 1, 3600));
	int left = ratelimit_retry_after(3600);
	CHECK(left >= 1 && left <= 3600);
	cache_shutdown();
}

static void supported_markets_star_serves_any_code(void)
{
	char err[256];
	static const char *const star[] = {"SUPPORTED_MARKETS", "*", NULL};
	fake_env = star;
	CHECK(config_load(fake_getenv, err, sizeof(err)));
	CHECK(config_market_supported("US"));
	CHECK(config_market_supported("DE"));
	CHECK(!config_market_supported("DEU"));
	CHECK(!config_market_supported(""));
	static const char *const pinned[] = {"SUPPORTED_MARKETS", "US,IN", NULL};
	fake_env = pinned;
	CHECK(config_load(fake_getenv, err, sizeof(err)));
	CHECK(config_market_supported("IN"));
	CHECK(!config_market_supported("DE"));
	static const char *const bad[] = {"SUPPORTED_MARKETS", "**", NULL};
	fake_env = bad;
	CHECK(!config_load(fake_getenv, err, sizeof(err)));
	CHECK(strstr(err, "SUPPORTED_MARKETS") != NULL);
	static const char *const badurl[] = {"VISION_SERVICE_URL", "ftp://x", NULL};
	fake_env = badurl;
	CHECK(!config_load(fake_getenv, err, sizeof(err)));
	CHECK(strstr(err, "VISION_SERVICE_URL") != NULL);
	static const char *const prefix[] = {"REDIS_KEY_PREFIX", "a b", NULL};
	fake_env = prefix;
	CHECK(!config_load(fake_getenv, err, sizeof(err)));
}

static void unconfigured_service_is_not_called(void)
{
	char err[256];
	static const char *const none[] = {NULL};
	fake_env = none;
	CHECK(config_load(fake_getenv, err, sizeof(err)));
	struct svc_result res;
	CHECK(!svc_call(SVC_SOCIAL, "GET", "/api/social/trending-products", NULL, true, &res));
	CHECK_INT(res.outcome, SVC_NOT_CONFIGURED);
	CHECK_INT(res.attempts, 0);
	CHECK(res.json == NULL);
	CHECK_STR(svc_outcome_name(res.outcome), "not_configured");
	CHECK_STR(svc_name(SVC_VISION), "vision");
	CHECK(!svc_configured(SVC_USER));
}

int main(void)
{
	RUN(ratelimit_counts_per_key_without_redis);
	RUN(supported_markets_star_serves_any_code);
	RUN(unconfigured_service_is_not_called);
	config_free();
	return t_done();
}
