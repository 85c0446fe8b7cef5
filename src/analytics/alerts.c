#include "analytics/alerts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/dashboard.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/jw.h"
#include "core/log.h"
#include "core/mem.h"
#include "db/db.h"
#include "notify/notify.h"

#define DAY 86400
#define ALERT_COLS                                                                          \
	"id, alert_type, severity, message, context, status, COALESCE(dedup_key, ''), "     \
	"created_at, COALESCE(acknowledged_at, 0), COALESCE(resolved_at, 0), "              \
	"COALESCE(resolution, '')"

void alert_free(struct alert *a)
{
	free(a->context);
	a->context = NULL;
}

bool alert_severity_ok(const char *s)
{
	return s && (strcmp(s, "low") == 0 || strcmp(s, "medium") == 0 || strcmp(s, "high") == 0 ||
		     strcmp(s, "critical") == 0);
}

static void fill(struct alert *a, const struct db_res *r, int i)
{
	memset(a, 0, sizeof(*a));
	a->id = db_int(r, i, 0);
	snprintf(a->alert_type, sizeof(a->alert_type), "%s", db_text(r, i, 1));
	snprintf(a->severity, sizeof(a->severity), "%s", db_text(r, i, 2));
	snprintf(a->message, sizeof(a->message), "%s", db_text(r, i, 3));
	a->context = xstrdup(db_text(r, i, 4));
	snprintf(a->status, sizeof(a->status), "%s", db_text(r, i, 5));
	snprintf(a->dedup_key, sizeof(a->dedup_key), "%s", db_text(r, i, 6));
	a->created_at = db_int(r, i, 7);
	a->acknowledged_at = db_int(r, i, 8);
	a->resolved_at = db_int(r, i, 9);
	snprintf(a->resolution, sizeof(a->resolution), "%s", db_text(r, i, 10));
}

static enum merr load(struct db *db, int64_t id, struct alert *out)
{
	struct db_res r;
	if (db_query(db, &r, "SELECT " ALERT_COLS " FROM system_alerts WHERE id = $1", DBV(DI(id))) !=
	    DB_OK)
		return MERR_INTERNAL;
	enum merr m = r.nrows ? MERR_OK : MERR_NOT_FOUND;
	if (r.nrows)
		fill(out, &r, 0);
	db_res_free(&r);
	return m;
}

static bool channel_enabled(const char *ch)
{
	size_t n = strlen(ch);
	for (const char *p = cfg.alert_notifications; p && *p;) {
		size_t len = strcspn(p, ",");
		if (len == n && strncmp(p, ch, n) == 0)
			return true;
		p += len;
		if (*p == ',')
			p++;
	}
	return false;
}

/* Queue the alert's messages: the severity picks the channels, the
 * configuration says which of them are in use. */
static int deliver(struct db *db, const char *severity, const char *type, const char *message)
{
	static const struct {
		const char *severity;
		const char *channels[4];
	} routes[] = {
		{"critical", {"email", "slack", "sms", NULL}},
		{"high", {"email", "slack", NULL}},
		{"medium", {"email", NULL}},
		{"low", {NULL}},
	};
	char subject[160];
	snprintf(subject, sizeof(subject), "[%s] %s", severity, type);
	const char *sp = subject;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (strcmp(routes[i].severity, severity) != 0)
			continue;
		if (routes[i].channels[0] && channel_enabled("log")) {
			int rc = notify_enqueue(db, "alert", "log", "ops", sp, message);
			if (rc != DB_OK)
				return rc;
		}
		for (int c = 0; routes[i].channels[c]; c++) {
			const char *ch = routes[i].channels[c];
			if (!channel_enabled(ch))
				continue;
			const char *to = strcmp(ch, "email") == 0 ? cfg.alert_email_to
					 : strcmp(ch, "sms") == 0 ? cfg.alert_sms_to
								  : "alerts";
			if (!to || !*to)
				continue;
			int rc = notify_enqueue(db, "alert", ch, to, sp, message);
			if (rc != DB_OK)
				return rc;
		}
	}
	return DB_OK;
}

