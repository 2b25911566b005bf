/*
 * host_services.c: sgemm for plugins, through the runner's own kernels
 * (kernels/gemm.h) or OpenBLAS, and parallel_for.
 *
 * Reproducibility: a product is cut into blocks of rows or columns of C by
 * a rule that depends on the shapes only; with threads to spare the blocks
 * run in parallel. The runner's kernels give every element of C the same
 * ordered sum whatever the block, path or CPU, so the result is the same
 * bits at any thread count on any x86-64 CPU. OpenBLAS (RUNNER_KERNELS=openblas)
 * runs single-threaded per block (its own threading changed the last bits:
 * the two-layer MLP's batch losses differed at 1477 of 3000 steps between
 * -j1 and -j2); it keeps the thread-count guarantee, not the CPU one.
 */
#include "plugin_host/host_services.h"

#include <cblas.h>
#include <omp.h>
#include <pthread.h>
#include <stdbool.h>

#include "base/size_math.h"

/* Blocks of C, for a product of at least SPLIT_WORK multiply-adds: rows
 * when op(A) has more than 2 BLOCK_ROWS of them, else columns when there
 * are more than 2 BLOCK_COLS, else rows when more than BLOCK_ROWS; the
 * count is rounded up and the rows (columns) spread evenly, so a batch of
 * 100 is two blocks of 50. Large enough that packing the other operand
 * again per block costs little next to the block's arithmetic, small
 * enough to share out. A smaller product is one call. */
#define BLOCK_ROWS 64
#define BLOCK_COLS 256
/* OpenBLAS's blocks depend on the shapes only, at any thread count, since
 * its bits depend on the blocks; below 16M multiply-adds two threads were
 * slower than one there (measured on the MLPs, 2026-11-22). The runner's
 * kernels give each element the same sum whatever the blocks, so they cut
 * a product only when threads are there to share it, from 1M: the
 * two-layer MLP's epoch at 2 threads 0.297 -> 0.225 s, the 5x100 ReLU
 * net's 0.447 -> 0.41 s; at 1 thread the blocks cost 3% and are not made
 * (bench/README.md). */
#define SPLIT_WORK ((size_t)1 << 24)
#define SPLIT_WORK_OWN ((size_t)1 << 20)
/* When those blocks would leave threads idle (fewer blocks than threads,
 * or a last round of the static schedule over a twentieth empty), the
 * runner's kernels cut even blocks, a whole number of them per thread, but
 * no thinner than 8 rows (an AVX-512 panel) or 32 columns (its widest
 * tile), nor under 256K multiply-adds (~4 us, a few times a parallel
 * region's cost). The
 * CNN's affine forward (100 x 100 x 4320, 1.08 ms on one core here) was
 * two blocks of 50 rows at any thread count: half a millisecond a batch,
 * about what a whole batch should take on 16 threads; 12 blocks of 8 rows
 * take 1.28 ms in all (B streams once per block), 0.11 ms per block. Its
 * dx product was 17 blocks of columns: two rounds on 16 threads. Modelled
 * per thread count by bench/blocks.sh (bench/README.md). */
#define FINE_ROWS 8
#define FINE_COLS 32
#define FINE_WORK ((size_t)1 << 18)

static int kernel_threads = 1;
static kernels_t kernels;
static pthread_once_t kernels_once = PTHREAD_ONCE_INIT;
static bool kernels_chosen; /* by host_set_kernels, before any product */

static void choose_best(void)
{
    if (!kernels_chosen) kernels = kernels_best();
}

int host_kernel_threads(void) { return omp_in_parallel() ? 1 : kernel_threads; }

/* One product, as gemm_f32 takes it, and its blocks. */
typedef struct {
    int trans_a, trans_b;
    size_t m, n, k, lda, ldb, ldc;
    float alpha, beta;
    const float *a, *b;
    float *c;
    product_blocks_t bl;
} product_t;

/* `target` blocks for the runner's kernels, or fewer: along the side with
 * more units (FINE_ROWS rows, FINE_COLS columns), as many as the units and
 * FINE_WORK allow, spread evenly (100 rows in 12 blocks: 4 of 9, 8 of 8). */
static product_blocks_t even_blocks(size_t m, size_t n, size_t work, size_t target)
{
    bool by_cols = n / FINE_COLS > m / FINE_ROWS;
    size_t extent = by_cols ? n : m, most = extent / (by_cols ? FINE_COLS : FINE_ROWS), by_work = work / FINE_WORK;
    if (most > by_work) most = by_work;
    size_t blocks = target < most ? target : most ? most : 1;
    return (product_blocks_t){by_cols, blocks, extent, extent / blocks, extent % blocks};
}

