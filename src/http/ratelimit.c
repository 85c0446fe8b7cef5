#include "http/ratelimit.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache/cache.h"
#include "core/mem.h"

/* In-process windows: a small open hash; a slot whose window has passed is
 * reused, so memory stays bounded by LOCAL_SLOTS whatever the key space. */
#define LOCAL_SLOTS 8192

struct slot {
	char key[160];
	int64_t window;
	int64_t count;
};
static struct slot slots[LOCAL_SLOTS];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

/* Count in this process. Probes a few slots; when all are busy with live
 * windows of other keys the hit shares the first slot's count, which can
 * only make limiting stricter, never looser. */
static int64_t local_incr(const char *key, int64_t window)
{
	uint64_t h = hash(key);
	pthread_mutex_lock(&mu);
	struct slot *use = NULL;
	for (int i = 0; i < 8 && !use; i++) {
		struct slot *s = &slots[(h + (uint64_t)i) % LOCAL_SLOTS];
		if (strcmp(s->key, key) == 0 || s->window != window || !s->key[0]) {
			use = s;
			if (strcmp(s->key, key) != 0 || s->window != window) {
				snprintf(s->key, sizeof(s->key), "%s", key);
				s->window = window;
				s->count = 0;
			}
		}
	}
	if (!use)
		use = &slots[h % LOCAL_SLOTS];
	int64_t n = ++use->count;
	pthread_mutex_unlock(&mu);
	return n;
}

bool ratelimit_allow(const char *key, int limit, int window_s)
{
	if (window_s < 1)
		window_s = 1;
	int64_t window = (int64_t)time(NULL) / window_s;
	char k[160];
	snprintf(k, sizeof(k), "rl:%.96s:%d:%lld", key, window_s, (long long)window);
	/* the key names its window, so the TTL only has to outlive it */
	int64_t n = cache_incr(k, window_s + 1);
	if (n < 0)
		n = local_incr(k, window);
	return n <= limit;
}

int ratelimit_retry_after(int window_s)
{
	if (window_s < 1)
		window_s = 1;
	return window_s - (int)((int64_t)time(NULL) % window_s);
}
