/* Unit tests of the pure core modules: money, JSON writer and reader,
 * number parsing, cursors, configuration. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache/flight.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/cursor.h"
#include "core/ids.h"
#include "core/jsonin.h"
#include "core/jw.h"
#include "core/money.h"
#include "core/strconv.h"
#include "core/timeutil.h"
#include "t.h"

static void money_rounding(void)
{
	CHECK_INT(money_div_round(5, 10), 1);   /* 0.5 → 1 (half up) */
	CHECK_INT(money_div_round(4, 10), 0);
	CHECK_INT(money_div_round(15, 10), 2);
	CHECK_INT(money_div_round(25, 10), 3);  /* not banker's rounding */
	CHECK_INT(money_div_round(0, 7), 0);
	/* 8% of $49.99 = 399.92 → 400 */
	CHECK_INT(money_tax_exclusive(4999, 800), 400);
	/* 8% of 1.50 = 0.12 exactly */
	CHECK_INT(money_tax_exclusive(150, 800), 12);
	/* GST inside ₹2,499: 249900 * 18/118 = 38120.338… → 38120 */
	CHECK_INT(money_tax_inclusive(249900, 1800), 38120);
	/* ₹1,180.00 holds exactly ₹180.00 of GST */
	CHECK_INT(money_tax_inclusive(118000, 1800), 18000);
	CHECK_INT(money_percent(4999, 1000), 500); /* 499.9 → 500 */
	/* no overflow near the top of int64 */
	CHECK_INT(money_tax_exclusive(INT64_MAX / 10000, 10000), INT64_MAX / 10000);
}

static void money_formatting(void)
{
	char s[64];
	CHECK_STR(money_format_to(s, sizeof(s), 123450, "USD"), "$1,234.50");
	CHECK_STR(money_format_to(s, sizeof(s), 5, "USD"), "$0.05");
	CHECK_STR(money_format_to(s, sizeof(s), 0, "USD"), "$0.00");
	CHECK_STR(money_format_to(s, sizeof(s), 100000000, "USD"), "$1,000,000.00");
	CHECK_STR(money_format_to(s, sizeof(s), 12345600, "INR"), "\xe2\x82\xb9" "1,23,456.00");
	CHECK_STR(money_format_to(s, sizeof(s), 129900, "INR"), "\xe2\x82\xb9" "1,299.00");
	CHECK_STR(money_format_to(s, sizeof(s), 1234567800, "INR"), "\xe2\x82\xb9" "1,23,45,678.00");
	CHECK_STR(money_format_to(s, sizeof(s), 99900, "INR"), "\xe2\x82\xb9" "999.00");
	CHECK_STR(money_format_to(s, sizeof(s), -250, "USD"), "-$2.50");
	CHECK_STR(money_format_to(s, sizeof(s), 1200, "EUR"), "\xe2\x82\xac" "12.00");
	CHECK_STR(money_format_to(s, sizeof(s), 1200, "XYZ"), "XYZ 12.00");
	CHECK_STR(money_format_to(s, sizeof(s), INT64_MIN, "USD"), "-$92,233,720,368,547,758.08");
	CHECK_STR(money_format_to(s, sizeof(s), INT64_MAX, "INR"),
		  "\xe2\x82\xb9" "92,23,37,20,36,85,47,758.07");
	CHECK_STR(money_format_to(s, 6, 123450, "USD"), "$1,23"); /* cut to fit */
	struct buf b;
	buf_init(&b, 256);
	money_format(&b, -123456789, "XYZ");
	CHECK_STR(b.p, "-XYZ 1,234,567.89");
	buf_free(&b);
}

static void json_writer(void)
{
	struct buf b;
	buf_init(&b, 1 << 16);
	struct jw w;
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, "s", "a\"b\\c\n\x01");
	jw_kint(&w, "i", -42);
	jw_key(&w, "a");
	jw_arr(&w);
	jw_int(&w, 1);
	jw_int(&w, 0);
	jw_int(&w, INT64_MIN);
	jw_int(&w, INT64_MAX);
	jw_bool(&w, true);
	jw_null(&w);
	jw_obj(&w);
	jw_obj_end(&w);
	jw_arr_end(&w);
	jw_kreal(&w, "r", 0.08);
	jw_obj_end(&w);
	CHECK_STR(b.p, "{\"s\":\"a\\\"b\\\\c\\n\\u0001\",\"i\":-42,\"a\":[1,0,-9223372036854775808,9223372036854775807,true,null,{}],\"r\":0.08}");
	buf_free(&b);
}

static void buffer_cap(void)
{
	struct buf b;
	buf_init(&b, 8);
	CHECK(buf_adds(&b, "1234567"));
	CHECK(!buf_adds(&b, "89"));
	CHECK(b.toobig);
	CHECK_INT(b.len, 7);
	buf_free(&b);
}

