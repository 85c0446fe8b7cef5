#include "core/jsonin.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

bool verr_set(struct verr *e, enum merr code, const char *field, const char *fmt, ...)
{
	e->code = code;
	snprintf(e->field, sizeof(e->field), "%s", field ? field : "");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return false;
}

/* Depth of brackets outside strings; cheap pre-scan so a hostile body of
 * a million '[' never reaches the recursive parser. */
static bool depth_ok(const char *s, size_t n)
{
	int depth = 0;
	bool in_str = false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
			continue;
		}
		if (c == '"')
			in_str = true;
		else if (c == '{' || c == '[') {
			if (++depth > JSONIN_MAX_DEPTH)
				return false;
		} else if (c == '}' || c == ']')
			depth--;
	}
	return true;
}

json_t *jsonin_parse_object(const char *text, size_t len, struct verr *e)
{
	if (!text || len == 0) {
		verr_set(e, MERR_INVALID_JSON, "", "the request body is empty; send a JSON object");
		return NULL;
	}
	if (!depth_ok(text, len)) {
		verr_set(e, MERR_INVALID_JSON, "", "JSON nested deeper than %d levels", JSONIN_MAX_DEPTH);
		return NULL;
	}
	json_error_t je;
	json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		verr_set(e, MERR_INVALID_JSON, "", "invalid JSON at line %d column %d: %s", je.line,
			 je.column, je.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		verr_set(e, MERR_INVALID_JSON, "", "the request body must be a JSON object");
		return NULL;
	}
	return j;
}

static void path(char *out, size_t n, const char *prefix, const char *key)
{
	if (prefix && *prefix)
		snprintf(out, n, "%s.%s", prefix, key);
	else
		snprintf(out, n, "%s", key);
}

bool jsonin_only(json_t *obj, const char *const *allowed, const char *prefix, struct verr *e)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		bool ok = false;
		for (const char *const *a = allowed; *a; a++)
			if (strcmp(*a, key) == 0)
				ok = true;
		if (!ok) {
			char f[96];
			path(f, sizeof(f), prefix, key);
			return verr_set(e, MERR_VALIDATION, f, "unknown field '%s'", f);
		}
	}
	return true;
}

static json_t *get(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return v && !json_is_null(v) ? v : NULL;
}

bool jsonin_int(json_t *obj, const char *key, bool required, int64_t min, int64_t max,
		int64_t def, int64_t *out, struct verr *e)
{
	json_t *v = get(obj, key);
	if (!v) {
		if (required)
			return verr_set(e, MERR_VALIDATION, key, "'%s' is required", key);
		*out = def;
		return true;
	}
	if (!json_is_integer(v))
		return verr_set(e, MERR_VALIDATION, key, "'%s' must be an integer", key);
	json_int_t i = json_integer_value(v);
	if (i < min || i > max)
		return verr_set(e, MERR_VALIDATION, key, "'%s' must be between %lld and %lld", key,
				(long long)min, (long long)max);
	*out = i;
	return true;
}

bool jsonin_str(json_t *obj, const char *key, bool required, size_t minlen, size_t maxlen,
		const char *def, const char **out, struct verr *e)
{
	json_t *v = get(obj, key);
	if (!v) {
		if (required)
			return verr_set(e, MERR_VALIDATION, key, "'%s' is required", key);
		*out = def;
		return true;
	}
	if (!json_is_string(v))
		return verr_set(e, MERR_VALIDATION, key, "'%s' must be a string", key);
	size_t n = json_string_length(v);
	const char *s = json_string_value(v);
	if (strlen(s) != n)
		return verr_set(e, MERR_VALIDATION, key, "'%s' must not contain NUL", key);
	if (n < minlen || n > maxlen)
		return verr_set(e, MERR_VALIDATION, key, "'%s' must be %zu to %zu characters", key,
				minlen, maxlen);
	*out = s;
	return true;
}

bool jsonin_bool(json_t *obj, const char *key, bool required, bool def, bool *out, struct verr *e)
{
	json_t *v = get(obj, key);
	if (!v) {
		if (required)
			return verr_set(e, MERR_VALIDATION, key, "'%s' is required", key);
		*out = def;
		return true;
	}
	if (!json_is_boolean(v))
		return verr_set(e, MERR_VALIDATION, key, "'%s' must be true or false", key);
	*out = json_is_true(v);
	return true;
}

bool jsonin_obj(json_t *obj, const char *key, bool required, json_t **out, struct verr *e)
{
	json_t *v = get(obj, key);
	*out = NULL;
	if (!v)
		return required ? verr_set(e, MERR_VALIDATION, key, "'%s' is required", key) : true;
	if (!json_is_object(v))
		return verr_set(e, MERR_VALIDATION, key, "'%s' must be an object", key);
	*out = v;
	return true;
}

bool jsonin_arr(json_t *obj, const char *key, bool required, size_t max, json_t **out, struct verr *e)
{
	json_t *v = get(obj, key);
	*out = NULL;
	if (!v)
		return required ? verr_set(e, MERR_VALIDATION, key, "'%s' is required", key) : true;
	if (!json_is_array(v))
		return verr_set(e, MERR_VALIDATION, key, "'%s' must be an array", key);
	if (json_array_size(v) > max)
		return verr_set(e, MERR_VALIDATION, key, "'%s' may have at most %zu items", key, max);
	*out = v;
	return true;
}
