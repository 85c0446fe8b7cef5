#include "commerce/cart.h"

#include <stdio.h>
#include <string.h>

#include "core/timeutil.h"
#include "db/db.h"
#include "market/market.h"

/* Lines with catalog data: the price is the market's current one, NULL when
 * the variant is no longer sold there. */
static const char LINES_SQL[] =
	"SELECT ci.id, ci.product_id, ci.variant_id, p.merchant_id, v.sku, p.name, ci.quantity, "
	"pp.price, COALESCE(i.stock - i.reserved, 0), p.status "
	"FROM cart_items ci JOIN product_variants v ON v.id = ci.variant_id "
	"JOIN products p ON p.id = ci.product_id "
	"LEFT JOIN product_prices pp ON pp.variant_id = ci.variant_id AND pp.market_id = $2 "
	"LEFT JOIN inventory i ON i.variant_id = ci.variant_id "
	"WHERE ci.cart_id = $1 ORDER BY ci.id LIMIT 101"; /* one more than CART_MAX_LINES */

/* Copy text (NULL as "") into a fixed field, cut at its size. */
static void copy_text(char *dst, size_t n, const char *src)
{
	size_t len = src ? strnlen(src, n - 1) : 0;
	memcpy(dst, src ? src : "", len);
	dst[len] = '\0';
}

enum merr cart_load_id(struct db *db, int64_t cart_id, const struct market *m, struct cart *c)
{
	struct db_res res = {0};
	c->id = cart_id;
	c->market = m;
	c->nlines = 0;
	if (db_query(db, &res, LINES_SQL, DBV(DI(cart_id), DI(m->id))) != DB_OK)
		return MERR_INTERNAL;
	c->overfull = res.nrows > CART_MAX_LINES;
	for (int i = 0; i < res.nrows && i < CART_MAX_LINES; i++) {
		struct cart_line *l = &c->lines[c->nlines++];
		l->item_id = db_int(&res, i, 0);
		l->product_id = db_int(&res, i, 1);
		l->variant_id = db_int(&res, i, 2);
		l->merchant_id = db_int(&res, i, 3);
		copy_text(l->sku, sizeof(l->sku), db_text(&res, i, 4));
		copy_text(l->name, sizeof(l->name), db_text(&res, i, 5));
		l->quantity = db_int(&res, i, 6);
		l->sellable = !db_isnull(&res, i, 7) && strcmp(db_text(&res, i, 9), "active") == 0;
		l->unit_price = l->sellable ? db_int(&res, i, 7) : 0;
		l->line_total = l->unit_price * l->quantity;
		l->available = db_int(&res, i, 8);
	}
	db_res_free(&res);
	return MERR_OK;
}

enum merr cart_load(struct db *db, const char *user_id, const struct market *m, struct cart *c)
{
	int64_t id = 0;
	c->id = 0;
	c->market = m;
	c->nlines = 0;
	if (db_scalar(db, &id, 0, "SELECT id FROM carts WHERE user_id = $1 AND market_id = $2",
		      DBV(DT(user_id), DI(m->id))) != DB_OK)
		return MERR_INTERNAL;
	return id ? cart_load_id(db, id, m, c) : MERR_OK;
}

int cart_price_lines(const struct cart *c, struct price_line *out)
{
	int n = 0;
	for (int i = 0; i < c->nlines; i++)
		if (c->lines[i].sellable)
			out[n++] = (struct price_line){c->lines[i].unit_price, c->lines[i].quantity};
	return n;
}

/* The cart's id, created on first use, with updated_at brought up to now.
 * updated_at is in seconds, so most adds find it current and write nothing
 * here (a write dirties one more page per add). On a first add the upsert
 * touching updated_at on conflict makes RETURNING answer in both engines, and
 * two first adds at once end in one cart. */
