/*
 * libmicrohttpd glue. Notes from DESIGN.md that shape this file:
 * - answering on the first callback makes MHD close the connection, so we
 *   always answer on a later call, once the body has been read;
 * - MHD has no total body limit: we enforce MAX_BODY from Content-Length
 *   and while accumulating, and answer 413 after draining;
 * - a graceful stop is MHD_quiesce_daemon, then waiting for requests in
 *   flight, then MHD_stop_daemon.
 */
#include "http/server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "core/config.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/strconv.h"
#include "core/timeutil.h"
#include "db/db.h"
#include "http/auth.h"
#include "http/router.h"

struct server_hooks server_hooks;
static atomic_int inflight;
static int64_t started_at;
static atomic_bool stopping;

int64_t server_uptime(void)
{
	return time_now() - started_at;
}

static bool id_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.';
}

/* Echo a client's X-Request-Id when it is short and plain; else make one. */
static void set_request_id(struct req *r)
{
	const char *given = req_header(r, "X-Request-Id");
	if (given) {
		size_t n = strlen(given);
		bool ok = n > 0 && n < sizeof(r->request_id);
		for (size_t i = 0; ok && i < n; i++)
			ok = id_char_ok(given[i]);
		if (ok) {
			memcpy(r->request_id, given, n + 1);
			return;
		}
	}
	/* ids need to be unique, not secret: a per-thread splitmix64 stream
	 * seeded once from getrandom spares a system call per request */
	static _Thread_local uint64_t seq;
	static _Thread_local bool seeded;
	if (!seeded) {
		if (getrandom(&seq, sizeof(seq), 0) != (ssize_t)sizeof(seq))
			seq = (uint64_t)time_mono_us() ^ (uint64_t)pthread_self();
		seeded = true;
	}
	unsigned char rnd[12];
	for (size_t o = 0; o < sizeof(rnd); o += 8) {
		uint64_t z = (seq += 0x9e3779b97f4a7c15ull);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		z ^= z >> 31;
		size_t n = sizeof(rnd) - o < 8 ? sizeof(rnd) - o : 8;
		memcpy(rnd + o, &z, n);
	}
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < sizeof(rnd); i++) {
		r->request_id[2 * i] = hex[rnd[i] >> 4];
		r->request_id[2 * i + 1] = hex[rnd[i] & 15];
	}
	r->request_id[2 * sizeof(rnd)] = '\0';
}

/* Bearer token → r->auth. Returns false (after replying 401) when a token
 * was sent but is bad, or none was sent and the route needs one. */
static bool authenticate(struct req *r)
{
	const char *h = req_header(r, "Authorization");
	if (!h) {
		if (r->route->role == ROLE_PUBLIC)
			return true;
		reply_error(r, MERR_UNAUTHORIZED, NULL, "a bearer token is required");
		return false;
	}
	if (strncasecmp(h, "Bearer ", 7) != 0) {
		reply_error(r, MERR_UNAUTHORIZED, NULL, "use Authorization: Bearer <token>");
		return false;
	}
	char why[96];
	if (!auth_verify(h + 7, cfg.jwt_secret, time(NULL), &r->auth, why, sizeof(why))) {
		reply_error(r, MERR_UNAUTHORIZED, NULL, why);
		return false;
	}
	if (r->auth.role < r->route->role) {
		reply_error(r, MERR_FORBIDDEN, NULL, "your role may not use this endpoint");
		return false;
	}
	return true;
}

void server_dispatch(struct req *r)
{
	set_request_id(r);
	if (r->body_too_large) {
		reply_error(r, MERR_PAYLOAD_TOO_LARGE, NULL, "request bodies are limited to 1 MiB");
		return;
	}
	switch (router_match(r, r->method, r->path)) {
	case ROUTE_NO_PATH:
		reply_error(r, MERR_NOT_FOUND, NULL, "no such endpoint");
		return;
	case ROUTE_NO_METHOD:
		reply_error(r, MERR_METHOD_NOT_ALLOWED, NULL, NULL);
		return;
	case ROUTE_FOUND:
		break;
	}
	if (!authenticate(r))
		return;
	if ((r->route->flags & RF_IDEMPOTENT) && server_hooks.around)
		server_hooks.around(r, r->route->handler);
	else
		r->route->handler(r);
	if (!r->replied) {
		log_error("handler for %s %s did not reply", r->route->method, r->route->pattern);
		reply_error(r, MERR_INTERNAL, NULL, NULL);
	}
}

static void client_ip(struct req *r)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (!ci || !ci->client_addr)
		return;
	const struct sockaddr *sa = ci->client_addr;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, r->client_ip,
			  sizeof(r->client_ip));
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, r->client_ip,
			  sizeof(r->client_ip));
	/* behind a load balancer every peer is the balancer: the client is in
	 * X-Real-IP, believed only from a TRUSTED_PROXIES peer (anyone else could
	 * claim any address and dodge per-IP limits and fraud rules) */
	const char *real = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-Real-IP");
	unsigned char addr[sizeof(struct in6_addr)];
	if (real && config_proxy_trusted(r->client_ip) &&
	    (inet_pton(AF_INET, real, addr) == 1 || inet_pton(AF_INET6, real, addr) == 1))
		snprintf(r->client_ip, sizeof(r->client_ip), "%s", real);
}

