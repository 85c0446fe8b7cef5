#include "core/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

void buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void buf_free(struct buf *b)
{
	free(b->p);
	size_t max = b->max;
	buf_init(b, max);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	b->toobig = false;
	if (b->p)
		b->p[0] = '\0';
}

static bool grow(struct buf *b, size_t need)
{
	if (b->len + need + 1 > b->max) {
		b->toobig = true;
		return false;
	}
	if (b->len + need + 1 <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + need + 1)
		cap *= 2;
	if (cap > b->max)
		cap = b->max;
	b->p = xrealloc(b->p, cap);
	b->cap = cap;
	return true;
}

bool buf_add(struct buf *b, const void *p, size_t n)
{
	if (!grow(b, n))
		return false;
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return true;
}

bool buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

bool buf_addc(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

bool buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	va_copy(cp, ap);
	char small[256];
	int n = vsnprintf(small, sizeof(small), fmt, cp);
	va_end(cp);
	if (n < 0)
		return false;
	if ((size_t)n < sizeof(small))
		return buf_add(b, small, (size_t)n);
	if (!grow(b, (size_t)n))
		return false;
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return true;
}

bool buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	bool ok = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return ok;
}

char *buf_take(struct buf *b, size_t *len)
{
	if (!b->p)
		buf_add(b, "", 0);
	char *p = b->p;
	if (len)
		*len = b->len;
	size_t max = b->max;
	buf_init(b, max);
	return p;
}