enum merr alert_raise(struct db *db, const char *type, const char *severity, const char *message,
		      const char *context_json, const char *dedup_key, int64_t now,
		      struct alert *out, bool *created)
{
	*created = false;
	memset(out, 0, sizeof(*out));
	bool own = !db_in_tx(db);
	if (own && db_begin(db) != DB_OK)
		return MERR_UNAVAILABLE;
	enum merr m = MERR_INTERNAL;
	int64_t id = 0;
	if (dedup_key &&
	    db_scalar(db, &id, 0,
		      "SELECT id FROM system_alerts WHERE dedup_key = $1 AND status <> 'resolved' "
		      "ORDER BY id LIMIT 1",
		      DBV(DT(dedup_key))) != DB_OK)
		goto out;
	if (!id) {
		struct db_res r;
		if (db_query(db, &r,
			     "INSERT INTO system_alerts (alert_type, severity, message, context, status, "
			     "dedup_key, created_at) VALUES ($1, $2, $3, $4, 'open', $5, $6) "
			     "ON CONFLICT DO NOTHING RETURNING id",
			     DBV(DT(type), DT(severity), DT(message),
				 DT(context_json ? context_json : "{}"), DT(dedup_key), DI(now))) != DB_OK)
			goto out;
		id = r.nrows ? db_int(&r, 0, 0) : 0;
		db_res_free(&r);
		if (id) {
			*created = true;
			if (deliver(db, severity, type, message) != DB_OK)
				goto out;
		} else if (db_scalar(db, &id, 0,
				     "SELECT id FROM system_alerts WHERE dedup_key = $1 AND status = 'open'",
				     DBV(DT(dedup_key))) != DB_OK) {
			goto out;
		}
	}
	if ((m = load(db, id, out)) != MERR_OK)
		goto out;
	if (own && db_commit(db) != DB_OK)
		m = MERR_UNAVAILABLE;
out:
	if (m != MERR_OK) {
		if (own)
			db_rollback(db);
		*created = false;
	}
	return m;
}

static enum merr transition(struct db *db, int64_t id, const char *sql, const struct db_val *p,
			    int n, struct alert *out)
{
	int64_t changed = 0;
	if (db_exec(db, sql, p, n, &changed) != DB_OK)
		return MERR_INTERNAL;
	enum merr m = load(db, id, out);
	if (m == MERR_OK && !changed) {
		alert_free(out);
		return MERR_INVALID_STATE;
	}
	return m;
}

enum merr alert_acknowledge(struct db *db, int64_t id, int64_t now, struct alert *out)
{
	return transition(db, id,
			  "UPDATE system_alerts SET status = 'acknowledged', acknowledged_at = $2 "
			  "WHERE id = $1 AND status = 'open'",
			  DBV(DI(id), DI(now)), out);
}

enum merr alert_resolve(struct db *db, int64_t id, const char *resolution, int64_t now,
			struct alert *out)
{
	return transition(db, id,
			  "UPDATE system_alerts SET status = 'resolved', resolved_at = $2, "
			  "resolution = $3 WHERE id = $1 AND status <> 'resolved'",
			  DBV(DI(id), DI(now), DT(resolution)), out);
}

int alert_list(struct db *db, const char *status, const char *severity, int64_t before,
	       int limit, struct alert **out)
{
	*out = NULL;
	struct db_res r;
	if (db_query(db, &r,
		     "SELECT " ALERT_COLS " FROM system_alerts WHERE ($1 = 0 OR id < $1) "
		     "AND ($2 = '' OR status = $2) AND ($3 = '' OR severity = $3) "
		     "ORDER BY id DESC LIMIT $4",
		     DBV(DI(before), DT(status ? status : ""), DT(severity ? severity : ""),
			 DI(limit))) != DB_OK)
		return -1;
	int n = r.nrows;
	*out = xcalloc((size_t)(n ? n : 1), sizeof(**out));
	for (int i = 0; i < n; i++)
		fill(&(*out)[i], &r, i);
	db_res_free(&r);
	return n;
}

/* --- rules ------------------------------------------------------------------- */

struct rule {
	char name[64], kind[48], severity[16], description[200];
	int64_t threshold, window_s, min_samples;
};

/* Keys a rule found firing this run; its other open alerts are resolved. */
struct firing {
	char keys[64][160];
	int n;
};

