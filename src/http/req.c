#include <microhttpd.h>
#include <stdio.h>
#include <string.h>

#include "core/strconv.h"
#include "db/db.h"
#include "http/req.h"

const char *req_param(struct req *r, const char *name)
{
	for (int i = 0; i < r->nparams; i++)
		if (strcmp(r->param_names[i], name) == 0)
			return r->param_values[i];
	return NULL;
}

bool req_param_id(struct req *r, const char *name, int64_t *out)
{
	if (!parse_i64(req_param(r, name), 1, INT64_MAX, out)) {
		reply_error(r, MERR_NOT_FOUND, name, NULL);
		return false;
	}
	return true;
}

const char *req_query(struct req *r, const char *name)
{
	return r->conn ? MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name) : NULL;
}

const char *req_header(struct req *r, const char *name)
{
	return r->conn ? MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name) : NULL;
}

struct db *req_db(struct req *r)
{
	if (!r->db)
		r->db = db_acquire();
	return r->db;
}

/*
 * A request must never wait for a connection while holding one the waiters
 * need: without replicas both calls draw from the primary pool, and a handler
 * that reads then writes (search logs its query) would hold one connection
 * and wait for a second — once every connection is held that way, the
 * process deadlocks. So without replicas, or once the request holds the
 * primary, reads use that same primary connection (always correct, just not
 * offloaded); a replica holder may still wait for the primary, but a primary
 * holder never waits for a replica, so no cycle can form.
 */
struct db *req_db_read(struct req *r)
{
	if (r->db || !db_read_replicas())
		return req_db(r);
	if (!r->db_read)
		r->db_read = db_acquire_read();
	return r->db_read;
}

void req_db_release(struct req *r)
{
	if (r->db)
		db_release(r->db);
	if (r->db_read)
		db_release(r->db_read);
	r->db = r->db_read = NULL;
}

struct jw *reply_begin(struct req *r, struct jw *w)
{
	buf_reset(&r->out);
	jw_init(w, &r->out);
	return w;
}

void reply_end(struct req *r, int status)
{
	if (r->out.toobig) {
		reply_error(r, MERR_INTERNAL, NULL, "response too large");
		return;
	}
	r->status = status;
	r->replied = true;
}

void reply_bytes(struct req *r, int status, const char *content_type, const void *p, size_t n)
{
	buf_reset(&r->out);
	buf_add(&r->out, p, n);
	r->content_type = content_type;
	r->status = status;
	r->replied = true;
}

void reply_error(struct req *r, enum merr e, const char *field, const char *msg)
{
	struct jw w;
	reply_begin(r, &w);
	jw_obj(&w);
	jw_key(&w, "error");
	jw_obj(&w);
	jw_kstr(&w, "code", merr_code(e));
	jw_kstr(&w, "message", msg && *msg ? msg : merr_message(e));
	if (field && *field)
		jw_kstr(&w, "field", field);
	jw_obj_end(&w);
	jw_obj_end(&w);
	r->content_type = NULL;
	r->err = e;
	r->status = merr_status(e);
	r->replied = true;
}

void reply_verr(struct req *r, const struct verr *e)
{
	reply_error(r, e->code, e->field, e->message);
}

void reply_header(struct req *r, const char *name, const char *value)
{
	if (r->nextra < 8) {
		r->extra_headers[r->nextra][0] = name;
		r->extra_headers[r->nextra][1] = value;
		r->nextra++;
	}
}

json_t *req_json_or_400(struct req *r, const char *const *allowed)
{
	struct verr e;
	if (!r->json) {
		r->json = jsonin_parse_object(r->body.p, r->body.len, &e);
		if (!r->json) {
			reply_verr(r, &e);
			return NULL;
		}
	}
	if (allowed && !jsonin_only(r->json, allowed, "", &e)) {
		reply_verr(r, &e);
		return NULL;
	}
	return r->json;
}

bool query_int_or_400(struct req *r, const char *name, int64_t min, int64_t max, int64_t def,
		      int64_t *out)
{
	const char *v = req_query(r, name);
	if (!v) {
		*out = def;
		return true;
	}
	if (!parse_i64(v, min, max, out)) {
		char msg[160];
		snprintf(msg, sizeof(msg), "'%s' must be an integer between %lld and %lld", name,
			 (long long)min, (long long)max);
		reply_error(r, MERR_VALIDATION, name, msg);
		return false;
	}
	return true;
}

bool page_or_400(struct req *r, int64_t *limit, const char **cursor)
{
	if (!query_int_or_400(r, "limit", 1, 100, 20, limit))
		return false;
	*cursor = req_query(r, "cursor");
	if (*cursor && (!**cursor || strlen(*cursor) > 512)) {
		reply_error(r, MERR_VALIDATION, "cursor", "invalid cursor");
		return false;
	}
	return true;
}

bool is_admin(const struct req *r)
{
	return r->auth.authenticated && r->auth.role == ROLE_ADMIN;
}

bool owner_or_403(struct req *r, const char *user_id)
{
	if (is_admin(r) || (r->auth.authenticated && user_id && strcmp(r->auth.sub, user_id) == 0))
		return true;
	reply_error(r, MERR_FORBIDDEN, NULL, "you may only access your own data");
	return false;
}

bool merchant_or_403(struct req *r, int64_t merchant_id)
{
	if (is_admin(r) ||
	    (r->auth.role == ROLE_MERCHANT && r->auth.merchant_id == merchant_id && merchant_id > 0))
		return true;
	reply_error(r, MERR_FORBIDDEN, NULL, "you may only manage your own merchant's data");
	return false;
}
