/*
 * gemm_tile.c: the tile kernels, one source built three times (CMakeLists.txt):
 *   GEMM_TILE_PORTABLE  any x86-64: 16-byte vectors, fmaf emulated in double, 4 rows
 *   GEMM_TILE_AVX2      -mavx2 -mfma: 32-byte vectors, 6 rows
 *   GEMM_TILE_AVX512    -mavx512f -mfma: 64-byte vectors, 8 rows
 * Each path has three widths: two vectors (the body of C), one vector and
 * half a vector (the last columns, so an edge of 2 or 4 columns does not
 * cost a whole 16- or 32-wide tile). GCC's vector extensions keep the code
 * one C text; only the fused multiply-add differs: the FMA instruction, or
 * its exact emulation in SSE2 double arithmetic (fma_lanes), which round
 * the same. -ffp-contract=off (the whole project) keeps the compiler from
 * fusing anything else.
 */
#include "kernels/gemm_tile.h"

#include <immintrin.h>
#include <string.h>

#if defined(GEMM_TILE_AVX512)
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
/* fmaf in every lane without an FMA instruction (x86-64's baseline has
 * none). The C library's fmaf, one call a lane, ran this path at 0.73 GF
 * here and at 0.07 GF with glibc's FMA code off (software fma, as on a CPU
 * without FMA); this runs at 1.27 GF either way (bench/README.md). In
 * double: a * b is exact (24 + 24 bits of 53), s = p + c rounds once, and
 * TwoSum gives its error e exactly. s rounded to odd (when inexact and
 * even, one double ulp toward e) and then rounded to float is the
 * correctly rounded a * b + c (Boldo and Melquiond, 2008: rounding to odd
 * with at least two more bits than the target makes the second rounding
 * exact): fmaf's float. Without it, double rounding errs where s lands on
 * a float midpoint (test_gemm has such cases). Infinities and NaN pass
 * through s unadjusted.
 *
 * fma_to_odd: two lanes, a, b, c widened from float; s rounded to odd, for
 * the caller to round to float. */
static inline __m128d fma_to_odd(__m128d a, __m128d b, __m128d c)
{
    const __m128d p = _mm_mul_pd(a, b), s = _mm_add_pd(p, c), bv = _mm_sub_pd(s, p);
    const __m128d e = _mm_add_pd(_mm_sub_pd(p, _mm_sub_pd(s, bv)), _mm_sub_pd(c, bv));
    /* one ulp where s is even and inexact (finite, e != 0): away from zero
     * when e has s's sign, else toward it (SSE2 has no 64-bit compare:
     * shifts and adds) */
    const __m128d zero = _mm_setzero_pd();
    const __m128i u = _mm_castpd_si128(s), even = _mm_andnot_si128(u, _mm_set1_epi64x(1));
    const __m128i toward_zero = _mm_srli_epi64(_mm_xor_si128(u, _mm_castpd_si128(e)), 63);
    const __m128i inexact = _mm_castpd_si128(_mm_and_pd(_mm_cmpneq_pd(e, zero), _mm_cmpeq_pd(_mm_sub_pd(s, s), zero)));
    const __m128i step = _mm_sub_epi64(even, _mm_slli_epi64(_mm_and_si128(even, toward_zero), 1));
    return _mm_castsi128_pd(_mm_add_epi64(u, _mm_and_si128(step, inexact)));
}

static inline vec fma_lanes(vec a, vec b, vec c)
{
    const __m128 A = (__m128)a, B = (__m128)b, C = (__m128)c;
    const __m128d lo = fma_to_odd(_mm_cvtps_pd(A), _mm_cvtps_pd(B), _mm_cvtps_pd(C));
    const __m128d hi = fma_to_odd(_mm_cvtps_pd(_mm_movehl_ps(A, A)), _mm_cvtps_pd(_mm_movehl_ps(B, B)),
                                  _mm_cvtps_pd(_mm_movehl_ps(C, C)));
    return (vec)_mm_movelh_ps(_mm_cvtpd_ps(lo), _mm_cvtpd_ps(hi));
}

static inline vec_half fma_lanes_half(vec_half a, vec_half b, vec_half c)
{
    double t[3];
    memcpy(&t[0], &a, 8), memcpy(&t[1], &b, 8), memcpy(&t[2], &c, 8);
    const __m128 A = _mm_castpd_ps(_mm_set_sd(t[0])), B = _mm_castpd_ps(_mm_set_sd(t[1]));
    const __m128 C = _mm_castpd_ps(_mm_set_sd(t[2]));
    const __m128 r = _mm_cvtpd_ps(fma_to_odd(_mm_cvtps_pd(A), _mm_cvtps_pd(B), _mm_cvtps_pd(C)));
    vec_half out;
    memcpy(&out, &r, sizeof out);
    return out;
}

#define SPLATS(vt, suffix)                                                                                             \
    static inline vt splat_lanes##suffix(float x)                                                                      \
    {                                                                                                                  \
        vt v;                                                                                                          \
        for (size_t l = 0; l < sizeof(vt) / sizeof(float); l++) v[l] = x;                                              \
        return v;                                                                                                      \
    }
SPLATS(vec, )
SPLATS(vec_half, _half)
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
/* Fewer rows, for panels of fewer than MR rows when m is not a multiple
 * of MR (gemm.c makes the panels as even as it can: 25 rows are 5 x 5):
 * read in place, where a zero-padded panel of MR rows did the work of MR
 * (the CNN's dcol product, m = 25, then 4 panels of 6 and one of 1 padded
 * to 6, which cost as much as the other four: bench/gemm). */
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

