/* Background jobs of the platform area: scale-out and platform integrations WS1-WS4 (issue 7). */
#include "jobs/jobs.h"

const struct job jobs_platform[] = {
	{0},
};