static bool fire(struct db *db, const struct rule *ru, struct firing *f, const char *key,
		 const char *message, const char *ctx, int64_t now)
{
	if (f->n < 64)
		snprintf(f->keys[f->n++], sizeof(f->keys[0]), "%s", key);
	struct alert a;
	bool created;
	if (alert_raise(db, ru->name, ru->severity, message, ctx, key, now, &a, &created) != MERR_OK)
		return false;
	if (created)
		log_warn("alert %s raised: %s", ru->name, message);
	alert_free(&a);
	return true;
}

static bool clear_others(struct db *db, const struct rule *ru, const struct firing *f, int64_t now)
{
	struct db_res r;
	if (db_query(db, &r,
		     "SELECT id, dedup_key FROM system_alerts WHERE alert_type = $1 "
		     "AND status <> 'resolved' AND dedup_key IS NOT NULL",
		     DBV(DT(ru->name))) != DB_OK)
		return false;
	bool ok = true;
	for (int i = 0; i < r.nrows; i++) {
		bool still = false;
		for (int k = 0; k < f->n; k++)
			still |= strcmp(f->keys[k], db_text(&r, i, 1)) == 0;
		if (still)
			continue;
		ok &= db_exec(db,
			      "UPDATE system_alerts SET status = 'resolved', resolved_at = $2, "
			      "resolution = 'condition cleared' WHERE id = $1 AND status <> 'resolved'",
			      DBV(DI(db_int(&r, i, 0)), DI(now)), NULL) == DB_OK;
	}
	db_res_free(&r);
	return ok;
}

static bool rule_latency(struct db *db, const struct rule *ru, struct firing *f, int64_t now)
{
	struct db_res r;
	if (db_query(db, &r,
		     "SELECT method, route, SUM(count), SUM(sum_us) FROM performance_metrics "
		     "WHERE minute >= $1 AND minute <= $2 GROUP BY method, route",
		     DBV(DI(now - ru->window_s), DI(now))) != DB_OK)
		return false;
	bool ok = true;
	for (int i = 0; ok && i < r.nrows; i++) {
		int64_t n = db_int(&r, i, 2), sum = db_int(&r, i, 3);
		if (n < ru->min_samples || n == 0 || sum / n <= ru->threshold * 1000)
			continue;
		char key[160], msg[400];
		snprintf(key, sizeof(key), "%s:%s %s", ru->name, db_text(&r, i, 0), db_text(&r, i, 1));
		snprintf(msg, sizeof(msg), "%s %s averaged %lld ms over %lld requests (threshold %lld ms)",
			 db_text(&r, i, 0), db_text(&r, i, 1), (long long)(sum / n / 1000),
			 (long long)n, (long long)ru->threshold);
		struct buf ctx;
		buf_init(&ctx, 1024);
		struct jw w;
		jw_init(&w, &ctx);
		jw_obj(&w);
		jw_kstr(&w, "method", db_text(&r, i, 0));
		jw_kstr(&w, "route", db_text(&r, i, 1));
		jw_kint(&w, "requests", n);
		jw_kint(&w, "avg_ms", sum / n / 1000);
		jw_kint(&w, "threshold_ms", ru->threshold);
		jw_obj_end(&w);
		ok = fire(db, ru, f, key, msg, ctx.p, now);
		buf_free(&ctx);
	}
	db_res_free(&r);
	return ok;
}

static bool rule_error_rate(struct db *db, const struct rule *ru, struct firing *f, int64_t now)
{
	struct db_res r;
	if (db_query(db, &r,
		     "SELECT COALESCE(SUM(count), 0), COALESCE(SUM(errors), 0) FROM performance_metrics "
		     "WHERE minute >= $1 AND minute <= $2",
		     DBV(DI(now - ru->window_s), DI(now))) != DB_OK)
		return false;
	int64_t n = db_int(&r, 0, 0), errs = db_int(&r, 0, 1);
	db_res_free(&r);
	if (n < ru->min_samples || n == 0 || errs * 10000 <= ru->threshold * n)
		return true;
	char msg[300], ctx[200];
	snprintf(msg, sizeof(msg), "%lld of %lld requests failed with a 5xx in the last %lld s (%.1f %%)",
		 (long long)errs, (long long)n, (long long)ru->window_s, 100.0 * (double)errs / (double)n);
	snprintf(ctx, sizeof(ctx), "{\"requests\":%lld,\"errors\":%lld,\"threshold_bps\":%lld}",
		 (long long)n, (long long)errs, (long long)ru->threshold);
	return fire(db, ru, f, ru->name, msg, ctx, now);
}

