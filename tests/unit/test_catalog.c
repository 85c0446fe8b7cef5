/* Unit tests of the catalog's pure parts: the feed parser (CSV quoting,
 * line numbers, per-row errors, NDJSON), slugs, stock status, and the
 * SQLite ranking function on an in-memory full-text table. */
#include <sqlite3.h>
#include <string.h>

#include "catalog/feed.h"
#include "catalog/product.h"
#include "db/sqlite_rank.h"
#include "t.h"

static struct arena a;

static struct feed parse(const char *text, enum feed_format fmt)
{
	struct feed f;
	feed_parse(&f, &a, text, strlen(text), fmt);
	return f;
}

static void csv_quotes_and_lines(void)
{
	struct feed f = parse("sku,name,category,description,price_us,price_IN\r\n"
			      "A-1,\"Dress, red\",dresses,\"say \"\"hi\"\"\nsecond line\",4999,249900\r\n"
			      "\n"
			      "B-2,Tee,tops,,1500,\n",
			      FEED_CSV);
	CHECK(!f.fatal);
	CHECK_INT(f.nrows, 2);
	CHECK_INT(f.nerrors, 0);
	CHECK_STR(f.rows[0].name, "Dress, red");
	CHECK_STR(f.rows[0].description, "say \"hi\"\nsecond line");
	CHECK_INT(f.rows[0].line, 2);
	CHECK_INT(f.rows[0].nprices, 2);
	CHECK_STR(f.rows[0].prices[1].market, "IN");
	CHECK_INT(f.rows[0].prices[1].amount, 249900);
	CHECK_INT(f.rows[1].line, 5); /* the quoted newline and the blank line count */
	CHECK_INT(f.rows[1].nprices, 1);
	CHECK_STR(f.rows[1].product_code, "B-2"); /* defaults to the SKU */
}

static void csv_row_errors(void)
{
	struct feed f = parse("sku,name,category,stock,price_us,tags\n"
			      "A,Ok,tops,3,100,summer | linen\n"
			      "B,Bad,tops,-1,100,\n"
			      "C,Bad,tops,1,12.50,\n"
			      "D,\"open,tops,1,100,\n",
			      FEED_CSV);
	CHECK(!f.fatal);
	CHECK_INT(f.nrows, 4);
	CHECK(!f.rows[0].bad && f.rows[1].bad && f.rows[2].bad && f.rows[3].bad);
	CHECK_STR(f.rows[0].tags, "[\"summer\",\"linen\"]");
	CHECK_INT(f.rows[0].stock, 3);
	CHECK_INT(f.error_rows, 3);
	CHECK_INT(f.errors[0].line, 3);
	CHECK_STR(f.errors[0].field, "stock");
	CHECK_STR(f.errors[0].sku, "B");
	CHECK_STR(f.errors[1].field, "price_us");
	CHECK_INT(f.errors[2].line, 5);
}

static void csv_fatal_headers(void)
{
	static const char *const bad[] = {"", "sku,name\n", "sku,name,category,price_us,bogus\n",
					  "sku,name,category,price_us,sku\n", "\"sku,name\n"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct feed f = parse(bad[i], FEED_CSV);
		CHECK(f.fatal);
		CHECK(f.nerrors == 1 && f.errors[0].message[0]);
	}
}

static void duplicate_skus_and_utf8(void)
{
	struct feed f = parse("sku,name,category,price_us\nA,x,tops,1\nA,y,tops,2\nB,\xc3\x28,tops,1\n"
			      "C,\xe2\x82\xac 5,tops,1\n",
			      FEED_CSV);
	CHECK(!f.rows[0].bad && f.rows[1].bad && f.rows[2].bad && !f.rows[3].bad);
	CHECK_STR(f.rows[3].name, "\xe2\x82\xac 5");
}

static void ndjson_rows(void)
{
	struct feed f = parse("{\"sku\":\"N1\",\"name\":\"Kurta\",\"category\":\"tops\",\"tags\":[\"a\",\"b\"],"
			      "\"stock\":4,\"prices\":{\"IN\":149900,\"us\":100}}\n"
			      "\n"
			      "{\"sku\":\"N2\",\"name\":\"x\",\"category\":\"tops\",\"stock\":\"4\",\"price_us\":1}\n"
			      "[1,2]\n"
			      "{\"sku\":\"N3\",\"name\":\"x\",\"category\":\"tops\"}\n",
			      FEED_NDJSON);
	CHECK(!f.fatal);
	CHECK_INT(f.nrows, 4);
	CHECK(!f.rows[0].bad);
	CHECK_STR(f.rows[0].tags, "[\"a\",\"b\"]");
	CHECK_INT(f.rows[0].nprices, 2);
	CHECK_STR(f.rows[0].prices[1].market, "US");
	CHECK_INT(f.rows[1].line, 3);
	CHECK(f.rows[1].bad && f.rows[2].bad && f.rows[3].bad);
	CHECK_STR(f.errors[2].field, "price");
}

