/* Background jobs of the catalog area: catalog, search, recommendations, inventory, feeds (issue 3). */
#include "jobs/jobs.h"

const struct job jobs_catalog[] = {
	{0},
};
