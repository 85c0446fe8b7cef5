/*
 * Validating JSON input (jansson): parse with a depth limit, refuse unknown
 * fields, read typed values with ranges. The *_or_fail forms fill a
 * struct verr naming the field, so a handler turns any bad input into the
 * same 400 with one line.
 */
#ifndef MANDI_JSONIN_H
#define MANDI_JSONIN_H
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"

#define JSONIN_MAX_DEPTH 16

/** Why input was refused: error kind, the field's path and a message. */
struct verr {
	enum merr code;
	char field[96];
	char message[200];
};

/** Fill e and return false (for one-line returns). */
bool verr_set(struct verr *e, enum merr code, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/**
 * Parse a UTF-8 JSON document (jansson rejects invalid UTF-8), refusing
 * nesting deeper than JSONIN_MAX_DEPTH. The top level must be an object.
 * Returns a new reference or NULL with e set to invalid_json.
 */
json_t *jsonin_parse_object(const char *text, size_t len, struct verr *e);

/** Refuse keys not in the NULL-terminated list `allowed`. */
bool jsonin_only(json_t *obj, const char *const *allowed, const char *prefix, struct verr *e);

/** Integer field in [min, max]. Absent: *out = def when !required. */
bool jsonin_int(json_t *obj, const char *key, bool required, int64_t min, int64_t max,
		int64_t def, int64_t *out, struct verr *e);
/** String field of length [minlen, maxlen] bytes; absent → def (may be NULL). */
bool jsonin_str(json_t *obj, const char *key, bool required, size_t minlen, size_t maxlen,
		const char *def, const char **out, struct verr *e);
/** Boolean field; absent → def. */
bool jsonin_bool(json_t *obj, const char *key, bool required, bool def, bool *out, struct verr *e);
/** Object field (borrowed); absent → NULL unless required. */
bool jsonin_obj(json_t *obj, const char *key, bool required, json_t **out, struct verr *e);
/** Array field (borrowed) with at most max items; absent → NULL unless required. */
bool jsonin_arr(json_t *obj, const char *key, bool required, size_t max, json_t **out, struct verr *e);

#endif
