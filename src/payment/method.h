/*
 * Stored payment methods: a gateway token (never a card number) with brand,
 * last 4 and expiry for display, owned by one user in one market.
 */
#ifndef MANDI_PAYMENT_METHOD_H
#define MANDI_PAYMENT_METHOD_H
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "core/jsonin.h"

struct db;
struct market;

struct pay_method {
	int64_t id, created_at;
	int exp_month, exp_year;
	bool is_default;
	char user_id[128], market[4], gateway[24], type[16], token[200], brand[24], last4[8];
	char fingerprint[72], nickname[64];
};

/** A new method's input. */
struct pay_method_in {
	const char *user_id;
	const struct market *market;
	const char *gateway, *type, *token, *nickname;
	bool is_default;
};

/**
 * Check and store a method: the gateway must be offered in the market and
 * support saved methods of this type, the token must be the gateway's (a
 * card number is refused). The user's first method in a market becomes the
 * default.
 */
enum merr method_create(struct db *db, const struct pay_method_in *in, struct pay_method *out,
			struct verr *e) __attribute__((warn_unused_result));
/** Read one method (any owner); MERR_NOT_FOUND when none. */
enum merr method_get(struct db *db, int64_t id, struct pay_method *m);
/** The user's methods in a market (NULL: all markets), default first; count or -1. */
int method_list(struct db *db, const char *user_id, const struct market *m, struct pay_method **out);
/** Change nickname (NULL: keep) and/or make it the default (set_default). */
enum merr method_update(struct db *db, int64_t id, const char *nickname, bool set_default,
			struct pay_method *out, struct verr *e) __attribute__((warn_unused_result));
/** The payment object a saved method stands for ({"gateway", "token"|"vpa"}); new reference. */
json_t *method_payment_object(const struct pay_method *m);

#endif
