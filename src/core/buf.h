/* Growable byte buffer with a size cap (curl's dynbuf): output is built here. */
#ifndef MANDI_BUF_H
#define MANDI_BUF_H
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/** A growable buffer; always NUL-terminated once something is written. */
struct buf {
	char *p;
	size_t len;
	size_t cap;
	size_t max;     /**< appends past this size fail (toobig) */
	bool toobig;    /**< set once an append was refused */
};

/** Initialise an empty buffer that may grow to max bytes. */
void buf_init(struct buf *b, size_t max);
/** Free the storage; the buffer may be reused after buf_init. */
void buf_free(struct buf *b);
/** Forget the contents, keep the storage. */
void buf_reset(struct buf *b);
/** Append n bytes; returns false (and sets toobig) past the cap. */
bool buf_add(struct buf *b, const void *p, size_t n);
/** Append a NUL-terminated string. */
bool buf_adds(struct buf *b, const char *s);
/** Append one byte. */
bool buf_addc(struct buf *b, char c);
/** Append printf-formatted text. */
bool buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** Append printf-formatted text from a va_list. */
bool buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/** Take the storage out of the buffer (caller frees); the buffer is emptied. */
char *buf_take(struct buf *b, size_t *len);

#endif
