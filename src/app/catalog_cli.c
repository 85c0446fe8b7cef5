/* Catalog commands: `mandi seed --demo`, `mandi import-feed`. */
#include <stdio.h>

#include "app/app.h"
#include "core/log.h"

bool app_seed_demo(struct db *db, int64_t n)
{
	(void)db;
	(void)n;
	log_error("the demo catalog is not built yet (issue 3)");
	return false;
}

int app_cmd_import_feed(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "import-feed: not built yet (issue 3)\n");
	return 2;
}
