/*
 * A market's columns in listing order (see orders.h).
 */
#include "catalog/orders.h"

#include <stdlib.h>
#include <string.h>

#include "catalog/matches.h"
#include "catalog/names.h"
#include "core/ids.h"
#include "core/mem.h"

int64_t order_key(const struct listing_row *w, enum column_order k)
{
	return k == ORDER_POPULAR ? w->popularity : k == ORDER_NEWEST ? w->created_at : w->price;
}

/* The rows' indexes in each column_order: sorted as match sets are
 * (match_rows_sort: rank descending, then id), the key in the rank's place. */
static size_t order_all(struct market_columns *c, struct orders *b)
{
	struct match_row *tmp = xmalloc(sizeof(*tmp) * (size_t)(c->n + 1));
	b->orders = xmalloc(sizeof(*b->orders) * (size_t)ORDER__COUNT * (size_t)(c->n + 1));
	for (int k = 0; k < ORDER__COUNT; k++) {
		for (int i = 0; i < c->n; i++) {
			const struct listing_row *w = &c->rows[i];
			tmp[i] = (struct match_row){w, order_key(w, (enum column_order)k)};
		}
		match_rows_sort(tmp, c->n);
		int32_t *o = b->orders + (size_t)k * (size_t)(c->n + 1);
		for (int i = 0; i < c->n; i++)
			o[i] = (int32_t)(tmp[i].r - c->rows);
		c->order[k] = o;
	}
	free(tmp);
	return sizeof(*b->orders) * (size_t)ORDER__COUNT * (size_t)c->n;
}

/*
 * Each order restricted to each category scope of the tree nm: a row is in
 * the scope of its category and of every category above it, as
 * product_market's scope rows are. One walk of each order appends a row to
 * its scopes, so each keeps the order.
 */
static size_t order_scopes(struct market_columns *c, struct orders *b,
			   const struct catalog_names *nm)
{
	int ns = nm->ncats;
	/* the scopes (indexes into nm->cats) of each category: its path up */
	int32_t *up_at = xmalloc(sizeof(*up_at) * (size_t)(ns + 1));
	int32_t *up = xmalloc(sizeof(*up) * (size_t)(ns * (ns + 1) + 1));
	const struct named **path = xmalloc(sizeof(*path) * (size_t)(ns + 1));
	int nup = 0;
	for (int i = 0; i < ns; i++) {
		up_at[i] = nup;
		int np = names_path(nm, nm->cats[i].id, path, ns + 1);
		for (int j = 0; j < np; j++)
			up[nup++] = (int32_t)(path[j] - nm->cats);
	}
	up_at[ns] = nup;
	free(path);
	/* each row's category, as an index into nm->cats (-1: not in the tree) */
	int32_t *cat = xmalloc(sizeof(*cat) * (size_t)(c->n + 1));
	int64_t *count = xcalloc((size_t)ns + 1, sizeof(*count));
	int64_t total = 0;
	for (int i = 0; i < c->n; i++) {
		const struct named *k = names_find(nm->cats, ns, c->rows[i].category_id);
		cat[i] = k ? (int32_t)(k - nm->cats) : -1;
		for (int u = k ? up_at[cat[i]] : 0; k && u < up_at[cat[i] + 1]; u++, total++)
			count[up[u]]++;
	}
	b->scope_ids = xmalloc(sizeof(*b->scope_ids) * (size_t)(ns + 1));
	b->scoped = xmalloc(sizeof(*b->scoped) *
			    ((size_t)ns + 1 + (size_t)ORDER__COUNT * (size_t)(total + 1)));
	int32_t *at = b->scoped, *pos = xmalloc(sizeof(*pos) * (size_t)(ns + 1));
	at[0] = 0;
	for (int s = 0; s < ns; s++) {
		b->scope_ids[s] = nm->cats[s].id;
		at[s + 1] = at[s] + (int32_t)count[s];
	}
	for (int k = 0; k < ORDER__COUNT; k++) {
		int32_t *out = b->scoped + ns + 1 + (size_t)k * (size_t)(total + 1);
		memcpy(pos, at, sizeof(*pos) * (size_t)ns);
		for (int i = 0; i < c->n; i++) {
			int32_t r = c->order[k][i];
			for (int u = cat[r] >= 0 ? up_at[cat[r]] : 0;
			     cat[r] >= 0 && u < up_at[cat[r] + 1]; u++)
				out[pos[up[u]]++] = r;
		}
		c->scoped[k] = out;
	}
	c->nscopes = ns;
	c->scope_ids = b->scope_ids;
	c->scope_at = at;
	free(pos);
	free(count);
	free(cat);
	free(up);
	free(up_at);
	return sizeof(*b->scope_ids) * (size_t)ns +
	       sizeof(*b->scoped) * ((size_t)ns + 1 + (size_t)ORDER__COUNT * (size_t)total);
}

