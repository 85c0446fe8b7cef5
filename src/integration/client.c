#include "integration/client.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/jw.h"
#include "core/log.h"
#include "core/timeutil.h"

#define MAX_RESPONSE (1024 * 1024)
#define MIN_ATTEMPT_MS 30 /* a retry with less budget left than this is pointless */

/*
 * Circuit breaker: `failures` consecutive failures open the circuit for
 * INTEGRATION_BREAKER_OPEN_S; then one caller (the one that wins the
 * `probing` flag) makes a trial call while everyone else keeps falling back.
 * A success closes the circuit, a failure opens it again.
 */
struct service {
	const char *name;
	char *const *url; /* into cfg, read at call time */
	atomic_int failures;
	atomic_llong open_until_us;
	atomic_bool probing;
	atomic_llong calls, errors, short_circuited;
};

static struct service services[SVC__COUNT] = {
	[SVC_USER] = {.name = "user", .url = &cfg.user_service_url},
	[SVC_AI] = {.name = "ai", .url = &cfg.ai_service_url},
	[SVC_VISION] = {.name = "vision", .url = &cfg.vision_service_url},
	[SVC_SOCIAL] = {.name = "social", .url = &cfg.social_service_url},
};

static const char *const outcome_names[] = {
	[SVC_OK] = "ok",
	[SVC_NOT_CONFIGURED] = "not_configured",
	[SVC_CIRCUIT_OPEN] = "circuit_open",
	[SVC_TIMEOUT] = "timeout",
	[SVC_UNREACHABLE] = "unreachable",
	[SVC_HTTP_ERROR] = "http_error",
	[SVC_BAD_RESPONSE] = "bad_response",
};

void svc_global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

const char *svc_outcome_name(enum svc_outcome o)
{
	return o < sizeof(outcome_names) / sizeof(outcome_names[0]) ? outcome_names[o] : "?";
}

const char *svc_name(enum service_id id)
{
	return services[id].name;
}

bool svc_configured(enum service_id id)
{
	const char *u = *services[id].url;
	return u && *u;
}

/* Whether a call may go out now; *trial says this call is the half-open probe. */
static bool breaker_admit(struct service *s, bool *trial)
{
	*trial = false;
	int64_t until = atomic_load(&s->open_until_us);
	if (until == 0)
		return true;
	if (time_mono_us() < until)
		return false;
	bool expected = false;
	if (!atomic_compare_exchange_strong(&s->probing, &expected, true))
		return false;
	*trial = true;
	return true;
}

static void breaker_record(struct service *s, bool ok, bool trial)
{
	if (ok) {
		atomic_store(&s->failures, 0);
		if (atomic_exchange(&s->open_until_us, 0) != 0)
			log_info("service %s: circuit closed", s->name);
	} else {
		int n = atomic_fetch_add(&s->failures, 1) + 1;
		if (trial || n >= cfg.integration_breaker_failures) {
			if (atomic_exchange(&s->open_until_us,
					    time_mono_us() + cfg.integration_breaker_open_s * 1000000) == 0)
				log_warn("service %s: circuit open after %d failures", s->name, n);
		}
	}
	if (trial)
		atomic_store(&s->probing, false);
}

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	return buf_add(b, p, size * n) ? size * n : 0; /* 0 aborts an oversized answer */
}

/* One HTTP attempt with timeout_ms. Fills out->status; returns the outcome. */
static enum svc_outcome attempt(const char *url, const char *method, const char *body,
				long timeout_ms, struct buf *resp, long *status)
{
	CURL *c = curl_easy_init();
	if (!c)
		return SVC_UNREACHABLE;
	struct curl_slist *h = NULL;
	h = curl_slist_append(h, "Accept: application/json");
	if (body)
		h = curl_slist_append(h, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	/* many request threads: no SIGALRM-based DNS timeouts */
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_USERAGENT, "mandi/1");
	CURLcode rc = curl_easy_perform(c);
	*status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	switch (rc) {
	case CURLE_OK:
		return *status >= 200 && *status < 300 ? SVC_OK : SVC_HTTP_ERROR;
	case CURLE_OPERATION_TIMEDOUT:
		return SVC_TIMEOUT;
	case CURLE_WRITE_ERROR:
		return SVC_BAD_RESPONSE;
	default:
		return SVC_UNREACHABLE;
	}
}

