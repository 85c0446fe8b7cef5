/*
 * Brand and category names and the category tree, read whole (a few dozen
 * rows) and kept under the search cache's generation, as match sets are
 * (matches.h): a search miss names its facets and finds a scope's
 * categories in memory instead of with three statements. A generation < 0
 * (no cache) reads them for the one caller and keeps nothing.
 */
#ifndef MANDI_CATALOG_NAMES_H
#define MANDI_CATALOG_NAMES_H
#include <stdint.h>

#include "core/arena.h"

struct db;

struct named {
	int64_t id, parent; /**< parent: categories only, 0 for a root */
	const char *slug, *name;
};

struct catalog_names {
	int nbrands, ncats;
	const struct named *brands, *cats; /**< ascending id */
};

/** The names under generation, or NULL on a database error. Give them
 * back with names_release. */
const struct catalog_names *names_get(struct db *db, int64_t generation);
void names_release(const struct catalog_names *n);

/** The entry of id in v[0..n) (ascending id), or NULL. */
const struct named *names_find(const struct named *v, int n, int64_t id);

/** Category id and the categories above it, nearest first, into
 * path[0..max); returns their count (0 for an id the tree does not have).
 * A path is never longer than the tree has categories (category_save
 * refuses cycles); max bounds a walk over the data regardless. */
int names_path(const struct catalog_names *n, int64_t id, const struct named **path, int max);

/** Category scope and its sub-categories, ascending ids in arena a; every
 * category for scope 0. *count = 0 for an unknown scope. */
int64_t *names_scope(const struct catalog_names *n, struct arena *a, int64_t scope, int *count);

/** Drop the kept names (shutdown, tests). */
void names_clear(void);

#endif
