/*
 * Redis cache backend (hiredis), shared by every mandi instance.
 *
 * - Values live under REDIS_KEY_PREFIX + the key cache.c composes
 *   ("<cache>:<generation>:<key>") with the entry's TTL.
 * - Generations live in Redis too ("<prefix>gen:<cache>", INCR on clear), so
 *   cache_clear on any instance makes every instance miss the old entries.
 * - hiredis contexts are not thread-safe: a small pool of connections, each
 *   used by one thread at a time.
 * - Redis is an accelerator, never a dependency: every call has
 *   REDIS_TIMEOUT_MS, a failure marks the backend down (a miss for readers,
 *   "degraded" in /health) and reconnects are tried at most once a second, so
 *   a dead Redis costs requests nothing but the database reads they would
 *   have done anyway.
 * - Invalidations sent while Redis was unreachable are lost, and other
 *   instances may have written meanwhile; so after an outage the first
 *   successful reconnect bumps every generation this process knows, and no
 *   entry rendered before the outage is served again.
 */
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "cache/cache.h"
#include "core/config.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/strconv.h"
#include "core/timeutil.h"

#define POOL_SIZE 16
#define RETRY_US 1000000

static struct {
	char host[256];
	int port;
	char unix_path[256];
	char password[128];
	int64_t dbnum;
	char prefix[72];
	struct timeval timeout;
} conf;

static redisContext *pool[POOL_SIZE];
static int nfree;
static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_cv = PTHREAD_COND_INITIALIZER;

static atomic_bool down;
static atomic_bool had_outage;
static atomic_llong next_retry_us;

/* Cache names this process has used, for the post-outage bump. */
static char known[CACHE_MAX_NAMES][32];
static int nknown;
static pthread_mutex_t known_mu = PTHREAD_MUTEX_INITIALIZER;

/* redis://[:password@]host[:port][/db] or unix:///path */
static bool parse_url(const char *url)
{
	memset(&conf, 0, sizeof(conf));
	conf.port = 6379;
	if (strncmp(url, "unix://", 7) == 0) {
		snprintf(conf.unix_path, sizeof(conf.unix_path), "%s", url + 7);
		return conf.unix_path[0] == '/';
	}
	if (strncmp(url, "redis://", 8) != 0)
		return false;
	const char *p = url + 8;
	const char *at = strrchr(p, '@');
	if (at) {
		const char *pw = memchr(p, ':', (size_t)(at - p));
		pw = pw ? pw + 1 : p; /* "user:pass@" or "pass@" */
		snprintf(conf.password, sizeof(conf.password), "%.*s", (int)(at - pw), pw);
		p = at + 1;
	}
	size_t hostlen = strcspn(p, ":/");
	if (hostlen == 0 || hostlen >= sizeof(conf.host))
		return false;
	memcpy(conf.host, p, hostlen);
	p += hostlen;
	if (*p == ':') {
		p++;
		size_t n = strcspn(p, "/");
		int64_t port;
		if (!parse_i64n(p, n, 1, 65535, &port))
			return false;
		conf.port = (int)port;
		p += n;
	}
	if (*p == '/' && p[1] && !parse_i64(p + 1, 0, 1000, &conf.dbnum))
		return false;
	return true;
}

static void mark_down(const char *why)
{
	if (!atomic_exchange(&down, true))
		log_warn("redis unreachable (%s): serving from the database", why);
	atomic_store(&had_outage, true);
	atomic_store(&next_retry_us, time_mono_us() + RETRY_US);
}

/* A command on c that must succeed, for the connection handshake. */
static bool handshake(redisContext *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	redisReply *r = redisvCommand(c, fmt, ap);
	va_end(ap);
	bool ok = r && r->type != REDIS_REPLY_ERROR;
	if (r && !ok)
		log_warn("redis: %s", r->str);
	freeReplyObject(r);
	return ok;
}

