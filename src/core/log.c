#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/jw.h"
#include "core/log.h"
#include "core/timeutil.h"

static enum log_level min_level = LOG_INFO;
static const char *names[] = {"debug", "info", "warn", "error"};

void log_set_level(enum log_level l)
{
	min_level = l;
}

void log_json_line(const char *json, size_t n)
{
	/* one write(2) per line keeps lines whole when threads log at once */
	struct buf b;
	buf_init(&b, n + 2);
	buf_add(&b, json, n);
	buf_addc(&b, '\n');
	ssize_t w = write(STDERR_FILENO, b.p, b.len);
	(void)w;
	buf_free(&b);
}

void log_msg(enum log_level l, const char *fmt, ...)
{
	if (l < min_level)
		return;
	char msg[1024], ts[40];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	struct buf b;
	buf_init(&b, 4096);
	struct jw w;
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, "ts", time_rfc3339(time(NULL), ts, sizeof(ts)));
	jw_kstr(&w, "level", names[l]);
	jw_kstr(&w, "msg", msg);
	jw_obj_end(&w);
	log_json_line(b.p, b.len);
	buf_free(&b);
}
