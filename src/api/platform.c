/* HTTP handlers: scale-out and platform integrations WS1-WS4 (issue 7). */
#include "api/api.h"

const struct route routes_platform[] = {
	{0},
};
