/*
 * test_gemm.c: the matrix kernels (runner/kernels). Every tile path this CPU
 * runs gives the bits of the reference (the ordered sum of gemm_tile.h, one
 * element at a time) for every shape class the layers make and the edges
 * between tiles; the reference is the product (against double precision);
 * the general alpha and beta, beta 0 with NaN in C, signed zeros, every
 * path's multiply-add against fmaf (the portable path emulates it), and
 * the names RUNNER_KERNELS takes. And the host's products, cut into blocks
 * by the threads there are (plugin_host/host_services.c): the reference
 * bits at any thread count, every element written.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/gemm.h"
#include "plugin_host/host_services.h"

static const kernels_t paths[] = {KERNELS_PORTABLE, KERNELS_AVX2, KERNELS_AVX512};

/* Deterministic values in [-1, 1) with some exact zeros and both signs. */
static void fill(float *x, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = (seed >> 8) % 17 == 0 ? 0.0f : (float)((double)(seed >> 8) / 8388608.0 - 1.0);
    }
}

typedef struct {
    int ta, tb;
    size_t m, n, k;
    float alpha, beta;
} shape_t;

/* The layers' products (affine forward, dW, dx; conv2d forward, dW, dcol),
 * and every edge: m and n around the tile sizes (4, 6, 8 rows; 4, 8, 16,
 * 32 columns), K across the blocking (128, 256), K of 1 and 0. */
static const shape_t shapes[] = {
    {0, 0, 100, 100, 784, 1, 1}, {1, 0, 784, 100, 100, 1, 0}, {0, 1, 100, 784, 100, 1, 0},
    {0, 0, 30, 576, 25, 1, 1},   {0, 1, 30, 25, 576, 1, 1},   {1, 0, 25, 576, 30, 1, 0},
    {0, 0, 1, 1, 1, 1, 0},       {0, 0, 7, 33, 257, 1, 1},    {1, 1, 13, 50, 300, 1, 0},
    {0, 1, 9, 10, 129, 1, 1},    {1, 0, 17, 2, 5, 1, 1},      {0, 0, 5, 31, 0, 1, 1},
    {0, 0, 6, 4, 3, 1, 0},       {1, 1, 48, 64, 64, 1, 1},    {0, 0, 3, 9, 11, 0.5f, 0.25f},
    {1, 0, 12, 20, 40, -2, 1},   {0, 1, 8, 18, 7, 1, -1},     {0, 0, 4, 5, 6, 0, 0},
    /* the short-row tiles: with 25, 100, 7, 9 and 5 above, every m % mr of every path (2 of 6, 6 of 8) */
    {0, 0, 14, 40, 70, 1, 1},    {1, 1, 2, 17, 33, 1, 0},
    /* conv2d's forward with the bias as a term, its dW^T, and a last strip of 3 columns in every K block, loaded from C (copy_in) */
    {0, 0, 30, 576, 26, 1, 0},   {0, 1, 25, 30, 576, 1, 1},   {0, 1, 11, 35, 600, 1, 1},
};

/* op(A) m x k and op(B) k x n as stored, with a leading dimension 3 wider
 * than needed (the kernels must honour it), and C with the same margin. */
typedef struct {
    float *a, *b, *c;
    size_t lda, ldb, ldc, na, nb, nc;
} operands_t;

static operands_t make(const shape_t *s, uint32_t seed)
{
    operands_t o;
    size_t ra = s->ta ? s->k : s->m, ca = s->ta ? s->m : s->k, rb = s->tb ? s->n : s->k, cb = s->tb ? s->k : s->n;
    o.lda = ca + 3, o.ldb = cb + 3, o.ldc = s->n + 3;
    o.na = (ra ? ra : 1) * o.lda, o.nb = (rb ? rb : 1) * o.ldb, o.nc = s->m * o.ldc;
    o.a = malloc(o.na * sizeof(float)), o.b = malloc(o.nb * sizeof(float)), o.c = malloc(o.nc * sizeof(float));
    fill(o.a, o.na, seed), fill(o.b, o.nb, seed + 1), fill(o.c, o.nc, seed + 2);
    return o;
}

