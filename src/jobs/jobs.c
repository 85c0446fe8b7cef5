#include "jobs/jobs.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/timeutil.h"
#include "db/db.h"

#define MAX_JOBS 64

static int64_t last_try[MAX_JOBS];
static char holder[96];

const char *jobs_holder(void)
{
	if (!holder[0]) {
		char host[64] = "?";
		gethostname(host, sizeof(host) - 1);
		snprintf(holder, sizeof(holder), "%s:%d", host, (int)getpid());
	}
	return holder;
}

bool job_lease(struct db *db, const char *name, int64_t ttl_s, int64_t now)
{
	struct db_res r;
	/* one statement: insert, or take over only an expired (or our own)
	 * lease; a row comes back only when we hold it afterwards */
	int rc = db_query(db, &r,
			  "INSERT INTO job_leases (name, holder, expires_at, last_run_at) "
			  "VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO UPDATE SET holder = $2, "
			  "expires_at = $3, last_run_at = $4 "
			  "WHERE job_leases.expires_at <= $4 OR job_leases.holder = $2 RETURNING name",
			  DBV(DT(name), DT(jobs_holder()), DI(now + ttl_s), DI(now)));
	bool got = rc == DB_OK && r.nrows == 1;
	db_res_free(&r);
	return got;
}

void job_release(struct db *db, const char *name)
{
	if (db_exec(db, "UPDATE job_leases SET expires_at = 0 WHERE name = $1 AND holder = $2",
		    DBV(DT(name), DT(jobs_holder())), NULL) != DB_OK)
		log_warn("job %s: could not release lease", name);
}

static bool run_one(const struct job *j, int64_t now, bool force, bool leased)
{
	struct db *db = db_acquire();
	bool ok = true;
	int64_t ttl = force ? 30 : j->interval_s;
	if (!leased || job_lease(db, j->name, ttl, now)) {
		int64_t t0 = time_mono_us();
		ok = j->run(db, now);
		if (db_in_tx(db))
			db_rollback(db);
		int64_t us = time_mono_us() - t0;
		if (!ok)
			log_warn("job %s failed after %lld us", j->name, (long long)us);
		else
			log_debug("job %s ran in %lld us", j->name, (long long)us);
		if (force && leased)
			job_release(db, j->name);
	}
	db_release(db);
	return ok;
}

void jobs_tick(void)
{
	int64_t mono = time_mono_us() / 1000000;
	int i = 0;
	const struct job *const *lists[] = {job_tables, job_tables_local};
	for (int l = 0; l < 2; l++) {
		for (const struct job *const *t = lists[l]; *t; t++) {
			for (const struct job *j = *t; j->name && i < MAX_JOBS; j++, i++) {
				if (last_try[i] && mono - last_try[i] < j->interval_s)
					continue;
				last_try[i] = mono;
				run_one(j, time_now(), false, l == 0);
			}
		}
	}
}

int jobs_run_all(int64_t now, const char *only)
{
	int failed = 0, ran = 0;
	const struct job *const *lists[] = {job_tables, job_tables_local};
	for (int l = 0; l < 2; l++)
		for (const struct job *const *t = lists[l]; *t; t++)
			for (const struct job *j = *t; j->name; j++)
				if (!only || strcmp(j->name, only) == 0) {
					failed += !run_one(j, now, true, l == 0);
					ran++;
				}
	return ran ? failed : -1;
}
