/* test_idx.c: the IDX reader on small generated sets (plain and gzip), on
 * every kind of damage, and on Fashion-MNIST when Debian's package is there. */
#include <zlib.h>

#include "e2e_helpers.h"
#include "cells/training/idx.h"

/* An IDX image of `nd` dimensions of unsigned bytes, value (i * 7) % 256. */
static size_t make_idx(uint8_t *buf, uint32_t nd, const uint32_t *dims)
{
    size_t n = 4, count = 1;
    buf[0] = buf[1] = 0, buf[2] = IDX_TYPE_UBYTE, buf[3] = (uint8_t)nd;
    for (uint32_t i = 0; i < nd; i++) {
        buf[n++] = (uint8_t)(dims[i] >> 24), buf[n++] = (uint8_t)(dims[i] >> 16);
        buf[n++] = (uint8_t)(dims[i] >> 8), buf[n++] = (uint8_t)dims[i];
        count *= dims[i];
    }
    for (size_t i = 0; i < count; i++) buf[n++] = (uint8_t)(i * 7);
    return n;
}

/* gzip (not zlib) framing, as the .gz files are. */
static size_t gzip_bytes(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
    z_stream zs = {0};
    cr_assert_eq(deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    zs.next_in = (Bytef *)in, zs.avail_in = (uInt)len;
    zs.next_out = out, zs.avail_out = (uInt)cap;
    cr_assert_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
    size_t n = cap - zs.avail_out;
    deflateEnd(&zs);
    return n;
}

static uint8_t plain[4096], gz[8192];
static const uint32_t dims3[] = {5, 4, 3};

Test(idx, plain_and_gzip_decode_alike)
{
    size_t n = make_idx(plain, 3, dims3), g = gzip_bytes(plain, n, gz, sizeof gz);
    idx_array_t a, b;
    err_t err;
    cr_assert_eq(idx_decode(plain, n, "p", false, &a, &err), ERR_OK, "%s", err.msg);
    cr_assert_eq(idx_decode(gz, g, "g", false, &b, &err), ERR_OK, "%s", err.msg);
    cr_expect_eq(a.n_dims, 3);
    cr_expect(a.dims[0] == 5 && a.dims[1] == 4 && a.dims[2] == 3);
    cr_expect_eq(a.count, 60);
    cr_expect_eq(a.data[59], (uint8_t)(59 * 7));
    cr_expect_eq(b.count, a.count);
    cr_expect_eq(memcmp(a.data, b.data, a.count), 0);
    idx_free(&a), idx_free(&b);
}

Test(idx, multi_member_gzip)
{
    /* gzip -c a >x; gzip -c b >>x is a valid gzip file of a then b */
    size_t n = make_idx(plain, 3, dims3);
    size_t g1 = gzip_bytes(plain, 20, gz, sizeof gz);
    size_t g2 = gzip_bytes(plain + 20, n - 20, gz + g1, sizeof gz - g1);
    idx_array_t a;
    err_t err;
    cr_assert_eq(idx_decode(gz, g1 + g2, "m", false, &a, &err), ERR_OK, "%s", err.msg);
    cr_expect_eq(a.count, 60);
    cr_expect_eq(a.data[40], (uint8_t)(40 * 7));
    idx_free(&a);
}

typedef struct {
    const char *what, *expect;
} damage_t;

static const damage_t damages[] = {
    {"empty", "too short for an IDX header (0 bytes)"},
    {"bad_magic", "not an IDX file: it starts with 50 4B 03 04"},
    {"float_type", "at byte 2: element type 0x0D (float) is not supported"},
    {"zero_dims", "at byte 3: 0 dimensions; expected 1 (labels) to 4"},
    {"five_dims", "at byte 3: 5 dimensions"},
    {"truncated_header", "truncated header: 3 dimensions need 12 bytes after byte 4, the file has 6"},
    {"zero_dimension", "at byte 8: dimension 1 is 0"},
    {"huge_declared", "the header declares more than 2147483648 bytes of data"},
    {"truncated_data", "truncated: the header declares 60 bytes of data after its 16, the file has 59"},
    {"trailing_bytes", "has more data than its header declares (60 bytes after 16 of header)"},
    {"gzip_truncated", "the gzip data ends early (truncated download?)"},
    {"gzip_corrupt", "corrupt gzip data"},
    {"gzip_truncated_data", "truncated: the header declares 60 bytes of data after its 16, the file has 50"},
};
INDEX_PARAMS(idx, every_damage_has_its_message, damages)

ParameterizedTest(size_t *i, idx, every_damage_has_its_message)
{
    const damage_t *d = &damages[*i];
    size_t n = make_idx(plain, 3, dims3);
    const uint8_t *bytes = plain;
    size_t len = n;
    if (!strcmp(d->what, "empty")) len = 0;
    else if (!strcmp(d->what, "bad_magic")) memcpy(plain, "PK\x03\x04", 4);
    else if (!strcmp(d->what, "float_type")) plain[2] = 0x0D;
    else if (!strcmp(d->what, "zero_dims")) plain[3] = 0;
    else if (!strcmp(d->what, "five_dims")) plain[3] = 5;
    else if (!strcmp(d->what, "truncated_header")) len = 10;
    else if (!strcmp(d->what, "zero_dimension")) memset(plain + 8, 0, 4);
    else if (!strcmp(d->what, "huge_declared")) memset(plain + 4, 0xff, 12);
    else if (!strcmp(d->what, "truncated_data")) len = n - 1;
    else if (!strcmp(d->what, "trailing_bytes")) plain[n] = 1, len = n + 1;
    else if (!strcmp(d->what, "gzip_truncated")) bytes = gz, len = gzip_bytes(plain, n, gz, sizeof gz) - 12;
    else if (!strcmp(d->what, "gzip_corrupt")) {
        bytes = gz, len = gzip_bytes(plain, n, gz, sizeof gz);
        for (size_t k = 10; k < len - 8; k++) gz[k] ^= 0x5a;
    } else if (!strcmp(d->what, "gzip_truncated_data")) {
        bytes = gz, len = gzip_bytes(plain, n - 10, gz, sizeof gz);
    }
    idx_array_t a;
    err_t err = {0};
    cr_expect_neq(idx_decode(bytes, len, "damaged.idx", false, &a, &err), ERR_OK, "%s accepted", d->what);
    cr_expect(strstr(err.msg, d->expect), "%s: '%s' lacks '%s'", d->what, err.msg, d->expect);
    cr_expect_str_eq(err.mark.file, "damaged.idx");
    cr_expect_null(a.data, "%s: data left allocated", d->what);
}

static void write_bytes(const char *name, const uint8_t *b, size_t n)
{
    FILE *f = fopen(in_dir(name), "wb");
    cr_assert(f);
    fwrite(b, 1, n, f);
    fclose(f);
}

static void files_setup(void)
{
    e2e_make_dir("idx");
    uint32_t n5[] = {5}, n6[] = {6};
    uint8_t buf[256];
    size_t n = make_idx(plain, 3, dims3);
    write_bytes("images.idx", plain, n);
    write_bytes("images.idx.gz", gz, gzip_bytes(plain, n, gz, sizeof gz));
    n = make_idx(buf, 1, n5);
    for (int i = 0; i < 5; i++) buf[8 + i] = (uint8_t)(i % 3); /* labels 0 1 2 0 1 */
    write_bytes("labels.idx", buf, n);
    write_bytes("labels6.idx", buf, make_idx(buf, 1, n6));
}
static void files_teardown(void)
{
    e2e_remove_dir();
}

Test(idx, dataset_pairs_are_checked, .init = files_setup, .fini = files_teardown)
{
    idx_dataset_t d;
    err_t err;
    cr_assert_eq(idx_read_dataset(in_dir("images.idx.gz"), in_dir("labels.idx"), false, &d, &err), ERR_OK, "%s", err.msg);
    cr_expect(d.n == 5 && d.rows == 4 && d.cols == 3);
    cr_expect_eq(d.n_classes, 3);
    idx_dataset_free(&d);

    cr_expect_eq(idx_read_dataset(in_dir("images.idx"), in_dir("labels6.idx"), false, &d, &err), ERR_IO);
    cr_expect(strstr(err.msg, "has 6 labels but") && strstr(err.msg, "has 5 images"), "%s", err.msg);
    cr_expect_eq(idx_read_dataset(in_dir("labels.idx"), in_dir("images.idx"), false, &d, &err), ERR_IO);
    cr_expect(strstr(err.msg, "is this the labels file?"), "%s", err.msg);
    cr_expect_eq(idx_read_dataset(in_dir("missing.idx"), in_dir("labels.idx"), false, &d, &err), ERR_IO);
    cr_expect(strstr(err.msg, "cannot open: No such file"), "%s", err.msg);
    cr_expect_eq(idx_read_dataset(dir, in_dir("labels.idx"), false, &d, &err), ERR_IO);
    cr_expect(strstr(err.msg, "is not a regular file"), "%s", err.msg);
}

#define FASHION "/usr/share/datasets/fashion-mnist/"

Test(idx, fashion_mnist_test_set)
{
    if (access(FASHION "t10k-images-idx3-ubyte.gz", R_OK) != 0) cr_skip_test("dataset-fashion-mnist not installed");
    idx_dataset_t d;
    err_t err;
    cr_assert_eq(idx_read_dataset(FASHION "t10k-images-idx3-ubyte.gz", FASHION "t10k-labels-idx1-ubyte.gz", false, &d, &err),
                 ERR_OK, "%s", err.msg);
    cr_expect(d.n == 10000 && d.rows == 28 && d.cols == 28);
    cr_expect_eq(d.n_classes, 10);
    size_t per_class[10] = {0};
    for (size_t i = 0; i < d.n; i++) per_class[d.labels.data[i]]++;
    for (int c = 0; c < 10; c++) cr_expect_eq(per_class[c], 1000, "class %d", c);
    idx_dataset_free(&d);
}
