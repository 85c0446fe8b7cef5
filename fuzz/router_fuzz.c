/* libFuzzer driver: request paths through the route table matcher. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *methods[] = {"GET", "POST", "PUT", "DELETE"};
	if (size < 1)
		return 0;
	char *path = malloc(size);
	memcpy(path, data + 1, size - 1);
	path[size - 1] = '\0';
	struct req r;
	memset(&r, 0, sizeof(r));
	(void)router_match(&r, methods[data[0] % 4], path);
	arena_free(&r.a);
	free(path);
	return 0;
}
