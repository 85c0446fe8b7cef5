/* Bearer tokens per CONTRACT §2: HS256 JWTs verified with libjwt, alg pinned. */
#ifndef MANDI_AUTH_H
#define MANDI_AUTH_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/req.h"

/**
 * Verify a compact JWT with secret: header alg must be HS256, signature
 * valid, `exp` present and in the future (at `now`), `sub` a non-empty
 * string and `role` one of customer|merchant|admin. Fills out on success;
 * on failure writes a short reason into why.
 */
bool auth_verify(const char *token, const char *secret, int64_t now, struct auth *out,
		 char *why, size_t whylen);
/** Mint a token (for `mandi token` and tests). Caller frees. NULL on error. */
char *auth_mint(const char *secret, const char *sub, const char *role, int64_t merchant_id,
		int64_t exp);
/** Name of a role ("customer"); role_parse is its inverse (false if unknown). */
const char *role_name(enum role r);
bool role_parse(const char *s, enum role *out);

#endif
