#include "core/strmap.h"

#include <string.h>

#include "core/arena.h"

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

void strmap_clear(struct strmap *m)
{
	if (m->cap)
		memset(m->keys, 0, sizeof(*m->keys) * m->cap);
	m->n = 0;
}

int64_t *strmap_slot(struct arena *a, struct strmap *m, const char *key, bool *found)
{
	/* at most half full, so probes stay short and a free slot exists */
	if ((m->n + 1) * 2 > m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 64;
		const char **nk = arena_alloc(a, sizeof(*nk) * nc);
		int64_t *nv = arena_alloc(a, sizeof(*nv) * nc);
		for (size_t i = 0; i < m->cap; i++)
			if (m->keys[i]) {
				size_t j = hash_str(m->keys[i]) & (nc - 1);
				while (nk[j])
					j = (j + 1) & (nc - 1);
				nk[j] = m->keys[i];
				nv[j] = m->vals[i];
			}
		m->keys = nk;
		m->vals = nv;
		m->cap = nc;
	}
	size_t j = hash_str(key) & (m->cap - 1);
	while (m->keys[j]) {
		if (strcmp(m->keys[j], key) == 0) {
			*found = true;
			return &m->vals[j];
		}
		j = (j + 1) & (m->cap - 1);
	}
	m->keys[j] = key;
	m->vals[j] = 0;
	m->n++;
	*found = false;
	return &m->vals[j];
}

int64_t strmap_get(const struct strmap *m, const char *key, int64_t def)
{
	if (!m->cap)
		return def;
	size_t j = hash_str(key) & (m->cap - 1);
	while (m->keys[j]) {
		if (strcmp(m->keys[j], key) == 0)
			return m->vals[j];
		j = (j + 1) & (m->cap - 1);
	}
	return def;
}
