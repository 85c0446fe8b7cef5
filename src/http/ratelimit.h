/*
 * Rate limits per key (a client IP, a user, an endpoint…): a fixed window of
 * window_s seconds allowing `limit` hits. With CACHE_TYPE=redis the counters
 * live in Redis, so every instance behind the load balancer counts against
 * the same budget; otherwise (or while Redis is unreachable) each process
 * counts on its own, which is the best a single instance can do and keeps
 * limiting rather than failing open.
 */
#ifndef MANDI_RATELIMIT_H
#define MANDI_RATELIMIT_H
#include <stdbool.h>

/** Count one hit for key; true while the key has at most `limit` hits in the
 * current window of window_s seconds. Thread-safe. */
bool ratelimit_allow(const char *key, int limit, int window_s);
/** Seconds until the current window of window_s ends (for Retry-After). */
int ratelimit_retry_after(int window_s);

#endif