static void number_parsing(void)
{
	int64_t v;
	CHECK(parse_i64("42", 0, 100, &v) && v == 42);
	CHECK(parse_i64("-9223372036854775808", INT64_MIN, INT64_MAX, &v) && v == INT64_MIN);
	CHECK(!parse_i64("9223372036854775808", INT64_MIN, INT64_MAX, &v));
	CHECK(!parse_i64("12abc", 0, 100, &v));
	CHECK(!parse_i64("", 0, 100, &v));
	CHECK(!parse_i64(" 1", 0, 100, &v));
	CHECK(!parse_i64("101", 0, 100, &v));
	CHECK(!parse_i64("-", 0, 100, &v));
	bool b;
	CHECK(parse_bool("TRUE", &b) && b);
	CHECK(parse_bool("off", &b) && !b);
	CHECK(!parse_bool("maybe", &b));
}

static void cursors(void)
{
	int64_t keys[2] = {4999, 17}, out[2];
	char c[CURSOR_LEN + 1];
	cursor_encode(c, keys, 2);
	CHECK(cursor_decode(c, out, 2));
	CHECK_INT(out[0], 4999);
	CHECK_INT(out[1], 17);
	CHECK(!cursor_decode(c, out, 1)); /* wrong arity */
	CHECK(!cursor_decode("not a cursor!", out, 2));
	CHECK(!cursor_decode("", out, 2));
}

static void configuration(void)
{
	char err[256];
	static const char *const defaults[] = {NULL};
	fake_env = defaults;
	CHECK(config_load(fake_getenv, err, sizeof(err)));
	CHECK_INT(cfg.port, 5006);
	CHECK_STR(cfg.default_market, "US");
	CHECK(config_market_supported("IN"));
	CHECK(config_market_supported("EU")); /* default "*": every market row is served */

	static const char *const two[] = {"SUPPORTED_MARKETS", "US,IN", NULL};
	fake_env = two;
	CHECK(config_load(fake_getenv, err, sizeof(err)));
	CHECK(config_market_supported("IN"));
	CHECK(!config_market_supported("EU"));

	static const char *const bad_port[] = {"PORT", "70000", NULL};
	fake_env = bad_port;
	CHECK(!config_load(fake_getenv, err, sizeof(err)));
	CHECK(strstr(err, "PORT") != NULL);

	static const char *const alias[] = {"SQLALCHEMY_DATABASE_URI", "sqlite:///x.db", NULL};
	fake_env = alias;
	CHECK(config_load(fake_getenv, err, sizeof(err)));
	CHECK_STR(cfg.database_url, "sqlite:///x.db");

	static const char *const bad_db[] = {"DATABASE_URL", "mysql://x", NULL};
	fake_env = bad_db;
	CHECK(!config_load(fake_getenv, err, sizeof(err)));
	CHECK(strstr(err, "DATABASE_URL") != NULL);

	static const char *const bad_market[] = {"DEFAULT_MARKET", "EU", "SUPPORTED_MARKETS", "US,IN", NULL};
	fake_env = bad_market;
	CHECK(!config_load(fake_getenv, err, sizeof(err)));
	CHECK(strstr(err, "DEFAULT_MARKET") != NULL);

	static const char *const bad_bool[] = {"ANALYTICS_ENABLED", "perhaps", NULL};
	fake_env = bad_bool;
	CHECK(!config_load(fake_getenv, err, sizeof(err)));
	CHECK(strstr(err, "ANALYTICS_ENABLED") != NULL);

	static const char *const bad_cache[] = {"CACHE_TYPE", "memcached", NULL};
	fake_env = bad_cache;
	CHECK(!config_load(fake_getenv, err, sizeof(err)));
	CHECK(strstr(err, "CACHE_TYPE") != NULL);

	static const char *const short_secret[] = {"JWT_SECRET", "short", NULL};
	fake_env = short_secret;
	CHECK(!config_load(fake_getenv, err, sizeof(err)));
	CHECK(strstr(err, "JWT_SECRET") != NULL && strstr(err, "short") == NULL); /* never echo secrets */

	static const char *const channels[] = {"ALERT_NOTIFICATIONS", "email,slack,pigeon", NULL};
	fake_env = channels;
	CHECK(!config_load(fake_getenv, err, sizeof(err)));
	config_free();
}

