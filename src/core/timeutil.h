/* Times: int64 Unix seconds inside, RFC 3339 UTC strings outside. */
#ifndef MANDI_TIMEUTIL_H
#define MANDI_TIMEUTIL_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/** Format t as "2026-11-25T11:38:53Z" into out; returns out. */
char *time_rfc3339(int64_t t, char *out, size_t n);
/** Parse RFC 3339 ("…Z" or "…+05:30", fractional seconds ignored); -1 on error. */
int64_t time_parse_rfc3339(const char *s);
/** Monotonic clock in microseconds. */
int64_t time_mono_us(void);
/**
 * Wall-clock now in Unix seconds. Tests and `mandi jobs run-once --at` move
 * it with time_set_offset; everything that stores a time reads it here.
 */
int64_t time_now(void);
/** Shift time_now() by offset seconds. */
void time_set_offset(int64_t offset);

#endif
