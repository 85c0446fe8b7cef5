/* libFuzzer driver: bearer tokens and list cursors from clients. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/cursor.h"
#include "http/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	struct auth a;
	char why[96];
	(void)auth_verify(s, "fuzz-secret-0123456789", 1700000000, &a, why, sizeof(why));
	int64_t keys[3];
	(void)cursor_decode(s, keys, 2);
	(void)cursor_decode(s, keys, 3);
	free(s);
	return 0;
}