static void slugs_and_stock(void)
{
	char s[64];
	catalog_slugify("Levi's  Denim & Co.", s, sizeof(s));
	CHECK_STR(s, "levi-s-denim-co");
	catalog_slugify("W for Woman", s, sizeof(s));
	CHECK_STR(s, "w-for-woman");
	CHECK_INT(stock_status_of(10, 0, 5), STOCK_IN);
	CHECK_INT(stock_status_of(10, 5, 5), STOCK_LOW);
	CHECK_INT(stock_status_of(10, 10, 5), STOCK_OUT);
	CHECK_INT(stock_status_of(0, 0, 0), STOCK_OUT);
	CHECK_STR(stock_status_name(STOCK_LOW), "low_stock");
}

/* Row ids of product_fts matching q, best first (ties by id, descending,
 * as search_run orders them), as "3,1,2". */
static void ranked(sqlite3 *db, const char *q, char *out, size_t n)
{
	sqlite3_stmt *st;
	*out = 0;
	CHECK(sqlite3_prepare_v2(db,
				 "SELECT rowid FROM product_fts WHERE product_fts MATCH ?1 ORDER BY "
				 "mandi_rank(product_fts, 10.0, 6.0, 3.0, 3.0, 1.0) DESC, rowid DESC",
				 -1, &st, NULL) == SQLITE_OK);
	sqlite3_bind_text(st, 1, q, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		size_t l = strlen(out);
		snprintf(out + l, n - l, "%s%lld", l ? "," : "", (long long)sqlite3_column_int64(st, 0));
	}
	CHECK(sqlite3_finalize(st) == SQLITE_OK);
}

static void rank_by_column_weight_and_occurrences(void)
{
	sqlite3 *db;
	CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK);
	CHECK(sqlite_rank_register(db) == SQLITE_OK);
	CHECK(sqlite3_exec(db,
			   "CREATE VIRTUAL TABLE product_fts USING fts5(name, brand, category, tags, description);"
			   "INSERT INTO product_fts (rowid, name, brand, category, tags, description) VALUES "
			   "(1, 'Plain Shirt', 'Acme', 'Tops', '', 'goes with a linen belt'),"
			   "(2, 'Linen Wrap Dress', 'Acme', 'Dresses', '', 'a dress'),"
			   "(3, 'Summer Tee', 'Linen Co', 'Tops', '', 'soft'),"
			   "(4, 'Linen Shirt', 'Acme', 'Tops', '', 'linen, linen and more linen'),"
			   "(5, 'Cotton Dress', 'Acme', 'Dresses', '', 'in linen'),"
			   "(6, 'Cotton Tee', 'Acme', 'Tops', '', 'cotton'),"
			   "(7, 'Cotton Top', 'Acme', 'Tops', '', 'cotton');",
			   NULL, NULL, NULL) == SQLITE_OK);
	char got[128];
	/* name (10) > brand (6) > description (1); more occurrences score higher */
	ranked(db, "\"linen\"", got, sizeof(got));
	CHECK_STR(got, "4,2,3,5,1");
	/* prefix terms match and rank the same way */
	ranked(db, "\"lin\"*", got, sizeof(got));
	CHECK_STR(got, "4,2,3,5,1");
	ranked(db, "\"summ\"*", got, sizeof(got));
	CHECK_STR(got, "3");
	/* two words: both must match, and both in the name (2) beats one in
	 * the name and one in the description (5) */
	ranked(db, "\"dress\"* \"linen\"*", got, sizeof(got));
	CHECK_STR(got, "2,5");
	ranked(db, "\"cotton\" \"linen\"", got, sizeof(got));
	CHECK_STR(got, "5");
	ranked(db, "\"nothing\"", got, sizeof(got));
	CHECK_STR(got, "");
	sqlite3_close(db);
}

/* Two words in two rows, each with one word in the name and the other in
 * the description: the row with the rarer word in its name ranks first,
 * which only the idf can decide (the rows tie without it, and the tie goes
 * to the higher rowid, the other row). */
static void rank_rarer_word_weighs_more(void)
{
	sqlite3 *db;
	CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK);
	CHECK(sqlite_rank_register(db) == SQLITE_OK);
	CHECK(sqlite3_exec(db,
			   "CREATE VIRTUAL TABLE product_fts USING fts5(name, brand, category, tags, description);"
			   "INSERT INTO product_fts (rowid, name, description) VALUES "
			   "(1, 'Silk Scarf', 'with cotton trim'), (2, 'Cotton Scarf', 'with silk trim');",
			   NULL, NULL, NULL) == SQLITE_OK);
	for (int i = 3; i <= 20; i++) { /* cotton is common, silk is in rows 1 and 2 only */
		char sql[160];
		snprintf(sql, sizeof(sql),
			 "INSERT INTO product_fts (rowid, name, description) VALUES (%d, 'Tee %d', 'cotton')", i, i);
		CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
	}
	char got[128];
	ranked(db, "\"cotton\" \"silk\"", got, sizeof(got));
	CHECK_STR(got, "1,2");
	ranked(db, "\"silk\" \"cotton\"", got, sizeof(got)); /* the order of the words does not matter */
	CHECK_STR(got, "1,2");
	sqlite3_close(db);
}

int main(void)
{
	arena_init(&a);
	RUN(csv_quotes_and_lines);
	RUN(csv_row_errors);
	RUN(csv_fatal_headers);
	RUN(duplicate_skus_and_utf8);
	RUN(ndjson_rows);
	RUN(slugs_and_stock);
	RUN(rank_by_column_weight_and_occurrences);
	RUN(rank_rarer_word_weighs_more);
	arena_free(&a);
	return t_done();
}
