/*
 * mandi — one binary, several commands (DESIGN.md):
 *   serve | migrate | seed [--demo] [--products N] [--if-new] | token | routes | config
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/app.h"
#include "app/seed.h"
#include "cache/cache.h"
#include "catalog/matches.h"
#include "catalog/names.h"
#include "core/config.h"
#include "core/log.h"
#include "core/strconv.h"
#include "core/timeutil.h"
#include "db/db.h"
#include "http/auth.h"
#include "http/router.h"
#include "http/server.h"
#include "market/market.h"

static const char *env(const char *name)
{
	return getenv(name);
}

/* Value of --name in argv, or NULL. */
static const char *opt(int argc, char **argv, const char *name)
{
	for (int i = 0; i < argc - 1; i++)
		if (strcmp(argv[i], name) == 0)
			return argv[i + 1];
	return NULL;
}

static bool flag(int argc, char **argv, const char *name)
{
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return true;
	return false;
}

static bool open_db(int pool)
{
	char err[512];
	db_cache_budget((int64_t)cfg.sqlite_cache_mb << 10, (int64_t)cfg.sqlite_stmt_cache_mb << 10);
	if (!db_pool_open(cfg.database_url, cfg.database_read_url, pool, err, sizeof(err))) {
		log_error("%s", err);
		return false;
	}
	return true;
}

static int cmd_migrate(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (!open_db(1))
		return 1;
	struct db *db = db_acquire();
	int n = db_migrate(db);
	db_release(db);
	db_pool_close();
	if (n < 0)
		return 1;
	printf("migrations applied: %d\n", n);
	return 0;
}

static int cmd_seed(int argc, char **argv)
{
	if (!open_db(1))
		return 1;
	struct db *db = db_acquire();
	int rc = 1;
	if (db_migrate(db) < 0 || !seed_reference(db)) {
		log_error("seeding reference data failed");
		goto out;
	}
	if (!market_reload(db))
		goto out;
	if (flag(argc, argv, "--demo") || opt(argc, argv, "--products")) {
		int64_t n = 600;
		const char *np = opt(argc, argv, "--products");
		if (np && !parse_i64(np, 1, 10000000, &n)) {
			log_error("--products must be a number from 1 to 10000000");
			goto out;
		}
		if (flag(argc, argv, "--if-new") && !seed_is_new(db)) {
			printf("demo catalog: database already has products, left as is\n");
		} else if (!app_seed_demo(db, n)) {
			log_error("seeding the demo catalog failed");
			goto out;
		}
	}
	printf("seed: done\n");
	rc = 0;
out:
	db_release(db);
	market_shutdown();
	db_pool_close();
	return rc;
}

static int cmd_token(int argc, char **argv)
{
	const char *sub = opt(argc, argv, "--sub");
	const char *role = opt(argc, argv, "--role");
	const char *mid = opt(argc, argv, "--merchant-id");
	const char *ttl = opt(argc, argv, "--ttl");
	int64_t merchant_id = 0, ttl_s = 86400;
	enum role r;
	if (!sub || !*sub || !role || !role_parse(role, &r) ||
	    (mid && !parse_i64(mid, 1, INT64_MAX, &merchant_id)) ||
	    (ttl && !parse_i64(ttl, -86400 * 365, 86400 * 365, &ttl_s)) ||
	    (r == ROLE_MERCHANT && merchant_id == 0)) {
		fprintf(stderr, "usage: mandi token --sub ID --role customer|merchant|admin "
				"[--merchant-id N (merchants)] [--ttl SECONDS]\n");
		return 2;
	}
	char *t = auth_mint(cfg.jwt_secret, sub, role, merchant_id, time_now() + ttl_s);
	if (!t)
		return 1;
	printf("%s\n", t);
	free(t);
	return 0;
}

static void print_route(const struct route *rt, void *arg)
{
	(void)arg;
	printf("%s %s\n", rt->method, rt->pattern);
}

static int cmd_routes(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	router_each(print_route, NULL);
	return 0;
}

static int cmd_config(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	config_describe(STDOUT_FILENO);
	return 0;
}

static int cmd_serve(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	/* A thread per connection would otherwise spread over up to 8 arenas
	 * per core, each keeping tens of MB of freed memory (bench/README.md,
	 * memory budget). */
	long arenas = cfg.malloc_arenas ? (long)cfg.malloc_arenas : sysconf(_SC_NPROCESSORS_ONLN);
	mallopt(M_ARENA_MAX, (int)(arenas > 0 ? arenas : 1));
	if (!open_db((int)cfg.db_pool))
		return 1;
	int rc = 1;
	struct db *db = db_acquire();
	bool ok = db_migrate(db) >= 0 && market_reload(db);
	db_release(db);
	if (!ok) {
		log_error("cannot prepare the database");
		goto out;
	}
	if (!cache_init(cfg.cache_type, cfg.redis_url, (size_t)cfg.cache_max_mb << 20)) {
		log_error("CACHE_TYPE=%s: cannot start the cache", cfg.cache_type);
		goto out;
	}
	match_sets_budget((size_t)cfg.search_sets_mb << 20);
	/* now, not at the first tick: a long job may hold the tick (jobs.c) */
	match_columns_warm_all(cache_generation("search"));
	app_start();
	rc = server_run();
	app_stop();
	cache_shutdown();
	match_sets_clear();
	names_clear();
out:
	market_shutdown();
	db_pool_close();
	return rc;
}

static const struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
	{"serve", cmd_serve, "serve the HTTP API (PORT, default 5006)"},
	{"migrate", cmd_migrate, "apply pending database migrations"},
	{"seed", cmd_seed, "seed reference data [--demo] [--products N] [--if-new]"},
	{"token", cmd_token, "mint a development JWT --sub ID --role ROLE [--merchant-id N]"},
	{"routes", cmd_routes, "print the route table"},
	{"config", cmd_config, "describe the configuration variables"},
	{"import-feed", app_cmd_import_feed, "import a product feed FILE --merchant CODE"},
	{"jobs", app_cmd_jobs, "run background jobs once: jobs run-once [--at TIME] [--job NAME]"},
};

static void usage(void)
{
	fprintf(stderr, "usage: mandi COMMAND [options]\n\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(stderr, "  %-12s %s\n", commands[i].name, commands[i].help);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage();
		return 2;
	}
	char err[512];
	if (!config_load(env, err, sizeof(err))) {
		fprintf(stderr, "mandi: bad configuration: %s\n", err);
		return 2;
	}
	static const char *levels[] = {"debug", "info", "warn", "error"};
	for (int i = 0; i < 4; i++)
		if (strcmp(cfg.log_level, levels[i]) == 0)
			log_set_level((enum log_level)i);
	int rc = 2;
	bool found = false;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name) == 0) {
			rc = commands[i].fn(argc - 2, argv + 2);
			found = true;
		}
	}
	if (!found)
		usage();
	config_free();
	return rc;
}
