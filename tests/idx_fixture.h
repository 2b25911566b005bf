/*
 * idx_fixture.h: a small IDX data set made by the test (no download): three
 * classes of 8x8 images, each a bright block in its own place plus noise,
 * written into the test's directory (e2e_helpers.h). Test-only.
 */
#ifndef RUNNER_TEST_IDX_FIXTURE_H
#define RUNNER_TEST_IDX_FIXTURE_H

#include "e2e_helpers.h"

#define SIDE 8
static void write_idx(const char *name, const uint8_t *data, const uint32_t *dims, int n_dims)
{
    FILE *f = fopen(in_dir(name), "wb");
    cr_assert(f);
    uint8_t head[4] = {0, 0, 0x08, (uint8_t)n_dims};
    fwrite(head, 1, 4, f);
    size_t count = 1;
    for (int i = 0; i < n_dims; i++) {
        uint8_t be[4] = {(uint8_t)(dims[i] >> 24), (uint8_t)(dims[i] >> 16), (uint8_t)(dims[i] >> 8), (uint8_t)dims[i]};
        fwrite(be, 1, 4, f);
        count *= dims[i];
    }
    fwrite(data, 1, count, f);
    fclose(f);
}

static void make_split(const char *images, const char *labels, size_t n, uint64_t seed)
{
    uint8_t *x = malloc(n * SIDE * SIDE), *y = malloc(n);
    runner_rng_t rng = {seed};
    for (size_t i = 0; i < n; i++) {
        y[i] = (uint8_t)(i % 3);
        for (size_t p = 0; p < SIDE * SIDE; p++) {
            size_t r = p / SIDE, c = p % SIDE;
            bool on = y[i] == 0 ? r < 4 && c < 4 : y[i] == 1 ? r >= 4 && c >= 4 : r < 4 && c >= 4;
            x[i * SIDE * SIDE + p] = (uint8_t)((on ? 140 : 0) + (int)(100 * runner_rng_uniform(&rng)));
        }
    }
    uint32_t di[3] = {(uint32_t)n, SIDE, SIDE}, dl[1] = {(uint32_t)n};
    write_idx(images, x, di, 3);
    write_idx(labels, y, dl, 1);
    free(x), free(y);
}

/* train-* and t10k-* files of n_train and n_test samples in dir. */
static void make_idx_data_set(size_t n_train, size_t n_test)
{
    make_split("train-images-idx3-ubyte", "train-labels-idx1-ubyte", n_train, 1);
    make_split("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", n_test, 2);
}

#endif
