#include "cache/cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

static const struct cache_backend *backend;
static const char *backend_name = "none";

struct named {
	char name[32];
	atomic_llong hits, misses, evictions, entries, bytes;
};
static struct named names[CACHE_MAX_NAMES];
static int nnames;
static pthread_mutex_t names_mu = PTHREAD_MUTEX_INITIALIZER;

static const struct cache_backend *backends[] = {&cache_memory, &cache_redis};

bool cache_init(const char *type, const char *url, size_t max_bytes)
{
	if (!type || strcmp(type, "none") == 0) {
		backend = NULL;
		backend_name = "none";
		return true;
	}
	const char *want = strcmp(type, "simple") == 0 ? "memory" : type;
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		if (strcmp(backends[i]->name, want) == 0) {
			backend = backends[i];
			backend_name = backend->name;
			return backend->init(url, max_bytes);
		}
	}
	return false;
}

void cache_shutdown(void)
{
	if (backend && backend->shutdown)
		backend->shutdown();
	backend = NULL;
}

static int name_index(const char *cache)
{
	for (int i = 0; i < nnames; i++)
		if (strcmp(names[i].name, cache) == 0)
			return i;
	pthread_mutex_lock(&names_mu);
	int idx = -1;
	for (int i = 0; i < nnames; i++)
		if (strcmp(names[i].name, cache) == 0)
			idx = i;
	if (idx < 0 && nnames < CACHE_MAX_NAMES) {
		snprintf(names[nnames].name, sizeof(names[nnames].name), "%s", cache);
		idx = nnames;
		/* publish the name before the count so lock-free readers see it whole */
		atomic_thread_fence(memory_order_release);
		nnames++;
	}
	pthread_mutex_unlock(&names_mu);
	return idx < 0 ? CACHE_MAX_NAMES - 1 : idx;
}

/* "<cache>:<generation>:<key>": clearing a cache bumps its generation, so
 * old keys are never read again and age out of the LRU. */
static void full_key(char *out, size_t n, const char *cache, const char *key)
{
	snprintf(out, n, "%s:%lld:%s", cache, (long long)backend->generation(cache), key);
}

bool cache_get(const char *cache, const char *key, char **val, size_t *len)
{
	if (!backend)
		return false;
	int idx = name_index(cache);
	char k[1024];
	full_key(k, sizeof(k), cache, key);
	bool hit = backend->get(k, val, len);
	atomic_fetch_add(hit ? &names[idx].hits : &names[idx].misses, 1);
	return hit;
}

void cache_set(const char *cache, const char *key, const void *val, size_t len, int ttl_s)
{
	if (!backend)
		return;
	char k[1024];
	full_key(k, sizeof(k), cache, key);
	backend->set(k, val, len, ttl_s, name_index(cache));
}

void cache_del(const char *cache, const char *key)
{
	if (!backend)
		return;
	char k[1024];
	full_key(k, sizeof(k), cache, key);
	backend->del(k);
}

int64_t cache_generation(const char *cache)
{
	return backend ? backend->generation(cache) : -1;
}

void cache_clear(const char *cache)
{
	if (backend)
		backend->bump(cache);
}

int64_t cache_incr(const char *key, int ttl_s)
{
	if (!backend || !backend->incr)
		return -1;
	return backend->incr(key, ttl_s);
}

bool cache_is_shared(void)
{
	return backend && backend->incr;
}

bool cache_shared_get(const char *key, char **val, size_t *len)
{
	if (!cache_is_shared())
		return false;
	char k[512];
	snprintf(k, sizeof(k), "shared:%s", key);
	return backend->get(k, val, len);
}

void cache_shared_set(const char *key, const void *val, size_t len, int ttl_s)
{
	if (!cache_is_shared())
		return;
	char k[512];
	snprintf(k, sizeof(k), "shared:%s", key);
	backend->set(k, val, len, ttl_s, -1);
}

void cache_note_eviction(int idx, size_t bytes)
{
	(void)bytes;
	if (idx >= 0 && idx < CACHE_MAX_NAMES)
		atomic_fetch_add(&names[idx].evictions, 1);
}

void cache_note_size(int idx, int64_t entries, int64_t bytes)
{
	if (idx >= 0 && idx < CACHE_MAX_NAMES) {
		atomic_fetch_add(&names[idx].entries, entries);
		atomic_fetch_add(&names[idx].bytes, bytes);
	}
}

int cache_stats(struct cache_stats *out, int max)
{
	int n = 0;
	for (int i = 0; i < nnames && n < max; i++, n++) {
		memcpy(out[n].name, names[i].name, sizeof(out[n].name));
		out[n].hits = atomic_load(&names[i].hits);
		out[n].misses = atomic_load(&names[i].misses);
		out[n].evictions = atomic_load(&names[i].evictions);
		out[n].entries = atomic_load(&names[i].entries);
		out[n].bytes = atomic_load(&names[i].bytes);
	}
	return n;
}

const char *cache_status(void)
{
	return backend ? backend->status() : "disabled";
}

const char *cache_backend_name(void)
{
	return backend_name;
}
