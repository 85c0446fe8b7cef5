#include "app/app.h"

#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "analytics/dbadvice.h"
#include "analytics/events.h"
#include "analytics/metrics.h"
#include "cache/cache.h"
#include "core/config.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "db/db.h"
#include "http/idempotency.h"
#include "http/router.h"
#include "http/server.h"
#include "integration/client.h"
#include "jobs/jobs.h"
#include "market/market.h"

/* Request metrics by route pattern, never the raw path (bounded cardinality). */
static void observe_request(const struct req *r, int64_t us)
{
	metrics_observe(r->method, r->route ? r->route->pattern : NULL, r->status, us);
}

static void tick(void)
{
	static unsigned n;
	/* before the jobs, which can hold this thread for seconds: a reader
	 * waiting for every instance's flush must not wait behind them */
	metrics_sync_tick();
	jobs_tick();
	metrics_tick();
	db_maintain();
	/* a thread per connection leaves freed memory scattered over the
	 * arenas' heaps; give the free pages back to the system now and then */
	if (++n % 10 == 0)
		malloc_trim(0);
}

/* Queued events, the last partial minute of metrics and slow queries, written at shutdown. */
static void flush_at_stop(void)
{
	events_writer_stop();
	struct db *db = db_acquire();
	if (!metrics_flush(db, time_now()) || !dbadvice_flush(db, time_now()))
		log_warn("final metrics flush failed");
	db_release(db);
}

void app_start(void)
{
	server_hooks.around = idempotency_around;
	server_hooks.tick = tick;
	server_hooks.on_stop = flush_at_stop;
	if (cfg.performance_monitoring)
		server_hooks.observe = observe_request;
	db_observer = dbadvice_observe;
	svc_global_init();
	events_writer_start();
	/* known to readers waiting for every instance's flush from the start,
	 * not only from the first tick */
	metrics_sync_tick();
}

void app_stop(void)
{
}

int app_cmd_jobs(int argc, char **argv)
{
	if (argc < 1 || strcmp(argv[0], "run-once") != 0) {
		fprintf(stderr, "usage: mandi jobs run-once [--at RFC3339-TIME] [--job NAME]\n");
		return 2;
	}
	int64_t at = time_now();
	const char *only = NULL;
	for (int i = 1; i < argc - 1; i++) {
		if (strcmp(argv[i], "--job") == 0)
			only = argv[i + 1];
		if (strcmp(argv[i], "--at") == 0) {
			at = time_parse_rfc3339(argv[i + 1]);
			if (at < 0) {
				fprintf(stderr, "--at must be an RFC 3339 time, e.g. 2026-12-25T10:00:00Z\n");
				return 2;
			}
		}
	}
	/* every clock read (time_now) in this process now says `at` */
	time_set_offset(at - time_now());
	char err[512];
	if (!db_pool_open(cfg.database_url, cfg.database_read_url, 2, err, sizeof(err))) {
		log_error("%s", err);
		return 1;
	}
	struct db *db = db_acquire();
	bool ok = db_migrate(db) >= 0 && market_reload(db);
	db_release(db);
	/* jobs invalidate caches; with Redis that reaches the running servers */
	ok = ok && cache_init(cfg.cache_type, cfg.redis_url, 1u << 20);
	int failed = ok ? jobs_run_all(at, only) : 1;
	cache_shutdown();
	market_shutdown();
	db_pool_close();
	if (failed < 0) {
		fprintf(stderr, "jobs: no job named '%s'\n", only);
		return 2;
	}
	printf("jobs: %d failed\n", failed);
	return failed ? 1 : 0;
}
