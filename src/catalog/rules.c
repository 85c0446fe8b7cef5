/* The catalog's pure rules (no database): product statuses, stock status,
 * slugs. The feed parser and the fuzzer link these alone. */
#include <ctype.h>
#include <stdbool.h>

#include "catalog/product.h"

const char *const product_statuses[] = {"active", "draft", "archived", NULL};

enum stock_status stock_status_of(int64_t stock, int64_t reserved, int64_t threshold)
{
	int64_t avail = stock - reserved;
	if (avail <= 0)
		return STOCK_OUT;
	return avail <= threshold ? STOCK_LOW : STOCK_IN;
}

const char *stock_status_name(enum stock_status s)
{
	static const char *const names[] = {"out_of_stock", "low_stock", "in_stock"};
	return names[s];
}

void catalog_slugify(const char *name, char *out, size_t n)
{
	size_t j = 0;
	bool dash = false;
	for (const unsigned char *s = (const unsigned char *)name; *s && j + 2 < n; s++) {
		if (isalnum(*s) || *s >= 0x80) {
			if (dash && j)
				out[j++] = '-';
			out[j++] = (char)tolower(*s);
			dash = false;
		} else {
			dash = true;
		}
	}
	out[j] = 0;
}

