/*
 * Single flight for cache misses: of the requests in this process that miss
 * one key at the same moment, one (the leader) computes the answer and puts
 * it in the cache; the others wait for it and then read the cache, instead
 * of all computing the same expensive page at once (a stampede, e.g. when a
 * popular search expires or right after a restart).
 */
#ifndef MANDI_FLIGHT_H
#define MANDI_FLIGHT_H
#include <stdbool.h>

/** Longest a follower waits for its leader before computing itself (ms). */
#define FLIGHT_WAIT_MS 5000

/** After a miss of key in cache: true when the caller leads (it must call
 * flight_end once it has stored the answer or given up); false when another
 * request led and has finished (or the wait timed out, or no slot was free):
 * look in the cache again and compute only if it still misses. */
bool flight_begin(const char *cache, const char *key);

/** The leader is done with key: wake its followers. */
void flight_end(const char *cache, const char *key);

#endif