static void drop(operands_t *o) { free(o->a), free(o->b), free(o->c); }

static void product(kernels_t k, const shape_t *s, const operands_t *o, float *c)
{
    gemm_f32(k, s->ta, s->tb, s->m, s->n, s->k, s->alpha, o->a, o->lda, o->b, o->ldb, s->beta, c, o->ldc);
}

ParameterizedTestParameters(gemm, every_path_gives_the_reference_bits)
{
    static size_t idx[sizeof shapes / sizeof shapes[0]];
    for (size_t i = 0; i < sizeof idx / sizeof idx[0]; i++) idx[i] = i;
    return cr_make_param_array(size_t, idx, sizeof idx / sizeof idx[0]);
}

ParameterizedTest(size_t *i, gemm, every_path_gives_the_reference_bits)
{
    const shape_t *s = &shapes[*i];
    operands_t o = make(s, 7 + (uint32_t)*i);
    float *ref = malloc(o.nc * sizeof(float)), *got = malloc(o.nc * sizeof(float));
    memcpy(ref, o.c, o.nc * sizeof(float));
    gemm_f32_reference(s->ta, s->tb, s->m, s->n, s->k, s->alpha, o.a, o.lda, o.b, o.ldb, s->beta, ref, o.ldc);
    for (size_t p = 0; p < 3; p++) {
        if (!kernels_supported(paths[p])) continue;
        memcpy(got, o.c, o.nc * sizeof(float));
        product(paths[p], s, &o, got);
        for (size_t e = 0; e < o.nc; e++)
            cr_assert_eq(memcmp(&got[e], &ref[e], sizeof(float)), 0,
                         "%s, shape %zu (%zu x %zu x %zu, ta %d tb %d): element (%zu, %zu) is %a, the reference %a",
                         kernels_name(paths[p]), *i, s->m, s->n, s->k, s->ta, s->tb, e / o.ldc, e % o.ldc, got[e],
                         ref[e]);
    }
    free(ref), free(got), drop(&o);
}

/* The reference is the product: within K float roundings of the double
 * precision sum (|error| <= K eps sum |terms|), and the margins of C
 * (columns n .. ldc) are untouched. */
Test(gemm, the_reference_is_the_product)
{
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const shape_t *s = &shapes[i];
        operands_t o = make(s, 100 + (uint32_t)i);
        float *c = malloc(o.nc * sizeof(float));
        memcpy(c, o.c, o.nc * sizeof(float));
        gemm_f32(kernels_best(), s->ta, s->tb, s->m, s->n, s->k, s->alpha, o.a, o.lda, o.b, o.ldb, s->beta, c, o.ldc);
        for (size_t r = 0; r < s->m; r++)
            for (size_t j = 0; j < o.ldc; j++) {
                if (j >= s->n) {
                    cr_assert_eq(c[r * o.ldc + j], o.c[r * o.ldc + j], "shape %zu wrote past column n", i);
                    continue;
                }
                double sum = 0, mag = 0;
                for (size_t k = 0; k < s->k; k++) {
                    double t = (double)(s->ta ? o.a[k * o.lda + r] : o.a[r * o.lda + k]) *
                               (double)(s->tb ? o.b[j * o.ldb + k] : o.b[k * o.ldb + j]);
                    sum += t, mag += fabs(t);
                }
                double want = s->alpha * sum + (s->beta != 0 ? s->beta * (double)o.c[r * o.ldc + j] : 0);
                double bound = (s->k + 3) * 1.2e-7 * (fabs(s->alpha) * mag + fabs(s->beta * o.c[r * o.ldc + j])) + 1e-30;
                cr_assert_leq(fabs(c[r * o.ldc + j] - want), bound, "shape %zu (%zu, %zu): %g, want %g", i, r, j,
                              c[r * o.ldc + j], want);
            }
        free(c), drop(&o);
    }
}

