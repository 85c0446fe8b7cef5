#include "catalog/feed.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/product.h"
#include "core/buf.h"
#include "core/jsonin.h"
#include "core/jw.h"
#include "core/strconv.h"
#include "core/strmap.h"

/* --- columns -------------------------------------------------------------- */

enum col {
	C_SKU, C_PRODUCT, C_NAME, C_BRAND, C_CATEGORY, C_DESCRIPTION, C_TAGS, C_SIZE, C_COLOR,
	C_STOCK, C_THRESHOLD, C_STATUS, C_IMAGES, C_PRICE, C_PRICES, C__COUNT
};

/* Every column a feed may have, with its length limit (0 = numeric). */
static const struct {
	const char *name;
	size_t max;
} columns[C__COUNT] = {
	[C_SKU] = {"sku", 64},           [C_PRODUCT] = {"product_id", 64},
	[C_NAME] = {"name", 200},        [C_BRAND] = {"brand", 80},
	[C_CATEGORY] = {"category", 64}, [C_DESCRIPTION] = {"description", FEED_MAX_FIELD},
	[C_TAGS] = {"tags", 2000},       [C_SIZE] = {"size", 32},
	[C_COLOR] = {"color", 32},       [C_STOCK] = {"stock", 0},
	[C_THRESHOLD] = {"low_stock_threshold", 0}, [C_STATUS] = {"status", 16},
	[C_IMAGES] = {"images", 5000},   [C_PRICE] = {"price_", 0},
	[C_PRICES] = {"prices", 0},
};

/* Column of a header name; price_XX gives C_PRICE with the code in market. */
static int column_of(const char *name, char market[4])
{
	if (strncmp(name, "price_", 6) == 0) {
		size_t n = strlen(name + 6);
		if (n < 2 || n > 3)
			return -1;
		for (size_t i = 0; i < n; i++) {
			char c = name[6 + i];
			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
				return -1;
			market[i] = (char)(c >= 'a' ? c - 32 : c);
		}
		market[n] = 0;
		return C_PRICE;
	}
	for (int c = 0; c < C__COUNT; c++)
		if (c != C_PRICE && strcmp(columns[c].name, name) == 0)
			return c;
	return -1;
}

static bool utf8_ok(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		size_t k = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : 9;
		if (k == 9 || i + k >= n + (k ? 0 : 1))
			return false;
		if (c == 0 || (k == 1 && c < 0xc2) || (k == 3 && c > 0xf4))
			return false;
		for (size_t j = 1; j <= k; j++)
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
		if (k == 2 && ((c == 0xe0 && s[i + 1] < 0xa0) || (c == 0xed && s[i + 1] >= 0xa0)))
			return false;
		if (k == 3 && ((c == 0xf0 && s[i + 1] < 0x90) || (c == 0xf4 && s[i + 1] >= 0x90)))
			return false;
		i += k + 1;
	}
	return true;
}

void feed_error_add(struct feed *f, int line, const char *sku, const char *field, const char *fmt, ...)
{
	if (f->nerrors >= FEED_MAX_ERRORS)
		return;
	if (f->nerrors == f->caperrors) {
		int nc = f->caperrors ? f->caperrors * 2 : 32;
		struct feed_error *ne = arena_alloc(f->a, sizeof(*ne) * (size_t)nc);
		if (f->nerrors)
			memcpy(ne, f->errors, sizeof(*ne) * (size_t)f->nerrors);
		f->errors = ne;
		f->caperrors = nc;
	}
	struct feed_error *e = &f->errors[f->nerrors++];
	e->line = line;
	snprintf(e->sku, sizeof(e->sku), "%s", sku ? sku : "");
	snprintf(e->field, sizeof(e->field), "%s", field ? field : "");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
}

static struct feed_row *row_new(struct feed *f, int line)
{
	if (f->nrows == f->caprows) {
		int nc = f->caprows ? f->caprows * 2 : 64;
		struct feed_row *nr = arena_alloc(f->a, sizeof(*nr) * (size_t)nc);
		if (f->nrows)
			memcpy(nr, f->rows, sizeof(*nr) * (size_t)f->nrows);
		f->rows = nr;
		f->caprows = nc;
	}
	struct feed_row *r = &f->rows[f->nrows++];
	memset(r, 0, sizeof(*r));
	r->line = line;
	r->stock = r->low_stock_threshold = -1;
	return r;
}

void feed_row_fail(struct feed *f, struct feed_row *r, const char *field, const char *msg)
{
	if (!r->bad)
		f->error_rows++;
	r->bad = true;
	feed_error_add(f, r->line, r->sku, field, "%s", msg);
}

