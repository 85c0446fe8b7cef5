/*
 * Opaque list cursors (CONTRACT §1): the keyset position after the last item
 * of a page (e.g. sort value + id), as base64url text. A cursor a client
 * altered decodes to nothing and is refused with 400.
 */
#ifndef MANDI_CURSOR_H
#define MANDI_CURSOR_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CURSOR_MAX_KEYS 4
#define CURSOR_LEN 128

/** Encode nkeys integers into out (CURSOR_LEN bytes). */
void cursor_encode(char *out, const int64_t *keys, int nkeys);
/** Decode exactly nkeys integers; false for anything else. */
bool cursor_decode(const char *s, int64_t *keys, int nkeys);

/** base64url without padding; out needs 4*ceil(n/3)+1 bytes. */
size_t b64url_encode(char *out, const unsigned char *in, size_t n);
/** Decode base64url (padding optional); returns bytes written or -1. */
long b64url_decode(unsigned char *out, size_t outlen, const char *in, size_t n);

#endif
