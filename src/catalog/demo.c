#include "catalog/demo.h"

#include <stdio.h>
#include <string.h>

#include "catalog/product.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "db/db.h"
#include "market/market.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *name;
	int popularity, rating; /* rating in tenths of a star */
	const char *demographics;
	const char *markets; /* where the brand sells: "US", "IN" or "US,IN" */
} brands[] = {
	{"Zara", 95, 41, "[\"women\",\"men\",\"18-35\"]", "US,IN"},
	{"H&M", 90, 38, "[\"women\",\"men\",\"kids\"]", "US,IN"},
	{"Levi's", 88, 45, "[\"women\",\"men\"]", "US,IN"},
	{"Mango", 80, 42, "[\"women\",\"25-40\"]", "US,IN"},
	{"Uniqlo", 85, 44, "[\"women\",\"men\",\"basics\"]", "US"},
	{"Nike", 97, 46, "[\"sport\",\"unisex\"]", "US,IN"},
	{"Adidas", 93, 45, "[\"sport\",\"unisex\"]", "US,IN"},
	{"Fabindia", 78, 43, "[\"women\",\"ethnic\"]", "IN"},
	{"Biba", 74, 40, "[\"women\",\"ethnic\"]", "IN"},
	{"W for Woman", 70, 39, "[\"women\",\"25-45\"]", "IN"},
	{"Everlane", 72, 44, "[\"women\",\"men\",\"sustainable\"]", "US"},
	{"Coach", 82, 47, "[\"women\",\"luxury\"]", "US,IN"},
	{"Aldo", 68, 39, "[\"women\",\"men\"]", "US,IN"},
	{"Anokhi", 66, 43, "[\"women\",\"handblock\"]", "IN"},
};

static const struct {
	const char *slug, *name, *parent;
	int order;
} subcategories[] = {
	{"maxi-dresses", "Maxi dresses", "dresses", 1}, {"midi-dresses", "Midi dresses", "dresses", 2},
	{"t-shirts", "T-shirts", "tops", 1},            {"shirts", "Shirts", "tops", 2},
	{"kurtas", "Kurtas", "tops", 3},                {"jeans", "Jeans", "bottoms", 1},
	{"skirts", "Skirts", "bottoms", 2},             {"sneakers", "Sneakers", "shoes", 1},
	{"heels", "Heels", "shoes", 2},                 {"totes", "Totes", "bags", 1},
	{"jewellery", "Jewellery", "accessories", 1},
};

/* What a product of each category is made of: nouns, sizes, price range. */
static const struct {
	const char *category;
	const char *nouns[4];
	const char *sizes[6];
	int nsizes;
	int min_usd, max_usd; /* whole dollars */
} kinds[] = {
	{"maxi-dresses", {"Maxi Dress", "Tiered Maxi", "Slip Maxi", "Wrap Maxi"}, {"XS", "S", "M", "L", "XL"}, 5, 40, 160},
	{"midi-dresses", {"Midi Dress", "Shirt Dress", "Tea Dress", "Pleated Midi"}, {"XS", "S", "M", "L", "XL"}, 5, 35, 140},
	{"dresses", {"Mini Dress", "Bodycon Dress", "Sundress", "Anarkali"}, {"XS", "S", "M", "L", "XL"}, 5, 30, 120},
	{"t-shirts", {"Crew Tee", "V-Neck Tee", "Graphic Tee", "Pocket Tee"}, {"XS", "S", "M", "L", "XL", "XXL"}, 6, 12, 45},
	{"shirts", {"Oxford Shirt", "Linen Shirt", "Poplin Shirt", "Denim Shirt"}, {"S", "M", "L", "XL"}, 4, 30, 90},
	{"kurtas", {"Straight Kurta", "A-Line Kurta", "Block Print Kurta", "Kurta Set"}, {"XS", "S", "M", "L", "XL"}, 5, 20, 80},
	{"tops", {"Blouse", "Camisole", "Crop Top", "Tunic"}, {"XS", "S", "M", "L", "XL"}, 5, 18, 70},
	{"jeans", {"Slim Jeans", "Straight Jeans", "Mom Jeans", "Wide-Leg Jeans"}, {"26", "28", "30", "32", "34"}, 5, 40, 130},
	{"skirts", {"Pleated Skirt", "Denim Skirt", "Wrap Skirt", "Midi Skirt"}, {"XS", "S", "M", "L"}, 4, 25, 90},
	{"bottoms", {"Chinos", "Palazzo Pants", "Joggers", "Cargo Pants"}, {"S", "M", "L", "XL"}, 4, 25, 95},
	{"sneakers", {"Running Sneaker", "Court Sneaker", "High-Top", "Slip-On"}, {"6", "7", "8", "9", "10", "11"}, 6, 50, 180},
	{"heels", {"Block Heel", "Stiletto", "Kitten Heel", "Wedge"}, {"5", "6", "7", "8", "9"}, 5, 45, 200},
	{"shoes", {"Loafer", "Ankle Boot", "Sandal", "Kolhapuri"}, {"6", "7", "8", "9", "10"}, 5, 30, 220},
	{"totes", {"Canvas Tote", "Leather Tote", "Shopper Tote", "Jute Tote"}, {"One Size"}, 1, 25, 350},
	{"bags", {"Crossbody Bag", "Backpack", "Clutch", "Saddle Bag"}, {"One Size"}, 1, 30, 400},
	{"jewellery", {"Hoop Earrings", "Pendant Necklace", "Bangle Set", "Jhumkas"}, {"One Size"}, 1, 10, 120},
	{"accessories", {"Silk Scarf", "Leather Belt", "Sunglasses", "Baseball Cap"}, {"One Size"}, 1, 12, 150},
};

