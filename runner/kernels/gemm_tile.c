/*
 * gemm_tile.c: the tile kernels, one source built three times (CMakeLists.txt):
 *   GEMM_TILE_PORTABLE  any x86-64: 16-byte vectors, fmaf() per lane, 4 rows
 *   GEMM_TILE_AVX2      -mavx2 -mfma: 32-byte vectors, 6 rows
 *   GEMM_TILE_AVX512    -mavx512f -mfma: 64-byte vectors, 8 rows
 * Each path has three widths: two vectors (the body of C), one vector and
 * half a vector (the last columns, so an edge of 2 or 4 columns does not
 * cost a whole 16- or 32-wide tile). GCC's vector extensions keep the code
 * one C text; only the fused multiply-add differs: the FMA instruction, or
 * the C library's fmaf (an instruction where the CPU has one, else exact
 * software), which round the same. -ffp-contract=off (the whole project)
 * keeps the compiler from fusing anything else.
 */
#include "kernels/gemm_tile.h"

#include <math.h>
#include <string.h>

#if defined(GEMM_TILE_AVX512)
#include <immintrin.h>
#define VBYTES 64
#define MR 8
#define KC 128
#define PATH gemm_path_avx512
#define PATH_NAME "avx512"
#define FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define SPLAT(x) _mm512_set1_ps(x)
#define FMA_HALF(a, b, c) _mm256_fmadd_ps(a, b, c)
#define SPLAT_HALF(x) _mm256_set1_ps(x)
#elif defined(GEMM_TILE_AVX2)
#include <immintrin.h>
#define VBYTES 32
#define MR 6
#define KC 256
#define PATH gemm_path_avx2
#define PATH_NAME "avx2"
#define FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define SPLAT(x) _mm256_set1_ps(x)
#define FMA_HALF(a, b, c) _mm_fmadd_ps(a, b, c)
#define SPLAT_HALF(x) _mm_set1_ps(x)
#elif defined(GEMM_TILE_PORTABLE)
#define VBYTES 16
#define MR 4
#define KC 256
#define PATH gemm_path_portable
#define PATH_NAME "portable"
#define FMA(a, b, c) fma_lanes(a, b, c)
#define SPLAT(x) splat_lanes(x)
#define FMA_HALF(a, b, c) fma_lanes_half(a, b, c)
#define SPLAT_HALF(x) splat_lanes_half(x)
#else
#error "build gemm_tile.c with one of GEMM_TILE_PORTABLE, GEMM_TILE_AVX2, GEMM_TILE_AVX512"
#endif

typedef float vec __attribute__((vector_size(VBYTES)));
typedef float vec_half __attribute__((vector_size(VBYTES / 2)));
#define W (VBYTES / (int)sizeof(float)) /* floats per vector */

#if defined(GEMM_TILE_PORTABLE)
/* Lane by lane, and x in every lane (not 0 + x, which turns -0 into +0). */
#define LANES(vt, suffix)                                                                                               \
    static inline vt fma_lanes##suffix(vt a, vt b, vt c)                                                               \
    {                                                                                                                  \
        for (size_t l = 0; l < sizeof(vt) / sizeof(float); l++) c[l] = fmaf(a[l], b[l], c[l]);                          \
        return c;                                                                                                      \
    }                                                                                                                  \
    static inline vt splat_lanes##suffix(float x)                                                                      \
    {                                                                                                                  \
        vt v;                                                                                                          \
        for (size_t l = 0; l < sizeof(vt) / sizeof(float); l++) v[l] = x;                                              \
        return v;                                                                                                      \
    }
LANES(vec, )
LANES(vec_half, _half)
#endif

/* Unaligned loads and stores of a VT: rows of B and C start anywhere. A
 * value in and out, not a memcpy into the accumulator array: that kept the
 * accumulators on the stack around the loop (16-byte copies, then 32-byte
 * loads that cannot forward), 20% of a K = 25 product. */
#define LOAD(VT, p) ({ VT v_; memcpy(&v_, (p), sizeof v_); v_; })
#define STORE(VT, p, x) do { VT v_ = (x); memcpy((p), &v_, sizeof v_); } while (0)

/* A tile of ROWS rows and NV vectors of type VT (FMA_, SPLAT_ its
 * operations), the contract of gemm_tile.h. */
#define DEFINE_TILE(name, ROWS, VT, NV, FMA_, SPLAT_)                                                                   \
    static void name(size_t K, const float *a, size_t a_rs, size_t a_ks, const float *b, size_t ldb, float *c,         \
                     size_t ldc, int load_c)                                                                           \
    {                                                                                                                  \
        enum { VW = sizeof(VT) / sizeof(float) };                                                                      \
        VT acc[ROWS][NV];                                                                                              \
        for (int r = 0; r < ROWS; r++)                                                                                 \
            for (int v = 0; v < NV; v++)                                                                               \
                acc[r][v] = load_c ? LOAD(VT, c + (size_t)r * ldc + (size_t)v * VW) : (VT){0};                         \
        const float *ar[ROWS];                                                                                         \
        for (int r = 0; r < ROWS; r++) ar[r] = a + (size_t)r * a_rs;                                                   \
        for (size_t k = 0; k < K; k++, b += ldb) {                                                                     \
            VT bv[NV];                                                                                                 \
            for (int v = 0; v < NV; v++) bv[v] = LOAD(VT, b + (size_t)v * VW);                                         \
            for (int r = 0; r < ROWS; r++) {                                                                           \
                const VT x = SPLAT_(*ar[r]);                                                                           \
                ar[r] += a_ks;                                                                                         \
                for (int v = 0; v < NV; v++) acc[r][v] = FMA_(x, bv[v], acc[r][v]);                                    \
            }                                                                                                          \
        }                                                                                                              \
        for (int r = 0; r < ROWS; r++)                                                                                 \
            for (int v = 0; v < NV; v++) STORE(VT, c + (size_t)r * ldc + (size_t)v * VW, acc[r][v]);                   \
    }

/* The three widths, for ROWS rows: name##_wide, _one and _half. */
#define DEFINE_TILES(name, ROWS)                                                                                       \
    DEFINE_TILE(name##_wide, ROWS, vec, 2, FMA, SPLAT)                                                                 \
    DEFINE_TILE(name##_one, ROWS, vec, 1, FMA, SPLAT)                                                                  \
    DEFINE_TILE(name##_half, ROWS, vec_half, 1, FMA_HALF, SPLAT_HALF)
DEFINE_TILES(tile, MR)
/* Fewer rows, for the last rows of C when m is not a multiple of MR: read
 * in place, where a zero-padded panel of MR rows did the work of MR (the
 * CNN's dcol product, m = 25: 4 panels of 6 and one of 1, which cost as
 * much as the other four together with the padding: bench/gemm). */
DEFINE_TILES(rows1, 1)
DEFINE_TILES(rows2, 2)
DEFINE_TILES(rows3, 3)
#if MR > 4
DEFINE_TILES(rows4, 4)
DEFINE_TILES(rows5, 5)
#endif
#if MR > 6
DEFINE_TILES(rows6, 6)
DEFINE_TILES(rows7, 7)
#endif
#define TILES(name) {name##_wide, name##_one, name##_half}

const gemm_path_t PATH = {PATH_NAME, MR, KC, {{2 * W, tile_wide}, {W, tile_one}, {W / 2, tile_half}},
                          {TILES(rows1), TILES(rows2), TILES(rows3),
#if MR > 4
                           TILES(rows4), TILES(rows5),
#endif
#if MR > 6
                           TILES(rows6), TILES(rows7),
#endif
                          }};
