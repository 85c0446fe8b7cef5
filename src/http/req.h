/*
 * A request as handlers see it: method, path parameters, query, headers,
 * body, the caller's identity, a per-request arena, and the response being
 * built. Handlers answer with exactly one reply_* call.
 */
#ifndef MANDI_REQ_H
#define MANDI_REQ_H
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/jsonin.h"
#include "core/jw.h"

struct MHD_Connection;
struct route;
struct db;

/** Roles, in increasing power; a route names the least it needs. */
enum role { ROLE_PUBLIC = 0, ROLE_CUSTOMER, ROLE_MERCHANT, ROLE_ADMIN };

/** Who is calling (from the bearer token). */
struct auth {
	bool authenticated;
	enum role role;
	char sub[128];
	int64_t merchant_id; /**< 0 unless role == merchant */
};

#define REQ_MAX_PARAMS 6

struct req {
	struct arena a;
	struct MHD_Connection *conn;
	const char *method;
	const char *path;
	const struct route *route;
	const char *param_names[REQ_MAX_PARAMS];
	const char *param_values[REQ_MAX_PARAMS];
	int nparams;
	struct buf body;
	bool body_too_large;
	json_t *json;
	struct auth auth;
	char request_id[72];
	char client_ip[64];
	int64_t start_us;
	/* response */
	int status;
	bool replied;
	struct buf out;
	const char *content_type;
	const char *extra_headers[8][2];
	int nextra;
	enum merr err;
	struct db *db;
	struct db *db_read;
};

/** Path parameter by name ("user_id" for /api/cart/{user_id}); NULL if absent. */
const char *req_param(struct req *r, const char *name);
/** Path parameter parsed as a positive id; replies 404 and returns false if not one. */
bool req_param_id(struct req *r, const char *name, int64_t *out);
/** Query-string value, NULL if absent. */
const char *req_query(struct req *r, const char *name);
/** Request header value, NULL if absent. */
const char *req_header(struct req *r, const char *name);

/** The database connection for this request (taken from the pool on first use,
 * given back when the request ends). */
struct db *req_db(struct req *r);
/** A connection for reads that may lag slightly (a replica when
 * DATABASE_READ_URL is set, else the primary): catalog and analytics reads.
 * Paths that must read their own writes (cart, checkout, orders) use req_db. */
struct db *req_db_read(struct req *r);
/** Give the request's connections back to the pool now (an open transaction
 * is rolled back), for a handler whose remaining work needs no database,
 * such as rendering: the pool's connections are the serial section. */
void req_db_release(struct req *r);

/* --- replies ------------------------------------------------------------- */

/** Start a JSON reply: returns a writer over the response buffer. */
struct jw *reply_begin(struct req *r, struct jw *w);
/** Finish a reply begun with reply_begin with this status. */
void reply_end(struct req *r, int status);
/** Reply with bytes already rendered (cached responses). */
void reply_bytes(struct req *r, int status, const char *content_type, const void *p, size_t n);
/** The contract's error body; field may be NULL, msg NULL for the default. */
void reply_error(struct req *r, enum merr e, const char *field, const char *msg);
/** Reply with a validation error filled in by a jsonin_* helper. */
void reply_verr(struct req *r, const struct verr *e);
/** Add a response header (name and value must outlive the request: arena or static). */
void reply_header(struct req *r, const char *name, const char *value);

/* --- input helpers that reply on failure (return false: just return) ----- */

/** Parse the body as a JSON object (kept in r->json) allowing only these keys
 * (NULL-terminated, or NULL for any). */
json_t *req_json_or_400(struct req *r, const char *const *allowed);
/** Integer query parameter in [min, max], def when absent. */
bool query_int_or_400(struct req *r, const char *name, int64_t min, int64_t max, int64_t def,
		      int64_t *out);
/** `limit` and `cursor` query parameters per CONTRACT §1. */
bool page_or_400(struct req *r, int64_t *limit, const char **cursor);

/* --- auth helpers ----------------------------------------------------------- */

/** The caller may act for user_id (their own sub, or an admin); else 403. */
bool owner_or_403(struct req *r, const char *user_id);
/** The caller may manage merchant_id's data (that merchant or an admin); else 403. */
bool merchant_or_403(struct req *r, int64_t merchant_id);
/** Is the caller an admin? */
bool is_admin(const struct req *r);

#endif