/* "a|b|c" (or a JSON array already) → JSON array text of non-empty items. */
static const char *list_json(struct arena *a, const char *s, size_t item_max, bool *ok)
{
	struct buf b;
	buf_init(&b, FEED_MAX_FIELD * 2);
	struct jw w;
	jw_init(&w, &b);
	jw_arr(&w);
	*ok = true;
	while (*s) {
		const char *e = strchr(s, '|');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		while (n && *s == ' ')
			s++, n--;
		while (n && s[n - 1] == ' ')
			n--;
		if (n > item_max)
			*ok = false;
		else if (n)
			jw_strn(&w, s, n);
		s += n;
		while (*s == ' ')
			s++;
		if (*s == '|')
			s++;
	}
	jw_arr_end(&w);
	const char *out = arena_strdup(a, b.p);
	buf_free(&b);
	return out;
}

static bool sku_chars_ok(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

/* Set one field of a row from text; false (after reporting) when invalid. */
static bool row_set(struct feed *f, struct feed_row *r, int col, const char *market, const char *field,
		    const char *v, size_t n)
{
	if (!utf8_ok((const unsigned char *)v, n)) {
		feed_row_fail(f, r, field, "not valid UTF-8 text");
		return false;
	}
	if (col != C_PRICE && col != C_STOCK && col != C_THRESHOLD && n > columns[col].max) {
		char msg[64];
		snprintf(msg, sizeof(msg), "longer than %zu bytes", columns[col].max);
		feed_row_fail(f, r, field, msg);
		return false;
	}
	if (n == 0)
		return true; /* an empty cell is an absent value */
	const char *s = arena_strndup(f->a, v, n);
	int64_t num;
	bool ok = true;
	switch (col) {
	case C_SKU:
		if (!sku_chars_ok(s)) {
			feed_row_fail(f, r, field, "a SKU is letters, digits, '-', '_' or '.'");
			return false;
		}
		r->sku = s;
		break;
	case C_PRODUCT: r->product_code = s; break;
	case C_NAME: r->name = s; break;
	case C_BRAND: r->brand = s; break;
	case C_CATEGORY: r->category = s; break;
	case C_DESCRIPTION: r->description = s; break;
	case C_SIZE: r->size = s; break;
	case C_COLOR: r->color = s; break;
	case C_STATUS:
		for (const char *const *st = product_statuses; *st; st++)
			if (strcmp(*st, s) == 0)
				r->status = *st;
		if (!r->status) {
			feed_row_fail(f, r, field, "status is active, draft or archived");
			return false;
		}
		break;
	case C_TAGS:
		r->tags = list_json(f->a, s, 40, &ok);
		if (!ok) {
			feed_row_fail(f, r, field, "a tag is at most 40 bytes");
			return false;
		}
		break;
	case C_IMAGES:
		r->images = list_json(f->a, s, 500, &ok);
		if (!ok) {
			feed_row_fail(f, r, field, "an image URL is at most 500 bytes");
			return false;
		}
		break;
	case C_STOCK:
	case C_THRESHOLD:
		if (!parse_i64(s, 0, PRODUCT_MAX_STOCK, &num)) {
			feed_row_fail(f, r, field, "must be a whole number from 0 to 1000000000");
			return false;
		}
		*(col == C_STOCK ? &r->stock : &r->low_stock_threshold) = num;
		break;
	case C_PRICE:
		if (!parse_i64(s, 0, PRODUCT_MAX_PRICE, &num)) {
			feed_row_fail(f, r, field, "a price is a whole number of minor units (cents, paise), 0 or more");
			return false;
		}
		for (int k = 0; k < r->nprices; k++)
			if (strcmp(r->prices[k].market, market) == 0) {
				feed_row_fail(f, r, field, "price given twice for this market");
				return false;
			}
		if (r->nprices == FEED_MAX_PRICES) {
			feed_row_fail(f, r, field, "too many markets");
			return false;
		}
		snprintf(r->prices[r->nprices].market, sizeof(r->prices[0].market), "%s", market);
		r->prices[r->nprices++].amount = num;
		break;
	default:
		break;
	}
	return true;
}

/* The checks every row needs once all its fields are in. */
static void row_finish(struct feed *f, struct feed_row *r)
{
	if (r->bad) {
		/* still group it, so its product is rejected as a whole */
		if (!r->product_code)
			r->product_code = r->sku;
		return;
	}
	static const struct {
		int col;
		size_t off;
	} required[] = {
		{C_SKU, offsetof(struct feed_row, sku)},
		{C_NAME, offsetof(struct feed_row, name)},
		{C_CATEGORY, offsetof(struct feed_row, category)},
	};
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (!*(const char **)((const char *)r + required[i].off)) {
			char msg[64];
			snprintf(msg, sizeof(msg), "'%s' is required", columns[required[i].col].name);
			feed_row_fail(f, r, columns[required[i].col].name, msg);
			return;
		}
	if (!r->nprices)
		feed_row_fail(f, r, "price", "a row needs a price in at least one market (price_us, price_in…)");
	else if (!r->product_code)
		r->product_code = r->sku;
}

/* --- CSV ------------------------------------------------------------------ */

/* One CSV record: fields as (pointer, length) into an arena copy. */
struct record {
	const char **v;
	size_t *n;
	int count, cap;
};

static void record_push(struct arena *a, struct record *rec, const char *v, size_t n)
{
	if (rec->count == rec->cap) {
		int nc = rec->cap ? rec->cap * 2 : 32;
		const char **nv = arena_alloc(a, sizeof(*nv) * (size_t)nc);
		size_t *nn = arena_alloc(a, sizeof(*nn) * (size_t)nc);
		if (rec->count) {
			memcpy(nv, rec->v, sizeof(*nv) * (size_t)rec->count);
			memcpy(nn, rec->n, sizeof(*nn) * (size_t)rec->count);
		}
		rec->v = nv;
		rec->n = nn;
		rec->cap = nc;
	}
	rec->v[rec->count] = v;
	rec->n[rec->count++] = n;
}

/* A line ends with LF or CRLF; a lone CR is field text. */
static bool crlf(const char *s, const char *end)
{
	return s < end && *s == '\r' && (s + 1 == end || s[1] == '\n');
}

/*
 * Read one record from *p (RFC 4180: quoted fields with "" escapes and
 * embedded newlines; CRLF or LF). *line advances past the newlines read.
 * Returns false with why set for a malformed record (the rest of its line
 * is skipped).
 */
static bool csv_record(struct arena *a, const char **p, const char *end, int *line, struct record *rec,
		       struct buf *tmp, const char **why)
{
	const char *s = *p;
	rec->count = 0;
	*why = NULL;
	for (;;) {
		buf_reset(tmp);
		if (s < end && *s == '"') {
			s++;
			for (;;) {
				if (s >= end) {
					*why = "a quoted field is not closed";
					*p = s;
					return false;
				}
				if (*s == '"') {
					if (s + 1 < end && s[1] == '"') {
						buf_addc(tmp, '"');
						s += 2;
						continue;
					}
					s++;
					break;
				}
				if (*s == '\n')
					(*line)++;
				buf_addc(tmp, *s++);
			}
			if (s < end && *s != ',' && *s != '\n' && !crlf(s, end)) {
				*why = "text after a closing quote";
				while (s < end && *s != '\n')
					s++;
				if (s < end)
					s++, (*line)++;
				*p = s;
				return false;
			}
		} else {
			while (s < end && *s != ',' && *s != '\n' && !crlf(s, end)) {
				if (*s == '"') {
					*why = "a quote inside an unquoted field";
					while (s < end && *s != '\n')
						s++;
					if (s < end)
						s++, (*line)++;
					*p = s;
					return false;
				}
				buf_addc(tmp, *s++);
			}
		}
		if (tmp->toobig) {
			*why = "a field is too long";
			while (s < end && *s != '\n')
				s++;
			if (s < end)
				s++, (*line)++;
			*p = s;
			return false;
		}
		record_push(a, rec, arena_strndup(a, tmp->p ? tmp->p : "", tmp->len), tmp->len);
		if (s < end && *s == ',') {
			s++;
			continue;
		}
		if (crlf(s, end))
			s++;
		if (s < end && *s == '\n')
			s++, (*line)++;
		*p = s;
		return true;
	}
}

static void parse_csv(struct feed *f, const char *data, size_t len)
{
	const char *p = data, *end = data + len;
	int line = 1;
	struct buf tmp;
	buf_init(&tmp, FEED_MAX_FIELD + 1);
	struct record head = {0}, rec = {0};
	const char *why;
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3; /* a UTF-8 byte order mark some spreadsheets write */
	if (p >= end || !csv_record(f->a, &p, end, &line, &head, &tmp, &why)) {
		feed_error_add(f, 1, NULL, "", "the first line must be a header (sku,name,category,price_us,…)");
		f->fatal = true;
		goto out;
	}
	int cols[256];
	char markets[256][4];
	bool seen[C__COUNT] = {false};
	if (head.count > 256) {
		feed_error_add(f, 1, NULL, "", "at most 256 columns");
		f->fatal = true;
		goto out;
	}
	for (int i = 0; i < head.count; i++) {
		const char *name = head.v[i];
		cols[i] = column_of(name, markets[i]);
		if (cols[i] < 0 || cols[i] == C_PRICES) {
			feed_error_add(f, 1, NULL, "", "unknown column '%.40s'", name);
			f->fatal = true;
			goto out;
		}
		for (int k = 0; k < i; k++)
			if (strcmp(head.v[k], name) == 0) {
				feed_error_add(f, 1, NULL, "", "column '%.40s' appears twice", name);
				f->fatal = true;
				goto out;
			}
		seen[cols[i]] = true;
	}
	static const int must[] = {C_SKU, C_NAME, C_CATEGORY, C_PRICE};
	for (size_t i = 0; i < sizeof(must) / sizeof(must[0]); i++)
		if (!seen[must[i]]) {
			feed_error_add(f, 1, NULL, "", "the header needs a '%s%s' column", columns[must[i]].name,
				       must[i] == C_PRICE ? "<market>" : "");
			f->fatal = true;
			goto out;
		}
	while (p < end && f->nrows < FEED_MAX_ROWS) {
		int start = line;
		if (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n')) { /* blank line */
			p += *p == '\r' ? 2 : 1;
			line++;
			continue;
		}
		bool ok = csv_record(f->a, &p, end, &line, &rec, &tmp, &why);
		struct feed_row *r = row_new(f, start);
		if (!ok) {
			feed_row_fail(f, r, "", why);
			continue;
		}
		if (rec.count != head.count) {
			char msg[80];
			snprintf(msg, sizeof(msg), "expected %d fields, found %d", head.count, rec.count);
			feed_row_fail(f, r, "", msg);
			continue;
		}
		/* SKU and product code first: every later error names the SKU, and
		 * a bad row still rejects the product it belongs to */
		for (int i = 0; i < rec.count; i++)
			if (cols[i] == C_SKU || cols[i] == C_PRODUCT)
				row_set(f, r, cols[i], NULL, head.v[i], rec.v[i], rec.n[i]);
		for (int i = 0; i < rec.count && !r->bad; i++)
			if (cols[i] != C_SKU && cols[i] != C_PRODUCT)
				row_set(f, r, cols[i], markets[i], head.v[i], rec.v[i], rec.n[i]);
		row_finish(f, r);
	}
	if (p < end)
		feed_error_add(f, line, NULL, "", "a feed has at most %d rows; the rest was not read",
			       FEED_MAX_ROWS);
out:
	buf_free(&tmp);
}

/* --- NDJSON --------------------------------------------------------------- */

/* One JSON value as the text a CSV cell would hold. */
static bool json_cell(struct feed *f, json_t *v, char *num, size_t numlen, const char **s, size_t *n)
{
	(void)f;
	if (json_is_string(v)) {
		*s = json_string_value(v);
		*n = json_string_length(v);
		return memchr(*s, 0, *n) == NULL;
	}
	if (json_is_integer(v)) {
		snprintf(num, numlen, "%lld", (long long)json_integer_value(v));
		*s = num;
		*n = strlen(num);
		return true;
	}
	if (json_is_null(v)) {
		*s = "";
		*n = 0;
		return true;
	}
	return false;
}

/* tags / images as a JSON array of strings → "a|b" so one path checks them. */
static bool json_list(struct feed *f, json_t *arr, const char **s, size_t *n)
{
	struct buf b;
	buf_init(&b, FEED_MAX_FIELD);
	size_t i;
	json_t *x;
	bool ok = true;
	json_array_foreach(arr, i, x)
	{
		if (!json_is_string(x) || strchr(json_string_value(x), '|')) {
			ok = false;
			break;
		}
		if (i)
			buf_addc(&b, '|');
		buf_adds(&b, json_string_value(x));
	}
	ok = ok && !b.toobig;
	*s = arena_strdup(f->a, b.p ? b.p : "");
	*n = b.len;
	buf_free(&b);
	return ok;
}

static void ndjson_row(struct feed *f, struct feed_row *r, const char *text, size_t len)
{
	struct verr e;
	json_t *j = jsonin_parse_object(text, len, &e);
	if (!j) {
		feed_row_fail(f, r, "", e.message);
		return;
	}
	json_t *sku = json_object_get(j, "sku"), *code = json_object_get(j, "product_id");
	const char *s;
	size_t n;
	char num[32];
	if (sku && json_is_string(sku))
		row_set(f, r, C_SKU, NULL, "sku", json_string_value(sku), json_string_length(sku));
	if (code && json_is_string(code))
		row_set(f, r, C_PRODUCT, NULL, "product_id", json_string_value(code), json_string_length(code));
	const char *key;
	json_t *v;
	json_object_foreach(j, key, v)
	{
		if (r->bad)
			break;
		char market[4] = "";
		int col = column_of(key, market);
		if (col < 0) {
			char msg[80];
			snprintf(msg, sizeof(msg), "unknown field '%.40s'", key);
			feed_row_fail(f, r, key, msg);
			break;
		}
		if ((col == C_SKU || col == C_PRODUCT) && json_is_string(v))
			continue;
		if (col == C_PRICES) {
			const char *mcode;
			json_t *pv;
			if (!json_is_object(v)) {
				feed_row_fail(f, r, key, "prices is an object like {\"US\": 4999}");
				break;
			}
			json_object_foreach(v, mcode, pv)
			{
				char field[48], m2[4] = "";
				snprintf(field, sizeof(field), "prices.%.8s", mcode);
				char pk[16];
				snprintf(pk, sizeof(pk), "price_%.8s", mcode);
				if (column_of(pk, m2) != C_PRICE) {
					feed_row_fail(f, r, field, "a market code is 2-3 letters");
					break;
				}
				if (!json_is_integer(pv)) {
					feed_row_fail(f, r, field, "a price is an integer in minor units");
					break;
				}
				json_cell(f, pv, num, sizeof(num), &s, &n);
				if (!row_set(f, r, C_PRICE, m2, field, s, n))
					break;
			}
			continue;
		}
		bool ok = (col == C_TAGS || col == C_IMAGES) && json_is_array(v)
				  ? json_list(f, v, &s, &n)
				  : json_cell(f, v, num, sizeof(num), &s, &n);
		bool numeric = col == C_STOCK || col == C_THRESHOLD || col == C_PRICE;
		if (!ok || (numeric && json_is_string(v)) || (!numeric && json_is_integer(v))) {
			feed_row_fail(f, r, key, numeric ? "must be an integer" : "must be a string");
			break;
		}
		row_set(f, r, col, market, key, s, n);
	}
	json_decref(j);
	row_finish(f, r);
}

static void parse_ndjson(struct feed *f, const char *data, size_t len)
{
	const char *p = data, *end = data + len;
	int line = 0;
	while (p < end && f->nrows < FEED_MAX_ROWS) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		line++;
		size_t n = (size_t)(e - p);
		if (n && p[n - 1] == '\r')
			n--;
		bool blank = true;
		for (size_t i = 0; i < n && blank; i++)
			blank = p[i] == ' ' || p[i] == '\t';
		if (!blank) {
			struct feed_row *r = row_new(f, line);
			if (n > FEED_MAX_FIELD * 4)
				feed_row_fail(f, r, "", "a line is longer than 40000 bytes");
			else
				ndjson_row(f, r, p, n);
		}
		p = nl ? nl + 1 : end;
	}
	if (p < end)
		feed_error_add(f, line, NULL, "", "a feed has at most %d rows; the rest was not read",
			       FEED_MAX_ROWS);
}

