/*
 * Money: int64 minor units everywhere, rates in basis points. This module is
 * the only place that rounds (half up, on integers) and formats amounts.
 */
#ifndef MANDI_MONEY_H
#define MANDI_MONEY_H
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/** round_half_up(num / den) for num >= 0, den > 0, computed without overflow. */
int64_t money_div_round(int64_t num, int64_t den);
/** Tax added on top of a tax-exclusive amount: round_half_up(amount * bps / 10000). */
int64_t money_tax_exclusive(int64_t amount, int64_t rate_bps);
/** Tax inside a tax-inclusive amount: round_half_up(amount * r / (1 + r)). */
int64_t money_tax_inclusive(int64_t amount, int64_t rate_bps);
/** Percentage of an amount in basis points, rounded half up. */
int64_t money_percent(int64_t amount, int64_t bps);
/**
 * Append the display string of an amount: "$1,234.50", "₹1,23,456.00"
 * (Indian grouping for INR), "€12.00"; unknown currencies get "XYZ 1,234.50".
 */
void money_format(struct buf *b, int64_t amount, const char *currency);
/** Same into a fixed buffer; returns out. */
char *money_format_to(char *out, size_t n, int64_t amount, const char *currency);

#endif
