/* test_gather.c: a batch's rows and labels gathered
 * (cells/training/gather.c): by an order, through a map, or consecutive;
 * small and large batches; at 1 and 3 threads the same rows, every one
 * written, and each row's label. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cells/training/gather.h"
#include "plugin_host/host_services.h"

Test(gather, rows_by_order_map_or_consecutive_at_any_thread_count)
{
    enum { N = 500, W = 784 };
    float *x = malloc(N * W * sizeof *x), *dst = malloc(N * W * sizeof *dst);
    uint32_t order[N], map[N];
    int32_t y[N], labels[N];
    for (size_t i = 0; i < N * W; i++) x[i] = (float)i;
    for (int32_t i = 0; i < N; i++) y[i] = 1000 + i;
    for (uint32_t i = 0; i < N; i++) order[i] = (i * 7919u) % N, map[i] = N - 1 - i;
    static const size_t batches[] = {1, 7, 100, 333};
    static const int threads[] = {1, 3};
    for (size_t b = 0; b < sizeof batches / sizeof *batches; b++)
        for (size_t t = 0; t < 2; t++)
            for (int kind = 0; kind < 4; kind++) { /* consecutive, order, map, order then map */
                size_t B = batches[b], first = 100;
                const uint32_t *rows = kind & 1 ? order : NULL, *m = kind & 2 ? map : NULL;
                host_set_kernel_threads(threads[t]);
                for (size_t i = 0; i < B * W; i++) dst[i] = NAN;
                memset(labels, 0xff, sizeof labels);
                const batch_rows_t src = {x, y, W, rows, m};
                gather_rows(&src, first, B, dst, labels);
                for (size_t r = 0; r < B; r++) {
                    size_t i = rows ? rows[first + r] : first + r;
                    if (m) i = m[i];
                    cr_assert_eq(memcmp(dst + r * W, x + i * W, W * sizeof *x), 0,
                                 "batch %zu, %d threads, kind %d: row %zu is not data row %zu", B, threads[t], kind, r,
                                 i);
                    cr_assert_eq(labels[r], y[i], "batch %zu, kind %d: label %zu", B, kind, r);
                }
            }
    host_set_kernel_threads(1);
    free(x), free(dst);
}
