/* libFuzzer driver: request bodies through the validating JSON reader. */
#include <stddef.h>
#include <stdint.h>

#include "core/jsonin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct verr e;
	json_t *j = jsonin_parse_object((const char *)data, size, &e);
	if (!j)
		return 0;
	static const char *const allowed[] = {"market", "quantity", "name", NULL};
	int64_t q;
	const char *s;
	json_t *o;
	(void)jsonin_only(j, allowed, "", &e);
	(void)jsonin_int(j, "quantity", false, 1, 100, 1, &q, &e);
	(void)jsonin_str(j, "name", false, 1, 100, NULL, &s, &e);
	(void)jsonin_obj(j, "payment", false, &o, &e);
	(void)jsonin_arr(j, "variants", false, 50, &o, &e);
	json_decref(j);
	return 0;
}