static redisContext *connect_one(void)
{
	redisContext *c = conf.unix_path[0] ? redisConnectUnixWithTimeout(conf.unix_path, conf.timeout)
					    : redisConnectWithTimeout(conf.host, conf.port, conf.timeout);
	if (!c || c->err) {
		mark_down(c ? c->errstr : "out of memory");
		redisFree(c);
		return NULL;
	}
	if (redisSetTimeout(c, conf.timeout) != REDIS_OK ||
	    (conf.password[0] && !handshake(c, "AUTH %s", conf.password)) ||
	    (conf.dbnum && !handshake(c, "SELECT %lld", (long long)conf.dbnum))) {
		mark_down("handshake failed");
		redisFree(c);
		return NULL;
	}
	return c;
}

static void bump_known_after_outage(redisContext *c);

/*
 * A usable connection, or NULL when Redis is down (and it is too early to
 * try again). The caller gives it back with put(); a connection whose last
 * command failed is dropped instead.
 */
static redisContext *take(void)
{
	pthread_mutex_lock(&pool_mu);
	while (nfree == 0)
		pthread_cond_wait(&pool_cv, &pool_mu);
	redisContext *c = pool[--nfree];
	pool[nfree] = NULL;
	pthread_mutex_unlock(&pool_mu);
	if (c && !c->err)
		return c;
	redisFree(c);
	if (atomic_load(&down) && time_mono_us() < atomic_load(&next_retry_us)) {
		pthread_mutex_lock(&pool_mu);
		pool[nfree++] = NULL;
		pthread_cond_signal(&pool_cv);
		pthread_mutex_unlock(&pool_mu);
		return NULL;
	}
	c = connect_one();
	if (c && atomic_exchange(&down, false))
		log_info("redis reachable again");
	if (c && atomic_exchange(&had_outage, false))
		bump_known_after_outage(c);
	if (!c) {
		pthread_mutex_lock(&pool_mu);
		pool[nfree++] = NULL;
		pthread_cond_signal(&pool_cv);
		pthread_mutex_unlock(&pool_mu);
	}
	return c;
}

/* Return c to the pool; reply == NULL means the command failed (I/O error or
 * timeout), which leaves the context unusable. */
static void put(redisContext *c, const redisReply *reply)
{
	if (!reply || c->err) {
		mark_down(c->err ? c->errstr : "no reply");
		redisFree(c);
		c = NULL;
	}
	pthread_mutex_lock(&pool_mu);
	pool[nfree++] = c;
	pthread_cond_signal(&pool_cv);
	pthread_mutex_unlock(&pool_mu);
}

static void remember_name(const char *name)
{
	pthread_mutex_lock(&known_mu);
	bool seen = false;
	for (int i = 0; i < nknown && !seen; i++)
		seen = strcmp(known[i], name) == 0;
	if (!seen && nknown < CACHE_MAX_NAMES)
		snprintf(known[nknown++], sizeof(known[0]), "%s", name);
	pthread_mutex_unlock(&known_mu);
}

static void bump_known_after_outage(redisContext *c)
{
	pthread_mutex_lock(&known_mu);
	for (int i = 0; i < nknown; i++)
		freeReplyObject(redisCommand(c, "INCR %sgen:%s", conf.prefix, known[i]));
	pthread_mutex_unlock(&known_mu);
	if (nknown)
		log_info("redis: bumped %d cache generations after the outage", nknown);
}

static bool rd_init(const char *url, size_t max_bytes)
{
	(void)max_bytes; /* Redis' own maxmemory policy bounds it */
	if (!url || !parse_url(url)) {
		log_error("REDIS_URL: cannot parse '%s'", url ? url : "");
		return false;
	}
	snprintf(conf.prefix, sizeof(conf.prefix), "%s", cfg.redis_key_prefix ? cfg.redis_key_prefix : "mandi:");
	int64_t ms = cfg.redis_timeout_ms > 0 ? cfg.redis_timeout_ms : 200;
	conf.timeout.tv_sec = (time_t)(ms / 1000);
	conf.timeout.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	atomic_store(&down, false);
	atomic_store(&had_outage, false);
	nfree = 0;
	/* connect lazily, but try one now so a bad URL shows in the log at start */
	redisContext *c = connect_one();
	pool[nfree++] = c;
	while (nfree < POOL_SIZE)
		pool[nfree++] = NULL;
	if (c && conf.unix_path[0])
		log_info("cache: redis at %s", conf.unix_path);
	else if (c)
		log_info("cache: redis at %s:%d", conf.host, conf.port);
	return true; /* a down Redis is "degraded", not a reason to refuse to start */
}