/* beta 0 never reads C: NaN there does not come out (cblas's rule). */
Test(gemm, beta_zero_ignores_what_c_held)
{
    const shape_t s = {0, 0, 9, 21, 5, 1, 0};
    operands_t o = make(&s, 3);
    for (size_t p = 0; p < 3; p++) {
        if (!kernels_supported(paths[p])) continue;
        for (size_t e = 0; e < o.nc; e++) o.c[e] = NAN;
        product(paths[p], &s, &o, o.c);
        for (size_t r = 0; r < s.m; r++)
            for (size_t j = 0; j < s.n; j++) cr_assert(!isnan(o.c[r * o.ldc + j]), "%s (%zu, %zu)", kernels_name(paths[p]), r, j);
    }
    drop(&o);
}

/* -0 stays -0 (a broadcast by 0 + x would make it +0): A = -0, B = 1, C = -0, beta 1. */
Test(gemm, signed_zeros_survive)
{
    float a[8 * 3], b[3 * 40], c[8 * 40];
    for (size_t i = 0; i < 24; i++) a[i] = -0.0f;
    for (size_t i = 0; i < 120; i++) b[i] = 1.0f;
    for (size_t p = 0; p < 3; p++) {
        if (!kernels_supported(paths[p])) continue;
        for (size_t i = 0; i < 320; i++) c[i] = -0.0f;
        gemm_f32(paths[p], 0, 0, 8, 40, 3, 1, a, 3, b, 40, 1, c, 40);
        for (size_t i = 0; i < 320; i++) cr_assert(signbit(c[i]) && c[i] == 0, "%s: element %zu is %g", kernels_name(paths[p]), i, c[i]);
    }
}

/* The next value of a 64-bit generator (splitmix64). */
static uint64_t next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* A float for the fused multiply-add tests: any bits (every exponent, NaN,
 * infinities, subnormals), a special, or a short odd mantissa (13 or 14 bits) at
 * a modest exponent, whose products are exact and often land on a float
 * midpoint (25 significant bits). */
static float fma_operand(uint64_t *state)
{
    static const float specials[] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 3.4028235e38f, 1.1754944e-38f, 1.4e-45f, 1.0f, -1.0f};
    uint64_t r = next(state);
    switch (r % 4) {
    case 0: {
        uint32_t bits = (uint32_t)(r >> 32);
        float x;
        memcpy(&x, &bits, sizeof x);
        return x;
    }
    case 1: return specials[(r >> 8) % (sizeof specials / sizeof specials[0])];
    default: return ldexpf((float)((r >> 8) % 4096 * 2 + 4097) * ((r >> 30) & 1 ? -1.0f : 1.0f), (int)((r >> 40) % 61) - 42);
    }
}

/* Every path's multiply-add is fmaf's, bit for bit, one term at a time (K =
 * 1, beta 1: C = a b + C): 2^20 triples of every kind, and C tiny beside a
 * short-mantissa product: the portable path's emulation in double must not
 * round twice where a * b + c lands between a float midpoint and the next
 * double (counted: naive double rounding differs there). */
