#include "market/market.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/jw.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/money.h"
#include "db/db.h"

struct snapshot {
	struct market *markets;
	int n;
	char *json;
	size_t json_len;
	struct snapshot *older;
};

static _Atomic(struct snapshot *) current;
static pthread_mutex_t reload_mu = PTHREAD_MUTEX_INITIALIZER;

static void copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

void market_write_fields(struct jw *w, const struct market *m)
{
	char disp[48];
	jw_kint(w, "id", m->id);
	jw_kstr(w, "code", m->code);
	jw_kstr(w, "name", m->name);
	jw_kstr(w, "currency", m->currency);
	jw_kint(w, "tax_rate_bps", m->tax_rate_bps);
	jw_kreal(w, "tax_rate", (double)m->tax_rate_bps / 10000.0);
	jw_kbool(w, "prices_include_tax", m->prices_include_tax);
	jw_kint(w, "free_shipping_threshold", m->free_shipping_threshold);
	jw_kstr(w, "free_shipping_threshold_display",
		money_format_to(disp, sizeof(disp), m->free_shipping_threshold, m->currency));
	jw_key(w, "gateways");
	jw_arr(w);
	for (int g = 0; g < m->ngateways; g++)
		jw_str(w, m->gateways[g].code);
	jw_arr_end(w);
	jw_key(w, "payment_gateways");
	jw_arr(w);
	for (int g = 0; g < m->ngateways; g++) {
		jw_obj(w);
		jw_kstr(w, "code", m->gateways[g].code);
		jw_kstr(w, "name", m->gateways[g].name);
		jw_kstr(w, "kind", m->gateways[g].kind);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_key(w, "shipping_methods");
	jw_arr(w);
	for (int k = 0; k < m->nshipping; k++) {
		const struct market_shipping *sm = &m->shipping[k];
		jw_obj(w);
		jw_kstr(w, "code", sm->code);
		jw_kstr(w, "name", sm->name);
		jw_kint(w, "cost", sm->cost);
		jw_kstr(w, "cost_display", money_format_to(disp, sizeof(disp), sm->cost, m->currency));
		jw_kstr(w, "currency", m->currency);
		jw_kint(w, "min_days", sm->min_days);
		jw_kint(w, "max_days", sm->max_days);
		jw_kstr(w, "carrier", sm->carrier);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_kbool(w, "cod_support", m->cod_supported);
	jw_key(w, "languages");
	jw_raw(w, m->languages, strlen(m->languages));
	jw_kstr(w, "business_hours", m->business_hours);
	jw_kstr(w, "timezone", m->timezone);
}

static void render(struct snapshot *s)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	struct jw w;
	jw_init(&w, &b);
	jw_obj(&w);
	jw_key(&w, "data");
	jw_arr(&w);
	for (int i = 0; i < s->n; i++) {
		jw_obj(&w);
		market_write_fields(&w, &s->markets[i]);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_knull(&w, "next_cursor");
	jw_obj_end(&w);
	s->json = buf_take(&b, &s->json_len);
}

bool market_reload(struct db *db)
{
	struct db_res r, g, sh;
	if (db_query(db, &r,
		     "SELECT id, code, name, currency, tax_rate_bps, prices_include_tax, "
		     "free_shipping_threshold, languages, business_hours, timezone, cod_supported "
		     "FROM markets WHERE active = 1 ORDER BY id",
		     DBV0) != DB_OK)
		return false;
	if (db_query(db, &g,
		     "SELECT market_id, code, name, kind, priority FROM payment_gateways "
		     "WHERE enabled = 1 ORDER BY market_id, priority, id",
		     DBV0) != DB_OK) {
		db_res_free(&r);
		return false;
	}
	if (db_query(db, &sh,
		     "SELECT market_id, id, code, name, cost, min_days, max_days, carrier "
		     "FROM shipping_methods ORDER BY market_id, position, id",
		     DBV0) != DB_OK) {
		db_res_free(&r);
		db_res_free(&g);
		return false;
	}
	struct snapshot *s = xcalloc(1, sizeof(*s));
	s->markets = xcalloc((size_t)r.nrows + 1, sizeof(struct market));
	for (int i = 0; i < r.nrows; i++) {
		if (!config_market_supported(db_text(&r, i, 1)))
			continue;
		struct market *m = &s->markets[s->n++];
		m->id = db_int(&r, i, 0);
		copy(m->code, sizeof(m->code), db_text(&r, i, 1));
		copy(m->name, sizeof(m->name), db_text(&r, i, 2));
		copy(m->currency, sizeof(m->currency), db_text(&r, i, 3));
		m->tax_rate_bps = db_int(&r, i, 4);
		m->prices_include_tax = db_int(&r, i, 5) != 0;
		m->free_shipping_threshold = db_int(&r, i, 6);
		copy(m->languages, sizeof(m->languages), db_text(&r, i, 7));
		copy(m->business_hours, sizeof(m->business_hours), db_text(&r, i, 8));
		copy(m->timezone, sizeof(m->timezone), db_text(&r, i, 9));
		m->cod_supported = db_int(&r, i, 10) != 0;
		for (int k = 0; k < g.nrows; k++) {
			if (db_int(&g, k, 0) != m->id || m->ngateways >= MARKET_MAX_GATEWAYS)
				continue;
			struct market_gateway *mg = &m->gateways[m->ngateways++];
			copy(mg->code, sizeof(mg->code), db_text(&g, k, 1));
			copy(mg->name, sizeof(mg->name), db_text(&g, k, 2));
			copy(mg->kind, sizeof(mg->kind), db_text(&g, k, 3));
			mg->priority = (int)db_int(&g, k, 4);
		}
		for (int k = 0; k < sh.nrows; k++) {
			if (db_int(&sh, k, 0) != m->id || m->nshipping >= MARKET_MAX_SHIPPING)
				continue;
			struct market_shipping *ms = &m->shipping[m->nshipping++];
			ms->id = db_int(&sh, k, 1);
			copy(ms->code, sizeof(ms->code), db_text(&sh, k, 2));
			copy(ms->name, sizeof(ms->name), db_text(&sh, k, 3));
			ms->cost = db_int(&sh, k, 4);
			ms->min_days = (int)db_int(&sh, k, 5);
			ms->max_days = (int)db_int(&sh, k, 6);
			copy(ms->carrier, sizeof(ms->carrier), db_text(&sh, k, 7));
		}
	}
	db_res_free(&r);
	db_res_free(&g);
	db_res_free(&sh);
	render(s);
	pthread_mutex_lock(&reload_mu);
	struct snapshot *cur = atomic_load(&current);
	/* instances reload every few seconds (jobs/platform.c); an unchanged
	 * snapshot is dropped here, so superseded ones (kept until exit, since
	 * readers may still hold them) accumulate only when markets change */
	if (cur && cur->n == s->n && cur->json_len == s->json_len &&
	    memcmp(cur->json, s->json, s->json_len) == 0 &&
	    memcmp(cur->markets, s->markets, (size_t)s->n * sizeof(struct market)) == 0) {
		pthread_mutex_unlock(&reload_mu);
		free(s->markets);
		free(s->json);
		free(s);
		return true;
	}
	s->older = cur;
	atomic_store(&current, s);
	pthread_mutex_unlock(&reload_mu);
	return true;
}

static struct snapshot *snap(void)
{
	return atomic_load(&current);
}

const struct market *market_get(const char *code)
{
	struct snapshot *s = snap();
	for (int i = 0; s && code && i < s->n; i++)
		if (strcmp(s->markets[i].code, code) == 0)
			return &s->markets[i];
	return NULL;
}

const struct market *market_by_id(int64_t id)
{
	struct snapshot *s = snap();
	for (int i = 0; s && i < s->n; i++)
		if (s->markets[i].id == id)
			return &s->markets[i];
	return NULL;
}

const struct market *market_all(int *n)
{
	struct snapshot *s = snap();
	*n = s ? s->n : 0;
	return s ? s->markets : NULL;
}

const char *market_list_json(size_t *len)
{
	struct snapshot *s = snap();
	*len = s ? s->json_len : 0;
	return s ? s->json : "";
}

const struct market_gateway *market_gateway(const struct market *m, const char *code)
{
	for (int i = 0; m && code && i < m->ngateways; i++)
		if (strcmp(m->gateways[i].code, code) == 0)
			return &m->gateways[i];
	return NULL;
}

const struct market_shipping *market_shipping(const struct market *m, const char *code)
{
	for (int i = 0; m && code && i < m->nshipping; i++)
		if (strcmp(m->shipping[i].code, code) == 0)
			return &m->shipping[i];
	return NULL;
}

void market_shutdown(void)
{
	struct snapshot *s = atomic_exchange(&current, NULL);
	while (s) {
		struct snapshot *o = s->older;
		free(s->markets);
		free(s->json);
		free(s);
		s = o;
	}
}
