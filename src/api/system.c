/* GET /health, GET /api/docs. */
#include <string.h>

#include "api/api.h"
#include "cache/cache.h"
#include "core/config.h"
#include "db/db.h"
#include "http/server.h"

#ifndef MANDI_VERSION
#define MANDI_VERSION "0.1.0"
#endif

struct embedded_file {
	const char *name;
	const unsigned char *data;
	size_t len;
};
extern const struct embedded_file embedded_openapi;

static void health(struct req *r)
{
	bool db_ok = db_healthy();
	const char *cache = cache_status();
	bool degraded = strcmp(cache, "ok") != 0;
	struct jw w;
	reply_begin(r, &w);
	jw_obj(&w);
	jw_kstr(&w, "status", !db_ok ? "down" : degraded ? "degraded" : "ok");
	jw_kstr(&w, "version", MANDI_VERSION);
	jw_kint(&w, "uptime_seconds", server_uptime());
	jw_key(&w, "database");
	jw_obj(&w);
	jw_kstr(&w, "status", db_ok ? "ok" : "down");
	jw_kstr(&w, "driver", db_dialect()->name);
	jw_kint(&w, "read_replicas", db_read_replicas());
	jw_obj_end(&w);
	jw_key(&w, "cache");
	jw_obj(&w);
	jw_kstr(&w, "status", cache);
	jw_kstr(&w, "type", cache_backend_name());
	jw_obj_end(&w);
	jw_obj_end(&w);
	reply_end(r, db_ok ? 200 : 503);
}

static void docs(struct req *r)
{
	reply_bytes(r, 200, "application/yaml; charset=utf-8", embedded_openapi.data,
		    embedded_openapi.len);
}

const struct route routes_system[] = {
	{"GET", "/health", health, ROLE_PUBLIC, RF_NONE, "Service health: database, cache, version, uptime"},
	{"GET", "/api/docs", docs, ROLE_PUBLIC, RF_NONE, "This API's OpenAPI 3.1 document"},
	{0},
};
