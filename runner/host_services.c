/*
 * host_services.c: sgemm for plugins, through OpenBLAS's CBLAS, and
 * parallel_for.
 *
 * Reproducibility: OpenBLAS's own threading gives results that differ in
 * the last bit from its single-threaded ones (measured: the two-layer MLP's
 * batch losses differed at 1477 of 3000 steps between -j1 and -j2). So
 * OpenBLAS always runs single-threaded, and a product is cut into blocks of
 * rows or columns of C by a rule that depends on the shapes only; with threads to
 * spare the blocks run in parallel. Every element of C is then computed by
 * the same kernel call whatever the thread count: the same bits.
 */
#include "host_services.h"

#include <cblas.h>
#include <stdbool.h>
#include <omp.h>

/* Blocks of C, for a product of at least SPLIT_WORK multiply-adds (below
 * that, measured on the MLPs, two threads were slower than one): rows
 * when op(A) has more than 2 BLOCK_ROWS of them, else columns when there
 * are more than 2 BLOCK_COLS, else rows when more than BLOCK_ROWS; the
 * count is rounded up and the rows (columns) spread evenly, so a batch of
 * 100 is two blocks of 50. Large enough that packing the other operand
 * again per block costs little next to the block's arithmetic, small
 * enough to share out. A smaller product is one call. */
#define BLOCK_ROWS 64
#define BLOCK_COLS 256
#define SPLIT_WORK ((size_t)1 << 24)

static int kernel_threads = 1;

/* C[r0 : r0+rows, c0 : c0+cols] of the product, by one OpenBLAS call. */
static void sgemm_block(int trans_a, int trans_b, size_t r0, size_t rows, size_t c0, size_t cols, size_t k,
                        float alpha, const float *a, size_t lda, const float *b, size_t ldb, float beta, float *c,
                        size_t ldc)
{
    const float *a0 = trans_a ? a + r0 : a + r0 * lda; /* rows of op(A): rows of A, or columns when transposed */
    const float *b0 = trans_b ? b + c0 * ldb : b + c0; /* columns of op(B) likewise */
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, (int)rows,
                (int)cols, (int)k, alpha, a0, (int)lda, b0, (int)ldb, beta, c + r0 * ldc + c0, (int)ldc);
}

static void host_sgemm(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha, const float *a, size_t lda,
                       const float *b, size_t ldb, float beta, float *c, size_t ldc)
{
    bool big = m * n * k >= SPLIT_WORK;
    bool by_cols = big && m <= 2 * BLOCK_ROWS && n > 2 * BLOCK_COLS, by_rows = big && !by_cols && m > BLOCK_ROWS;
    size_t extent = by_cols ? n : m, unit = by_cols ? BLOCK_COLS : BLOCK_ROWS;
    size_t blocks = by_rows || by_cols ? (extent + unit - 1) / unit : 1, each = (extent + blocks - 1) / blocks;
    int threads = omp_in_parallel() ? 1 : kernel_threads;
    /* Parallel over blocks: independent outputs, each computed the same way at any thread count. */
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1 && blocks > 1)
    for (size_t i = 0; i < blocks; i++) {
        size_t at = i * each, len = extent - at < each ? extent - at : each;
        if (by_cols) sgemm_block(trans_a, trans_b, 0, m, at, len, k, alpha, a, lda, b, ldb, beta, c, ldc);
        else sgemm_block(trans_a, trans_b, at, len, 0, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
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
