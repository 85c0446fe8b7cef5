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
	char k[64], disp[48];
	jw_kint(w, key, amount);
	snprintf(k, sizeof(k), "%s_display", key);
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
