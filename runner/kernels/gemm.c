/*
 * gemm.c: the matrix product around the tile kernel (gemm_tile.h), and the
 * choice of kernels.
 *
 * op(A) is read where it lies (the tile broadcasts from mr row pointers);
 * its last rows, fewer than mr, go to a tile of that many rows. K runs in
 * blocks of kc, so a strip of B (kc x nr) stays in the L1 cache while every
 * panel of A passes it; a strip is read in place unless B comes transposed
 * or the strip is narrower than the tile (then packed). Blocking does not
 * change a bit: an accumulator is a float, so storing it to C and loading
 * it back between blocks is exact. Measured against OpenBLAS on the layers'
 * products: bench/gemm.sh, bench/README.md.
 */
#include "kernels/gemm.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const gemm_path_t *tile_path(kernels_t k)
{
    switch (k) {
    case KERNELS_AVX512: return &gemm_path_avx512;
    case KERNELS_AVX2: return &gemm_path_avx2;
    default: return &gemm_path_portable;
    }
}

const char *kernels_name(kernels_t k) { return k == KERNELS_OPENBLAS ? "openblas" : tile_path(k)->name; }

bool kernels_parse(const char *name, kernels_t *out)
{
    if (!strcmp(name, "auto")) {
        *out = kernels_best();
        return true;
    }
    const kernels_t all[] = {KERNELS_PORTABLE, KERNELS_AVX2, KERNELS_AVX512, KERNELS_OPENBLAS};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (!strcmp(name, kernels_name(all[i]))) {
            *out = all[i];
            return true;
        }
    return false;
}

/* __builtin_cpu_supports checks the OS too (XGETBV): it saves the vector
 * registers on a context switch. */
bool kernels_supported(kernels_t k)
{
    __builtin_cpu_init();
    switch (k) {
    case KERNELS_AVX512: return __builtin_cpu_supports("avx512f");
    case KERNELS_AVX2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    default: return true;
    }
}

/* AVX2 before AVX-512: on the AMD EPYC (Zen 4) this was measured on, a
 * 512-bit FMA runs as two 256-bit halves, and the wider tile wastes more
 * at the edges: AVX-512 was 5-15% slower on every product the layers make
 * (bench/gemm). Same bits either way. */
kernels_t kernels_best(void)
{
    return kernels_supported(KERNELS_AVX2) ? KERNELS_AVX2
           : kernels_supported(KERNELS_AVX512) ? KERNELS_AVX512
                                               : KERNELS_PORTABLE;
}

/* The scratch a product needs, in floats: a strip of B (kc x nr), for the
 * largest path (gemm_tile.c). */
#define BPACK_MAX 4096
#define MC_FLOATS (32 * 1024) /* a block of op(A): 128 KB of a 1 MB L2 (64 KB to 512 KB measured alike) */
_Static_assert(BPACK_MAX * sizeof(float) <= 16 * 1024, "scratch on the stack");

/* Element (i, k) of op(A), and (k, j) of op(B). */
#define OP_A(i, k) (trans_a ? a[(k) * lda + (i)] : a[(i) * lda + (k)])
#define OP_B(k, j) (trans_b ? b[(j) * ldb + (k)] : b[(k) * ldb + (j)])

/* The ordered sum of gemm_tile.h for one element, from acc. */
static float dot(int trans_a, int trans_b, size_t i, size_t j, size_t K, const float *a, size_t lda, const float *b,
                 size_t ldb, float acc)
{
    for (size_t k = 0; k < K; k++) acc = fmaf(OP_A(i, k), OP_B(k, j), acc);
    return acc;
}

/* alpha T + beta C; beta 0 ignores C. */
static float scale(float alpha, float t, float beta, float c) { return beta == 0.0f ? alpha * t : alpha * t + beta * c; }

