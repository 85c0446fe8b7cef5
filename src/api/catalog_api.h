/* Shared by the catalog area's handler files (catalog*.c). */
#ifndef MANDI_CATALOG_API_H
#define MANDI_CATALOG_API_H
#include "api/api.h"

/** Drop every cached catalog response (after any catalog write). */
void catalog_invalidate(void);

#endif
