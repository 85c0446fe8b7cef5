/* The HTTP server (libmicrohttpd) and its middleware chain. */
#ifndef MANDI_SERVER_H
#define MANDI_SERVER_H
#include <stdbool.h>
#include <stdint.h>

#include "http/req.h"

#define MAX_BODY (1024 * 1024) /**< request bodies above this get 413 */

/** Serve until SIGTERM or SIGINT, then finish in-flight requests and return 0. */
int server_run(void);
/** Seconds since the server started. */
int64_t server_uptime(void);

/**
 * Hooks other layers install before server_run (all optional): `observe` is
 * called after every request (metrics), `around` wraps the handler of
 * routes flagged RF_IDEMPOTENT (idempotency keys), `tick` runs every second
 * on a background thread (jobs), `on_stop` at shutdown.
 */
struct server_hooks {
	void (*observe)(const struct req *r, int64_t us);
	void (*around)(struct req *r, void (*handler)(struct req *r));
	void (*tick)(void);
	void (*on_stop)(void);
};
extern struct server_hooks server_hooks;

/** Run the full request pipeline for r (used by the server; exposed for tests). */
void server_dispatch(struct req *r);

#endif