/* --- string → index map (duplicate SKUs, product groups) ----------------- */

/* The value stored for key, or -1 after storing val for it. */
static int strmap_put(struct arena *a, struct strmap *m, const char *key, int val)
{
	bool found;
	int64_t *v = strmap_slot(a, m, key, &found);
	if (found)
		return (int)*v;
	*v = val;
	return -1;
}

void feed_parse(struct feed *f, struct arena *a, const char *data, size_t len, enum feed_format fmt)
{
	memset(f, 0, sizeof(*f));
	f->a = a;
	if (fmt == FEED_CSV)
		parse_csv(f, data, len);
	else
		parse_ndjson(f, data, len);
	if (f->fatal)
		return;
	struct strmap skus = {0}, codes = {0};
	for (int i = 0; i < f->nrows; i++) {
		struct feed_row *r = &f->rows[i];
		if (r->bad || !r->sku)
			continue;
		int first = strmap_put(a, &skus, r->sku, i);
		if (first >= 0) {
			char msg[80];
			snprintf(msg, sizeof(msg), "SKU already in this feed at line %d", f->rows[first].line);
			feed_row_fail(f, r, "sku", msg);
		}
	}
	/* rows of one product, bad ones included so they reject it whole */
	for (int i = 0; i < f->nrows; i++) {
		struct feed_row *r = &f->rows[i];
		r->group = -1;
		if (r->product_code && (r->group = strmap_put(a, &codes, r->product_code, f->ngroups)) < 0)
			r->group = f->ngroups++;
	}
}

