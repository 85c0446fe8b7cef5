#include "catalog/inventory.h"

#include <stdio.h>
#include <string.h>

#include "core/timeutil.h"
#include "db/db.h"

enum merr inventory_get(struct db *db, int64_t variant_id, struct inventory *out)
{
	memset(out, 0, sizeof(*out));
	struct db_res r;
	if (db_query(db, &r,
		     "SELECT v.id, v.product_id, p.merchant_id, v.sku, COALESCE(i.stock, 0), "
		     "COALESCE(i.reserved, 0), COALESCE(i.low_stock_threshold, 5), COALESCE(i.updated_at, 0) "
		     "FROM product_variants v JOIN products p ON p.id = v.product_id "
		     "LEFT JOIN inventory i ON i.variant_id = v.id WHERE v.id = $1",
		     DBV(DI(variant_id))) != DB_OK)
		return MERR_INTERNAL;
	enum merr m = MERR_NOT_FOUND;
	if (r.nrows) {
		out->variant_id = db_int(&r, 0, 0);
		out->product_id = db_int(&r, 0, 1);
		out->merchant_id = db_int(&r, 0, 2);
		snprintf(out->sku, sizeof(out->sku), "%s", db_text(&r, 0, 3));
		out->stock = db_int(&r, 0, 4);
		out->reserved = db_int(&r, 0, 5);
		out->low_stock_threshold = db_int(&r, 0, 6);
		out->updated_at = db_int(&r, 0, 7);
		m = MERR_OK;
	}
	db_res_free(&r);
	return m;
}

bool inventory_check_alert(struct db *db, int64_t variant_id, int64_t now)
{
	struct db_res r;
	if (db_query(db, &r,
		     "SELECT i.stock - i.reserved, i.low_stock_threshold, v.sku, v.product_id "
		     "FROM inventory i JOIN product_variants v ON v.id = i.variant_id "
		     "WHERE i.variant_id = $1",
		     DBV(DI(variant_id))) != DB_OK)
		return false;
	if (!r.nrows) {
		db_res_free(&r);
		return true;
	}
	int64_t avail = db_int(&r, 0, 0), threshold = db_int(&r, 0, 1), product = db_int(&r, 0, 3);
	char sku[72], key[64], msg[200], ctx[200];
	snprintf(sku, sizeof(sku), "%s", db_text(&r, 0, 2));
	db_res_free(&r);
	snprintf(key, sizeof(key), "low_stock:variant:%lld", (long long)variant_id);
	const char *kp = key, *mp = msg, *cp = ctx; /* DT() tests its argument for NULL */
	int64_t open = 0;
	if (db_scalar(db, &open, 0,
		      "SELECT COUNT(*) FROM system_alerts WHERE dedup_key = $1 AND status = 'open'",
		      DBV(DT(kp))) != DB_OK)
		return false;
	if (avail > threshold) {
		if (!open)
			return true;
		return db_exec(db,
			       "UPDATE system_alerts SET status = 'resolved', resolved_at = $2, "
			       "resolution = 'restocked' WHERE dedup_key = $1 AND status = 'open'",
			       DBV(DT(kp), DI(now)), NULL) == DB_OK;
	}
	if (open)
		return true;
	/* SKUs are [A-Za-z0-9._-] (product input checks), safe inside JSON */
	snprintf(msg, sizeof(msg), "Low stock: SKU %s has %lld available (threshold %lld)", sku,
		 (long long)avail, (long long)threshold);
	snprintf(ctx, sizeof(ctx),
		 "{\"variant_id\":%lld,\"product_id\":%lld,\"sku\":\"%s\",\"available\":%lld,"
		 "\"threshold\":%lld}",
		 (long long)variant_id, (long long)product, sku, (long long)avail, (long long)threshold);
	return db_exec(db,
		       "INSERT INTO system_alerts (alert_type, severity, message, context, status, "
		       "dedup_key, created_at) VALUES ('low_stock', 'medium', $1, $2, 'open', $3, $4)",
		       DBV(DT(mp), DT(cp), DT(kp), DI(now)), NULL) == DB_OK;
}

enum merr inventory_set(struct db *db, int64_t variant_id, int64_t stock, int64_t threshold,
			struct inventory *out, struct verr *e)
{
	int64_t now = time_now();
	enum merr m = MERR_INTERNAL;
	if (db_begin(db) != DB_OK)
		return MERR_UNAVAILABLE;
	if ((m = inventory_get(db, variant_id, out)) != MERR_OK)
		goto out;
	if (stock < 0)
		stock = out->stock;
	if (threshold < 0)
		threshold = out->low_stock_threshold;
	if (stock < out->reserved) {
		verr_set(e, MERR_CONFLICT, "stock", "stock cannot go below the %lld reserved units",
			 (long long)out->reserved);
		m = MERR_CONFLICT;
		goto out;
	}
	m = MERR_INTERNAL;
	if (db_exec(db,
		    "INSERT INTO inventory (variant_id, stock, reserved, low_stock_threshold, updated_at) "
		    "VALUES ($1, $2, 0, $3, $4) ON CONFLICT (variant_id) DO UPDATE SET stock = $2, "
		    "low_stock_threshold = $3, updated_at = $4",
		    DBV(DI(variant_id), DI(stock), DI(threshold), DI(now)), NULL) != DB_OK ||
	    !inventory_check_alert(db, variant_id, now))
		goto out;
	if (db_commit(db) != DB_OK)
		goto out;
	out->stock = stock;
	out->low_stock_threshold = threshold;
	out->updated_at = now;
	m = MERR_OK;
out:
	if (m != MERR_OK)
		db_rollback(db);
	return m;
}
