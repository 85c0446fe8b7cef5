#include "http/router.h"

#include <string.h>

/* Compare one pattern against a path segment by segment, capturing {params}
 * into r (pointers into the arena copy of the path). */
static bool match(const char *pat, const char *path, struct req *r)
{
	int n = 0;
	while (*pat && *path) {
		if (*pat != '/' || *path != '/')
			return false;
		pat++;
		path++;
		const char *pe = strchr(pat, '/');
		const char *se = strchr(path, '/');
		size_t pl = pe ? (size_t)(pe - pat) : strlen(pat);
		size_t sl = se ? (size_t)(se - path) : strlen(path);
		if (pat[0] == '{') {
			if (sl == 0 || n >= REQ_MAX_PARAMS)
				return false;
			r->param_names[n] = arena_strndup(&r->a, pat + 1, pl - 2);
			r->param_values[n] = arena_strndup(&r->a, path, sl);
			n++;
		} else if (pl != sl || memcmp(pat, path, pl) != 0) {
			return false;
		}
		pat += pl;
		path += sl;
	}
	if (*pat || *path)
		return false;
	r->nparams = n;
	return true;
}

enum route_match router_match(struct req *r, const char *method, const char *path)
{
	enum route_match m = ROUTE_NO_PATH;
	/* a trailing slash is the same resource */
	size_t len = strlen(path);
	char *p = arena_strndup(&r->a, path, len > 1 && path[len - 1] == '/' ? len - 1 : len);
	for (const struct route *const *t = route_tables; *t; t++) {
		for (const struct route *rt = *t; rt->method; rt++) {
			if (!match(rt->pattern, p, r))
				continue;
			if (strcmp(rt->method, method) == 0 ||
			    (strcmp(method, "HEAD") == 0 && strcmp(rt->method, "GET") == 0)) {
				r->route = rt;
				return ROUTE_FOUND;
			}
			m = ROUTE_NO_METHOD;
		}
	}
	r->nparams = 0;
	return m;
}

void router_each(void (*fn)(const struct route *rt, void *arg), void *arg)
{
	for (const struct route *const *t = route_tables; *t; t++)
		for (const struct route *rt = *t; rt->method; rt++)
			fn(rt, arg);
}