static const char *const colors[] = {"black", "white", "navy", "red", "olive", "beige", "blue", "pink",
				     "mustard", "grey", "green", "maroon"};
static const char *const adjectives[] = {"Classic", "Relaxed", "Everyday", "Summer", "Linen", "Organic Cotton",
					 "Festive", "Vintage", "Tailored", "Breezy", "Printed", "Embroidered",
					 "Cropped", "Oversized", "Satin", "Ribbed"};
static const char *const tags[] = {"summer", "workwear", "festive", "casual", "party", "sustainable",
				   "bestseller", "new", "travel", "wedding"};

/* xorshift64*: the same sequence for the same product index. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static bool exec(struct db *db, const char *sql, const struct db_val *p, int n)
{
	return db_exec(db, sql, p, n, NULL) == DB_OK;
}

/* Demo merchants (one per market) and the taxonomy the products use. */
static bool reference(struct db *db, int64_t now, int64_t *merchants, int64_t *brand_ids,
		      int64_t *kind_cats)
{
	static const struct {
		const char *code, *name, *market, *type;
	} ms[] = {{"mandi-demo-us", "Mandi Demo US", "US", "api"}, {"mandi-demo-in", "Mandi Demo India", "IN", "feed"}};
	for (size_t i = 0; i < N(ms); i++) {
		if (!exec(db,
			  "INSERT INTO merchants (name, code, market_id, integration_type, commission_rate_bps, "
			  "created_at) SELECT $1, $2, id, $4, 1000, $5 FROM markets WHERE code = $3 "
			  "ON CONFLICT (code) DO NOTHING",
			  DBV(DT(ms[i].name), DT(ms[i].code), DT(ms[i].market), DT(ms[i].type), DI(now))) ||
		    db_scalar(db, &merchants[i], 0, "SELECT id FROM merchants WHERE code = $1",
			      DBV(DT(ms[i].code))) != DB_OK || !merchants[i])
			return false;
	}
	for (size_t i = 0; i < N(subcategories); i++)
		if (!exec(db,
			  "INSERT INTO categories (slug, name, parent_id, display_order) SELECT $1, $2, id, $4 "
			  "FROM categories WHERE slug = $3 ON CONFLICT (slug) DO NOTHING",
			  DBV(DT(subcategories[i].slug), DT(subcategories[i].name), DT(subcategories[i].parent),
			      DI(subcategories[i].order))))
			return false;
	for (size_t i = 0; i < N(brands); i++) {
		char slug[64];
		catalog_slugify(brands[i].name, slug, sizeof(slug));
		const char *sp = slug;
		if (!exec(db,
			  "INSERT INTO brands (name, slug, popularity_score, quality_rating, demographics, "
			  "created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
			  DBV(DT(brands[i].name), DT(sp), DI(brands[i].popularity), DI(brands[i].rating),
			      DT(brands[i].demographics), DI(now))) ||
		    !(brand_ids[i] = brand_id_of(db, brands[i].name)))
			return false;
	}
	for (size_t i = 0; i < N(kinds); i++)
		if (!(kind_cats[i] = category_id_of(db, kinds[i].category)))
			return false;
	return true;
}

