/*
 * Markets are data (rows in `markets`, `payment_gateways`,
 * `shipping_methods`), loaded into an immutable in-memory snapshot that
 * request threads read without locks. market_reload swaps in a new snapshot
 * after a write; old snapshots live until exit since readers may hold them.
 */
#ifndef MANDI_MARKET_H
#define MANDI_MARKET_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct db;
struct jw;

#define MARKET_MAX_GATEWAYS 8
#define MARKET_MAX_SHIPPING 8

struct market_gateway {
	char code[24];
	char name[48];
	char kind[16];   /**< card | wallet | upi | cod */
	int priority;
};

struct market_shipping {
	int64_t id;
	char code[24];
	char name[48];
	int64_t cost;
	int min_days, max_days;
	char carrier[48];
};

struct market {
	int64_t id;
	char code[4];
	char name[64];
	char currency[4];
	int64_t tax_rate_bps;
	bool prices_include_tax;
	int64_t free_shipping_threshold;
	char languages[128];       /**< JSON array text */
	char business_hours[32];
	char timezone[48];
	bool cod_supported;
	struct market_gateway gateways[MARKET_MAX_GATEWAYS];
	int ngateways;
	struct market_shipping shipping[MARKET_MAX_SHIPPING];
	int nshipping;
};

/** Load (or reload) every active, supported market from db. */
bool market_reload(struct db *db);
/** The market with this code, or NULL when unknown/unsupported. */
const struct market *market_get(const char *code);
/** The market with this id, or NULL. */
const struct market *market_by_id(int64_t id);
/** All markets in the snapshot, in id order; *n gets the count. */
const struct market *market_all(int *n);
/** Write one market's fields as GET /api/ecommerce/markets shows them, into
 * an object the caller opened (so it can add its own fields). */
void market_write_fields(struct jw *w, const struct market *m);
/** Pre-rendered body of GET /api/ecommerce/markets. */
const char *market_list_json(size_t *len);
/** A market's gateway by code, or NULL when the market does not offer it. */
const struct market_gateway *market_gateway(const struct market *m, const char *code);
/** A market's shipping method by code, or NULL. */
const struct market_shipping *market_shipping(const struct market *m, const char *code);
/** Free every snapshot (at exit). */
void market_shutdown(void);

#endif
