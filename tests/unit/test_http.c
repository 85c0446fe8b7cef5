/* Unit tests of the router, bearer-token verification and the shared
 * idempotency record. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http/auth.h"
#include "http/idempotency.h"
#include "http/router.h"
#include "t.h"

static void router(void)
{
	struct req r;
	memset(&r, 0, sizeof(r));
	CHECK_INT(router_match(&r, "GET", "/health"), ROUTE_FOUND);
	CHECK_STR(r.route->pattern, "/health");
	CHECK_INT(router_match(&r, "GET", "/api/ecommerce/markets/"), ROUTE_FOUND);
	CHECK_INT(router_match(&r, "DELETE", "/api/ecommerce/markets"), ROUTE_NO_METHOD);
	CHECK_INT(router_match(&r, "GET", "/api/nothing"), ROUTE_NO_PATH);
	CHECK_INT(router_match(&r, "GET", "/"), ROUTE_NO_PATH);
	CHECK_INT(router_match(&r, "GET", "/health/x"), ROUTE_NO_PATH);
	arena_free(&r.a);
}

/* Every route with {params} captures them by name. */
static void router_params(void)
{
	struct req r;
	memset(&r, 0, sizeof(r));
	int checked = 0;
	for (const struct route *const *t = route_tables; *t; t++) {
		for (const struct route *rt = *t; rt->method; rt++) {
			if (!strchr(rt->pattern, '{'))
				continue;
			/* build a concrete path: each {x} becomes "v1", "v2", … */
			char path[256];
			size_t o = 0;
			int k = 0;
			for (const char *p = rt->pattern; *p && o < sizeof(path) - 8;) {
				if (*p == '{') {
					o += (size_t)snprintf(path + o, sizeof(path) - o, "v%d", ++k);
					p = strchr(p, '}') + 1;
				} else {
					path[o++] = *p++;
				}
			}
			path[o] = '\0';
			CHECK_INT(router_match(&r, rt->method, path), ROUTE_FOUND);
			CHECK_INT(r.nparams, k);
			if (k)
				CHECK_STR(r.param_values[0], "v1");
			checked++;
		}
	}
	(void)checked;
	arena_free(&r.a);
}

static const char *secret = "unit-secret-0123456789";

static void jwt_roundtrip(void)
{
	char *t = auth_mint(secret, "u1", "customer", 0, time(NULL) + 60);
	struct auth a;
	char why[96];
	CHECK(t && auth_verify(t, secret, time(NULL), &a, why, sizeof(why)));
	CHECK_STR(a.sub, "u1");
	CHECK_INT(a.role, ROLE_CUSTOMER);
	free(t);
	t = auth_mint(secret, "m1", "merchant", 7, time(NULL) + 60);
	CHECK(auth_verify(t, secret, time(NULL), &a, why, sizeof(why)));
	CHECK_INT(a.merchant_id, 7);
	free(t);
}

static void jwt_rejections(void)
{
	struct auth a;
	char why[96];
	char *t = auth_mint(secret, "u1", "customer", 0, time(NULL) - 1);
	CHECK(!auth_verify(t, secret, time(NULL), &a, why, sizeof(why))); /* expired */
	free(t);
	t = auth_mint(secret, "u1", "customer", 0, time(NULL) + 60);
	CHECK(!auth_verify(t, "another-secret-0123456", time(NULL), &a, why, sizeof(why)));
	/* flip one signature character */
	t[strlen(t) - 2] = t[strlen(t) - 2] == 'A' ? 'B' : 'A';
	CHECK(!auth_verify(t, secret, time(NULL), &a, why, sizeof(why)));
	free(t);
	/* alg none: {"alg":"none","typ":"JWT"} . {"sub":"u1","role":"admin","exp":9999999999} . */
	CHECK(!auth_verify("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0."
			   "eyJzdWIiOiJ1MSIsInJvbGUiOiJhZG1pbiIsImV4cCI6OTk5OTk5OTk5OX0.",
			   secret, time(NULL), &a, why, sizeof(why)));
	CHECK(!a.authenticated);
	CHECK(!auth_verify("garbage", secret, time(NULL), &a, why, sizeof(why)));
	CHECK(!auth_verify("", secret, time(NULL), &a, why, sizeof(why)));
	/* a merchant without merchant_id, and an unknown role */
	t = auth_mint(secret, "m1", "merchant", 0, time(NULL) + 60);
	CHECK(!auth_verify(t, secret, time(NULL), &a, why, sizeof(why)));
	free(t);
	t = auth_mint(secret, "x", "superuser", 0, time(NULL) + 60);
	CHECK(!auth_verify(t, secret, time(NULL), &a, why, sizeof(why)));
	free(t);
}

