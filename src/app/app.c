#include "app/app.h"

#include <stdio.h>

#include "core/log.h"
#include "http/server.h"

void app_start(void)
{
}

void app_stop(void)
{
}

bool app_seed_demo(struct db *db, int64_t n)
{
	(void)db;
	(void)n;
	log_warn("the demo catalog arrives with the catalog area (issue 3)");
	return true;
}

int app_cmd_import_feed(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "import-feed: not built yet\n");
	return 2;
}

int app_cmd_jobs(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "jobs: not built yet\n");
	return 2;
}
