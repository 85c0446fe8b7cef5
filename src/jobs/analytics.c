/* Background jobs of the analytics area: metrics, events, dashboard, alerts, database advice (issue 6). */
#include "jobs/jobs.h"

const struct job jobs_analytics[] = {
	{0},
};
