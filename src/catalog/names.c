#include "catalog/names.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "core/mem.h"
#include "db/db.h"

/* One read of the names: the public part first, so that a caller's pointer
 * is the block's. */
struct kept {
	struct catalog_names pub;
	struct arena a;  /* every array and string */
	int64_t generation;
	int refs;        /* the store's (while kept) + each caller's */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct kept *kept; /* the newest generation's, if any */

static void drop(struct kept *k)
{
	if (--k->refs == 0) {
		arena_free(&k->a);
		free(k);
	}
}

static struct named *take(struct arena *a, const struct db_res *r, bool tree)
{
	struct named *v = arena_alloc(a, sizeof(*v) * (size_t)(r->nrows + 1));
	int c = tree ? 1 : 0; /* the tree's rows have the parent before slug and name */
	for (int i = 0; i < r->nrows; i++) {
		v[i] = (struct named){.id = db_int(r, i, 0), .parent = tree ? db_int(r, i, 1) : 0,
				      .slug = arena_strdup(a, db_text(r, i, c + 1)),
				      .name = arena_strdup(a, db_text(r, i, c + 2))};
	}
	return v;
}

static struct kept *read_names(struct db *db)
{
	struct db_res b, c;
	if (db_query(db, &b, "SELECT id, slug, name FROM brands ORDER BY id", DBV0) != DB_OK)
		return NULL;
	if (db_query(db, &c, "SELECT id, COALESCE(parent_id, 0), slug, name FROM categories ORDER BY id",
		     DBV0) != DB_OK) {
		db_res_free(&b);
		return NULL;
	}
	struct kept *k = xcalloc(1, sizeof(*k));
	arena_init(&k->a);
	k->pub.brands = take(&k->a, &b, false);
	k->pub.nbrands = b.nrows;
	k->pub.cats = take(&k->a, &c, true);
	k->pub.ncats = c.nrows;
	k->refs = 1;
	db_res_free(&b);
	db_res_free(&c);
	return k;
}

const struct catalog_names *names_get(struct db *db, int64_t generation)
{
	if (generation >= 0) {
		pthread_mutex_lock(&mu);
		struct kept *k = kept && kept->generation == generation ? kept : NULL;
		if (k)
			k->refs++;
		pthread_mutex_unlock(&mu);
		if (k)
			return &k->pub;
	}
	/* two requests may both read a new generation's names: a few dozen
	 * rows, not worth a wait */
	struct kept *k = read_names(db);
	if (!k || generation < 0)
		return k ? &k->pub : NULL;
	k->generation = generation;
	pthread_mutex_lock(&mu);
	if (!kept || kept->generation <= generation) {
		if (kept)
			drop(kept);
		kept = k;
		k->refs++;
	}
	pthread_mutex_unlock(&mu);
	return &k->pub;
}

void names_release(const struct catalog_names *n)
{
	if (!n)
		return;
	pthread_mutex_lock(&mu);
	drop((struct kept *)n);
	pthread_mutex_unlock(&mu);
}

const struct named *names_find(const struct named *v, int n, int64_t id)
{
	int lo = 0, hi = n;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (v[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && v[lo].id == id ? &v[lo] : NULL;
}

int names_path(const struct catalog_names *n, int64_t id, const struct named **path, int max)
{
	int k = 0;
	for (const struct named *c = names_find(n->cats, n->ncats, id); c && k < max;
	     c = c->parent ? names_find(n->cats, n->ncats, c->parent) : NULL)
		path[k++] = c;
	return k;
}

int64_t *names_scope(const struct catalog_names *n, struct arena *a, int64_t scope, int *count)
{
	int64_t *ids = arena_alloc(a, sizeof(*ids) * (size_t)(n->ncats + 1));
	const struct named **path = arena_alloc(a, sizeof(*path) * (size_t)(n->ncats + 1));
	int k = 0;
	for (int i = 0; i < n->ncats; i++) {
		int np = names_path(n, n->cats[i].id, path, n->ncats + 1);
		for (int j = 0; j < np; j++)
			if (!scope || path[j]->id == scope) {
				ids[k++] = n->cats[i].id;
				break;
			}
	}
	*count = k;
	return ids;
}

void names_clear(void)
{
	pthread_mutex_lock(&mu);
	if (kept)
		drop(kept);
	kept = NULL;
	pthread_mutex_unlock(&mu);
}
