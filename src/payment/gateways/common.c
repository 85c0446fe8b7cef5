/* Helpers every gateway file uses, and the table that finds one by code. */
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

#include "payment/gateway.h"

static const struct gateway *const all[] = {
	&gw_stripe, &gw_paypal, &gw_apple_pay, &gw_razorpay, &gw_paytm, &gw_upi, &gw_cod,
};

const struct gateway *gateway_find(const char *code)
{
	if (!code)
		return NULL;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(all[i]->code, code) == 0)
			return all[i];
	return NULL;
}

void gw_copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

void gw_ref(char *dst, size_t n, const char *prefix)
{
	static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	unsigned char raw[14];
	char s[sizeof(raw) + 1];
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		memset(raw, 7, sizeof(raw));
	for (size_t i = 0; i < sizeof(raw); i++)
		s[i] = digits[raw[i] % 62];
	s[sizeof(raw)] = 0;
	snprintf(dst, n, "%s_%s", prefix, s);
}

void gw_fingerprint(char *dst, size_t n, const char *gateway, const char *identity)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	char in[256];
	int len = snprintf(in, sizeof(in), "%s:%s", gateway, identity ? identity : "");
	if (len < 0)
		len = 0;
	if ((size_t)len >= sizeof(in))
		len = sizeof(in) - 1;
	SHA256((const unsigned char *)in, (size_t)len, md);
	size_t o = 0;
	for (size_t i = 0; i < 16 && o + 3 <= n; i++)
		o += (size_t)snprintf(dst + o, n - o, "%02x", md[i]);
}

const char *gw_str(json_t *payment, const char *key)
{
	json_t *v = json_object_get(payment, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

bool gw_only(json_t *payment, const char *const *allowed, struct verr *e)
{
	const char *key;
	json_t *v;
	json_object_foreach(payment, key, v) {
		bool ok = strcmp(key, "gateway") == 0;
		for (const char *const *a = allowed; !ok && *a; a++)
			ok = strcmp(*a, key) == 0;
		if (!ok)
			return verr_set(e, MERR_VALIDATION, "payment", "payment.%s is not used by %s", key,
					gw_str(payment, "gateway") ? gw_str(payment, "gateway") : "this gateway");
		if (!json_is_string(v))
			return verr_set(e, MERR_VALIDATION, "payment", "payment.%s must be a string", key);
		if (strlen(json_string_value(v)) > 200)
			return verr_set(e, MERR_VALIDATION, "payment", "payment.%s is too long", key);
	}
	return true;
}

enum gw_outcome gw_decline(struct gw_res *out, const char *code, const char *message)
{
	gw_copy(out->decline_code, sizeof(out->decline_code), code);
	gw_copy(out->message, sizeof(out->message), message);
	return GW_DECLINED;
}

bool gw_hmac_sha256_hex(const char *key, const char *p1, size_t n1, const char *p2, size_t n2,
			char hex[65])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	size_t outl = 0;
	EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *c = m ? EVP_MAC_CTX_new(m) : NULL;
	OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
			       OSSL_PARAM_construct_end()};
	bool ok = c && EVP_MAC_init(c, (const unsigned char *)key, strlen(key), params) &&
		  EVP_MAC_update(c, (const unsigned char *)p1, n1) &&
		  (!n2 || EVP_MAC_update(c, (const unsigned char *)p2, n2)) &&
		  EVP_MAC_final(c, mac, &outl, sizeof(mac)) && outl == 32;
	EVP_MAC_CTX_free(c);
	EVP_MAC_free(m);
	if (!ok)
		return false;
	for (size_t i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	return true;
}

enum gw_outcome gw_sandbox_capture(const char *ref, int64_t amount, const char *currency,
				   struct gw_res *out)
{
	(void)amount;
	(void)currency;
	gw_copy(out->ref, sizeof(out->ref), ref);
	return GW_CAPTURED;
}

bool gw_sandbox_health(void)
{
	return true;
}

bool gw_sandbox_never_live(void)
{
	return false;
}