/* The strip of a transposed B (gemm_tile.h's pack_transposed): blocks of
 * 8 x 8 transposed in AVX registers where the path has them, 4 x 4 in SSE
 * (x86-64's baseline), the rest a float at a time. A float at a time, the
 * strided stores were 38% of the CNN's dW product. With copy_in below,
 * the 8 x 8 blocks took the CNN's dW^T product (25 x 30 x 576) from 10.45
 * to 9.96 us and the affine dx (100 x 4320 x 100) from 836 to 829 us
 * (best of 8 runs, interleaved). Rows past cols come from a row of zeros,
 * so a partial group takes the same path. */
#define PACK_KC_MAX 256
_Static_assert(KC <= PACK_KC_MAX, "the row of zeros covers kc");
static void pack_transposed(const float *src, size_t lds, size_t cols, size_t kc, size_t nr, float *pack)
{
    static const float zeros[PACK_KC_MAX];
    size_t j = 0;
#if VBYTES >= 32
    for (; j + 8 <= nr; j += 8) {
        const float *row[8];
        for (size_t q = 0; q < 8; q++) row[q] = j + q < cols ? src + (j + q) * lds : zeros;
        size_t k = 0;
        for (; k + 8 <= kc; k += 8) {
            __m256 r[8], t[8], u[8];
            for (int q = 0; q < 8; q++) r[q] = _mm256_loadu_ps(row[q] + k);
            for (int q = 0; q < 8; q += 2)
                t[q] = _mm256_unpacklo_ps(r[q], r[q + 1]), t[q + 1] = _mm256_unpackhi_ps(r[q], r[q + 1]);
            for (int q = 0; q < 8; q += 4) {
                u[q] = _mm256_shuffle_ps(t[q], t[q + 2], _MM_SHUFFLE(1, 0, 1, 0));
                u[q + 1] = _mm256_shuffle_ps(t[q], t[q + 2], _MM_SHUFFLE(3, 2, 3, 2));
                u[q + 2] = _mm256_shuffle_ps(t[q + 1], t[q + 3], _MM_SHUFFLE(1, 0, 1, 0));
                u[q + 3] = _mm256_shuffle_ps(t[q + 1], t[q + 3], _MM_SHUFFLE(3, 2, 3, 2));
            }
            for (int q = 0; q < 4; q++) {
                _mm256_storeu_ps(pack + (k + (size_t)q) * nr + j, _mm256_permute2f128_ps(u[q], u[q + 4], 0x20));
                _mm256_storeu_ps(pack + (k + 4 + (size_t)q) * nr + j, _mm256_permute2f128_ps(u[q], u[q + 4], 0x31));
            }
        }
        for (; k < kc; k++)
            for (size_t q = 0; q < 8; q++) pack[k * nr + j + q] = row[q][k];
    }
#endif
    for (; j < nr; j += 4) {
        const float *row[4];
        const size_t width = nr - j < 4 ? nr - j : 4; /* the portable path's narrowest tile is 2 wide */
        for (size_t q = 0; q < 4; q++) row[q] = j + q < cols ? src + (j + q) * lds : zeros;
        size_t k = 0;
        if (width == 4)
            for (; k + 4 <= kc; k += 4) {
                __m128 r0 = _mm_loadu_ps(row[0] + k), r1 = _mm_loadu_ps(row[1] + k), r2 = _mm_loadu_ps(row[2] + k),
                       r3 = _mm_loadu_ps(row[3] + k);
                _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
                _mm_storeu_ps(pack + k * nr + j, r0);
                _mm_storeu_ps(pack + (k + 1) * nr + j, r1);
                _mm_storeu_ps(pack + (k + 2) * nr + j, r2);
                _mm_storeu_ps(pack + (k + 3) * nr + j, r3);
            }
        for (; k < kc; k++)
            for (size_t q = 0; q < width; q++) pack[k * nr + j + q] = row[q][k];
    }
}

/* gemm_tile.h's copy_in: whole vectors of the tile's widths, each built in
 * a register (a masked load reads nothing past cols) and stored once. */
static void copy_in(float *tile, size_t nr, const float *c, size_t ldc, size_t rows, size_t cols)
{
    for (size_t r = 0; r < rows; r++, tile += nr, c += ldc) {
        size_t j = 0;
#if VBYTES == 64
        for (; j + 16 <= nr; j += 16) {
            const __mmask16 m = j >= cols ? 0 : cols - j >= 16 ? 0xffff : (__mmask16)((1u << (cols - j)) - 1);
            _mm512_storeu_ps(tile + j, _mm512_maskz_loadu_ps(m, c + j));
        }
#endif
#if VBYTES >= 32
        for (; j + 8 <= nr; j += 8) {
            const int left = j >= cols ? 0 : (int)(cols - j < 8 ? cols - j : 8);
            const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(left), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
            _mm256_storeu_ps(tile + j, _mm256_maskload_ps(c + j, m));
        }
#endif
        for (; j + 4 <= nr; j += 4)
            _mm_storeu_ps(tile + j, _mm_setr_ps(j < cols ? c[j] : 0.0f, j + 1 < cols ? c[j + 1] : 0.0f,
                                                j + 2 < cols ? c[j + 2] : 0.0f, j + 3 < cols ? c[j + 3] : 0.0f));
        for (; j < nr; j++) tile[j] = j < cols ? c[j] : 0.0f;
    }
}

#define TILES(name) {name##_wide, name##_one, name##_half}

const gemm_path_t PATH = {PATH_NAME, MR, KC, {{2 * W, tile_wide}, {W, tile_one}, {W / 2, tile_half}},
                          {TILES(rows1), TILES(rows2), TILES(rows3),
#if MR > 4
                           TILES(rows4), TILES(rows5),
#endif
#if MR > 6
                           TILES(rows6), TILES(rows7),
#endif
                          },
                          pack_transposed, copy_in};
