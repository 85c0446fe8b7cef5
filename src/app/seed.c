#include "app/seed.h"

#include <stdio.h>

#include "core/log.h"
#include "core/timeutil.h"
#include "db/db.h"

static const struct {
	const char *code, *name, *currency;
	int tax_bps, inclusive;
	long long free_threshold;
	const char *languages, *hours, *tz;
	int cod;
} markets[] = {
	{"US", "United States", "USD", 800, 0, 5000, "[\"en-US\"]", "9AM-9PM", "America/New_York", 0},
	{"IN", "India", "INR", 1800, 1, 99900, "[\"en-IN\",\"hi\"]", "9AM-9PM", "Asia/Kolkata", 1},
};

static const struct {
	const char *market, *code, *name, *kind;
	int priority;
} gateways[] = {
	{"US", "stripe", "Stripe", "card", 1},
	{"US", "paypal", "PayPal", "wallet", 2},
	{"US", "apple_pay", "Apple Pay", "wallet", 3},
	{"IN", "razorpay", "Razorpay", "card", 1},
	{"IN", "paytm", "Paytm", "wallet", 2},
	{"IN", "upi", "UPI", "upi", 3},
	{"IN", "cod", "Cash on delivery", "cod", 4},
};

static const struct {
	const char *market, *code, *name;
	long long cost;
	int min_days, max_days;
	const char *carrier;
} shipping[] = {
	{"US", "standard", "Standard", 599, 5, 7, "USPS"},
	{"US", "express", "Express", 1499, 2, 3, "UPS"},
	{"US", "same_day", "Same day", 2499, 0, 1, "Local courier"},
	{"IN", "standard", "Standard", 4900, 4, 7, "Delhivery"},
	{"IN", "express", "Express", 14900, 1, 2, "Blue Dart"},
};

static const struct {
	const char *slug, *name;
	int order;
} categories[] = {
	{"dresses", "Dresses", 1}, {"tops", "Tops", 2},   {"bottoms", "Bottoms", 3},
	{"shoes", "Shoes", 4},     {"bags", "Bags", 5},   {"accessories", "Accessories", 6},
};

static const struct {
	const char *code, *market, *kind;
	long long value, min_subtotal, per_user;
	const char *description;
} coupons[] = {
	{"WELCOME10", "US", "percent", 1000, 0, 1, "10% off your first order"},
	{"FESTIVE500", "IN", "fixed", 50000, 299900, 0, "Rs 500 off orders of Rs 2,999 or more"},
};

static const struct {
	const char *market, *code, *name, *description;
	long long price;
	int interval_days;
} plans[] = {
	{"US", "style-box-monthly", "Style Box", "Five hand-picked pieces every month", 4900, 30},
	{"IN", "style-box-monthly", "Style Box", "Five hand-picked pieces every month", 199900, 30},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static bool exec(struct db *db, const char *sql, const struct db_val *p, int n)
{
	return db_exec(db, sql, p, n, NULL) == DB_OK;
}

bool seed_reference(struct db *db)
{
	int64_t now = time_now();
	if (db_begin(db) != DB_OK)
		return false;
	bool ok = true;
	for (size_t i = 0; ok && i < N(markets); i++)
		ok = exec(db,
			  "INSERT INTO markets (code, name, currency, tax_rate_bps, prices_include_tax, "
			  "free_shipping_threshold, languages, business_hours, timezone, cod_supported, "
			  "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
			  "ON CONFLICT (code) DO NOTHING",
			  DBV(DT(markets[i].code), DT(markets[i].name), DT(markets[i].currency),
			      DI(markets[i].tax_bps), DI(markets[i].inclusive), DI(markets[i].free_threshold),
			      DT(markets[i].languages), DT(markets[i].hours), DT(markets[i].tz),
			      DI(markets[i].cod), DI(now)));
	for (size_t i = 0; ok && i < N(gateways); i++)
		ok = exec(db,
			  "INSERT INTO payment_gateways (market_id, code, name, kind, priority) "
			  "SELECT id, $2, $3, $4, $5 FROM markets WHERE code = $1 "
			  "ON CONFLICT (market_id, code) DO NOTHING",
			  DBV(DT(gateways[i].market), DT(gateways[i].code), DT(gateways[i].name),
			      DT(gateways[i].kind), DI(gateways[i].priority)));
	for (size_t i = 0; ok && i < N(shipping); i++)
		ok = exec(db,
			  "INSERT INTO shipping_methods (market_id, code, name, cost, min_days, max_days, "
			  "carrier, position) SELECT id, $2, $3, $4, $5, $6, $7, $8 FROM markets "
			  "WHERE code = $1 ON CONFLICT (market_id, code) DO NOTHING",
			  DBV(DT(shipping[i].market), DT(shipping[i].code), DT(shipping[i].name),
			      DI(shipping[i].cost), DI(shipping[i].min_days), DI(shipping[i].max_days),
			      DT(shipping[i].carrier), DI((int64_t)i)));
	for (size_t i = 0; ok && i < N(categories); i++) {
		ok = exec(db,
			  "INSERT INTO categories (slug, name, display_order) VALUES ($1, $2, $3) "
			  "ON CONFLICT (slug) DO NOTHING",
			  DBV(DT(categories[i].slug), DT(categories[i].name), DI(categories[i].order)));
		ok = ok && exec(db,
				"INSERT INTO category_market_order (category_id, market_id, display_order) "
				"SELECT c.id, m.id, $2 FROM categories c, markets m WHERE c.slug = $1 "
				"ON CONFLICT (category_id, market_id) DO NOTHING",
				DBV(DT(categories[i].slug), DI(categories[i].order)));
	}
	for (size_t i = 0; ok && i < N(coupons); i++)
		ok = exec(db,
			  "INSERT INTO coupons (code, market_id, kind, value, min_subtotal, per_user_limit, "
			  "description, created_at) SELECT $1, id, $3, $4, $5, $6, $7, $8 FROM markets "
			  "WHERE code = $2 ON CONFLICT (code) DO NOTHING",
			  DBV(DT(coupons[i].code), DT(coupons[i].market), DT(coupons[i].kind),
			      DI(coupons[i].value), DI(coupons[i].min_subtotal),
			      coupons[i].per_user ? DI(coupons[i].per_user) : DN,
			      DT(coupons[i].description), DI(now)));
	for (size_t i = 0; ok && i < N(plans); i++)
		ok = exec(db,
			  "INSERT INTO subscription_plans (market_id, code, name, description, price, "
			  "interval_days) SELECT id, $2, $3, $4, $5, $6 FROM markets WHERE code = $1 "
			  "ON CONFLICT (market_id, code) DO NOTHING",
			  DBV(DT(plans[i].market), DT(plans[i].code), DT(plans[i].name),
			      DT(plans[i].description), DI(plans[i].price), DI(plans[i].interval_days)));
	if (!ok) {
		db_rollback(db);
		return false;
	}
	return db_commit(db) == DB_OK;
}

bool seed_is_new(struct db *db)
{
	int64_t n = 0;
	return db_scalar(db, &n, 0, "SELECT COUNT(*) FROM products", DBV0) == DB_OK && n == 0;
}
