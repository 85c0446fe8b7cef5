/* Reference data every installation needs (`mandi seed`), idempotent. */
#ifndef MANDI_SEED_H
#define MANDI_SEED_H
#include <stdbool.h>

struct db;

/** Markets (CONTRACT §3), gateways, shipping methods, the six categories,
 * the two coupons and a plan per market. Safe to run again. */
bool seed_reference(struct db *db);
/** Whether the database has no products yet (for `seed --demo --if-new`). */
bool seed_is_new(struct db *db);

#endif