static bool rule_cache(struct db *db, const struct rule *ru, struct firing *f, int64_t now)
{
	struct db_res r;
	if (db_query(db, &r,
		     "SELECT cache_name, SUM(hits), SUM(misses) FROM cache_metrics "
		     "WHERE minute >= $1 AND minute <= $2 GROUP BY cache_name",
		     DBV(DI(now - ru->window_s), DI(now))) != DB_OK)
		return false;
	bool ok = true;
	for (int i = 0; ok && i < r.nrows; i++) {
		int64_t h = db_int(&r, i, 1), m = db_int(&r, i, 2), n = h + m;
		if (n < ru->min_samples || n == 0 || h * 10000 >= ru->threshold * n)
			continue;
		char key[160], msg[300], ctx[200];
		snprintf(key, sizeof(key), "%s:%s", ru->name, db_text(&r, i, 0));
		snprintf(msg, sizeof(msg), "cache %s hit rate %.1f %% over %lld lookups (threshold %.1f %%)",
			 db_text(&r, i, 0), 100.0 * (double)h / (double)n, (long long)n,
			 (double)ru->threshold / 100.0);
		snprintf(ctx, sizeof(ctx), "{\"hits\":%lld,\"misses\":%lld,\"threshold_bps\":%lld}",
			 (long long)h, (long long)m, (long long)ru->threshold);
		ok = fire(db, ru, f, key, msg, ctx, now);
	}
	db_res_free(&r);
	return ok;
}

static int64_t state_get(struct db *db, const char *name, int64_t def, int64_t *updated)
{
	struct db_res r;
	int64_t v = def;
	*updated = 0;
	if (db_query(db, &r, "SELECT value, updated_at FROM analytics_state WHERE name = $1",
		     DBV(DT(name))) == DB_OK &&
	    r.nrows) {
		v = db_int(&r, 0, 0);
		*updated = db_int(&r, 0, 1);
	}
	db_res_free(&r);
	return v;
}

static bool state_set(struct db *db, const char *name, int64_t v, int64_t now)
{
	return db_exec(db,
		       "INSERT INTO analytics_state (name, value, updated_at) VALUES ($1, $2, $3) "
		       "ON CONFLICT (name) DO UPDATE SET value = $2, updated_at = $3",
		       DBV(DT(name), DI(v), DI(now)), NULL) == DB_OK;
}

static bool rule_db_failures(struct db *db, const struct rule *ru, struct firing *f, int64_t now)
{
	int64_t at, seen_at;
	int64_t total = state_get(db, "db_failures", 0, &at);
	int64_t seen = state_get(db, "db_failures_seen", 0, &seen_at);
	if (total - seen >= ru->threshold && total > seen) {
		char msg[200];
		snprintf(msg, sizeof(msg), "%lld database connection failure(s) since the last check",
			 (long long)(total - seen));
		if (!fire(db, ru, f, ru->name, msg, "{}", now) || !state_set(db, "db_failures_seen", total, now))
			return false;
		return true;
	}
	/* keep the alert open until a whole window passes without failures */
	if (at && now - at < ru->window_s && f->n < 64)
		snprintf(f->keys[f->n++], sizeof(f->keys[0]), "%s", ru->name);
	return true;
}

