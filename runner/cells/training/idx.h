/*
 * idx.h: the IDX format of MNIST and Fashion-MNIST, plain or gzip.
 *
 * An IDX file is a header and a dense array: two zero bytes, a type byte
 * (0x08: unsigned bytes, the only type MNIST-format images and labels
 * use, and the only one accepted here), the number of dimensions, each
 * dimension as a big-endian uint32, then the data in row-major order.
 *
 * Everything is checked, and a bad file is an error naming it and the byte
 * offset, never a crash: the magic, the dimension count (1 to 4), sizes that
 * overflow or exceed IDX_MAX_BYTES, data shorter than the header declares
 * (truncated) or longer (trailing bytes), corrupt gzip. A pair of image and
 * label files must agree on the number of items.
 */
#ifndef RUNNER_IDX_H
#define RUNNER_IDX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/sha256.h"

#define IDX_MAX_DIMS 4
#define IDX_MAX_BYTES ((size_t)1 << 31) /* 2 GiB of data; Fashion-MNIST's train images are 47 MB */
#define IDX_TYPE_UBYTE 0x08

typedef struct {
    uint32_t n_dims;
    uint32_t dims[IDX_MAX_DIMS];
    size_t count;  /* product of dims */
    uint8_t *data; /* count bytes; malloc'd */
    uint8_t sha256[SHA256_BYTES]; /* of the file's bytes as read (gzip: compressed), by idx_read_file; zero when header_only */
} idx_array_t;

/* Decode an IDX file's bytes (gzip or plain; gzip is recognised by its
 * magic). `name` is what errors name. */
err_code_t idx_decode(const uint8_t *bytes, size_t len, const char *name, bool header_only, idx_array_t *out,
                      err_t *err);

/* Read and decode a file. */
err_code_t idx_read_file(const char *path, bool header_only, idx_array_t *out, err_t *err);

void idx_free(idx_array_t *a);

/* Images (n, rows, cols) and labels (n), checked against each other. */
typedef struct {
    idx_array_t images, labels;
    size_t n, rows, cols;
    unsigned n_classes; /* largest label + 1 */
} idx_dataset_t;

err_code_t idx_read_dataset(const char *images_path, const char *labels_path, bool images_header_only,
                            idx_dataset_t *out, err_t *err);
void idx_dataset_free(idx_dataset_t *d);

#endif
