/*
 * host_services.c: sgemm for plugins, through OpenBLAS's CBLAS.
 *
 * Reproducibility: OpenBLAS's own threading gives results that differ in
 * the last bit from its single-threaded ones (measured: the two-layer MLP's
 * batch losses differed at 1477 of 3000 steps between -j1 and -j2). So
 * OpenBLAS always runs single-threaded, and a product is cut into blocks of
 * rows of C by a rule that depends on the shapes only; with threads to
 * spare the blocks run in parallel. Every element of C is then computed by
 * the same kernel call whatever the thread count: the same bits.
 */
#include "host_services.h"

#include <cblas.h>
#include <omp.h>

/* Rows of C per block: large enough that packing B again per block costs
 * little next to the block's arithmetic, small enough to share out. */
#define BLOCK_ROWS 64

static int kernel_threads = 1;

static void sgemm_rows(int trans_a, int trans_b, size_t r0, size_t rows, size_t n, size_t k, float alpha,
                       const float *a, size_t lda, const float *b, size_t ldb, float beta, float *c, size_t ldc)
{
    /* rows r0.. of op(A): rows of A, or columns of A when transposed */
    const float *a0 = trans_a ? a + r0 : a + r0 * lda;
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, (int)rows,
                (int)n, (int)k, alpha, a0, (int)lda, b, (int)ldb, beta, c + r0 * ldc, (int)ldc);
}

static void host_sgemm(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha, const float *a, size_t lda,
                       const float *b, size_t ldb, float beta, float *c, size_t ldc)
{
    size_t blocks = m > 2 * BLOCK_ROWS ? (m + BLOCK_ROWS - 1) / BLOCK_ROWS : 1;
    if (blocks == 1) {
        sgemm_rows(trans_a, trans_b, 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    int threads = omp_in_parallel() ? 1 : kernel_threads;
    /* Parallel over blocks of rows: independent outputs, identical per-block work. */
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
    for (size_t i = 0; i < blocks; i++) {
        size_t r0 = i * BLOCK_ROWS, rows = m - r0 < BLOCK_ROWS ? m - r0 : BLOCK_ROWS;
        sgemm_rows(trans_a, trans_b, r0, rows, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }
}

/* Static schedule: iteration i's result is the same whichever thread runs
 * it, and the contract (disjoint writes) makes the order irrelevant. */
static void host_parallel_for(size_t n, void (*body)(void *arg, size_t i), void *arg)
{
    int threads = omp_in_parallel() ? 1 : kernel_threads;
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1 && n > 1)
    for (size_t i = 0; i < n; i++) body(arg, i);
}

static const runner_host_t services = {
    .size = sizeof(runner_host_t),
    .sgemm = host_sgemm,
    .parallel_for = host_parallel_for,
};

const runner_host_t *host_services(void) { return &services; }

void host_set_kernel_threads(int threads)
{
    openblas_set_num_threads(1);
    kernel_threads = threads > 0 ? threads : 1;
}
