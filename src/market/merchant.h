/* Merchants: who sells in a market, how their products arrive, their commission. */
#ifndef MANDI_MERCHANT_H
#define MANDI_MERCHANT_H
#include <stdint.h>

#include "core/error.h"
#include "core/jsonin.h"

struct db;

struct merchant {
	int64_t id;
	char name[128];
	char code[64];
	char market[4];
	char integration_type[8];
	int64_t commission_rate_bps;
	char status[16];
	int64_t created_at;
};

/** Allowed integration types, NULL-terminated. */
extern const char *const merchant_integration_types[];

/** Create a merchant; validates code format and integration type. Duplicate
 * code → MERR_CONFLICT with field "code". */
enum merr merchant_create(struct db *db, struct merchant *m, struct verr *e);
/** Up to limit merchants of market_id with id > after_id, in id order.
 * *out is malloc'ed (caller frees); returns the count or -1. */
int merchant_list(struct db *db, int64_t market_id, int64_t after_id, int64_t limit,
		  struct merchant **out);
/** Load one merchant by id or code (pass 0 / NULL for the other). */
enum merr merchant_get(struct db *db, int64_t id, const char *code, struct merchant *out);

#endif
