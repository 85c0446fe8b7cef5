#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "core/config.h"
#include "core/cursor.h"
#include "core/money.h"
#include "core/timeutil.h"

const struct market *market_or_400(struct req *r, const char *code, bool required)
{
	if (!code || !*code) {
		if (required) {
			reply_error(r, MERR_VALIDATION, "market", "'market' is required (US or IN)");
			return NULL;
		}
		code = cfg.default_market;
	}
	const struct market *m = market_get(code);
	if (!m) {
		char msg[96];
		snprintf(msg, sizeof(msg), "unknown market '%.8s'", code);
		reply_error(r, MERR_UNKNOWN_MARKET, "market", msg);
	}
	return m;
}

void jw_money(struct jw *w, const char *key, int64_t amount, const char *currency)
{
	static const char suffix[] = "_display";
	char k[64], disp[48];
	jw_kint(w, key, amount);
	size_t kn = strlen(key);
	if (kn > sizeof(k) - sizeof(suffix))
		kn = sizeof(k) - sizeof(suffix);
	memcpy(k, key, kn);
	memcpy(k + kn, suffix, sizeof(suffix));
	jw_kstr(w, k, money_format_to(disp, sizeof(disp), amount, currency));
}

void jw_time(struct jw *w, const char *key, int64_t t)
{
	char ts[40];
	if (t <= 0)
		jw_knull(w, key);
	else
		jw_kstr(w, key, time_rfc3339(t, ts, sizeof(ts)));
}

void jw_next_cursor(struct jw *w, bool more, const int64_t *keys, int nkeys)
{
	if (!more) {
		jw_knull(w, "next_cursor");
		return;
	}
	char c[CURSOR_LEN + 1];
	cursor_encode(c, keys, nkeys);
	jw_kstr(w, "next_cursor", c);
}

bool id_page_or_400(struct req *r, int64_t *limit, int64_t *after)
{
	const char *cursor;
	*after = 0;
	if (!page_or_400(r, limit, &cursor))
		return false;
	/* the ids in our cursors are row ids, so always positive */
	if (cursor && (!cursor_decode(cursor, after, 1) || *after < 1)) {
		reply_error(r, MERR_VALIDATION, "cursor", "invalid cursor");
		return false;
	}
	return true;
}

void list_open(struct req *r, struct jw *w)
{
	reply_begin(r, w);
	jw_obj(w);
	jw_key(w, "data");
	jw_arr(w);
}

int list_begin(struct req *r, struct jw *w, int fetched, int64_t limit, bool *more)
{
	*more = fetched > limit;
	list_open(r, w);
	return *more ? (int)limit : fetched;
}

void list_end(struct req *r, struct jw *w, bool more, int64_t last_id)
{
	jw_arr_end(w);
	jw_next_cursor(w, more, &last_id, 1);
	jw_obj_end(w);
	reply_end(r, 200);
}
