/* Allocation that never returns NULL: out of memory aborts in one place. */
#ifndef MANDI_MEM_H
#define MANDI_MEM_H
#include <stddef.h>

/** malloc that aborts on out-of-memory. */
void *xmalloc(size_t n);
/** calloc that aborts on out-of-memory. */
void *xcalloc(size_t n, size_t size);
/** realloc that aborts on out-of-memory. */
void *xrealloc(void *p, size_t n);
/** strdup that aborts on out-of-memory; NULL in, NULL out. */
char *xstrdup(const char *s);
/** Copy of the first n bytes of s, NUL-terminated. */
char *xstrndup(const char *s, size_t n);

#endif
