/* test_sha256.c: SHA-256 against FIPS 180-4's examples and sha256sum. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/sha256.h"

static void expect_hex(const uint8_t d[SHA256_BYTES], const char *want)
{
    char hex[SHA256_HEX_LEN];
    sha256_hex(d, hex);
    cr_expect_str_eq(hex, want);
}

Test(sha256, fips_examples)
{
    uint8_t d[SHA256_BYTES];
    sha256("abc", 3, d);
    expect_hex(d, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    sha256("", 0, d);
    expect_hex(d, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"; /* 448 bits: padding needs a second block */
    sha256(m, strlen(m), d);
    expect_hex(d, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

Test(sha256, a_million_a_in_uneven_pieces)
{
    sha256_t s;
    sha256_init(&s);
    char chunk[1024];
    memset(chunk, 'a', sizeof chunk);
    size_t left = 1000000;
    for (size_t piece = 1; left; piece = piece % 997 + 7) { /* pieces across block boundaries */
        size_t n = piece < left ? piece : left;
        sha256_update(&s, chunk, n);
        left -= n;
    }
    uint8_t d[SHA256_BYTES];
    sha256_final(&s, d);
    expect_hex(d, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

Test(sha256, every_length_around_the_padding_boundary_matches_one_shot)
{
    uint8_t buf[200];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)(i * 37 + 11);
    for (size_t len = 0; len <= sizeof buf; len++) {
        uint8_t one[SHA256_BYTES], split[SHA256_BYTES];
        sha256(buf, len, one);
        sha256_t s;
        sha256_init(&s);
        for (size_t i = 0; i < len; i++) sha256_update(&s, buf + i, 1);
        sha256_final(&s, split);
        cr_expect(memcmp(one, split, SHA256_BYTES) == 0, "length %zu", len);
    }
}

Test(sha256, a_file_hashes_as_sha256sum_prints_it)
{
    char path[] = "/tmp/runner_sha256_XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    for (int i = 0; i < 100000; i++) fputc(i % 251, f);
    fclose(f);
    uint8_t d[SHA256_BYTES];
    err_t err = {0};
    cr_assert_eq(sha256_file(path, d, &err), ERR_OK);
    char cmd[128], want[80] = "";
    snprintf(cmd, sizeof cmd, "sha256sum %s", path);
    FILE *p = popen(cmd, "r");
    cr_assert(p && fscanf(p, "%64s", want) == 1);
    pclose(p);
    expect_hex(d, want);
    unlink(path);
    cr_expect_eq(sha256_file(path, d, &err), ERR_IO);
    cr_expect(strstr(err.msg, "cannot open"), "%s", err.msg);
}
