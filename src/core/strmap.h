/*
 * Text → int64 map with open addressing, its memory in an arena: the
 * feed's duplicate SKUs and product groups, and the import's per-file and
 * per-batch ids. Keys are not copied; they must outlive the map.
 */
#ifndef MANDI_STRMAP_H
#define MANDI_STRMAP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;

struct strmap {
	const char **keys;
	int64_t *vals;
	size_t cap, n;
};

/** The value slot for key; *found tells whether it was there (else it is
 * new and holds 0). */
int64_t *strmap_slot(struct arena *a, struct strmap *m, const char *key, bool *found);
/** The value for key, or def when absent. */
int64_t strmap_get(const struct strmap *m, const char *key, int64_t def);
/** Forget every key (the memory stays for the next use). */
void strmap_clear(struct strmap *m);

#endif
