/* Catalog commands: `mandi seed --demo` / `--products N`, `mandi import-feed`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "catalog/demo.h"
#include "catalog/feed.h"
#include "core/config.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "db/db.h"
#include "market/market.h"
#include "market/merchant.h"

bool app_seed_demo(struct db *db, int64_t n)
{
	return demo_catalog_seed(db, n);
}

/* Whole file into memory (feeds are applied in one transaction anyway). */
static char *read_file(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	if (!fp)
		return NULL;
	if (fseek(fp, 0, SEEK_END) != 0)
		goto out;
	long n = ftell(fp);
	if (n < 0 || fseek(fp, 0, SEEK_SET) != 0)
		goto out;
	buf = xmalloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		free(buf);
		buf = NULL;
		goto out;
	}
	buf[n] = 0;
	*len = (size_t)n;
out:
	fclose(fp);
	return buf;
}

static const char *opt(int argc, char **argv, const char *name)
{
	for (int i = 0; i < argc - 1; i++)
		if (strcmp(argv[i], name) == 0)
			return argv[i + 1];
	return NULL;
}

/*
 * mandi import-feed FILE --merchant CODE [--format csv|ndjson]
 * Exit 0 when every row was applied, 3 when some rows were refused (listed
 * on stderr with their line numbers), 1 when nothing could be applied.
 */
int app_cmd_import_feed(int argc, char **argv)
{
	const char *path = argc > 0 && argv[0][0] != '-' ? argv[0] : NULL;
	const char *code = opt(argc, argv, "--merchant"), *format = opt(argc, argv, "--format");
	if (!path || !code) {
		fprintf(stderr, "usage: mandi import-feed FILE --merchant CODE [--format csv|ndjson]\n");
		return 2;
	}
	if (!format) {
		const char *dot = strrchr(path, '.');
		format = dot && (!strcmp(dot, ".ndjson") || !strcmp(dot, ".jsonl")) ? "ndjson" : "csv";
	}
	if (strcmp(format, "csv") && strcmp(format, "ndjson")) {
		fprintf(stderr, "import-feed: --format is csv or ndjson\n");
		return 2;
	}
	size_t len = 0;
	char *data = read_file(path, &len);
	if (!data) {
		fprintf(stderr, "import-feed: cannot read %s\n", path);
		return 1;
	}
	char err[512];
	int rc = 1;
	struct arena a;
	arena_init(&a);
	if (!db_pool_open(cfg.database_url, cfg.database_read_url, 1, err, sizeof(err))) {
		log_error("%s", err);
		free(data);
		return 1;
	}
	struct db *db = db_acquire();
	struct merchant m;
	if (db_migrate(db) < 0 || !market_reload(db))
		goto out;
	if (merchant_get(db, 0, code, &m) != MERR_OK) {
		fprintf(stderr, "import-feed: no merchant with code '%s'\n", code);
		goto out;
	}
	struct feed f;
	struct feed_result res;
	int64_t t0 = time_mono_us();
	feed_parse(&f, &a, data, len, strcmp(format, "csv") ? FEED_NDJSON : FEED_CSV);
	if (f.fatal) {
		fprintf(stderr, "import-feed: %s: %s\n", path, f.errors[0].message);
		goto out;
	}
	if (!feed_import(db, m.id, &f, &res)) {
		fprintf(stderr, "import-feed: the database refused the import; nothing was applied\n");
		goto out;
	}
	double secs = (double)(time_mono_us() - t0) / 1e6;
	for (int i = 0; i < f.nerrors; i++) {
		const struct feed_error *e = &f.errors[i];
		fprintf(stderr, "%s:%d: %s%s%s%s%s\n", path, e->line, e->sku, e->sku[0] ? ": " : "",
			e->field, e->field[0] ? ": " : "", e->message);
	}
	printf("import-feed: %d rows, %d products created, %d updated, %d rows failed in %.2fs (%.0f rows/s)\n",
	       res.received, res.created, res.updated, res.failed, secs, secs > 0 ? res.received / secs : 0.0);
	rc = res.failed ? 3 : 0;
out:
	db_release(db);
	market_shutdown();
	db_pool_close();
	arena_free(&a);
	free(data);
	return rc;
}
