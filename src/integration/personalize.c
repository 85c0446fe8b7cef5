#include "integration/personalize.h"

#include <stdio.h>
#include <string.h>

#include "market/market.h"

/* Percent-encode a user id (a JWT sub: any string) for a URL path segment. */
static void path_escape(char *out, size_t n, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (; *s && o + 4 < n; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
}

/* Copy up to max strings that fit from a JSON array of strings. */
static int read_categories(json_t *arr, char (*dst)[48], int max)
{
	int n = 0;
	size_t i;
	json_t *v;
	if (!json_is_array(arr))
		return 0;
	json_array_foreach(arr, i, v)
	{
		const char *s = json_string_value(v);
		if (!s || !*s || strlen(s) >= sizeof(dst[0]) || n == max)
			continue;
		snprintf(dst[n++], sizeof(dst[0]), "%s", s);
	}
	return n;
}

/* WS1: {"categories": ["dresses"], "brands": ["Zara"], …} — unknown keys ignored. */
static void fetch_prefs(const char *esc_user, struct user_prefs *p)
{
	char path[512];
	snprintf(path, sizeof(path), "/api/users/%s/preferences", esc_user);
	struct svc_result res;
	memset(p, 0, sizeof(*p));
	p->source = "none";
	if (!svc_call(SVC_USER, "GET", path, NULL, true, &res)) {
		/* a 404 is an unknown user: no preferences, not a failure */
		p->fallback_reason = res.outcome == SVC_HTTP_ERROR && res.status == 404
					     ? "no_preferences"
					     : svc_outcome_name(res.outcome);
		return;
	}
	p->ncategories = read_categories(json_object_get(res.json, "categories"), p->categories,
					 PREF_MAX);
	json_t *brands = json_object_get(res.json, "brands");
	size_t i;
	json_t *v;
	json_array_foreach(brands, i, v)
	{
		const char *s = json_string_value(v);
		if (s && *s && strlen(s) < sizeof(p->brands[0]) && p->nbrands < PREF_MAX)
			snprintf(p->brands[p->nbrands++], sizeof(p->brands[0]), "%s", s);
	}
	json_decref(res.json);
	p->source = "user_service";
}

enum merr personalize_suggestions(struct db *db, const struct market *m, const char *user_id,
				  int limit, struct discover_result *out, struct user_prefs *prefs)
{
	char esc[384];
	path_escape(esc, sizeof(esc), user_id);
	memset(out, 0, sizeof(*out));
	fetch_prefs(esc, prefs);
	char path[512];
	snprintf(path, sizeof(path), "/api/ai/styling-suggestions/%s?market=%s&limit=%d", esc, m->code,
		 limit);
	if (discover_from_service(db, m, SVC_AI, "GET", path, NULL, limit, out))
		return MERR_OK;
	const char *why = out->fallback_reason;
	const char *cats[PREF_MAX], *brands[PREF_MAX];
	for (int i = 0; i < prefs->ncategories; i++)
		cats[i] = prefs->categories[i];
	for (int i = 0; i < prefs->nbrands; i++)
		brands[i] = prefs->brands[i];
	enum merr e = MERR_OK;
	if (prefs->ncategories > 0 || prefs->nbrands > 0) {
		e = discover_popular_in(db, m, cats, prefs->ncategories, brands, prefs->nbrands, limit,
					out);
		out->source = "preferences";
	}
	if (e == MERR_OK && out->n == 0) {
		e = discover_popular_in(db, m, NULL, 0, NULL, 0, limit, out);
		out->source = "catalog_popular";
	}
	out->fallback_reason = why;
	return e;
}