static void idem_record(void)
{
	char rec[200];
	const char *hash = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	struct idem_record r;
	int n = snprintf(rec, sizeof(rec), "%s 201\n{\"id\":1}", hash);
	CHECK(idempotency_record_parse(rec, (size_t)n, &r));
	CHECK_INT(r.status, 201);
	CHECK(r.hash == rec);
	CHECK_INT(r.body_len, 8);
	CHECK(memcmp(r.body, "{\"id\":1}", 8) == 0);
	/* an empty body is a body */
	n = snprintf(rec, sizeof(rec), "%s 409\n", hash);
	CHECK(idempotency_record_parse(rec, (size_t)n, &r));
	CHECK_INT(r.body_len, 0);
	/* refused: a 5xx or out-of-range status, a short or non-hex hash, no
	 * newline, junk in the status, a record cut short */
	static const char *const bad[] = {" 500\n{}", " 199\n{}", " 2x1\n{}", " 201{}", " \n{}", ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		n = snprintf(rec, sizeof(rec), "%s%s", hash, bad[i]);
		CHECK(!idempotency_record_parse(rec, (size_t)n, &r));
	}
	n = snprintf(rec, sizeof(rec), "%s 201\n{}", hash);
	rec[3] = 'G';
	CHECK(!idempotency_record_parse(rec, (size_t)n, &r));
	CHECK(!idempotency_record_parse(rec + 1, (size_t)n - 1, &r));
	rec[3] = '3';
	CHECK(!idempotency_record_parse(rec, 68, &r)); /* cut inside the status */
}

/* A token verified once (and so cached) is still refused once expired,
 * under another secret, or with one byte changed. */
static void jwt_cache(void)
{
	struct auth a;
	char why[96];
	int64_t now = time(NULL);
	char *t = auth_mint(secret, "u7", "merchant", 9, now + 60);
	for (int i = 0; i < 2; i++) { /* the second time from the cache */
		CHECK(auth_verify(t, secret, now, &a, why, sizeof(why)));
		CHECK_STR(a.sub, "u7");
		CHECK_INT(a.merchant_id, 9);
	}
	CHECK(!auth_verify(t, secret, now + 60, &a, why, sizeof(why)));
	CHECK_STR(why, "token expired");
	CHECK(!a.authenticated);
	CHECK(!auth_verify(t, "another-secret-0123456", now, &a, why, sizeof(why)));
	CHECK(auth_verify(t, secret, now, &a, why, sizeof(why)));
	size_t n = strlen(t);
	for (size_t at = 0; at < n; at += n / 7) { /* header, claims and signature */
		char *u = strdup(t);
		u[at] = u[at] == 'A' ? 'B' : 'A';
		CHECK(!auth_verify(u, secret, now, &a, why, sizeof(why)));
		free(u);
	}
	char *longer = malloc(n + 2);
	memcpy(longer, t, n);
	memcpy(longer + n, "A", 2);
	CHECK(!auth_verify(longer, secret, now, &a, why, sizeof(why)));
	longer[n - 1] = '\0'; /* a prefix */
	CHECK(!auth_verify(longer, secret, now, &a, why, sizeof(why)));
	free(longer);
	free(t);
}

int main(void)
{
	RUN(router);
	RUN(router_params);
	RUN(jwt_roundtrip);
	RUN(jwt_rejections);
	RUN(jwt_cache);
	RUN(idem_record);
	return t_done();
}
