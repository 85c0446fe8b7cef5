/*
 * Per-request arena (h2o's req->pool): everything a request allocates is
 * freed at once when it ends. Allocation never fails (aborts on OOM).
 */
#ifndef MANDI_ARENA_H
#define MANDI_ARENA_H
#include <stddef.h>

struct arena_chunk;
/** An arena; zero-initialise or use arena_init. */
struct arena {
	struct arena_chunk *head;
};

void arena_init(struct arena *a);
/** Free every allocation made from the arena. */
void arena_free(struct arena *a);
/** n bytes, 16-byte aligned, zeroed. */
void *arena_alloc(struct arena *a, size_t n);
/** Copy of s in the arena; NULL in, NULL out. */
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
/** printf into the arena. */
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
