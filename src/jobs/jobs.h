/*
 * Background jobs. Each area exports a table of jobs (name, interval, run
 * function); jobs/table.c lists the areas. A job runs only while its runner
 * holds the job's lease row in `job_leases`, taken with one atomic upsert, so
 * many `mandi serve` processes (and `mandi jobs run-once`) never run the same
 * job at the same time, and a job runs at most once per interval overall.
 */
#ifndef MANDI_JOBS_H
#define MANDI_JOBS_H
#include <stdbool.h>
#include <stdint.h>

struct db;

struct job {
	const char *name;
	int interval_s;
	/** Do the work due at `now` (Unix seconds; moved by --at in tests).
	 * Returns false on failure (logged; retried next interval). */
	bool (*run)(struct db *db, int64_t now);
};

/** Each area's jobs, NULL-terminated list of {0}-terminated tables. */
extern const struct job *const job_tables[];
/** Jobs that run in every process without a lease, because they refresh
 * process-local state each instance needs itself (the market snapshot).
 * Same shape, same scheduler. */
extern const struct job *const job_tables_local[];

/**
 * Take or renew the lease `name` for ttl_s seconds at `now`. True when this
 * process now holds it (it was free, expired, or already ours).
 */
bool job_lease(struct db *db, const char *name, int64_t ttl_s, int64_t now);
/** Give a lease up early (so run-once can be repeated in tests). */
void job_release(struct db *db, const char *name);

/** Called every second by the server: run each job whose interval passed. */
void jobs_tick(void);
/** Run every job (or only the one named `only`) once now, ignoring
 * intervals, still taking leases. Returns the number of jobs that failed;
 * -1 when `only` names no job. */
int jobs_run_all(int64_t now, const char *only);
/** Stable identity of this process for lease rows ("host:pid"). */
const char *jobs_holder(void);

#endif
