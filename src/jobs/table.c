/* Every area's background jobs. */
#include <stddef.h>

#include "jobs/jobs.h"

extern const struct job jobs_catalog[];
extern const struct job jobs_commerce[];
extern const struct job jobs_payments[];
extern const struct job jobs_analytics[];
extern const struct job jobs_platform[];
extern const struct job jobs_platform_local[];
extern const struct job jobs_catalog_local[];

const struct job *const job_tables[] = {
	jobs_catalog,
	jobs_commerce,
	jobs_payments,
	jobs_analytics,
	jobs_platform,
	NULL,
};

const struct job *const job_tables_local[] = {
	jobs_platform_local,
	jobs_catalog_local,
	NULL,
};