/* One demo product, i-th of the sequence. */
static bool product(struct db *db, int64_t i, int64_t now, const int64_t *merchants,
		    const int64_t *brand_ids, const int64_t *kind_cats, const struct market *us,
		    const struct market *in)
{
	uint64_t s = 0x9e3779b97f4a7c15ULL ^ (uint64_t)(i + 1) * 0xbf58476d1ce4e5b9ULL;
	rnd(&s);
	size_t k = rnd(&s) % N(kinds), b = rnd(&s) % N(brands);
	size_t ai = rnd(&s) % N(adjectives);
	const char *noun = kinds[k].nouns[rnd(&s) % 4];
	if (strstr(noun, adjectives[ai])) /* no "Linen Linen Shirt" */
		ai = (ai + 1) % N(adjectives);
	const char *adj = adjectives[ai];
	const char *color = colors[rnd(&s) % N(colors)];
	/* where it sells follows the brand, with a few single-market exceptions */
	bool in_us = strstr(brands[b].markets, "US") != NULL, in_in = strstr(brands[b].markets, "IN") != NULL;
	if (in_us && in_in && i % 13 == 5)
		in_in = false;
	else if (in_us && in_in && i % 17 == 7)
		in_us = false;
	int64_t merchant = in_us ? merchants[0] : merchants[1];
	char name[160], desc[400], tagj[80], code[32], images[96];
	snprintf(name, sizeof(name), "%s %s %s", brands[b].name, adj, noun);
	snprintf(desc, sizeof(desc),
		 "A %s %s in %s from %s. %s fit, easy care, made to last beyond one season.",
		 adj, noun, color, brands[b].name, rnd(&s) % 2 ? "True to size" : "Relaxed");
	snprintf(tagj, sizeof(tagj), "[\"%s\",\"%s\"]", tags[rnd(&s) % N(tags)], tags[rnd(&s) % N(tags)]);
	snprintf(code, sizeof(code), "DEMO-%07lld", (long long)i);
	snprintf(images, sizeof(images), "[\"https://cdn.mandi.example/demo/%s.jpg\"]", code);
	int64_t created = now - (int64_t)(rnd(&s) % (180 * 86400));
	int64_t popularity = (int64_t)(rnd(&s) % 1000) * brands[b].popularity / 100;
	struct db_res r;
	if (db_query(db, &r,
		     "INSERT INTO products (merchant_id, brand_id, category_id, name, description, tags, status, "
		     "popularity, created_at, updated_at, external_id) VALUES ($1, $2, $3, $4, $5, $6, "
		     "'active', $7, $8, $8, $9) RETURNING id",
		     DBV(DI(merchant), DI(brand_ids[b]), DI(kind_cats[k]), DS(name), DS(desc), DS(tagj),
			 DI(popularity), DI(created), DS(code))) != DB_OK)
		return false;
	int64_t pid = db_int(&r, 0, 0);
	db_res_free(&r);
	int64_t usd = kinds[k].min_usd + (int64_t)(rnd(&s) % (uint64_t)(kinds[k].max_usd - kinds[k].min_usd + 1));
	int64_t price_us = usd * 100 - 1;                        /* $49.99 */
	int64_t price_in = ((usd * 60 + 49) / 50 * 50) * 100 - 100; /* ₹2,999.00 */
	/* up to four sizes from the kind's run, one colour per product */
	int nsz = kinds[k].nsizes < 4 ? kinds[k].nsizes : 2 + (int)(rnd(&s) % 3);
	int first = kinds[k].nsizes > nsz ? (int)(rnd(&s) % (uint64_t)(kinds[k].nsizes - nsz + 1)) : 0;
	for (int v = 0; v < nsz; v++) {
		char sku[48];
		snprintf(sku, sizeof(sku), "%s-%d", code, v);
		const char *size = kinds[k].sizes[first + v];
		if (db_query(db, &r,
			     "INSERT INTO product_variants (product_id, sku, size, color, images, created_at) "
			     "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
			     DBV(DI(pid), DS(sku), DT(size), DT(color), DS(images), DI(created))) != DB_OK)
			return false;
		int64_t vid = db_int(&r, 0, 0);
		db_res_free(&r);
		/* stock: mostly healthy, some low, some sold out */
		uint64_t roll = rnd(&s) % 100;
		int64_t stock = roll < 8 ? 0 : roll < 20 ? 1 + (int64_t)(rnd(&s) % 5) : 10 + (int64_t)(rnd(&s) % 90);
		if ((in_us && !exec(db, "INSERT INTO product_prices (variant_id, market_id, price) VALUES ($1, $2, $3)",
				    DBV(DI(vid), DI(us->id), DI(price_us)))) ||
		    (in_in && !exec(db, "INSERT INTO product_prices (variant_id, market_id, price) VALUES ($1, $2, $3)",
				    DBV(DI(vid), DI(in->id), DI(price_in)))) ||
		    !exec(db,
			  "INSERT INTO inventory (variant_id, stock, reserved, low_stock_threshold, updated_at) "
			  "VALUES ($1, $2, 0, 5, $3)",
			  DBV(DI(vid), DI(stock), DI(now))))
			return false;
	}
	return true;
}

bool demo_catalog_seed(struct db *db, int64_t n)
{
	const struct market *us = market_get("US"), *in = market_get("IN");
	int64_t now = time_now(), have = 0, merchants[2], brand_ids[N(brands)], kind_cats[N(kinds)];
	if (!us || !in)
		return false;
	if (db_begin(db) != DB_OK)
		return false;
	if (!reference(db, now, merchants, brand_ids, kind_cats) ||
	    db_scalar(db, &have, 0, "SELECT COUNT(*) FROM products WHERE external_id LIKE 'DEMO-%'", DBV0) != DB_OK)
		goto fail;
	for (int64_t i = have; i < n; i++)
		if (!product(db, i, now, merchants, brand_ids, kind_cats, us, in))
			goto fail;
	if (have < n && !product_reindex_all(db))
		goto fail;
	if (db_commit(db) != DB_OK)
		goto fail;
	log_info("demo catalog: %lld products (%lld new)", (long long)(n > have ? n : have),
		 (long long)(n > have ? n - have : 0));
	return true;
fail:
	db_rollback(db);
	return false;
}