product_blocks_t host_product_blocks(kernels_t k, size_t m, size_t n, size_t K, int threads)
{
    size_t work = size_mul(size_mul(m, n), K); /* a plugin's sizes: saturates */
    bool big = k == KERNELS_OPENBLAS ? work >= SPLIT_WORK : threads > 1 && work >= SPLIT_WORK_OWN;
    bool by_cols = big && m <= 2 * BLOCK_ROWS && n > 2 * BLOCK_COLS, by_rows = big && !by_cols && m > BLOCK_ROWS;
    size_t extent = by_cols ? n : m, unit = by_cols ? BLOCK_COLS : BLOCK_ROWS;
    size_t blocks = by_rows || by_cols ? (extent + unit - 1) / unit : 1;
    if (big && k != KERNELS_OPENBLAS) {
        /* the static schedule gives the slowest thread `rounds` blocks: when
         * that leaves over a twentieth of the threads' time idle, cut
         * threads x rounds even blocks (17 blocks on 16 threads are 32) */
        size_t T = (size_t)threads, rounds = (blocks + T - 1) / T, slots = size_mul(T, rounds);
        if (size_mul(blocks, 20) < size_mul(slots, 19)) return even_blocks(m, n, work, slots);
    }
    return (product_blocks_t){by_cols, blocks, extent, (extent + blocks - 1) / blocks, 0};
}

void host_product_block(const product_blocks_t *bl, size_t i, size_t *at, size_t *len)
{
    *at = i * bl->each + (i < bl->taller ? i : bl->taller);
    *len = bl->taller ? bl->each + (i < bl->taller) : bl->extent - *at < bl->each ? bl->extent - *at : bl->each;
}

/* Block i of the product, by one kernel call. */
static void sgemm_block(const product_t *p, size_t i)
{
    size_t at, len;
    host_product_block(&p->bl, i, &at, &len);
    size_t r0 = p->bl.by_cols ? 0 : at, rows = p->bl.by_cols ? p->m : len;
    size_t c0 = p->bl.by_cols ? at : 0, cols = p->bl.by_cols ? len : p->n;
    const float *a0 = p->trans_a ? p->a + r0 : p->a + r0 * p->lda; /* rows of op(A): rows of A, or columns when transposed */
    const float *b0 = p->trans_b ? p->b + c0 * p->ldb : p->b + c0; /* columns of op(B) likewise */
    gemm_f32(kernels, p->trans_a, p->trans_b, rows, cols, p->k, p->alpha, a0, p->lda, b0, p->ldb, p->beta,
             p->c + r0 * p->ldc + c0, p->ldc);
}

static void host_sgemm(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha, const float *a, size_t lda,
                       const float *b, size_t ldb, float beta, float *c, size_t ldc)
{
    pthread_once(&kernels_once, choose_best);
    int threads = host_kernel_threads();
    const product_t p = {trans_a, trans_b, m, n, k, lda, ldb, ldc, alpha, beta, a, b, c,
                         host_product_blocks(kernels, m, n, k, threads)};
    const size_t blocks = p.bl.blocks;
    if (threads <= 1 || blocks <= 1) { /* no region: even an inactive one costs a team's setup */
        for (size_t i = 0; i < blocks; i++) sgemm_block(&p, i);
        return;
    }
    /* Parallel over blocks: independent outputs, each computed the same way at any thread count. */
#pragma omp parallel for schedule(static) num_threads(threads)
    for (size_t i = 0; i < blocks; i++) sgemm_block(&p, i);
}

/* Static schedule: iteration i's result is the same whichever thread runs
 * it, and the contract (disjoint writes) makes the order irrelevant. */
static void host_parallel_for(size_t n, void (*body)(void *arg, size_t i), void *arg)
{
    int threads = host_kernel_threads();
    if (threads <= 1 || n <= 1) {
        for (size_t i = 0; i < n; i++) body(arg, i);
        return;
    }
#pragma omp parallel for schedule(static) num_threads(threads)
    for (size_t i = 0; i < n; i++) body(arg, i);
}

void host_parallel_for_threads(size_t n, int max_threads, void (*body)(void *arg, size_t i, int thread), void *arg)
{
    int threads = host_kernel_threads();
    if (threads > max_threads) threads = max_threads;
    if (threads <= 1 || n <= 1) { /* no region at all: nothing to share */
        for (size_t i = 0; i < n; i++) body(arg, i, 0);
        return;
    }
#pragma omp parallel num_threads(threads)
    {
        int t = omp_get_thread_num();
#pragma omp for schedule(static)
        for (size_t i = 0; i < n; i++) body(arg, i, t);
    }
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

void host_set_kernels(kernels_t k)
{
    kernels = k;
    kernels_chosen = true;
}

kernels_t host_kernels(void)
{
    pthread_once(&kernels_once, choose_best);
    return kernels;
}
