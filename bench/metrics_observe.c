/* Cost of the request-metrics hook alone: metrics_observe() per call, with 1
 * and 2 threads recording on the same route (the contended case). Built and
 * run by bench/analytics.sh. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "analytics/metrics.h"
#include "core/timeutil.h"

#define CALLS 10000000

static const char route[] = "/api/catalog/products/{id}";

static void *run(void *arg)
{
	(void)arg;
	for (int i = 0; i < CALLS; i++)
		metrics_observe("GET", route, 200, 100 + (i & 1023));
	return NULL;
}

int main(void)
{
	for (int threads = 1; threads <= 2; threads++) {
		pthread_t t[2];
		int64_t t0 = time_mono_us();
		for (int i = 0; i < threads; i++)
			pthread_create(&t[i], NULL, run, NULL);
		for (int i = 0; i < threads; i++)
			pthread_join(t[i], NULL);
		double ns = (double)(time_mono_us() - t0) * 1000.0 / CALLS;
		printf("metrics_observe, %d thread(s) on one route: %.1f ns per call (wall time per thread)\n",
		       threads, ns);
	}
	return 0;
}
