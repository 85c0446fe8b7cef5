/* Ascending arrays of ids: the one binary search the catalog's sets,
 * scopes and columns look ids up with. */
#ifndef MANDI_IDS_H
#define MANDI_IDS_H
#include <stdint.h>

/** Index of id in ids[0..n) (ascending), or -1. */
int ids_find(const int64_t *ids, int n, int64_t id);

#endif