void gemm_f32_reference(int trans_a, int trans_b, size_t m, size_t n, size_t K, float alpha, const float *a,
                        size_t lda, const float *b, size_t ldb, float beta, float *c, size_t ldc)
{
    const bool plain = alpha == 1.0f && (beta == 0.0f || beta == 1.0f);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            float *cij = c + i * ldc + j;
            if (plain) *cij = dot(trans_a, trans_b, i, j, K, a, lda, b, ldb, beta == 1.0f ? *cij : 0.0f);
            else *cij = scale(alpha, dot(trans_a, trans_b, i, j, K, a, lda, b, ldb, 0.0f), beta, *cij);
        }
}

/* op(B)'s columns [j0, j0 + cols) x rows [k0, k0 + kc), row by row, nr
 * wide (zero columns past cols): a strip as the tile reads it. Loops, not
 * memcpy: a row is 4 to 32 floats, less than a libc call costs (memcpy
 * here was 10% of a CNN epoch). */
static void pack_b(const gemm_path_t *p, int trans_b, const float *b, size_t ldb, size_t j0, size_t cols, size_t k0,
                   size_t kc, size_t nr, float *pack)
{
    if (trans_b) {
        p->pack_transposed(b + j0 * ldb + k0, ldb, cols, kc, nr, pack);
        return;
    }
    for (size_t k = 0; k < kc; k++) {
        float *dst = pack + k * nr;
        for (size_t j = 0; j < cols; j++) dst[j] = b[(k0 + k) * ldb + j0 + j];
        for (size_t j = cols; j < nr; j++) dst[j] = 0.0f;
    }
}

/* Rows [0, rows) x columns [0, cols) from src to dst (small: loops). */
static void copy_tile(float *dst, size_t ldd, const float *src, size_t lds, size_t rows, size_t cols)
{
    for (size_t r = 0; r < rows; r++)
        for (size_t j = 0; j < cols; j++) dst[r * ldd + j] = src[r * lds + j];
}

/* The tile for the next strip of columns, rem of them left: the widest
 * while it is full, then the narrowest that holds all the rest in one
 * strip (rem 9 of a 16-wide path: the 16-wide tile, 7 of its columns
 * zeros). One strip, not 8 + 1: a narrow tile has fewer accumulators than
 * the FMA latency wants (AVX2: 6 chains of 4 cycles), so it costs about
 * as many cycles a step as the wide one, for fewer columns. Measured on
 * the CNN's dW product (n = 25: 16 + 9 instead of 16 + 8 + 1): bench/gemm. */
static const gemm_tile_t *strip_tile(const gemm_path_t *p, size_t rem)
{
    if (rem >= p->tiles[0].nr) return &p->tiles[0];
    for (int i = 2; i > 0; i--)
        if (rem <= p->tiles[i].nr) return &p->tiles[i];
    return &p->tiles[0];
}

/* Rows [m0, m1) of C for the K block [k0, k0 + kc): each strip of B's
 * block against every panel of mr rows. */
static void row_block(const gemm_path_t *p, int trans_a, int trans_b, size_t m0, size_t m1, size_t n, size_t k0,
                      size_t kc, const float *a, size_t lda, const float *b, size_t ldb, int load, float *c, size_t ldc,
                      float *bpack)
{
    const size_t mr = p->mr, a_rs = trans_a ? 1 : lda, a_ks = trans_a ? lda : 1;
    float tmp[32 * 32]; /* one tile: mr, nr <= 32 (gemm_tile.h) */
    for (size_t j0 = 0, cols; j0 < n; j0 += cols) {
        const gemm_tile_t *t = strip_tile(p, n - j0);
        const size_t nr = t->nr, width = (size_t)(t - p->tiles);
        cols = n - j0 < nr ? n - j0 : nr;
        const bool direct = !trans_b && cols == nr;
        if (!direct) pack_b(p, trans_b, b, ldb, j0, cols, k0, kc, nr, bpack);
        const float *bs = direct ? b + k0 * ldb + j0 : bpack;
        const size_t bstride = direct ? ldb : nr;
        /* The rows in panels of as even a height as mr allows (25 rows: 5 x
         * 5, not 4 x 6 + 1): a panel of one or two rows has too few
         * accumulators to hide the FMA latency and costs about what a full
         * one does (bench/gemm, m = 25: conv dW^T 11.4 -> 10.9 us, dcol
         * 10.3 -> 9.8). Rows are independent: the same bits. */
        const size_t panels = (m1 - m0 + mr - 1) / mr, base = (m1 - m0) / panels, taller = (m1 - m0) % panels;
        for (size_t q = 0, i0 = m0, rows; q < panels; q++, i0 += rows) {
            rows = base + (q < taller);
            const float *ap = trans_a ? a + k0 * lda + i0 : a + i0 * lda + k0;
            /* a panel of fewer than mr rows: a tile of that many rows */
            const gemm_tile_fn run = rows == mr ? t->fn : p->short_rows[rows - 1][width];
            float *cij = c + i0 * ldc + j0;
            if (cols == nr) {
                run(kc, ap, a_rs, a_ks, bs, bstride, cij, ldc, load);
                continue;
            }
            if (load) p->copy_in(tmp, nr, cij, ldc, rows, cols);
            run(kc, ap, a_rs, a_ks, bs, bstride, tmp, nr, load);
            copy_tile(cij, ldc, tmp, nr, rows, cols);
        }
    }
}

