#include "http/idempotency.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache/cache.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/strconv.h"
#include "core/timeutil.h"
#include "db/db.h"
#include "http/router.h"

#define KEY_MAX 255
/* a duplicate waits this long for the first request to finish */
#define WAIT_US (30 * 1000 * 1000)
/* a pending row older than this belongs to a process that died mid-request */
#define ABANDONED_S 600

/* Hex SHA-256 of the pieces (each followed by a NUL, the last as is). */
static void sha256_hex(const void *const *parts, const size_t *lens, int n, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	for (int i = 0; i < n; i++)
		if (lens[i])
			EVP_DigestUpdate(ctx, parts[i], lens[i]);
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	static const char hex[] = "0123456789abcdef";
	for (unsigned i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}

/* "The same request": method, path and body (the user is in the key). */
static void request_hash(const struct req *r, char out[65])
{
	const void *parts[] = {r->method, r->path, r->body.p};
	size_t lens[] = {strlen(r->method) + 1, strlen(r->path) + 1, r->body.len};
	sha256_hex(parts, lens, 3, out);
}

/*
 * The Redis fast path (CACHE_TYPE=redis). A completed key's answer is also
 * kept as a shared record "idem:<sha256(user, key)>" = "<request hash>
 * <status>\n<body>", so a replay on any instance is answered without the
 * database. Done rows never change, so the record can only be right or
 * absent; anything else (a first request, a duplicate still in flight on
 * another instance, Redis down) goes through the database rows, which stay
 * the source of truth and serialise concurrent duplicates.
 */
static void shared_key(const struct req *r, const char *key, char out[72])
{
	const char *sub = r->auth.sub;
	const void *parts[] = {sub, key};
	size_t lens[] = {strlen(sub) + 1, strlen(key)};
	char h[65];
	sha256_hex(parts, lens, 2, h);
	snprintf(out, 72, "idem:%s", h);
}

static void remember_shared(const char *skey, const char *hash, int status, const char *body,
			    size_t len, int ttl_s)
{
	if (!cache_is_shared() || ttl_s <= 0)
		return;
	struct buf v;
	buf_init(&v, len + 128);
	if (buf_printf(&v, "%s %d\n", hash, status) && buf_add(&v, body, len))
		cache_shared_set(skey, v.p, v.len, ttl_s);
	buf_free(&v);
}

bool idempotency_record_parse(const char *v, size_t n, struct idem_record *out)
{
	memset(out, 0, sizeof(*out));
	if (n < 67 || v[64] != ' ')
		return false;
	for (int i = 0; i < 64; i++)
		if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f')))
			return false;
	const char *nl = memchr(v + 65, '\n', n - 65);
	int64_t status;
	if (!nl || !parse_i64n(v + 65, (size_t)(nl - v - 65), 200, 499, &status))
		return false;
	out->hash = v;
	out->status = (int)status;
	out->body = nl + 1;
	out->body_len = n - (size_t)(nl + 1 - v);
	return true;
}

/* Answer from the shared record when there is one: the replay, or 409 when
 * the key was used for another request. A record that does not parse is
 * ignored (the rows decide). */
static bool replay_shared(struct req *r, const char *skey, const char *hash)
{
	char *v;
	size_t n;
	struct idem_record rec;
	if (!cache_shared_get(skey, &v, &n))
		return false;
	bool ok = idempotency_record_parse(v, n, &rec);
	if (ok && memcmp(rec.hash, hash, 64) != 0) {
		reply_error(r, MERR_IDEMPOTENCY_CONFLICT, "Idempotency-Key", NULL);
	} else if (ok) {
		reply_bytes(r, rec.status, NULL, rec.body, rec.body_len);
		reply_header(r, "Idempotent-Replayed", "true");
	}
	free(v);
	return ok;
}

/* Run the handler as the owner of the key row id, then record its answer. */
static void act(struct req *r, void (*handler)(struct req *r), int64_t id, const char *skey,
		const char *hash)
{
	handler(r);
	struct db *db = req_db(r);
	db_rollback(db); /* a handler never leaves a transaction open, but be sure */
	int rc;
	if (r->status >= 500)
		rc = db_exec(db, "DELETE FROM idempotency_keys WHERE id = $1", DBV(DI(id)), NULL);
	else
		rc = db_exec(db,
			     "UPDATE idempotency_keys SET state = 'done', response_status = $2, "
			     "response_body = $3 WHERE id = $1",
			     DBV(DI(id), DI(r->status), DT(r->out.p ? r->out.p : "")), NULL);
	if (rc != DB_OK)
		log_error("idempotency key %lld: could not record the response", (long long)id);
	else if (r->status < 500)
		remember_shared(skey, hash, r->status, r->out.p ? r->out.p : "", r->out.len,
				IDEMPOTENCY_TTL_S);
}

void idempotency_around(struct req *r, void (*handler)(struct req *r))
{
	const char *key = req_header(r, "Idempotency-Key");
	if (!key) {
		handler(r);
		return;
	}
	size_t klen = strlen(key);
	if (klen == 0 || klen > KEY_MAX) {
		reply_error(r, MERR_VALIDATION, "Idempotency-Key", "Idempotency-Key must be 1 to 255 characters");
		return;
	}
	char hash[65];
	request_hash(r, hash);
	char route[256];
	snprintf(route, sizeof(route), "%s %s", r->method, r->route->pattern);
	const char *routep = route, *hashp = hash;
	char skey[72];
	shared_key(r, key, skey);
	int64_t waited = 0;
	for (;;) {
		/* first, and again while a duplicate waits: the shared record */
		if (replay_shared(r, skey, hash))
			return;
		struct db *db = req_db(r);
		struct db_res res = {0};
		int rc = db_query(db, &res,
				  "INSERT INTO idempotency_keys (user_id, idem_key, route, request_hash, created_at) "
				  "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, idem_key) DO NOTHING RETURNING id",
				  DBV(DT(r->auth.sub), DT(key), DT(routep), DT(hashp), DI(time_now())));
		if (rc == DB_OK && res.nrows == 1) {
			int64_t id = db_int(&res, 0, 0);
			db_res_free(&res);
			act(r, handler, id, skey, hash);
			return;
		}
		db_res_free(&res);
		if (rc != DB_OK && rc != DB_BUSY) {
			reply_error(r, MERR_INTERNAL, NULL, NULL);
			return;
		}
		if (rc == DB_OK) {
			if (db_query(db, &res,
				     "SELECT request_hash, state, response_status, response_body, created_at "
				     "FROM idempotency_keys WHERE user_id = $1 AND idem_key = $2",
				     DBV(DT(r->auth.sub), DT(key))) != DB_OK) {
				reply_error(r, MERR_INTERNAL, NULL, NULL);
				return;
			}
			/* no row: the first request failed with a 5xx and let the key go; act again */
			if (res.nrows == 1) {
				bool same = strcmp(db_text(&res, 0, 0), hash) == 0;
				bool done = strcmp(db_text(&res, 0, 1), "done") == 0;
				if (!same) {
					db_res_free(&res);
					reply_error(r, MERR_IDEMPOTENCY_CONFLICT, "Idempotency-Key", NULL);
					return;
				}
				if (done) {
					const char *body = db_text(&res, 0, 3);
					int status = (int)db_int(&res, 0, 2);
					reply_bytes(r, status, NULL, body, strlen(body));
					reply_header(r, "Idempotent-Replayed", "true");
					/* e.g. after a Redis restart: the next replay is fast again */
					remember_shared(skey, hash, status, body, strlen(body),
							(int)(db_int(&res, 0, 4) + IDEMPOTENCY_TTL_S - time_now()));
					db_res_free(&res);
					return;
				}
			}
			db_res_free(&res);
		}
		if (waited >= WAIT_US) {
			reply_error(r, MERR_IDEMPOTENCY_CONFLICT, "Idempotency-Key",
				    "a request with this Idempotency-Key is still in progress; retry later");
			return;
		}
		/* a waiting duplicate must not pin a pooled connection the first
		 * request (or anyone else) may need */
		db_release(r->db);
		r->db = NULL;
		usleep(5000);
		waited += 5000;
	}
}

bool idempotency_cleanup(struct db *db, int64_t now)
{
	return db_exec(db,
		       "DELETE FROM idempotency_keys WHERE created_at < $1 OR (state = 'pending' AND created_at < $2)",
		       DBV(DI(now - IDEMPOTENCY_TTL_S), DI(now - ABANDONED_S)), NULL) == DB_OK;
}