static const char *row_list(const struct listing_row *w, enum column_list k)
{
	const char *const lists[LIST__COUNT] = {w->sizes, w->colors, w->stock_sizes,
						w->stock_colors};
	return lists[k];
}

/* A set of pointers, emptied for each scope (open addressing, grown at half full). */
struct ptrset {
	const char **slot;
	size_t cap, n;
};

static bool ptrset_add(struct ptrset *s, const char *p)
{
	if (2 * (s->n + 1) > s->cap) {
		struct ptrset g = {xcalloc(s->cap ? 2 * s->cap : 256, sizeof(*g.slot)),
				   s->cap ? 2 * s->cap : 256, 0};
		for (size_t i = 0; i < s->cap; i++)
			if (s->slot[i])
				ptrset_add(&g, s->slot[i]);
		free(s->slot);
		*s = g;
	}
	size_t i = (size_t)(((uintptr_t)p >> 3) * 0x9E3779B97F4A7C15ull >> 20) & (s->cap - 1);
	while (s->slot[i] && s->slot[i] != p)
		i = (i + 1) & (s->cap - 1);
	if (s->slot[i])
		return false;
	s->slot[i] = p;
	s->n++;
	return true;
}

/*
 * The distinct lists of each kind in each scope and in the whole market,
 * read off the scopes' orders (order_scopes first). Few: a catalog has a
 * few dozen size and colour lists, each held once in c->text.
 */
static size_t order_lists(struct market_columns *c, struct orders *b)
{
	int slots = c->nscopes + 1;
	struct ptrset set = {0};
	size_t cap = 1024, n = 0;
	const char **out = xmalloc(sizeof(*out) * cap);
	int32_t *at = xmalloc(sizeof(*at) * (size_t)LIST__COUNT * (size_t)(slots + 1));
	for (int k = 0; k < LIST__COUNT; k++) {
		for (int s = 0; s < slots; s++) {
			at[k * (slots + 1) + s] = (int32_t)n;
			int m;
			const int32_t *o = columns_order(c, ORDER_POPULAR,
							 s < c->nscopes ? c->scope_ids[s] : 0, &m);
			if (set.slot)
				memset(set.slot, 0, sizeof(*set.slot) * set.cap);
			set.n = 0;
			for (int i = 0; i < m; i++) {
				const char *l = row_list(&c->rows[o[i]], (enum column_list)k);
				if (!ptrset_add(&set, l))
					continue;
				if (n == cap)
					out = xrealloc(out, sizeof(*out) * (cap *= 2));
				out[n++] = l;
			}
		}
		at[k * (slots + 1) + slots] = (int32_t)n;
	}
	free(set.slot);
	/* one block: the lists, then the offsets */
	size_t bytes =
	    sizeof(*b->lists) * (n + 1) + sizeof(*at) * (size_t)LIST__COUNT * (size_t)(slots + 1);
	b->lists = xmalloc(bytes);
	memcpy(b->lists, out, sizeof(*out) * n);
	int32_t *at_kept = (int32_t *)(b->lists + n + 1);
	memcpy(at_kept, at, sizeof(*at) * (size_t)LIST__COUNT * (size_t)(slots + 1));
	c->lists = b->lists;
	for (int k = 0; k < LIST__COUNT; k++)
		c->list_at[k] = at_kept + k * (slots + 1);
	free(out);
	free(at);
	return bytes;
}

/* Slot of category scope in c's scopes (nscopes for 0, every product), or
 * -1 for a category the tree does not have. */
static int scope_slot(const struct market_columns *c, int64_t scope)
{
	return scope ? ids_find(c->scope_ids, c->nscopes, scope) : c->nscopes;
}

const char *const *columns_lists(const struct market_columns *c, enum column_list k, int64_t scope,
				 int *n)
{
	int s = scope_slot(c, scope);
	*n = s < 0 ? 0 : c->list_at[k][s + 1] - c->list_at[k][s];
	return c->lists + (s < 0 ? 0 : c->list_at[k][s]);
}

const int32_t *columns_order(const struct market_columns *c, enum column_order k, int64_t scope,
			     int *n)
{
	int s = scope_slot(c, scope);
	if (s == c->nscopes) {
		*n = c->n;
		return c->order[k];
	}
	*n = s < 0 ? 0 : c->scope_at[s + 1] - c->scope_at[s];
	return s < 0 ? c->order[k] : c->scoped[k] + c->scope_at[s];
}

size_t orders_build(struct market_columns *c, const struct catalog_names *nm, struct orders *b)
{
	size_t bytes = order_all(c, b);
	bytes += order_scopes(c, b, nm);
	return bytes + order_lists(c, b);
}

void orders_free(struct orders *b)
{
	free(b->orders);
	free(b->scoped);
	free(b->scope_ids);
	free(b->lists);
	memset(b, 0, sizeof(*b));
}