static int cart_ensure(struct db *db, const char *user_id, int64_t market_id, int64_t now, int64_t *id)
{
	struct db_res res = {0};
	*id = 0;
	/* PostgreSQL: the row lock makes one user's adds take turns, so the
	 * line limit below holds between them (SQLite's write lock does already) */
	static const char *const sql[] = {
		"SELECT id, updated_at FROM carts WHERE user_id = $1 AND market_id = $2",
		"SELECT id, updated_at FROM carts WHERE user_id = $1 AND market_id = $2 FOR UPDATE",
	};
	int rc = db_query(db, &res, sql[db_conn_dialect(db)->for_update[0] != '\0'],
			  DBV(DT(user_id), DI(market_id)));
	if (rc == DB_OK && res.nrows == 1) {
		*id = db_int(&res, 0, 0);
		if (db_int(&res, 0, 1) < now)
			rc = db_exec(db, "UPDATE carts SET updated_at = $2 WHERE id = $1 AND updated_at < $2",
				     DBV(DI(*id), DI(now)), NULL);
		db_res_free(&res);
		return rc;
	}
	db_res_free(&res);
	if (rc != DB_OK)
		return rc;
	rc = db_query(db, &res,
		      "INSERT INTO carts (user_id, market_id, created_at, updated_at) VALUES ($1, $2, $3, $3) "
		      "ON CONFLICT (user_id, market_id) DO UPDATE SET updated_at = excluded.updated_at "
		      "RETURNING id",
		      DBV(DT(user_id), DI(market_id), DI(now)));
	if (rc == DB_OK)
		*id = res.nrows == 1 ? db_int(&res, 0, 0) : 0;
	db_res_free(&res);
	return rc == DB_OK && *id == 0 ? DB_ERROR : rc;
}

enum merr cart_line_for(struct db *db, const struct market *m, int64_t product_id,
			int64_t variant_id, int64_t qty, struct cart_line *l, struct verr *e)
{
	struct db_res res = {0};
	enum merr rc = MERR_INTERNAL;
	memset(l, 0, sizeof(*l));
	if (db_query(db, &res,
		     "SELECT v.product_id, pp.price, COALESCE(i.stock - i.reserved, 0), p.status, "
		     "p.merchant_id, v.sku, p.name "
		     "FROM product_variants v JOIN products p ON p.id = v.product_id "
		     "LEFT JOIN product_prices pp ON pp.variant_id = v.id AND pp.market_id = $2 "
		     "LEFT JOIN inventory i ON i.variant_id = v.id WHERE v.id = $1",
		     DBV(DI(variant_id), DI(m->id))) != DB_OK) {
		verr_set(e, MERR_INTERNAL, NULL, "internal error");
		goto out;
	}
	if (res.nrows == 0 || db_int(&res, 0, 0) != product_id) {
		verr_set(e, MERR_NOT_FOUND, "variant_id", "no variant %lld in product %lld",
			 (long long)variant_id, (long long)product_id);
		rc = MERR_NOT_FOUND;
		goto out;
	}
	if (db_isnull(&res, 0, 1) || strcmp(db_text(&res, 0, 3), "active") != 0) {
		verr_set(e, MERR_VALIDATION, "product_id", "this product is not sold in %s", m->code);
		rc = MERR_VALIDATION;
		goto out;
	}
	l->product_id = product_id;
	l->variant_id = variant_id;
	l->merchant_id = db_int(&res, 0, 4);
	copy_text(l->sku, sizeof(l->sku), db_text(&res, 0, 5));
	copy_text(l->name, sizeof(l->name), db_text(&res, 0, 6));
	l->quantity = qty;
	l->unit_price = db_int(&res, 0, 1);
	l->line_total = l->unit_price * qty;
	l->available = db_int(&res, 0, 2);
	l->sellable = true;
	rc = MERR_OK;
out:
	db_res_free(&res);
	return rc;
}

/* Why an add of qty on top of `have` units is refused, with cap = what may be held. */
static enum merr add_refusal(int64_t have, int64_t qty, int64_t available, struct verr *e)
{
	if (have + qty > CART_MAX_QTY)
		return verr_set(e, MERR_VALIDATION, "quantity", "at most %d of one item per cart (you have %lld)",
				CART_MAX_QTY, (long long)have),
		       MERR_VALIDATION;
	return verr_set(e, MERR_OUT_OF_STOCK, "quantity", "only %lld available",
			(long long)(available < 0 ? 0 : available)),
	       MERR_OUT_OF_STOCK;
}

/* One write transaction reads the variant, writes, and re-reads the cart
 * for the answer: the stock check sees what the write will (no gap between
 * them), and on SQLite one transaction instead of three cuts the WAL
 * lock traffic (each read outside a transaction takes and drops a read
 * mark, and re-marks after every commit). */
