/*
 * Stock per variant: `stock`, `reserved` (held by checkouts; the commerce
 * area moves it), and a low-stock threshold. When available stock
 * (stock - reserved) is at or below the threshold an open `system_alerts`
 * row (alert_type low_stock, one per variant while open, dedup_key
 * "low_stock:variant:ID") tells operators; restocking resolves it.
 */
#ifndef MANDI_CATALOG_INVENTORY_H
#define MANDI_CATALOG_INVENTORY_H
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "core/jsonin.h"

struct db;

struct inventory {
	int64_t variant_id, product_id, merchant_id;
	char sku[72];
	int64_t stock, reserved, low_stock_threshold, updated_at;
};

/** Load the stock row of a variant (MERR_NOT_FOUND when there is no variant). */
enum merr inventory_get(struct db *db, int64_t variant_id, struct inventory *out)
	__attribute__((warn_unused_result));
/**
 * Set stock and/or threshold (negative = leave as is) in one transaction.
 * Stock below what is reserved is MERR_CONFLICT on "stock". Raises or
 * resolves the low-stock alert. *out gets the new row.
 */
enum merr inventory_set(struct db *db, int64_t variant_id, int64_t stock, int64_t threshold,
			struct inventory *out, struct verr *e) __attribute__((warn_unused_result));
/**
 * Raise the low-stock alert of a variant if it is at or below its threshold
 * and none is open, or resolve an open one once it is above (inside the
 * caller's transaction). Other areas call this after moving stock.
 */
bool inventory_check_alert(struct db *db, int64_t variant_id, int64_t now)
	__attribute__((warn_unused_result));

#endif
