#include "core/jw.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/strconv.h"

void jw_init(struct jw *w, struct buf *b)
{
	memset(w, 0, sizeof(*w));
	w->b = b;
}

/* Whether a value needs a comma before it: not after a key, nor first in
 * its container. Records that the container now has an item. */
static bool need_comma(struct jw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return false;
	}
	if (w->depth > 0) {
		bool had = w->has_item[w->depth - 1];
		w->has_item[w->depth - 1] = true;
		return had;
	}
	return false;
}

static void sep(struct jw *w)
{
	if (need_comma(w))
		buf_addc(w->b, ',');
}

/* Whether s can go between quotes as it is (no escaping needed). */
static bool plain(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == '"' || c == '\\')
			return false;
	}
	return true;
}

/* Short plain strings (every key, most values) are assembled with their
 * comma and quotes on the stack and appended at once: a cart response is
 * ~250 keys, and an append per byte of punctuation cost more than the text. */
#define JW_SHORT 192

/* Append [comma] "s" [tail] when s is short and plain; false otherwise
 * (nothing written, state unchanged). */
static bool short_str(struct jw *w, bool comma, const char *s, size_t n, const char *tail, size_t tn)
{
	if (n > JW_SHORT || !plain(s, n))
		return false;
	char tmp[JW_SHORT + 8];
	size_t o = 0;
	if (comma)
		tmp[o++] = ',';
	tmp[o++] = '"';
	memcpy(tmp + o, s, n);
	o += n;
	tmp[o++] = '"';
	memcpy(tmp + o, tail, tn);
	buf_add(w->b, tmp, o + tn);
	return true;
}

static void open(struct jw *w, char c)
{
	sep(w);
	buf_addc(w->b, c);
	if (w->depth < JW_MAX_DEPTH)
		w->has_item[w->depth] = false;
	w->depth++;
}

static void close_(struct jw *w, char c)
{
	buf_addc(w->b, c);
	if (w->depth > 0)
		w->depth--;
}

void jw_obj(struct jw *w) { open(w, '{'); }
void jw_obj_end(struct jw *w) { close_(w, '}'); }
void jw_arr(struct jw *w) { open(w, '['); }
void jw_arr_end(struct jw *w) { close_(w, ']'); }

void json_escape(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	buf_addc(b, '"');
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		buf_add(b, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"': buf_add(b, "\\\"", 2); break;
		case '\\': buf_add(b, "\\\\", 2); break;
		case '\n': buf_add(b, "\\n", 2); break;
		case '\r': buf_add(b, "\\r", 2); break;
		case '\t': buf_add(b, "\\t", 2); break;
		default: {
			char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
			buf_add(b, u, 6);
		}
		}
	}
	buf_add(b, s + run, n - run);
	buf_addc(b, '"');
}

void jw_key(struct jw *w, const char *k)
{
	size_t n = strlen(k);
	bool comma = need_comma(w);
	if (!short_str(w, comma, k, n, ":", 1)) {
		if (comma)
			buf_addc(w->b, ',');
		json_escape(w->b, k, n);
		buf_addc(w->b, ':');
	}
	w->after_key = true;
}

void jw_strn(struct jw *w, const char *s, size_t n)
{
	bool comma = need_comma(w);
	if (short_str(w, comma, s, n, "", 0))
		return;
	if (comma)
		buf_addc(w->b, ',');
	json_escape(w->b, s, n);
}

void jw_str(struct jw *w, const char *s)
{
	if (!s) {
		jw_null(w);
		return;
	}
	jw_strn(w, s, strlen(s));
}

/* By hand rather than snprintf: a cart response has ~100 integers, and
 * vfprintf cost more than the rest of the rendering. */
void jw_int(struct jw *w, int64_t v)
{
	char tmp[FMT_I64_MAX + 1];
	char *e = tmp + sizeof(tmp), *p = fmt_i64(e, v);
	if (need_comma(w))
		*--p = ',';
	buf_add(w->b, p, (size_t)(e - p));
}

void jw_real(struct jw *w, double v)
{
	if (!isfinite(v)) {
		jw_null(w);
		return;
	}
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "%.10g", v);
	sep(w);
	buf_add(w->b, tmp, (size_t)n);
}

void jw_bool(struct jw *w, bool v)
{
	sep(w);
	buf_adds(w->b, v ? "true" : "false");
}

void jw_null(struct jw *w)
{
	sep(w);
	buf_adds(w->b, "null");
}

void jw_raw(struct jw *w, const char *json, size_t n)
{
	sep(w);
	buf_add(w->b, json, n);
}

void jw_kstr(struct jw *w, const char *k, const char *s) { jw_key(w, k); jw_str(w, s); }
void jw_kint(struct jw *w, const char *k, int64_t v) { jw_key(w, k); jw_int(w, v); }
void jw_kreal(struct jw *w, const char *k, double v) { jw_key(w, k); jw_real(w, v); }
void jw_kbool(struct jw *w, const char *k, bool v) { jw_key(w, k); jw_bool(w, v); }
void jw_knull(struct jw *w, const char *k) { jw_key(w, k); jw_null(w); }
void jw_kstr_or_null(struct jw *w, const char *k, const char *s) { jw_key(w, k); jw_str(w, s); }
