/*
 * Streaming JSON writer into a struct buf. Rendering by appending is several
 * times cheaper than building a jansson tree and dumping it (DESIGN.md), so
 * every response is written with this. Commas are placed automatically.
 */
#ifndef MANDI_JW_H
#define MANDI_JW_H
#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"

#define JW_MAX_DEPTH 32

/** Writer state: the buffer and, per open container, whether it has items. */
struct jw {
	struct buf *b;
	int depth;
	bool has_item[JW_MAX_DEPTH];
	bool after_key;
};

/** Start writing into b (which keeps its current contents). */
void jw_init(struct jw *w, struct buf *b);
void jw_obj(struct jw *w);
void jw_obj_end(struct jw *w);
void jw_arr(struct jw *w);
void jw_arr_end(struct jw *w);
/** Write an object key; the next value belongs to it. */
void jw_key(struct jw *w, const char *k);
void jw_str(struct jw *w, const char *s);
void jw_strn(struct jw *w, const char *s, size_t n);
void jw_int(struct jw *w, int64_t v);
void jw_real(struct jw *w, double v);
void jw_bool(struct jw *w, bool v);
void jw_null(struct jw *w);
/** Insert already-valid JSON text as one value. */
void jw_raw(struct jw *w, const char *json, size_t n);

/* key + value shorthands */
void jw_kstr(struct jw *w, const char *k, const char *s);
void jw_kint(struct jw *w, const char *k, int64_t v);
void jw_kreal(struct jw *w, const char *k, double v);
void jw_kbool(struct jw *w, const char *k, bool v);
void jw_knull(struct jw *w, const char *k);
/** Key with a string value, or null when s is NULL. */
void jw_kstr_or_null(struct jw *w, const char *k, const char *s);

/** Append s as a JSON string literal (quotes and escapes) to b. */
void json_escape(struct buf *b, const char *s, size_t n);

#endif
