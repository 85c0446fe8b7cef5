/* Logging: one JSON object per line on stderr. */
#ifndef MANDI_LOG_H
#define MANDI_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/** Lowest level written (default LOG_INFO). */
void log_set_level(enum log_level l);
/** Write {"ts","level","msg"} with a printf-formatted message. */
void log_msg(enum log_level l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** Write an already-rendered JSON object as one line (used by the access log). */
void log_json_line(const char *json, size_t n);

#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