static bool retryable(enum svc_outcome o, long status)
{
	return o == SVC_UNREACHABLE ||
	       (o == SVC_HTTP_ERROR && (status == 502 || status == 503 || status == 504));
}

bool svc_call(enum service_id id, const char *method, const char *path, const char *body,
	      bool retry_safe, struct svc_result *out)
{
	struct service *s = &services[id];
	memset(out, 0, sizeof(*out));
	int64_t t0 = time_mono_us();
	bool trial = false;
	struct buf resp;
	buf_init(&resp, MAX_RESPONSE);
	if (!svc_configured(id)) {
		out->outcome = SVC_NOT_CONFIGURED;
		goto out;
	}
	if (!breaker_admit(s, &trial)) {
		atomic_fetch_add(&s->short_circuited, 1);
		out->outcome = SVC_CIRCUIT_OPEN;
		goto out;
	}
	char url[2048];
	const char *base = *s->url;
	size_t bl = strlen(base);
	snprintf(url, sizeof(url), "%.*s%s", (int)(bl && base[bl - 1] == '/' ? bl - 1 : bl), base, path);
	int64_t deadline = t0 + cfg.integration_timeout_ms * 1000;
	for (;;) {
		long left_ms = (long)((deadline - time_mono_us()) / 1000);
		if (left_ms < MIN_ATTEMPT_MS && out->attempts > 0)
			break;
		buf_reset(&resp);
		out->attempts++;
		atomic_fetch_add(&s->calls, 1);
		out->outcome = attempt(url, method, body, left_ms > 0 ? left_ms : 1, &resp, &out->status);
		if (out->outcome == SVC_OK || !retry_safe || !retryable(out->outcome, out->status) ||
		    trial)
			break;
		usleep(10 * 1000); /* let a restarting service breathe; the budget still bounds us */
	}
	if (out->outcome == SVC_OK) {
		json_error_t jerr;
		out->json = json_loadb(resp.p ? resp.p : "", resp.len, 0, &jerr);
		if (!json_is_object(out->json)) {
			json_decref(out->json);
			out->json = NULL;
			out->outcome = SVC_BAD_RESPONSE;
		}
	}
	bool ok = out->outcome == SVC_OK;
	/* a 4xx is the service working (e.g. an unknown user): not a breaker failure */
	bool healthy = ok || (out->outcome == SVC_HTTP_ERROR && out->status >= 400 && out->status < 500);
	breaker_record(s, healthy, trial);
	if (!ok) {
		atomic_fetch_add(&s->errors, 1);
		log_warn("service %s: %s %s: %s (status %ld, %d attempts)", s->name, method, path,
			 svc_outcome_name(out->outcome), out->status, out->attempts);
	}
out:
	buf_free(&resp);
	out->us = time_mono_us() - t0;
	return out->outcome == SVC_OK;
}

void svc_write_status(struct jw *w)
{
	jw_arr(w);
	for (int i = 0; i < SVC__COUNT; i++) {
		struct service *s = &services[i];
		int64_t until = atomic_load(&s->open_until_us);
		const char *state = until == 0 ? "closed" : time_mono_us() < until ? "open" : "half_open";
		jw_obj(w);
		jw_kstr(w, "service", s->name);
		jw_kbool(w, "configured", svc_configured((enum service_id)i));
		jw_kstr(w, "circuit", state);
		jw_kint(w, "consecutive_failures", atomic_load(&s->failures));
		jw_kint(w, "calls", atomic_load(&s->calls));
		jw_kint(w, "errors", atomic_load(&s->errors));
		jw_kint(w, "short_circuited", atomic_load(&s->short_circuited));
		jw_obj_end(w);
	}
	jw_arr_end(w);
}