static void json_reader(void)
{
	struct verr e;
	const char *ok = "{\"q\": 3, \"s\": \"x\"}";
	json_t *j = jsonin_parse_object(ok, strlen(ok), &e);
	CHECK(j != NULL);
	int64_t q;
	CHECK(jsonin_int(j, "q", true, 1, 100, 0, &q, &e) && q == 3);
	CHECK(!jsonin_int(j, "q", true, 5, 100, 0, &q, &e));
	CHECK_STR(e.field, "q");
	const char *s;
	CHECK(!jsonin_int(j, "s", true, 0, 1, 0, &q, &e)); /* wrong type */
	CHECK(jsonin_str(j, "s", true, 1, 5, NULL, &s, &e));
	CHECK(!jsonin_str(j, "missing", true, 1, 5, NULL, &s, &e));
	static const char *const allowed[] = {"q", NULL};
	CHECK(!jsonin_only(j, allowed, "", &e));
	CHECK_STR(e.field, "s");
	json_decref(j);

	CHECK(jsonin_parse_object("[1]", 3, &e) == NULL);
	CHECK_INT(e.code, MERR_INVALID_JSON);
	CHECK(jsonin_parse_object("{\"a\":", 5, &e) == NULL);
	const char bad_utf8[] = "{\"a\":\"\xff\xfe\"}";
	CHECK(jsonin_parse_object(bad_utf8, strlen(bad_utf8), &e) == NULL);
	const char dup[] = "{\"a\":1,\"a\":2}";
	CHECK(jsonin_parse_object(dup, strlen(dup), &e) == NULL);
	char deep[200];
	memset(deep, '[', 100);
	memcpy(deep, "{\"a\":", 5);
	deep[100] = '\0';
	CHECK(jsonin_parse_object(deep, 100, &e) == NULL);
	CHECK(strstr(e.message, "deeper") != NULL);
}

static void times(void)
{
	char s[40];
	CHECK_STR(time_rfc3339(0, s, sizeof(s)), "1970-01-01T00:00:00Z");
	CHECK_INT(time_parse_rfc3339("2026-11-25T10:00:00Z"), 1795600800);
	CHECK_INT(time_parse_rfc3339("2026-11-25T15:30:00+05:30"), 1795600800);
	CHECK_INT(time_parse_rfc3339("2026-11-25"), -1);
	CHECK_INT(time_parse_rfc3339("2026-13-25T10:00:00Z"), -1);
}

/* The shared integer formatter (JSON writer, SQLite cells) at its edges;
 * jw_int through it is checked in json_writer. */
static void integers(void)
{
	static const struct {
		int64_t v;
		const char *s;
	} cases[] = {{0, "0"}, {7, "7"}, {-1, "-1"}, {1234567890, "1234567890"},
		     {INT64_MAX, "9223372036854775807"}, {INT64_MIN, "-9223372036854775808"}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char b[FMT_I64_MAX + 1];
		b[FMT_I64_MAX] = '\0';
		CHECK_STR(fmt_i64(b + FMT_I64_MAX, cases[i].v), cases[i].s);
	}
}

static void id_lookup(void)
{
	static const int64_t ids[] = {-5, 0, 3, 9, 1LL << 40};
	CHECK_INT(ids_find(ids, 5, -5), 0);
	CHECK_INT(ids_find(ids, 5, 9), 3);
	CHECK_INT(ids_find(ids, 5, 1LL << 40), 4);
	CHECK_INT(ids_find(ids, 5, 4), -1);
	CHECK_INT(ids_find(ids, 5, INT64_MIN), -1);
	CHECK_INT(ids_find(ids, 5, INT64_MAX), -1);
	CHECK_INT(ids_find(ids, 0, 0), -1);
}

/* Single flight: a second miss of a key being computed waits for the
 * leader's flight_end and does not lead; other keys are not held up. */
static atomic_int follower_state; /* 0 waiting to start, 1 in flight_begin, 2 returned */
static atomic_bool follower_led;

static void *follower(void *arg)
{
	(void)arg;
	atomic_store(&follower_state, 1);
	atomic_store(&follower_led, flight_begin("search", "q=dress"));
	atomic_store(&follower_state, 2);
	return NULL;
}

static void single_flight(void)
{
	CHECK(flight_begin("search", "q=dress"));
	CHECK(flight_begin("search", "q=linen")); /* another key leads at once */
	CHECK(flight_begin("listing", "q=dress")); /* so does another cache's */
	flight_end("search", "q=linen");
	flight_end("listing", "q=dress");
	pthread_t t;
	pthread_create(&t, NULL, follower, NULL);
	while (atomic_load(&follower_state) == 0)
		usleep(1000);
	usleep(100 * 1000);
	CHECK_INT(atomic_load(&follower_state), 1); /* still waiting for the leader */
	flight_end("search", "q=dress");
	pthread_join(t, NULL);
	CHECK_INT(atomic_load(&follower_state), 2);
	CHECK(!atomic_load(&follower_led)); /* it reads the cache instead */
	CHECK(flight_begin("search", "q=dress")); /* the key is free again */
	flight_end("search", "q=dress");
}

int main(void)
{
	RUN(money_rounding);
	RUN(money_formatting);
	RUN(json_writer);
	RUN(buffer_cap);
	RUN(number_parsing);
	RUN(cursors);
	RUN(configuration);
	RUN(json_reader);
	RUN(times);
	RUN(integers);
	RUN(id_lookup);
	RUN(single_flight);
	return t_done();
}