static enum MHD_Result send_reply(struct req *r)
{
	size_t len = 0;
	char *body = buf_take(&r->out, &len);
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(resp, "Content-Type",
				r->content_type ? r->content_type : "application/json; charset=utf-8");
	MHD_add_response_header(resp, "X-Request-Id", r->request_id);
	for (int i = 0; i < r->nextra; i++)
		MHD_add_response_header(resp, r->extra_headers[i][0], r->extra_headers[i][1]);
	if (atomic_load(&stopping))
		MHD_add_response_header(resp, "Connection", "close");
	enum MHD_Result ret = MHD_queue_response(r->conn, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	(void)cls;
	(void)version;
	struct req *r = *con_cls;
	if (!r) {
		r = xcalloc(1, sizeof(*r));
		arena_init(&r->a);
		buf_init(&r->body, MAX_BODY + 1);
		buf_init(&r->out, 64 * 1024 * 1024);
		r->conn = conn;
		r->method = arena_strdup(&r->a, method);
		r->path = arena_strdup(&r->a, url);
		r->start_us = time_mono_us();
		client_ip(r);
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							      MHD_HTTP_HEADER_CONTENT_LENGTH);
		int64_t n;
		if (cl && parse_i64(cl, 0, INT64_MAX, &n) && n > MAX_BODY)
			r->body_too_large = true;
		atomic_fetch_add(&inflight, 1);
		*con_cls = r;
		return MHD_YES;
	}
	if (*upload_size) {
		if (!r->body_too_large && !buf_add(&r->body, upload, *upload_size))
			r->body_too_large = true;
		*upload_size = 0;
		return MHD_YES;
	}
	server_dispatch(r);
	/* the answer is built: the pool gets its connections back before the
	 * bytes go out, not once the client has read them */
	req_db_release(r);
	return send_reply(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	struct req *r = *con_cls;
	if (!r)
		return;
	int64_t us = time_mono_us() - r->start_us;
	req_db_release(r);
	if (server_hooks.observe)
		server_hooks.observe(r, us);
	if (cfg.access_log) {
		char ts[40];
		struct buf b;
		buf_init(&b, 4096);
		struct jw w;
		jw_init(&w, &b);
		jw_obj(&w);
		jw_kstr(&w, "ts", time_rfc3339(time(NULL), ts, sizeof(ts)));
		jw_kstr(&w, "level", "info");
		jw_kstr(&w, "msg", "request");
		jw_kstr(&w, "method", r->method);
		jw_kstr(&w, "route", r->route ? r->route->pattern : "-");
		jw_kstr(&w, "path", r->path);
		jw_kint(&w, "status", r->status);
		jw_kint(&w, "us", us);
		jw_kstr(&w, "request_id", r->request_id);
		if (r->auth.authenticated)
			jw_kstr(&w, "user", r->auth.sub);
		jw_obj_end(&w);
		log_json_line(b.p, b.len);
		buf_free(&b);
	}
	json_decref(r->json);
	buf_free(&r->body);
	buf_free(&r->out);
	arena_free(&r->a);
	free(r);
	*con_cls = NULL;
	atomic_fetch_sub(&inflight, 1);
}

static void *ticker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stopping)) {
		sleep(1);
		if (!atomic_load(&stopping) && server_hooks.tick)
			server_hooks.tick();
	}
	return NULL;
}

int server_run(void)
{
	started_at = time_now();
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	/* block before MHD starts its threads so only sigwait below sees them */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;
	if (cfg.threads == 0)
		flags |= MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL;
	else
		flags |= MHD_USE_EPOLL;
	struct MHD_Daemon *d = MHD_start_daemon(
		flags, (uint16_t)cfg.port, NULL, NULL, on_request, NULL,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg.connection_timeout,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg.max_connections,
		MHD_OPTION_LISTENING_ADDRESS_REUSE, 1,
		MHD_OPTION_THREAD_STACK_SIZE, (size_t)(cfg.threads == 0 ? 256 * 1024 : 0),
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(cfg.threads > 0 ? cfg.threads : 0),
		MHD_OPTION_END);
	if (!d) {
		log_error("cannot listen on port %lld", (long long)cfg.port);
		return 1;
	}
	log_info("mandi listening on :%lld (%s)", (long long)cfg.port,
		 cfg.threads == 0 ? "thread per connection" : "thread pool");
	pthread_t tick;
	pthread_create(&tick, NULL, ticker, NULL);

	int sig = 0;
	sigwait(&set, &sig);
	log_info("signal %d: finishing in-flight requests", sig);
	atomic_store(&stopping, true);
	MHD_quiesce_daemon(d);
	for (int i = 0; i < 300 && atomic_load(&inflight) > 0; i++)
		usleep(50 * 1000);
	MHD_stop_daemon(d);
	pthread_join(tick, NULL);
	if (server_hooks.on_stop)
		server_hooks.on_stop();
	log_info("stopped");
	return 0;
}