static bool rule_gateways(struct db *db, const struct rule *ru, struct firing *f, int64_t now)
{
	struct db_res r;
	if (db_query(db, &r,
		     "SELECT g.id, m.code, g.code, g.success_count, g.failure_count FROM payment_gateways g "
		     "JOIN markets m ON m.id = g.market_id ORDER BY g.id",
		     DBV0) != DB_OK)
		return false;
	bool ok = true;
	for (int i = 0; ok && i < r.nrows; i++) {
		char kok[64], kfail[64];
		snprintf(kok, sizeof(kok), "gw:%lld:ok", (long long)db_int(&r, i, 0));
		snprintf(kfail, sizeof(kfail), "gw:%lld:fail", (long long)db_int(&r, i, 0));
		int64_t at_ok, at_fail;
		int64_t base_ok = state_get(db, kok, 0, &at_ok), base_fail = state_get(db, kfail, 0, &at_fail);
		int64_t s = db_int(&r, i, 3) - base_ok, fl = db_int(&r, i, 4) - base_fail, n = s + fl;
		if (n >= ru->min_samples && n > 0 && fl * 10000 > ru->threshold * n) {
			char key[160], msg[300], ctx[200];
			snprintf(key, sizeof(key), "%s:%s:%s", ru->name, db_text(&r, i, 1), db_text(&r, i, 2));
			snprintf(msg, sizeof(msg), "gateway %s (%s) failed %lld of %lld payments (%.1f %%)",
				 db_text(&r, i, 2), db_text(&r, i, 1), (long long)fl, (long long)n,
				 100.0 * (double)fl / (double)n);
			snprintf(ctx, sizeof(ctx),
				 "{\"gateway\":\"%s\",\"market\":\"%s\",\"attempts\":%lld,\"failures\":%lld}",
				 db_text(&r, i, 2), db_text(&r, i, 1), (long long)n, (long long)fl);
			ok = fire(db, ru, f, key, msg, ctx, now);
		}
		/* a new window starts once the old one is over */
		if (ok && (!at_ok || now - at_ok >= ru->window_s))
			ok = state_set(db, kok, db_int(&r, i, 3), now) &&
			     state_set(db, kfail, db_int(&r, i, 4), now);
	}
	db_res_free(&r);
	return ok;
}

/* Business rules compare the last complete day with the one before, per market. */
static bool rule_business(struct db *db, const struct rule *ru, struct firing *f, int64_t now)
{
	int64_t today = now - now % DAY, y = today - DAY, dby = today - 2 * DAY;
	int nm = 0;
	struct db_res r;
	if (db_query(db, &r, "SELECT id, code FROM markets ORDER BY id", DBV0) != DB_OK)
		return false;
	nm = r.nrows;
	bool ok = true;
	for (int i = 0; ok && i < nm; i++) {
		int64_t mid = db_int(&r, i, 0);
		const char *code = db_text(&r, i, 1);
		struct kpis cur, prev;
		if (!dashboard_kpis(db, mid, y, today, &cur) || !dashboard_kpis(db, mid, dby, y, &prev)) {
			ok = false;
			break;
		}
		char key[160], msg[400], ctx[300];
		snprintf(key, sizeof(key), "%s:%s", ru->name, code);
		if (strcmp(ru->kind, "conversion_drop_bps") == 0) {
			if (cur.visitors < ru->min_samples || prev.visitors < ru->min_samples || !prev.steps[3])
				continue;
			/* conversion = purchasers / visitors; compare cross-multiplied */
			double c = (double)cur.steps[3] / (double)cur.visitors;
			double p = (double)prev.steps[3] / (double)prev.visitors;
			int64_t drop = (int64_t)((p - c) / p * 10000.0 + 0.5);
			if (drop <= ru->threshold)
				continue;
			snprintf(msg, sizeof(msg),
				 "%s conversion fell from %.2f %% to %.2f %% day over day (%.1f %% drop)", code,
				 100 * p, 100 * c, (double)drop / 100.0);
			snprintf(ctx, sizeof(ctx),
				 "{\"market\":\"%s\",\"previous_bps\":%lld,\"current_bps\":%lld,\"drop_bps\":%lld}",
				 code, (long long)(p * 10000 + 0.5), (long long)(c * 10000 + 0.5),
				 (long long)drop);
			ok = fire(db, ru, f, key, msg, ctx, now);
		} else if (strcmp(ru->kind, "abandonment_rise_bps") == 0) {
			if (cur.steps[1] < ru->min_samples || prev.steps[1] < ru->min_samples)
				continue;
			double c = 1.0 - (double)cur.steps[3] / (double)cur.steps[1];
			double p = 1.0 - (double)prev.steps[3] / (double)prev.steps[1];
			if (c < 0)
				c = 0;
			if (p <= 0)
				continue;
			int64_t rise = (int64_t)((c - p) / p * 10000.0 + 0.5);
			if (rise <= ru->threshold)
				continue;
			snprintf(msg, sizeof(msg),
				 "%s cart abandonment rose from %.1f %% to %.1f %% day over day", code, 100 * p,
				 100 * c);
			snprintf(ctx, sizeof(ctx),
				 "{\"market\":\"%s\",\"previous_bps\":%lld,\"current_bps\":%lld,\"rise_bps\":%lld}",
				 code, (long long)(p * 10000 + 0.5), (long long)(c * 10000 + 0.5),
				 (long long)rise);
			ok = fire(db, ru, f, key, msg, ctx, now);
		} else if (strcmp(ru->kind, "order_volume_deviation_bps") == 0) {
			struct kpis week;
			if (!dashboard_kpis(db, mid, y - 7 * DAY, y, &week)) {
				ok = false;
				break;
			}
			/* compare 7 × yesterday with the week's total: no division */
			int64_t avg7 = week.orders; /* 7 × average */
			if (avg7 < ru->min_samples * 7)
				continue;
			int64_t diff = cur.orders * 7 - avg7;
			if (diff < 0)
				diff = -diff;
			if (diff * 10000 <= ru->threshold * avg7)
				continue;
			snprintf(msg, sizeof(msg),
				 "%s had %lld orders yesterday against a 7-day average of %.1f", code,
				 (long long)cur.orders, (double)avg7 / 7.0);
			snprintf(ctx, sizeof(ctx),
				 "{\"market\":\"%s\",\"orders\":%lld,\"previous_7_days\":%lld}", code,
				 (long long)cur.orders, (long long)week.orders);
			ok = fire(db, ru, f, key, msg, ctx, now);
		}
	}
	db_res_free(&r);
	return ok;
}

