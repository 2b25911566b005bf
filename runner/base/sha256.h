/*
 * sha256.h: SHA-256 (FIPS 180-4), for the content hashes of the plugin and
 * data files an experiment used and of what its cells compute (the
 * fingerprint `--resume` compares). A collision-resistant hash, not FNV:
 * a rebuilt plugin or replaced data file must never pass for the old one.
 */
#ifndef RUNNER_SHA256_H
#define RUNNER_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define SHA256_BYTES 32
#define SHA256_HEX_LEN 65 /* 64 hex digits + NUL */

typedef struct {
    uint32_t state[8];
    uint64_t bytes; /* hashed so far */
    uint8_t block[64];
    size_t used; /* bytes of block filled */
} sha256_t;

void sha256_init(sha256_t *s);
void sha256_update(sha256_t *s, const void *data, size_t len);
void sha256_final(sha256_t *s, uint8_t out[SHA256_BYTES]);

/* One buffer's hash. */
void sha256(const void *data, size_t len, uint8_t out[SHA256_BYTES]);
/* Lower-case hex, as sha256sum prints it. */
void sha256_hex(const uint8_t digest[SHA256_BYTES], char out[SHA256_HEX_LEN]);
/* A file's hash, read in blocks (its errors name the path). */
err_code_t sha256_file(const char *path, uint8_t out[SHA256_BYTES], err_t *err);

#endif