/* The plain product (alpha 1, beta 0 or 1) with a tile path. K in blocks
 * of kc; each strip of B's block (it stays in the L1 cache) runs against
 * every panel of mr rows of op(A); both are read where they lie, except a
 * strip that is transposed or narrower than the tile (packed). A
 * block after the first goes on from the sums the one before left in C:
 * they are floats, stored and loaded exactly, so kc changes the speed, not
 * the bits. Rows go in blocks (mc) and the last rows through a tile of
 * fewer rows; the last columns through one strip of the narrowest tile
 * that holds them, and a partial strip through a tile on the stack. */
static void tiled(const gemm_path_t *p, int trans_a, int trans_b, size_t m, size_t n, size_t K, const float *a,
                  size_t lda, const float *b, size_t ldb, int load_c, float *c, size_t ldc, float *bpack)
{
    for (size_t k0 = 0; k0 < K || k0 == 0; k0 += p->kc) {
        const size_t kc = K - k0 < p->kc ? K - k0 : p->kc;
        /* Rows in blocks whose op(A) block (mc x kc) stays in the L2 cache
         * while the strips pass: else a tall op(A) (the CNN's dW, 4320 x
         * 100) streams from L3 once per strip (bench/gemm: 1131 -> 1014 us). */
        const size_t mc = (MC_FLOATS / (kc ? kc : 1) / p->mr + 1) * p->mr;
        for (size_t m0 = 0; m0 < m; m0 += mc)
            row_block(p, trans_a, trans_b, m0, m - m0 < mc ? m : m0 + mc, n, k0, kc, a, lda, b, ldb, load_c || k0 > 0,
                      c, ldc, bpack);
        if (K == 0) break;
    }
}

static void openblas(int trans_a, int trans_b, size_t m, size_t n, size_t K, float alpha, const float *a, size_t lda,
                     const float *b, size_t ldb, float beta, float *c, size_t ldc)
{
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, (int)m,
                (int)n, (int)K, alpha, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}

void gemm_f32(kernels_t k, int trans_a, int trans_b, size_t m, size_t n, size_t K, float alpha, const float *a,
              size_t lda, const float *b, size_t ldb, float beta, float *c, size_t ldc)
{
    if (m == 0 || n == 0) return;
    if (k == KERNELS_OPENBLAS) {
        openblas(trans_a, trans_b, m, n, K, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    const gemm_path_t *p = tile_path(k);
    /* The general alpha and beta (no layer makes them): the reference,
     * which is the same bits, slower. */
    if (alpha != 1.0f || (beta != 0.0f && beta != 1.0f) || p->kc * p->tiles[0].nr > BPACK_MAX) {
        gemm_f32_reference(trans_a, trans_b, m, n, K, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    /* Scratch on the stack, not the heap: a training step allocates nothing
     * (test_step_alloc). One strip of B's block (kc x nr): 16 KB at most. */
    float bpack[BPACK_MAX];
    tiled(p, trans_a, trans_b, m, n, K, a, lda, b, ldb, beta == 1.0f, c, ldc, bpack);
}
