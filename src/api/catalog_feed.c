/* Merchant product feeds over HTTP (issue 3 §3): the raw CSV / NDJSON body
 * is parsed and applied by catalog/feed.c; the reply lists per-row errors. */
#include <string.h>
#include <strings.h>

#include "api/catalog_api.h"
#include "catalog/feed.h"
#include "market/merchant.h"

/* Content types a feed may be sent as, and their format. */
static const struct {
	const char *type;
	enum feed_format fmt;
	const char *name;
} feed_types[] = {
	{"text/csv", FEED_CSV, "csv"},
	{"application/x-ndjson", FEED_NDJSON, "ndjson"},
	{"application/ndjson", FEED_NDJSON, "ndjson"},
	{"application/jsonl", FEED_NDJSON, "ndjson"},
};

static void import_feed(struct req *r)
{
	int64_t id;
	if (!req_param_id(r, "id", &id) || !merchant_or_403(r, id))
		return;
	struct merchant m;
	if (merchant_get(req_db(r), id, NULL, &m) != MERR_OK) {
		reply_error(r, MERR_NOT_FOUND, NULL, "no such merchant");
		return;
	}
	if (strcmp(m.integration_type, "feed") != 0) {
		reply_error(r, MERR_INVALID_STATE, NULL,
			    "this merchant's integration_type is not feed; its products arrive by API");
		return;
	}
	const char *ct = req_header(r, "Content-Type");
	size_t k = 0, nt = sizeof(feed_types) / sizeof(feed_types[0]);
	while (ct && k < nt && strncasecmp(ct, feed_types[k].type, strlen(feed_types[k].type)) != 0)
		k++;
	if (!ct || k == nt) {
		reply_error(r, MERR_UNSUPPORTED_MEDIA, NULL,
			    "send the feed as text/csv or application/x-ndjson");
		return;
	}
	if (r->body.len == 0) {
		reply_error(r, MERR_VALIDATION, "body", "the feed is empty");
		return;
	}
	struct feed f;
	struct feed_result res;
	feed_parse(&f, &r->a, r->body.p, r->body.len, feed_types[k].fmt);
	if (f.fatal) {
		reply_error(r, MERR_VALIDATION, "body", f.errors[0].message);
		return;
	}
	if (!feed_import(req_db(r), id, &f, &res)) {
		reply_error(r, MERR_UNAVAILABLE, NULL, "the feed could not be applied; try again");
		return;
	}
	if (res.created || res.updated)
		catalog_invalidate();
	struct jw w;
	reply_begin(r, &w);
	jw_obj(&w);
	jw_kint(&w, "merchant_id", id);
	jw_kstr(&w, "format", feed_types[k].name);
	jw_kint(&w, "received", res.received);
	jw_kint(&w, "created", res.created);
	jw_kint(&w, "updated", res.updated);
	jw_kint(&w, "failed", res.failed);
	jw_key(&w, "errors");
	jw_arr(&w);
	for (int i = 0; i < f.nerrors; i++) {
		jw_obj(&w);
		jw_kint(&w, "line", f.errors[i].line);
		jw_kstr_or_null(&w, "sku", f.errors[i].sku[0] ? f.errors[i].sku : NULL);
		jw_kstr_or_null(&w, "field", f.errors[i].field[0] ? f.errors[i].field : NULL);
		jw_kstr(&w, "message", f.errors[i].message);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_kbool(&w, "errors_truncated", f.nerrors >= FEED_MAX_ERRORS);
	jw_obj_end(&w);
	reply_end(r, 200);
}

const struct route routes_catalog_feed[] = {
	{"POST", "/api/merchants/{id}/feed", import_feed, ROLE_MERCHANT, RF_RAW_BODY, "Import a product feed (CSV or NDJSON)"},
	{0},
};