enum merr cart_add_item(struct db *db, const char *user_id, const struct market *m,
			int64_t product_id, int64_t variant_id, int64_t qty, struct cart *c,
			struct verr *e)
{
	enum merr rc = MERR_INTERNAL;
	struct cart_line l;
	int64_t now = time_now(), n = 0, have = 0, cart_id = 0;
	c->id = 0;
	c->market = m;
	c->nlines = 0;
	verr_set(e, MERR_INTERNAL, NULL, "internal error");
	if (db_begin(db) != DB_OK)
		return rc;
	if ((rc = cart_line_for(db, m, product_id, variant_id, qty, &l, e)) != MERR_OK)
		goto out;
	int64_t cap = l.available < CART_MAX_QTY ? l.available : CART_MAX_QTY;
	if (qty > cap) {
		rc = add_refusal(0, qty, l.available, e);
		goto out;
	}
	rc = MERR_INTERNAL;
	/* the merged quantity is capped by the upsert's WHERE: no read-then-write */
	if (cart_ensure(db, user_id, m->id, now, &cart_id) != DB_OK ||
	    db_exec(db,
		    "INSERT INTO cart_items (cart_id, product_id, variant_id, quantity, created_at, updated_at) "
		    "VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (cart_id, variant_id) "
		    "DO UPDATE SET quantity = cart_items.quantity + excluded.quantity, updated_at = excluded.updated_at "
		    "WHERE cart_items.quantity + excluded.quantity <= $6",
		    DBV(DI(cart_id), DI(product_id), DI(variant_id), DI(qty), DI(now), DI(cap)), &n) != DB_OK)
		goto out;
	if (n == 0) {
		if (db_scalar(db, &have, 0, "SELECT quantity FROM cart_items WHERE cart_id = $1 AND variant_id = $2",
			      DBV(DI(cart_id), DI(variant_id))) == DB_OK)
			rc = add_refusal(have, qty, l.available, e);
		goto out;
	}
	if (cart_load_id(db, cart_id, m, c) != MERR_OK)
		goto out;
	if (c->overfull) { /* a new line past the limit: the rollback below undoes it */
		verr_set(e, MERR_VALIDATION, "variant_id", "a cart holds at most %d different items",
			 CART_MAX_LINES);
		rc = MERR_VALIDATION;
		goto out;
	}
	if (db_commit(db) == DB_OK)
		rc = MERR_OK;
out:
	db_rollback(db);
	if (rc != MERR_OK)
		c->nlines = 0;
	return rc;
}

enum merr cart_set_quantity(struct db *db, const char *user_id, int64_t item_id, int64_t qty,
			    int64_t *market_id, struct verr *ve)
{
	struct db_res res = {0};
	enum merr e = MERR_INTERNAL;
	verr_set(ve, MERR_INTERNAL, NULL, "internal error");
	*market_id = 0;
	if (db_query(db, &res,
		     "SELECT c.market_id, COALESCE(i.stock - i.reserved, 0) FROM cart_items ci "
		     "JOIN carts c ON c.id = ci.cart_id LEFT JOIN inventory i ON i.variant_id = ci.variant_id "
		     "WHERE ci.id = $1 AND c.user_id = $2",
		     DBV(DI(item_id), DT(user_id))) != DB_OK)
		goto out;
	if (res.nrows == 0) {
		/* another user's item looks exactly like a missing one */
		verr_set(ve, MERR_NOT_FOUND, NULL, "no such cart item");
		e = MERR_NOT_FOUND;
		goto out;
	}
	*market_id = db_int(&res, 0, 0);
	if (qty > db_int(&res, 0, 1)) {
		verr_set(ve, MERR_OUT_OF_STOCK, "quantity", "only %lld available",
			 (long long)db_int(&res, 0, 1));
		e = MERR_OUT_OF_STOCK;
		goto out;
	}
	int rc = qty == 0 ? db_exec(db, "DELETE FROM cart_items WHERE id = $1", DBV(DI(item_id)), NULL)
			  : db_exec(db, "UPDATE cart_items SET quantity = $2, updated_at = $3 WHERE id = $1",
				    DBV(DI(item_id), DI(qty), DI(time_now())), NULL);
	e = rc == DB_OK ? MERR_OK : MERR_INTERNAL;
out:
	db_res_free(&res);
	return e;
}

int cart_clear(struct db *db, int64_t cart_id)
{
	return db_exec(db, "DELETE FROM cart_items WHERE cart_id = $1", DBV(DI(cart_id)), NULL);
}