static bool rd_get(const char *key, char **val, size_t *len)
{
	redisContext *c = take();
	if (!c)
		return false;
	redisReply *r = redisCommand(c, "GET %s%s", conf.prefix, key);
	bool hit = r && r->type == REDIS_REPLY_STRING;
	if (hit) {
		*val = xmalloc(r->len + 1);
		memcpy(*val, r->str, r->len);
		(*val)[r->len] = '\0';
		*len = r->len;
	}
	put(c, r);
	freeReplyObject(r);
	return hit;
}

static void rd_set(const char *key, const void *val, size_t len, int ttl_s, int name_idx)
{
	(void)name_idx;
	redisContext *c = take();
	if (!c)
		return;
	redisReply *r = redisCommand(c, "SET %s%s %b EX %d", conf.prefix, key, val, len,
				     ttl_s > 0 ? ttl_s : 1);
	put(c, r);
	freeReplyObject(r);
}

static void rd_del(const char *key)
{
	redisContext *c = take();
	if (!c)
		return;
	redisReply *r = redisCommand(c, "DEL %s%s", conf.prefix, key);
	put(c, r);
	freeReplyObject(r);
}

static int64_t rd_generation(const char *name)
{
	remember_name(name);
	redisContext *c = take();
	if (!c)
		return -1; /* nothing is read or written while down anyway */
	redisReply *r = redisCommand(c, "GET %sgen:%s", conf.prefix, name);
	int64_t g = r ? 0 : -1; /* no answer: the generation is unknown */
	if (r && r->type == REDIS_REPLY_STRING && !parse_i64(r->str, 0, INT64_MAX, &g))
		g = 0;
	put(c, r);
	freeReplyObject(r);
	return g;
}

static void rd_bump(const char *name)
{
	remember_name(name);
	redisContext *c = take();
	if (!c) /* replayed by bump_known_after_outage on reconnect */
		return;
	redisReply *r = redisCommand(c, "INCR %sgen:%s", conf.prefix, name);
	put(c, r);
	freeReplyObject(r);
}

/* Fixed-window counter: INCR and EXPIRE in one round trip (pipelined).
 * Returns the count after this hit, or -1 when Redis is unreachable. */
static int64_t rd_incr(const char *key, int ttl_s)
{
	redisContext *c = take();
	if (!c)
		return -1;
	redisAppendCommand(c, "INCR %s%s", conf.prefix, key);
	redisAppendCommand(c, "EXPIRE %s%s %d", conf.prefix, key, ttl_s > 0 ? ttl_s : 1);
	redisReply *r1 = NULL, *r2 = NULL;
	int64_t n = -1;
	if (redisGetReply(c, (void **)&r1) == REDIS_OK && redisGetReply(c, (void **)&r2) == REDIS_OK &&
	    r1 && r1->type == REDIS_REPLY_INTEGER)
		n = r1->integer;
	put(c, r2);
	freeReplyObject(r1);
	freeReplyObject(r2);
	return n;
}

/* For /health: ask Redis now (at most once a second while it is down). */
static const char *rd_status(void)
{
	redisContext *c = take();
	if (!c)
		return "degraded";
	redisReply *r = redisCommand(c, "PING");
	bool ok = r && r->type == REDIS_REPLY_STATUS;
	put(c, r);
	freeReplyObject(r);
	return ok ? "ok" : "degraded";
}

static void rd_shutdown(void)
{
	pthread_mutex_lock(&pool_mu);
	for (int i = 0; i < nfree; i++) {
		redisFree(pool[i]);
		pool[i] = NULL;
	}
	nfree = 0;
	pthread_mutex_unlock(&pool_mu);
}

const struct cache_backend cache_redis = {
	.name = "redis",
	.init = rd_init,
	.get = rd_get,
	.set = rd_set,
	.del = rd_del,
	.generation = rd_generation,
	.bump = rd_bump,
	.incr = rd_incr,
	.status = rd_status,
	.shutdown = rd_shutdown,
};
