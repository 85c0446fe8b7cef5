/*
 * Routes are data: each API area exports a table of {method, pattern,
 * handler, role, flags}; api/routes.c lists the areas. Patterns use
 * `{name}` segments for path parameters.
 */
#ifndef MANDI_ROUTER_H
#define MANDI_ROUTER_H
#include <stdbool.h>

#include "http/req.h"

enum route_flags {
	RF_NONE = 0,
	RF_IDEMPOTENT = 1 << 0, /**< honours Idempotency-Key (CONTRACT §1) */
	RF_AUTH_OPTIONAL = 1 << 1, /**< public, but reads a token when sent */
	RF_RAW_BODY = 1 << 2,   /**< body is not JSON (webhooks, feeds) */
};

typedef void (*handler_fn)(struct req *r);

struct route {
	const char *method;
	const char *pattern;
	handler_fn handler;
	enum role role;
	unsigned flags;
	const char *summary; /**< one line, also checked against the OpenAPI file */
};

/** The route tables of every API area, NULL-terminated (api/routes.c). */
extern const struct route *const route_tables[];

enum route_match { ROUTE_FOUND, ROUTE_NO_PATH, ROUTE_NO_METHOD };

/** Find the route for method + path, filling r's path parameters. */
enum route_match router_match(struct req *r, const char *method, const char *path);
/** Call fn for every route in table order. */
void router_each(void (*fn)(const struct route *rt, void *arg), void *arg);

#endif
