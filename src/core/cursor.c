#include "core/cursor.h"

#include <stdio.h>
#include <string.h>

#include "core/strconv.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t b64url_encode(char *out, const unsigned char *in, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = alphabet[(v >> 18) & 63];
		out[o++] = alphabet[(v >> 12) & 63];
		if (i + 1 < n)
			out[o++] = alphabet[(v >> 6) & 63];
		if (i + 2 < n)
			out[o++] = alphabet[v & 63];
	}
	out[o] = '\0';
	return o;
}

static int val(char c)
{
	const char *p = c ? strchr(alphabet, c) : NULL;
	return p ? (int)(p - alphabet) : -1;
}

long b64url_decode(unsigned char *out, size_t outlen, const char *in, size_t n)
{
	while (n > 0 && in[n - 1] == '=')
		n--;
	size_t o = 0;
	unsigned acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		int v = val(in[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= outlen)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return (long)o;
}

void cursor_encode(char *out, const int64_t *keys, int nkeys)
{
	char text[CURSOR_MAX_KEYS * 21 + 4];
	size_t n = 0;
	text[n++] = 'c';
	for (int i = 0; i < nkeys && i < CURSOR_MAX_KEYS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, ".%lld", (long long)keys[i]);
	b64url_encode(out, (const unsigned char *)text, n);
}

bool cursor_decode(const char *s, int64_t *keys, int nkeys)
{
	unsigned char text[CURSOR_MAX_KEYS * 21 + 4];
	size_t len = strlen(s);
	if (len > CURSOR_LEN)
		return false;
	long n = b64url_decode(text, sizeof(text) - 1, s, len);
	if (n < 2 || text[0] != 'c')
		return false;
	text[n] = '\0';
	const char *p = (const char *)text + 1;
	for (int i = 0; i < nkeys; i++) {
		if (*p != '.')
			return false;
		p++;
		size_t m = strcspn(p, ".");
		if (!parse_i64n(p, m, INT64_MIN, INT64_MAX, &keys[i]))
			return false;
		p += m;
	}
	return *p == '\0';
}
