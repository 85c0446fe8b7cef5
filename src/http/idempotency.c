#include "http/idempotency.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/timeutil.h"
#include "db/db.h"
#include "http/router.h"

#define KEY_MAX 255
/* a duplicate waits this long for the first request to finish */
#define WAIT_US (30 * 1000 * 1000)
/* a pending row older than this belongs to a process that died mid-request */
#define ABANDONED_S 600

/* Hex SHA-256 of method, path and body: "the same request" (the user is in the key). */
static void request_hash(const struct req *r, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	EVP_DigestUpdate(ctx, r->method, strlen(r->method) + 1);
	EVP_DigestUpdate(ctx, r->path, strlen(r->path) + 1);
	if (r->body.len)
		EVP_DigestUpdate(ctx, r->body.p, r->body.len);
	EVP_DigestFinal_ex(ctx, md, &n);
	EVP_MD_CTX_free(ctx);
	static const char hex[] = "0123456789abcdef";
	for (unsigned i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}

/* Run the handler as the owner of the key row id, then record its answer. */
static void act(struct req *r, void (*handler)(struct req *r), int64_t id)
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
	int64_t waited = 0;
	for (;;) {
		struct db *db = req_db(r);
		struct db_res res = {0};
		int rc = db_query(db, &res,
				  "INSERT INTO idempotency_keys (user_id, idem_key, route, request_hash, created_at) "
				  "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, idem_key) DO NOTHING RETURNING id",
				  DBV(DT(r->auth.sub), DT(key), DT(routep), DT(hashp), DI(time_now())));
		if (rc == DB_OK && res.nrows == 1) {
			int64_t id = db_int(&res, 0, 0);
			db_res_free(&res);
			act(r, handler, id);
			return;
		}
		db_res_free(&res);
		if (rc != DB_OK && rc != DB_BUSY) {
			reply_error(r, MERR_INTERNAL, NULL, NULL);
			return;
		}
		if (rc == DB_OK) {
			if (db_query(db, &res,
				     "SELECT request_hash, state, response_status, response_body "
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
					reply_bytes(r, (int)db_int(&res, 0, 2), NULL, body, strlen(body));
					reply_header(r, "Idempotent-Replayed", "true");
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
