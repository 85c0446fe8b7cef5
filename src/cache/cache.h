/*
 * Named caches of rendered bytes (product detail, listings, search…) behind
 * one interface; backends are tables of function pointers (memory.c: LRU +
 * TTL in process; redis.c: shared by every instance). Each named cache counts hits, misses and
 * evictions. cache_clear(name) invalidates a whole named cache at once by
 * bumping its generation, which every instance sees.
 */
#ifndef MANDI_CACHE_H
#define MANDI_CACHE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CACHE_MAX_NAMES 16

struct cache_stats {
	char name[32];
	int64_t hits, misses, evictions, entries, bytes;
};

struct cache_backend {
	const char *name;
	bool (*init)(const char *url, size_t max_bytes);
	/** Copy of the value (malloc'ed) or false on miss. */
	bool (*get)(const char *key, char **val, size_t *len);
	void (*set)(const char *key, const void *val, size_t len, int ttl_s, int name_idx);
	void (*del)(const char *key);
	/** Current generation of a named cache (bumped by clear). */
	int64_t (*generation)(const char *name);
	void (*bump)(const char *name);
	/** Shared counter: add one to key (expiring after ttl_s) and return the
	 * new value, or -1 when unavailable. NULL for process-local backends. */
	int64_t (*incr)(const char *key, int ttl_s);
	const char *(*status)(void);
	void (*shutdown)(void);
};

extern const struct cache_backend cache_memory;
extern const struct cache_backend cache_redis;

/** Start the configured backend (CACHE_TYPE); "none" disables caching. */
bool cache_init(const char *type, const char *url, size_t max_bytes);
void cache_shutdown(void);
/** Look key up in the named cache; *val is malloc'ed on a hit. */
bool cache_get(const char *cache, const char *key, char **val, size_t *len);
/** Store key in the named cache for ttl_s seconds. */
void cache_set(const char *cache, const char *key, const void *val, size_t len, int ttl_s);
/** Drop one key. */
void cache_del(const char *cache, const char *key);
/** The named cache's generation (what cache_clear moves on), or -1 when
 * caching is off or the backend cannot be reached: derived data kept
 * beside the cache (search match sets) is then used for one request only. */
int64_t cache_generation(const char *cache);
/** Invalidate every entry of a named cache. */
void cache_clear(const char *cache);
/** Add one to a counter shared by every instance (rate limits); -1 when the
 * backend has no shared counters or cannot be reached right now. */
int64_t cache_incr(const char *key, int ttl_s);
/**
 * Records shared by every instance (idempotent answers): a plain key with a
 * TTL, outside the named caches (no generation, no hit/miss counters). Only
 * with a shared backend (CACHE_TYPE=redis); with a process-local one or an
 * unreachable Redis, get is a miss and set does nothing, so callers keep the
 * database as the source of truth. *val is malloc'ed on a hit.
 */
bool cache_shared_get(const char *key, char **val, size_t *len);
void cache_shared_set(const char *key, const void *val, size_t len, int ttl_s);
/** Whether the backend is shared by every instance (has shared records and counters). */
bool cache_is_shared(void);
/** Counters per named cache; returns how many were written. */
int cache_stats(struct cache_stats *out, int max);
/** Record an eviction for the cache with index idx (called by backends). */
void cache_note_eviction(int idx, size_t bytes);
/** Track entries/bytes per named cache (backends call with +/-). */
void cache_note_size(int idx, int64_t entries, int64_t bytes);
/** "ok", "degraded" (backend unreachable) or "disabled". */
const char *cache_status(void);
const char *cache_backend_name(void);

#endif
