#include "notify/notify.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/jw.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "db/db.h"

int notify_enqueue(struct db *db, const char *kind, const char *channel, const char *recipient,
		   const char *subject, const char *body)
{
	int64_t now = time_now();
	return db_exec(db,
		       "INSERT INTO notifications (kind, channel, recipient, subject, body, "
		       "next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
		       DBV(DT(kind), DT(channel), DT(recipient), DT(subject), DT(body), DI(now)), NULL);
}

/* One message being sent. */
struct note {
	const char *kind, *channel, *recipient, *subject, *body;
};

/* Returns NULL when sent, else why not (static or in err). */
typedef const char *(*send_fn)(const struct note *n, const char *url, char *err, size_t errlen);

static const char *send_log(const struct note *n, const char *url, char *err, size_t errlen)
{
	(void)url;
	(void)err;
	(void)errlen;
	log_info("notification %s to %s: %s", n->kind, n->recipient, n->subject);
	return NULL;
}

static const char *curl_outcome(CURL *c, CURLcode rc, char *err, size_t errlen)
{
	long status = 0;
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s", curl_easy_strerror(rc));
		return err;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	/* SMTP answers 250, HTTP 2xx */
	if (status >= 300 && status != 250) {
		snprintf(err, errlen, "server answered %ld", status);
		return err;
	}
	return NULL;
}

/* POST {"kind","recipient","subject","body"} to the channel's URL. */
static const char *send_webhook(const struct note *n, const char *url, char *err, size_t errlen)
{
	if (!url || !*url)
		return "no URL configured for this channel";
	struct buf b;
	struct jw w;
	buf_init(&b, 1 << 20);
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, "kind", n->kind);
	jw_kstr(&w, "channel", n->channel);
	jw_kstr(&w, "recipient", n->recipient);
	jw_kstr(&w, "subject", n->subject);
	jw_kstr(&w, "text", n->body);
	jw_obj_end(&w);
	CURL *c = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, b.p);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)b.len);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	const char *why = curl_outcome(c, curl_easy_perform(c), err, errlen);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	buf_free(&b);
	return why;
}

struct upload {
	const char *p;
	size_t left;
};

static size_t read_upload(char *dst, size_t size, size_t nmemb, void *arg)
{
	struct upload *u = arg;
	size_t n = size * nmemb < u->left ? size * nmemb : u->left;
	memcpy(dst, u->p, n);
	u->p += n;
	u->left -= n;
	return n;
}

/* A plain-text mail to the recipient through SMTP_URL (smtp:// or smtps://). */
static const char *send_email(const struct note *n, const char *url, char *err, size_t errlen)
{
	if (!url || !*url)
		return "SMTP_URL is not configured";
	if (!strchr(n->recipient, '@'))
		return "the recipient is not an email address";
	struct buf msg;
	buf_init(&msg, 1 << 20);
	buf_printf(&msg, "From: %s\r\nTo: %s\r\nSubject: %s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n",
		   cfg.smtp_from, n->recipient, n->subject, n->body);
	struct upload u = {msg.p, msg.len};
	CURL *c = curl_easy_init();
	struct curl_slist *rcpt = curl_slist_append(NULL, n->recipient);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, cfg.smtp_from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_upload);
	curl_easy_setopt(c, CURLOPT_READDATA, &u);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	const char *why = curl_outcome(c, curl_easy_perform(c), err, errlen);
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(c);
	buf_free(&msg);
	return why;
}

/* Channel name → how to send and where (a config field). Unknown names fail
 * (and are retried: configuration may be fixed meanwhile). */
static const struct channel {
	const char *name;
	send_fn send;
	size_t url_off; /* offset of the URL's char * in struct config */
} channels[] = {
	{"log", send_log, 0},
	{"email", send_email, offsetof(struct config, smtp_url)},
	{"webhook", send_webhook, offsetof(struct config, notify_webhook_url)},
	{"slack", send_webhook, offsetof(struct config, notify_slack_url)},
	{"sms", send_webhook, offsetof(struct config, notify_sms_url)},
};

static const char *deliver(const struct note *n, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof(channels) / sizeof(channels[0]); i++) {
		if (strcmp(channels[i].name, n->channel) != 0)
			continue;
		const char *url = channels[i].url_off ? *(char **)((char *)&cfg + channels[i].url_off) : NULL;
		return channels[i].send(n, url, err, errlen);
	}
	return "unknown channel";
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

bool notify_deliver_due(struct db *db, int64_t now, int batch)
{
	pthread_once(&curl_once, curl_init);
	struct db_res res = {0};
	if (db_query(db, &res,
		     "SELECT id, kind, channel, recipient, subject, body, attempts FROM notifications "
		     "WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2",
		     DBV(DI(now), DI(batch))) != DB_OK)
		return false;
	bool ok = true;
	/* sent outside any transaction: a slow SMTP server must not hold locks */
	for (int i = 0; i < res.nrows; i++) {
		struct note n = {db_text(&res, i, 1), db_text(&res, i, 2), db_text(&res, i, 3),
				 db_text(&res, i, 4), db_text(&res, i, 5)};
		int64_t id = db_int(&res, i, 0), attempts = db_int(&res, i, 6) + 1;
		char err[256];
		const char *why = deliver(&n, err, sizeof(err));
		int rc;
		if (!why)
			rc = db_exec(db, "UPDATE notifications SET status = 'sent', attempts = $2, sent_at = $3, "
					 "last_error = NULL WHERE id = $1",
				     DBV(DI(id), DI(attempts), DI(now)), NULL);
		else {
			/* 1, 2, 4, 8, 16 minutes between attempts, then give up */
			int64_t next = now + (60LL << (attempts - 1));
			rc = db_exec(db, "UPDATE notifications SET status = $2, attempts = $3, "
					 "next_attempt_at = $4, last_error = $5 WHERE id = $1",
				     DBV(DI(id), DT(attempts >= NOTIFY_MAX_ATTEMPTS ? "failed" : "pending"),
					 DI(attempts), DI(next), DT(why)),
				     NULL);
			log_warn("notification %lld via %s failed (attempt %lld): %s", (long long)id,
				 n.channel, (long long)attempts, why);
		}
		ok = ok && rc == DB_OK;
	}
	db_res_free(&res);
	return ok;
}