Test(gemm, every_path_fuses_as_fmaf)
{
    enum { M = 64, N = 64, ROUNDS = 256 };
    static float a[M], b[N], c[M * N], want[M * N], got[M * N];
    uint64_t state = 7;
    size_t naive_differs = 0;
    for (int round = 0; round < ROUNDS; round++) {
        for (size_t i = 0; i < M; i++) a[i] = fma_operand(&state);
        for (size_t j = 0; j < N; j++) b[j] = fma_operand(&state);
        for (size_t i = 0; i < M; i++)
            for (size_t j = 0; j < N; j++) {
                float *cij = &c[i * N + j];
                *cij = fma_operand(&state);
                uint64_t r = next(&state);
                if (round % 2 && isfinite(a[i] * b[j]) && a[i] * b[j] != 0) /* tiny beside a b: at most a double ulp of it */
                    *cij = copysignf(ldexpf(1.0f, ilogbf(a[i] * b[j]) - 54 - (int)(r % 40)), (r >> 8) & 1 ? -1.0f : 1.0f);
                want[i * N + j] = fmaf(a[i], b[j], *cij);
                float naive = (float)((double)a[i] * (double)b[j] + (double)*cij);
                naive_differs += memcmp(&naive, &want[i * N + j], sizeof naive) != 0 && !isnan(naive);
            }
        for (size_t p = 0; p < 3; p++) {
            if (!kernels_supported(paths[p])) continue;
            memcpy(got, c, sizeof got);
            gemm_f32(paths[p], 0, 0, M, N, 1, 1, a, 1, b, N, 1, got, N);
            for (size_t e = 0; e < M * N; e++)
                cr_assert(isnan(want[e]) ? isnan(got[e]) : memcmp(&got[e], &want[e], sizeof got[e]) == 0,
                          "%s: fmaf(%a, %a, %a) is %a, the path gave %a", kernels_name(paths[p]), (double)a[e / N],
                          (double)b[e % N], (double)c[e], (double)want[e], (double)got[e]);
        }
    }
    cr_assert_gt(naive_differs, 1000, "only %zu triples where rounding twice errs: the test lost its hard cases", naive_differs);
}

Test(gemm, kernel_names)
{
    kernels_t k;
    cr_assert(kernels_parse("portable", &k) && k == KERNELS_PORTABLE);
    cr_assert(kernels_parse("avx2", &k) && k == KERNELS_AVX2);
    cr_assert(kernels_parse("avx512", &k) && k == KERNELS_AVX512);
    cr_assert(kernels_parse("openblas", &k) && k == KERNELS_OPENBLAS);
    cr_assert(kernels_parse("auto", &k) && k == kernels_best() && kernels_supported(k));
    cr_assert(!kernels_parse("AVX2", &k) && !kernels_parse("", &k) && !kernels_parse("sse", &k));
    cr_assert(kernels_supported(KERNELS_PORTABLE) && kernels_supported(KERNELS_OPENBLAS));
    static const char *const names[] = {"portable", "avx2", "avx512"};
    for (size_t p = 0; p < 3; p++) cr_assert_str_eq(kernels_name(paths[p]), names[p]);
}

/* The layers' large products through the host at 1 to 16 threads, with
 * each path: the blocks (coarse, or one per thread when those are fewer)
 * cover C exactly and give the reference bits. C starts as NaN for beta
 * 0, so an element no block wrote shows. */
Test(gemm, the_hosts_blocks_give_the_reference_bits_at_any_thread_count)
{
    static const shape_t big[] = {
        {0, 0, 100, 100, 4320, 1, 1}, {1, 0, 4320, 100, 100, 1, 0}, {0, 1, 100, 4320, 100, 1, 0},
        {0, 0, 100, 100, 784, 1, 0},  {0, 0, 40, 1000, 60, 1, 0},   {0, 0, 300, 40, 200, 1, 1},
    };
    static const int threads[] = {1, 2, 3, 5, 16};
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
        const shape_t *s = &big[i];
        operands_t o = make(s, 40 + (uint32_t)i);
        if (s->beta == 0.0f)
            for (size_t e = 0; e < o.nc; e++) o.c[e] = NAN;
        float *ref = malloc(o.nc * sizeof(float)), *got = malloc(o.nc * sizeof(float));
        memcpy(ref, o.c, o.nc * sizeof(float));
        gemm_f32_reference(s->ta, s->tb, s->m, s->n, s->k, s->alpha, o.a, o.lda, o.b, o.ldb, s->beta, ref, o.ldc);
        for (size_t p = 0; p < 3; p++) {
            if (!kernels_supported(paths[p])) continue;
            host_set_kernels(paths[p]);
            for (size_t t = 0; t < sizeof threads / sizeof threads[0]; t++) {
                host_set_kernel_threads(threads[t]);
                memcpy(got, o.c, o.nc * sizeof(float));
                host_services()->sgemm(s->ta, s->tb, s->m, s->n, s->k, s->alpha, o.a, o.lda, o.b, o.ldb, s->beta, got,
                                       o.ldc);
                size_t differ = 0, first = 0;
                for (size_t e = 0; e < o.nc; e++)
                    if (memcmp(&got[e], &ref[e], sizeof(float)) && !differ++) first = e;
                cr_expect_eq(differ, 0, "%s, %d threads, %zu x %zu x %zu: %zu elements differ, the first (%zu, %zu)",
                             kernels_name(paths[p]), threads[t], s->m, s->n, s->k, differ, first / o.ldc,
                             first % o.ldc);
            }
        }
        free(ref), free(got), drop(&o);
    }
    host_set_kernel_threads(1);
    host_set_kernels(kernels_best());
}

