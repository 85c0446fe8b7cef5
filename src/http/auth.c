#include "http/auth.h"

#include <errno.h>
#include <jansson.h>
#include <jwt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

static const char *roles[] = {"public", "customer", "merchant", "admin"};

const char *role_name(enum role r)
{
	return (unsigned)r <= ROLE_ADMIN ? roles[r] : "?";
}

bool role_parse(const char *s, enum role *out)
{
	for (int i = ROLE_CUSTOMER; i <= ROLE_ADMIN; i++) {
		if (s && strcmp(s, roles[i]) == 0) {
			*out = (enum role)i;
			return true;
		}
	}
	return false;
}

static int b64url_val(char c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '-') return 62;
	if (c == '_') return 63;
	return -1;
}

/* Decode the base64url header segment and check alg == "HS256" ourselves, so
 * "none" or an asymmetric alg never reaches the library's verifier. */
static bool header_is_hs256(const char *token)
{
	const char *dot = strchr(token, '.');
	if (!dot || dot == token || dot - token > 1024)
		return false;
	unsigned char out[800];
	size_t o = 0;
	unsigned acc = 0;
	int bits = 0;
	for (const char *p = token; p < dot; p++) {
		int v = b64url_val(*p);
		if (v < 0)
			return false;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	json_t *h = json_loadb((const char *)out, o, 0, NULL);
	bool ok = h && json_is_string(json_object_get(h, "alg")) &&
		  strcmp(json_string_value(json_object_get(h, "alg")), "HS256") == 0;
	json_decref(h);
	return ok;
}

/*
 * Tokens already verified, so a keep-alive client's every request does not
 * redo the HMAC and libjwt's JSON decoding (~7% of an add to cart). An entry
 * is the exact token text and the claims it verified to under cache_secret;
 * a hit counts only while its exp is in the future, so expiry answers as
 * without the cache. Only successes are stored: a tampered, alg:none or
 * unknown token misses and is checked in full. Direct-mapped and bounded (a
 * token evicts the one in its slot); a different secret empties it.
 */
#define TOKEN_CACHE 1024
#define TOKEN_CACHE_MAX_LEN 1024 /* longer tokens are verified every time */

static struct cached_token {
	char *token; /* NULL: empty slot */
	size_t len;
	int64_t exp;
	struct auth auth;
} token_cache[TOKEN_CACHE];
static char *cache_secret;
static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;

static size_t token_slot(const char *token, size_t len)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)token[i]) * 1099511628211ull;
	return (size_t)(h % TOKEN_CACHE);
}

/* Claims of token if it was verified under secret and has not expired. */
static bool cache_get(const char *token, size_t len, const char *secret, int64_t now, struct auth *out)
{
	bool hit = false;
	struct cached_token *c = &token_cache[token_slot(token, len)];
	pthread_mutex_lock(&cache_mu);
	if (cache_secret && strcmp(cache_secret, secret) == 0 && c->token && c->len == len &&
	    c->exp > now && memcmp(c->token, token, len) == 0) {
		*out = c->auth;
		hit = true;
	}
	pthread_mutex_unlock(&cache_mu);
	return hit;
}

static void cache_put(const char *token, size_t len, const char *secret, int64_t exp, const struct auth *a)
{
	if (len > TOKEN_CACHE_MAX_LEN)
		return;
	struct cached_token *c = &token_cache[token_slot(token, len)];
	pthread_mutex_lock(&cache_mu);
	if (!cache_secret || strcmp(cache_secret, secret) != 0) {
		for (size_t i = 0; i < TOKEN_CACHE; i++) {
			free(token_cache[i].token);
			token_cache[i].token = NULL;
		}
		free(cache_secret);
		cache_secret = xstrdup(secret);
	}
	free(c->token);
	c->token = xstrndup(token, len);
	c->len = len;
	c->exp = exp;
	c->auth = *a;
	pthread_mutex_unlock(&cache_mu);
}

bool auth_verify(const char *token, const char *secret, int64_t now, struct auth *out,
		 char *why, size_t whylen)
{
	memset(out, 0, sizeof(*out));
	size_t len = token ? strnlen(token, 4097) : 0;
	if (!token || len > 4096) {
		snprintf(why, whylen, "malformed token");
		return false;
	}
	if (cache_get(token, len, secret, now, out))
		return true;
	if (!header_is_hs256(token)) {
		snprintf(why, whylen, "token must be signed with HS256");
		return false;
	}
	jwt_t *jwt = NULL;
	if (jwt_decode(&jwt, token, (const unsigned char *)secret, (int)strlen(secret)) != 0 || !jwt) {
		snprintf(why, whylen, "invalid token signature or format");
		return false;
	}
	bool ok = false;
	if (jwt_get_alg(jwt) != JWT_ALG_HS256) {
		snprintf(why, whylen, "token must be signed with HS256");
		goto out;
	}
	errno = 0;
	long exp = jwt_get_grant_int(jwt, "exp");
	if (errno || exp <= 0) {
		snprintf(why, whylen, "token has no exp claim");
		goto out;
	}
	if (exp <= now) {
		snprintf(why, whylen, "token expired");
		goto out;
	}
	const char *sub = jwt_get_grant(jwt, "sub");
	if (!sub || !*sub || strlen(sub) >= sizeof(out->sub)) {
		snprintf(why, whylen, "token has no valid sub claim");
		goto out;
	}
	if (!role_parse(jwt_get_grant(jwt, "role"), &out->role)) {
		snprintf(why, whylen, "token role must be customer, merchant or admin");
		goto out;
	}
	snprintf(out->sub, sizeof(out->sub), "%s", sub);
	if (out->role == ROLE_MERCHANT) {
		errno = 0;
		long mid = jwt_get_grant_int(jwt, "merchant_id");
		if (errno || mid <= 0) {
			snprintf(why, whylen, "merchant token needs a merchant_id claim");
			goto out;
		}
		out->merchant_id = mid;
	}
	out->authenticated = true;
	ok = true;
	cache_put(token, len, secret, exp, out);
out:
	jwt_free(jwt);
	if (!ok)
		memset(out, 0, sizeof(*out));
	return ok;
}

char *auth_mint(const char *secret, const char *sub, const char *role, int64_t merchant_id,
		int64_t exp)
{
	jwt_t *jwt = NULL;
	char *out = NULL;
	if (jwt_new(&jwt) != 0)
		return NULL;
	if (jwt_add_grant(jwt, "sub", sub) || jwt_add_grant(jwt, "role", role) ||
	    jwt_add_grant_int(jwt, "exp", exp) ||
	    (merchant_id > 0 && jwt_add_grant_int(jwt, "merchant_id", merchant_id)) ||
	    jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)secret, (int)strlen(secret)))
		goto out;
	char *s = jwt_encode_str(jwt);
	out = xstrdup(s);
	free(s);
out:
	jwt_free(jwt);
	return out;
}
