/* Shared by the catalog area's handler files (catalog*.c). */
#ifndef MANDI_CATALOG_API_H
#define MANDI_CATALOG_API_H
#include "api/api.h"

/** Drop every cached catalog response (after any catalog write). */
void catalog_invalidate(void);

struct listing_item;
/** One product summary of a listing, search or collection in market mk. */
void catalog_write_item(struct jw *w, const struct listing_item *it, const struct market *mk);

#endif
