/*
 * Adding markets as data: one transaction writes the market row, its
 * gateways and its shipping methods; the caller then reloads the snapshot
 * (every other instance does within the market-reload job's interval).
 */
#ifndef MANDI_MARKET_ADMIN_H
#define MANDI_MARKET_ADMIN_H
#include "core/jsonin.h"
#include "market/market.h"

/**
 * Insert market m (code, currency, tax, shipping, gateways … already
 * validated by the caller); m->id is set on success. A code that exists
 * gives MERR_CONFLICT in e.
 */
enum merr market_create(struct db *db, struct market *m, struct verr *e)
	__attribute__((warn_unused_result));

#endif
