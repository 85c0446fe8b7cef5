#include "core/money.h"

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

void money_format(struct buf *b, int64_t amount, const char *currency)
{
	const struct currency_fmt *cf = NULL;
	for (size_t i = 0; i < sizeof(currencies) / sizeof(currencies[0]); i++)
		if (currency && strcmp(currencies[i].code, currency) == 0)
			cf = &currencies[i];
	uint64_t v = amount < 0 ? (uint64_t)0 - (uint64_t)amount : (uint64_t)amount;
	uint64_t whole = v / 100, cents = v % 100;
	char digits[24];
	int nd = 0;
	do {
		digits[nd++] = (char)('0' + whole % 10);
		whole /= 10;
	} while (whole);
	/* digits are reversed; emit with separators */
	char out[48];
	int no = 0;
	for (int i = nd - 1; i >= 0; i--) {
		out[no++] = digits[i];
		if (i == 0)
			break;
		int sep = cf && cf->indian ? (i == 3 || (i > 3 && (i - 3) % 2 == 0)) : (i % 3 == 0);
		if (sep)
			out[no++] = ',';
	}
	if (amount < 0)
		buf_addc(b, '-');
	if (cf) {
		buf_adds(b, cf->symbol);
	} else {
		buf_adds(b, currency ? currency : "");
		buf_addc(b, ' ');
	}
	buf_add(b, out, (size_t)no);
	buf_printf(b, ".%02u", (unsigned)cents);
}

char *money_format_to(char *out, size_t n, int64_t amount, const char *currency)
{
	struct buf b;
	buf_init(&b, 64);
	money_format(&b, amount, currency);
	size_t len = b.len < n - 1 ? b.len : n - 1;
	memcpy(out, b.p, len);
	out[len] = '\0';
	buf_free(&b);
	return out;
}