static const struct {
	const char *kind;
	bool (*eval)(struct db *, const struct rule *, struct firing *, int64_t);
} evaluators[] = {
	{"route_latency_avg_ms", rule_latency},
	{"error_rate_bps", rule_error_rate},
	{"cache_hit_rate_below_bps", rule_cache},
	{"db_failures", rule_db_failures},
	{"gateway_failure_bps", rule_gateways},
	{"conversion_drop_bps", rule_business},
	{"abandonment_rise_bps", rule_business},
	{"order_volume_deviation_bps", rule_business},
};

bool alerts_evaluate(struct db *db, int64_t now)
{
	struct db_res r;
	if (db_query(db, &r,
		     "SELECT name, kind, severity, description, threshold, window_s, min_samples "
		     "FROM alert_rules WHERE enabled = 1 ORDER BY id",
		     DBV0) != DB_OK)
		return false;
	bool ok = true;
	for (int i = 0; i < r.nrows; i++) {
		struct rule ru;
		snprintf(ru.name, sizeof(ru.name), "%s", db_text(&r, i, 0));
		snprintf(ru.kind, sizeof(ru.kind), "%s", db_text(&r, i, 1));
		snprintf(ru.severity, sizeof(ru.severity), "%s", db_text(&r, i, 2));
		snprintf(ru.description, sizeof(ru.description), "%s", db_text(&r, i, 3));
		ru.threshold = db_int(&r, i, 4);
		ru.window_s = db_int(&r, i, 5);
		ru.min_samples = db_int(&r, i, 6);
		for (size_t e = 0; e < sizeof(evaluators) / sizeof(evaluators[0]); e++) {
			if (strcmp(evaluators[e].kind, ru.kind) != 0)
				continue;
			struct firing *f = xcalloc(1, sizeof(*f));
			bool rule_ok = db_begin(db) == DB_OK && evaluators[e].eval(db, &ru, f, now) &&
				       clear_others(db, &ru, f, now) && db_commit(db) == DB_OK;
			if (!rule_ok) {
				db_rollback(db);
				log_warn("alert rule %s could not be evaluated", ru.name);
				ok = false;
			}
			free(f);
		}
	}
	db_res_free(&r);
	return ok;
}
