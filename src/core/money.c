#include "core/money.h"

#include <stdbool.h>
#include <string.h>

int64_t money_div_round(int64_t num, int64_t den)
{
	if (den <= 0)
		return 0;
	__int128 n = num, d = den;
	if (n >= 0)
		return (int64_t)((2 * n + d) / (2 * d));
	return -(int64_t)((2 * -n + d) / (2 * d));
}

int64_t money_tax_exclusive(int64_t amount, int64_t rate_bps)
{
	return money_div_round(amount * rate_bps, 10000);
}

int64_t money_tax_inclusive(int64_t amount, int64_t rate_bps)
{
	return money_div_round(amount * rate_bps, 10000 + rate_bps);
}

int64_t money_percent(int64_t amount, int64_t bps)
{
	return money_div_round(amount * bps, 10000);
}

/* How each currency is shown; the grouping is western (3,3,3) or Indian (3,2,2). */
static const struct currency_fmt {
	const char *code;
	const char *symbol;
	int indian;
} currencies[] = {
	{"USD", "$", 0}, {"INR", "\xe2\x82\xb9", 1}, {"EUR", "\xe2\x82\xac", 0},
	{"GBP", "\xc2\xa3", 0}, {"CAD", "CA$", 0}, {"AUD", "A$", 0},
};

static const struct currency_fmt *currency_fmt(const char *currency)
{
	for (size_t i = 0; currency && i < sizeof(currencies) / sizeof(currencies[0]); i++)
		if (strcmp(currencies[i].code, currency) == 0)
			return &currencies[i];
	return NULL;
}

/* The digits of |amount| with group separators and two decimals into out
 * (at least 40 bytes); returns the length. No printf: amounts are rendered
 * several times in every cart and order response. */
static size_t format_digits(char *out, int64_t amount, bool indian)
{
	uint64_t v = amount < 0 ? (uint64_t)0 - (uint64_t)amount : (uint64_t)amount;
	uint64_t whole = v / 100, cents = v % 100;
	char digits[24];
	int nd = 0;
	do {
		digits[nd++] = (char)('0' + whole % 10);
		whole /= 10;
	} while (whole);
	/* digits are reversed; emit with separators */
	size_t no = 0;
	for (int i = nd - 1; i >= 0; i--) {
		out[no++] = digits[i];
		if (i == 0)
			break;
		int sep = indian ? (i == 3 || (i > 3 && (i - 3) % 2 == 0)) : (i % 3 == 0);
		if (sep)
			out[no++] = ',';
	}
	out[no++] = '.';
	out[no++] = (char)('0' + cents / 10);
	out[no++] = (char)('0' + cents % 10);
	return no;
}

/* A formatted amount as its pieces: sign, symbol (or code and a space) and
 * digits, the last pointing into digits[40]. Returns how many. */
struct piece {
	const char *p;
	size_t n;
};

static int pieces(int64_t amount, const char *currency, char digits[40], struct piece out[4])
{
	const struct currency_fmt *cf = currency_fmt(currency);
	int k = 0;
	if (amount < 0)
		out[k++] = (struct piece){"-", 1};
	if (cf) {
		out[k++] = (struct piece){cf->symbol, strlen(cf->symbol)};
	} else {
		out[k++] = (struct piece){currency ? currency : "", currency ? strlen(currency) : 0};
		out[k++] = (struct piece){" ", 1};
	}
	out[k++] = (struct piece){digits, format_digits(digits, amount, cf && cf->indian)};
	return k;
}

void money_format(struct buf *b, int64_t amount, const char *currency)
{
	char digits[40];
	struct piece pc[4];
	int k = pieces(amount, currency, digits, pc);
	for (int i = 0; i < k; i++)
		buf_add(b, pc[i].p, pc[i].n);
}

char *money_format_to(char *out, size_t n, int64_t amount, const char *currency)
{
	char digits[40];
	struct piece pc[4];
	int k = pieces(amount, currency, digits, pc);
	size_t len = 0;
	for (int i = 0; i < k; i++) { /* as much as fits */
		size_t m = pc[i].n < n - 1 - len ? pc[i].n : n - 1 - len;
		memcpy(out + len, pc[i].p, m);
		len += m;
	}
	out[len] = '\0';
	return out;
}
