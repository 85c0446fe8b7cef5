/* Checked number parsing: no atoi; overflow and trailing junk are errors.
 * And the one integer formatter that hot paths use instead of printf. */
#ifndef MANDI_STRCONV_H
#define MANDI_STRCONV_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Parse a whole decimal int64 in [min, max]; false on junk or range. */
bool parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
/** Same, for a string of known length (not NUL-terminated). */
bool parse_i64n(const char *s, size_t n, int64_t min, int64_t max, int64_t *out);
/** Parse a whole finite double. */
bool parse_double(const char *s, double *out);
/** Parse true/false/1/0/yes/no/on/off. */
bool parse_bool(const char *s, bool *out);

/** Size of the buffer fmt_i64 needs: 20 digits and a sign. */
#define FMT_I64_MAX 21
/** Write v in decimal ending just before end (at most FMT_I64_MAX bytes
 * before it, no terminator); returns where it starts. */
char *fmt_i64(char *end, int64_t v);

#endif
