/*
 * host_services.h: the table of host functions handed to layer plugins
 * (runner_host_t in the public header), and the one switch over how many
 * threads a matrix product or a parallel_for may use.
 *
 * Matrix products go to the runner's kernels (kernels/gemm.h), or to
 * OpenBLAS when asked, always single-threaded per block; the runner shares
 * a product out over its own OpenMP threads in blocks of rows
 * (host_services.c says why), and only outside a parallel region, so cells
 * computed side by side never oversubscribe the cores.
 */
#ifndef RUNNER_HOST_SERVICES_H
#define RUNNER_HOST_SERVICES_H

#include <runner/plugin.h>
#include <stdbool.h>

#include "kernels/gemm.h"

/* The table every layer context points to. */
const runner_host_t *host_services(void);

/* Threads a product or a parallel_for may use when called outside a
 * parallel region (one cell has the machine). */
void host_set_kernel_threads(int threads);

/* The kernels every product uses from now on (RUNNER_KERNELS, else the
 * best this CPU runs: cmd_run sets it), and which they are. */
void host_set_kernels(kernels_t k);
kernels_t host_kernels(void);

/* How a product C (m x n) = op(A) op(B) with K terms is cut into blocks
 * of rows or columns of C, run side by side (host_services.c says why):
 * blocks of `each` rows (columns), the first `taller` one more, the last
 * shorter when taller is 0. With the runner's kernels the bits do not
 * depend on it; OpenBLAS's blocks depend on the shapes only. */
typedef struct {
    bool by_cols;
    size_t blocks, extent, each, taller;
} product_blocks_t;
product_blocks_t host_product_blocks(kernels_t k, size_t m, size_t n, size_t K, int threads);
/* Where block i starts along the cut side, and its length. */
void host_product_block(const product_blocks_t *bl, size_t i, size_t *at, size_t *len);

/* The threads a parallel_for called here and now would use: 1 inside a
 * parallel region, else what host_set_kernel_threads said. */
int host_kernel_threads(void);

/* body(arg, i, thread) for every i in [0, n), as parallel_for, on at most
 * max_threads threads; thread < max_threads numbers the one running it, for
 * callers that keep scratch per thread. */
void host_parallel_for_threads(size_t n, int max_threads, void (*body)(void *arg, size_t i, int thread), void *arg);

#endif