/* The layouts bench/blocks.sh models: one block at one thread; coarse
 * blocks where they keep the threads busy; else a whole number of even
 * blocks per thread, none thinner than 8 rows or 32 columns; OpenBLAS's
 * blocks by the shapes alone. */
Test(gemm, the_hosts_block_layouts)
{
    const kernels_t own = KERNELS_AVX2;
    product_blocks_t b = host_product_blocks(own, 100, 100, 4320, 1);
    cr_expect_eq(b.blocks, 1);
    b = host_product_blocks(own, 100, 100, 4320, 2); /* the coarse rule: two blocks of 50 rows */
    cr_expect(b.blocks == 2 && !b.by_cols && b.each == 50 && b.taller == 0);
    b = host_product_blocks(own, 100, 100, 4320, 16); /* 12 of 8 or 9 rows, the thinnest allowed */
    cr_expect(b.blocks == 12 && !b.by_cols && b.each == 8 && b.taller == 4, "%zu blocks of %zu", b.blocks, b.each);
    b = host_product_blocks(own, 100, 4320, 100, 16); /* 17 coarse column blocks are two rounds: 32 even ones */
    cr_expect(b.blocks == 32 && b.by_cols && b.each == 135 && b.taller == 0, "%zu blocks of %zu", b.blocks, b.each);
    b = host_product_blocks(own, 4320, 100, 100, 4); /* 68 blocks of 64 rows: 17 rounds, kept */
    cr_expect(b.blocks == 68 && b.each == 64 && b.taller == 0);
    b = host_product_blocks(own, 100, 100, 100, 16); /* under 1M multiply-adds: one block */
    cr_expect_eq(b.blocks, 1);
    for (int t = 1; t <= 16; t++) {
        b = host_product_blocks(KERNELS_OPENBLAS, 100, 4320, 100, t);
        cr_expect(b.blocks == 17 && b.each == 255, "OpenBLAS, %d threads: %zu blocks", t, b.blocks);
    }
    /* every layout covers its side exactly, in order */
    static const size_t sides[][3] = {{100, 100, 4320}, {100, 4320, 100}, {4320, 100, 100}, {784, 100, 100},
                                      {100, 784, 100},  {30, 2000, 64},   {1000, 30, 64}};
    for (size_t s = 0; s < sizeof sides / sizeof sides[0]; s++)
        for (int t = 1; t <= 40; t++) {
            b = host_product_blocks(own, sides[s][0], sides[s][1], sides[s][2], t);
            size_t next = 0, at, len;
            for (size_t i = 0; i < b.blocks; i++) {
                host_product_block(&b, i, &at, &len);
                cr_assert(at == next && len > 0, "shape %zu, %d threads, block %zu at %zu (+%zu)", s, t, i, at, len);
                next = at + len;
            }
            cr_expect_eq(next, b.by_cols ? sides[s][1] : sides[s][0], "shape %zu, %d threads", s, t);
        }
}
