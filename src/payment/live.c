#include "payment/live.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/config.h"
#include "core/timeutil.h"

#define LIVE_MAX_BODY (1 << 20)
#define LIVE_MAX_IDLE 256

static pthread_once_t once = PTHREAD_ONCE_INIT;

/* One connection cache (and DNS and TLS session cache) shared by every
 * thread: a payment reuses a kept-alive connection to the gateway instead of
 * paying a TCP and TLS handshake each time. */
static CURLSH *share;
static pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *arg)
{
	(void)h;
	(void)access;
	(void)arg;
	pthread_mutex_lock(&share_locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *arg)
{
	(void)h;
	(void)arg;
	pthread_mutex_unlock(&share_locks[data]);
}

static void init_curl(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&share_locks[i], NULL);
	share = curl_share_init();
	if (share) {
		curl_share_setopt(share, CURLSHOPT_LOCKFUNC, share_lock);
		curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, share_unlock);
		curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
		curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
		curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	}
}

void live_init(void)
{
	pthread_once(&once, init_curl);
}

void live_form_init(struct live_form *f)
{
	buf_init(&f->b, 64 * 1024);
	buf_adds(&f->b, "");
}

static void add_escaped(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '_' || *p == '.' || *p == '~') {
			buf_addc(b, (char)*p);
		} else {
			buf_addc(b, '%');
			buf_addc(b, hex[*p >> 4]);
			buf_addc(b, hex[*p & 15]);
		}
	}
}

void live_form_add(struct live_form *f, const char *key, const char *value)
{
	if (f->b.len)
		buf_addc(&f->b, '&');
	add_escaped(&f->b, key);
	buf_addc(&f->b, '=');
	add_escaped(&f->b, value ? value : "");
}

void live_form_addi(struct live_form *f, const char *key, int64_t value)
{
	char v[24];
	snprintf(v, sizeof(v), "%lld", (long long)value);
	live_form_add(f, key, v);
}

void live_form_free(struct live_form *f)
{
	buf_free(&f->b);
}

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	return buf_add(b, p, size * n) ? size * n : 0;
}

bool live_call(const char *method, const char *url, const char *auth, const char *content_type,
	       const char *body, const char *idempotency_key, struct live_resp *out)
{
	memset(out, 0, sizeof(*out));
	live_init();
	int64_t t0 = time_mono_us();
	CURL *c = curl_easy_init();
	if (!c) {
		snprintf(out->error, sizeof(out->error), "curl_easy_init failed");
		return false;
	}
	struct buf resp;
	buf_init(&resp, LIVE_MAX_BODY);
	struct curl_slist *h = NULL;
	char line[1024];
	if (auth) {
		snprintf(line, sizeof(line), "Authorization: %s", auth);
		h = curl_slist_append(h, line);
	}
	if (content_type) {
		snprintf(line, sizeof(line), "Content-Type: %s", content_type);
		h = curl_slist_append(h, line);
	}
	if (idempotency_key) {
		snprintf(line, sizeof(line), "Idempotency-Key: %s", idempotency_key);
		h = curl_slist_append(h, line);
	}
	h = curl_slist_append(h, "Accept: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)cfg.payment_gateway_timeout_ms);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	if (share)
		curl_easy_setopt(c, CURLOPT_SHARE, share);
	/* how many idle connections the shared cache keeps: curl_easy_perform's
	 * default is 4, so with 50 payments in flight nearly every one closed
	 * its connection afterwards and the next paid a new connect (and, at a
	 * real gateway, a TLS handshake) */
	curl_easy_setopt(c, CURLOPT_MAXCONNECTS, (long)LIVE_MAX_IDLE);
	CURLcode rc = curl_easy_perform(c);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
		if (resp.len)
			out->json = json_loadb(resp.p, resp.len, 0, NULL);
	} else {
		snprintf(out->error, sizeof(out->error), "%s", curl_easy_strerror(rc));
		/* bytes of the request written: nothing written means the
		 * gateway cannot have seen it (connect refused or timed out) */
		long sent = 0;
		curl_easy_getinfo(c, CURLINFO_REQUEST_SIZE, &sent);
		out->maybe_sent = sent > 0;
	}
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	buf_free(&resp);
	out->us = time_mono_us() - t0;
	return rc == CURLE_OK;
}

void live_resp_free(struct live_resp *r)
{
	json_decref(r->json);
	r->json = NULL;
}

void live_basic_auth(char *out, size_t n, const char *user, const char *pass)
{
	char raw[512];
	int len = snprintf(raw, sizeof(raw), "%s:%s", user ? user : "", pass ? pass : "");
	if (len < 0 || (size_t)len >= sizeof(raw))
		len = 0;
	unsigned char enc[700];
	int elen = EVP_EncodeBlock(enc, (const unsigned char *)raw, len);
	snprintf(out, n, "Basic %.*s", elen, (const char *)enc);
}
