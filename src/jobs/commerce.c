/* Background jobs of the commerce area: stock reservations that lapsed,
 * the notification outbox, old idempotency keys. */
#include "commerce/checkout.h"
#include "http/idempotency.h"
#include "jobs/jobs.h"
#include "notify/notify.h"

static bool expire_reservations(struct db *db, int64_t now)
{
	return checkout_release_expired(db, now);
}

static bool deliver_notifications(struct db *db, int64_t now)
{
	return notify_deliver_due(db, now, 200);
}

static bool forget_idempotency_keys(struct db *db, int64_t now)
{
	return idempotency_cleanup(db, now);
}

const struct job jobs_commerce[] = {
	{"commerce.reservation_expiry", 30, expire_reservations},
	{"commerce.notification_delivery", 10, deliver_notifications},
	{"commerce.idempotency_cleanup", 3600, forget_idempotency_keys},
	{0},
};
