/*
 * Saved shipping addresses: a user has any number, at most one default (the
 * first saved becomes it). Postal codes are checked per country: a US ZIP
 * (12345 or 12345-6789), an Indian PIN (six digits, not starting with 0).
 */
#ifndef MANDI_ADDRESS_H
#define MANDI_ADDRESS_H
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "core/jsonin.h"

struct db;

struct address {
	int64_t id;
	char name[128], line1[200], line2[200], city[100], state[100], postal_code[16], country[4],
		phone[32];
	bool is_default;
	int64_t created_at;
};

/** Fill a from a JSON object (name, line1, line2?, city, state?, postal_code,
 * country, phone?) with per-country postal code checks; field paths in e
 * are prefixed with prefix ("" or "shipping_address."). */
bool address_from_json(json_t *j, const char *prefix, struct address *a, struct verr *e);

/** Whether code is a valid postal code for country (US, IN; others: 3..10 chars). */
bool address_postal_ok(const char *country, const char *code);

/** Save a for user_id (fills a->id); becomes the default when asked or first. */
enum merr address_create(struct db *db, const char *user_id, struct address *a);
/** user_id's address by id (not_found for someone else's). */
enum merr address_get(struct db *db, const char *user_id, int64_t id, struct address *a);
/** user_id's default address (not_found when none). */
enum merr address_default(struct db *db, const char *user_id, struct address *a);
/** Make id the default. */
enum merr address_set_default(struct db *db, const char *user_id, int64_t id);
/** Delete one address. */
enum merr address_delete(struct db *db, const char *user_id, int64_t id);
/** All of user_id's addresses, default first (*out malloc'd; at most 50). */
int address_list(struct db *db, const char *user_id, struct address **out);
/** The address as a JSON object text (for sessions and orders; caller frees). */
char *address_json(const struct address *a);

#endif
