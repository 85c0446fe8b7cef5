/* libFuzzer driver: shared idempotency records as Redis hands them back
 * (another instance, or anything else that can write the key, wrote them). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/idempotency.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size copy, so ASan sees any read past the record */
	char *v = malloc(size ? size : 1);
	memcpy(v, data, size);
	struct idem_record rec;
	if (idempotency_record_parse(v, size, &rec)) {
		if (rec.status < 200 || rec.status > 499 || rec.hash != v ||
		    rec.body < v || rec.body + rec.body_len != v + size)
			abort();
		volatile char sink = 0;
		for (size_t i = 0; i < rec.body_len; i++)
			sink ^= rec.body[i];
		(void)sink;
	}
	free(v);
	return 0;
}
