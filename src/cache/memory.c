/*
 * In-process cache backend: a chained hash table plus an LRU list under one
 * mutex, a byte budget, and per-entry TTL. Values are copied in and out so
 * callers never hold pointers into the cache.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache/cache.h"
#include "core/mem.h"

#define NBUCKETS 65536

struct entry {
	struct entry *hnext;
	struct entry *prev, *next; /* LRU: head = most recent */
	char *key;
	unsigned long hash;
	char *val;
	size_t len;
	time_t expires;
	int name_idx;
};

static struct entry **buckets;
static struct entry *head, *tail;
static size_t used, budget;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

struct gen {
	char name[32];
	int64_t gen;
};
static struct gen gens[CACHE_MAX_NAMES];
static int ngens;

static unsigned long hash(const char *s)
{
	unsigned long h = 1469598103934665603UL;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211UL;
	return h;
}

static bool mem_init(const char *url, size_t max_bytes)
{
	(void)url;
	buckets = xcalloc(NBUCKETS, sizeof(*buckets));
	budget = max_bytes;
	return true;
}

static void lru_unlink(struct entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		tail = e->prev;
	e->prev = e->next = NULL;
}

static void lru_push(struct entry *e)
{
	e->next = head;
	e->prev = NULL;
	if (head)
		head->prev = e;
	head = e;
	if (!tail)
		tail = e;
}

static size_t cost(const struct entry *e)
{
	return e->len + strlen(e->key) + sizeof(*e);
}

static void remove_entry(struct entry *e, bool eviction)
{
	struct entry **pp = &buckets[e->hash % NBUCKETS];
	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	lru_unlink(e);
	used -= cost(e);
	cache_note_size(e->name_idx, -1, -(int64_t)e->len);
	if (eviction)
		cache_note_eviction(e->name_idx, e->len);
	free(e->key);
	free(e->val);
	free(e);
}

static struct entry *find(const char *key, unsigned long h)
{
	for (struct entry *e = buckets[h % NBUCKETS]; e; e = e->hnext)
		if (e->hash == h && strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

static bool mem_get(const char *key, char **val, size_t *len)
{
	unsigned long h = hash(key);
	pthread_mutex_lock(&mu);
	struct entry *e = find(key, h);
	if (e && e->expires <= time(NULL)) {
		remove_entry(e, false);
		e = NULL;
	}
	if (e) {
		lru_unlink(e);
		lru_push(e);
		*val = xmalloc(e->len + 1);
		memcpy(*val, e->val, e->len);
		(*val)[e->len] = '\0';
		*len = e->len;
	}
	pthread_mutex_unlock(&mu);
	return e != NULL;
}

static void mem_set(const char *key, const void *val, size_t len, int ttl_s, int name_idx)
{
	unsigned long h = hash(key);
	struct entry *n = xcalloc(1, sizeof(*n));
	n->key = xstrdup(key);
	n->hash = h;
	n->val = xmalloc(len ? len : 1);
	memcpy(n->val, val, len);
	n->len = len;
	n->expires = time(NULL) + ttl_s;
	n->name_idx = name_idx;
	if (cost(n) > budget / 4) { /* one value may not push out a quarter of the cache */
		free(n->key);
		free(n->val);
		free(n);
		return;
	}
	pthread_mutex_lock(&mu);
	struct entry *old = find(key, h);
	if (old)
		remove_entry(old, false);
	while (tail && used + cost(n) > budget)
		remove_entry(tail, true);
	n->hnext = buckets[h % NBUCKETS];
	buckets[h % NBUCKETS] = n;
	lru_push(n);
	used += cost(n);
	cache_note_size(name_idx, 1, (int64_t)len);
	pthread_mutex_unlock(&mu);
}

static void mem_del(const char *key)
{
	pthread_mutex_lock(&mu);
	struct entry *e = find(key, hash(key));
	if (e)
		remove_entry(e, false);
	pthread_mutex_unlock(&mu);
}

static struct gen *gen_slot(const char *name)
{
	for (int i = 0; i < ngens; i++)
		if (strcmp(gens[i].name, name) == 0)
			return &gens[i];
	if (ngens == CACHE_MAX_NAMES)
		return &gens[CACHE_MAX_NAMES - 1];
	struct gen *g = &gens[ngens++];
	strncpy(g->name, name, sizeof(g->name) - 1);
	return g;
}

static int64_t mem_generation(const char *name)
{
	pthread_mutex_lock(&mu);
	int64_t g = gen_slot(name)->gen;
	pthread_mutex_unlock(&mu);
	return g;
}

static void mem_bump(const char *name)
{
	pthread_mutex_lock(&mu);
	gen_slot(name)->gen++;
	pthread_mutex_unlock(&mu);
}

static const char *mem_status(void)
{
	return "ok";
}

static void mem_shutdown(void)
{
	pthread_mutex_lock(&mu);
	while (head)
		remove_entry(head, false);
	free(buckets);
	buckets = NULL;
	pthread_mutex_unlock(&mu);
}

const struct cache_backend cache_memory = {
	.name = "memory",
	.init = mem_init,
	.get = mem_get,
	.set = mem_set,
	.del = mem_del,
	.generation = mem_generation,
	.bump = mem_bump,
	.status = mem_status,
	.shutdown = mem_shutdown,
};
