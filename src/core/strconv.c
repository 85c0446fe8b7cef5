#include "core/strconv.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool parse_i64n(const char *s, size_t n, int64_t min, int64_t max, int64_t *out)
{
	if (!s || n == 0 || n > 20)
		return false;
	size_t i = 0;
	bool neg = false;
	if (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-';
		if (++i == n)
			return false;
	}
	uint64_t v = 0;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		uint64_t d = (uint64_t)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	int64_t r;
	if (neg) {
		if (v > (uint64_t)INT64_MAX + 1)
			return false;
		r = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	} else {
		if (v > (uint64_t)INT64_MAX)
			return false;
		r = (int64_t)v;
	}
	if (r < min || r > max)
		return false;
	*out = r;
	return true;
}

bool parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	return s && parse_i64n(s, strlen(s), min, max, out);
}

bool parse_double(const char *s, double *out)
{
	if (!s || !*s)
		return false;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || *end || !isfinite(v))
		return false;
	*out = v;
	return true;
}

bool parse_bool(const char *s, bool *out)
{
	static const struct { const char *s; bool v; } words[] = {
		{"true", true}, {"1", true}, {"yes", true}, {"on", true},
		{"false", false}, {"0", false}, {"no", false}, {"off", false},
	};
	for (size_t i = 0; s && i < sizeof(words) / sizeof(words[0]); i++) {
		if (strcasecmp(s, words[i].s) == 0) {
			*out = words[i].v;
			return true;
		}
	}
	return false;
}

char *fmt_i64(char *end, int64_t v)
{
	char *p = end;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	return p;
}
