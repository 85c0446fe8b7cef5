#include "cache/flight.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Keys being computed now: few (one per leading request), so a small array
 * scanned under one mutex; followers of every key share one condition and
 * look again at each wake-up. */
#define FLIGHT_SLOTS 64
#define FLIGHT_KEY_MAX 1024

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct {
		bool used;
		char key[FLIGHT_KEY_MAX];
	} slot[FLIGHT_SLOTS];
} f = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

/* "cache|key" into out; false when it does not fit (such keys fly alone). */
static bool full_key(const char *cache, const char *key, char out[FLIGHT_KEY_MAX])
{
	int n = snprintf(out, FLIGHT_KEY_MAX, "%s|%s", cache, key);
	return n > 0 && n < FLIGHT_KEY_MAX;
}

static int find(const char *k)
{
	for (int i = 0; i < FLIGHT_SLOTS; i++)
		if (f.slot[i].used && strcmp(f.slot[i].key, k) == 0)
			return i;
	return -1;
}

bool flight_begin(const char *cache, const char *key)
{
	char k[FLIGHT_KEY_MAX];
	if (!full_key(cache, key, k))
		return false;
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += FLIGHT_WAIT_MS / 1000;
	until.tv_nsec += (long)(FLIGHT_WAIT_MS % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	bool lead = false, waited = false;
	pthread_mutex_lock(&f.mu);
	while (find(k) >= 0) {
		waited = true;
		if (pthread_cond_timedwait(&f.cv, &f.mu, &until) != 0)
			break;
	}
	if (!waited) {
		for (int i = 0; i < FLIGHT_SLOTS; i++)
			if (!f.slot[i].used) {
				f.slot[i].used = true;
				memcpy(f.slot[i].key, k, strlen(k) + 1);
				lead = true;
				break;
			}
	}
	pthread_mutex_unlock(&f.mu);
	return lead;
}

void flight_end(const char *cache, const char *key)
{
	char k[FLIGHT_KEY_MAX];
	if (!full_key(cache, key, k))
		return;
	pthread_mutex_lock(&f.mu);
	int i = find(k);
	if (i >= 0)
		f.slot[i].used = false;
	pthread_cond_broadcast(&f.cv);
	pthread_mutex_unlock(&f.mu);
}
