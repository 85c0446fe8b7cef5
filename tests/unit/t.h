/* A tiny unit-test harness: CHECK records failures, RUN runs a test,
 * t_done prints the closing "N passed, N failed" line. */
#ifndef MANDI_T_H
#define MANDI_T_H
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int t_failed_checks, t_passed, t_failed;
static const char *t_current;

#define CHECK(cond)                                                                    \
	do {                                                                           \
		if (!(cond)) {                                                         \
			fprintf(stderr, "  %s:%d: %s: CHECK(%s) failed\n", __FILE__, __LINE__, \
				t_current, #cond);                                     \
			t_failed_checks++;                                             \
		}                                                                      \
	} while (0)
#define CHECK_INT(a, b)                                                                \
	do {                                                                           \
		long long _a = (long long)(a), _b = (long long)(b);                    \
		if (_a != _b) {                                                        \
			fprintf(stderr, "  %s:%d: %s: %s == %lld, expected %lld\n", __FILE__, \
				__LINE__, t_current, #a, _a, _b);                      \
			t_failed_checks++;                                             \
		}                                                                      \
	} while (0)
#define CHECK_STR(a, b)                                                                \
	do {                                                                           \
		const char *_a = (a), *_b = (b);                                       \
		if (!_a || strcmp(_a, _b) != 0) {                                      \
			fprintf(stderr, "  %s:%d: %s: %s == \"%s\", expected \"%s\"\n",     \
				__FILE__, __LINE__, t_current, #a, _a ? _a : "(null)", _b); \
			t_failed_checks++;                                             \
		}                                                                      \
	} while (0)

#define RUN(fn)                                                                        \
	do {                                                                           \
		int _before = t_failed_checks;                                         \
		t_current = #fn;                                                       \
		fn();                                                                  \
		if (t_failed_checks == _before) {                                      \
			t_passed++;                                                    \
			printf("PASS %s\n", #fn);                                      \
		} else {                                                               \
			t_failed++;                                                    \
			printf("FAIL %s\n", #fn);                                      \
		}                                                                      \
	} while (0)

static inline int t_done(void)
{
	printf("%d passed, %d failed\n", t_passed, t_failed);
	return t_failed ? 1 : 0;
}

/* A fake environment for config_load: fake_env = {"NAME", "value", …, NULL}. */
static const char *const *fake_env;
__attribute__((unused)) static const char *fake_getenv(const char *name)
{
	for (const char *const *p = fake_env; p && *p; p += 2)
		if (strcmp(p[0], name) == 0)
			return p[1];
	return NULL;
}

/* Remove a scratch SQLite database with its WAL and shared-memory files. */
__attribute__((unused)) static void t_remove_sqlite(const char *path)
{
	static const char *const ext[] = {"", "-wal", "-shm"};
	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		char p[256];
		snprintf(p, sizeof(p), "%s%s", path, ext[i]);
		unlink(p);
	}
}

#endif
