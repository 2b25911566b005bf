/*
 * gemm_tile.h: the inner kernel of the matrix product, one MR x NR tile of C,
 * and the instruction sets it is built for.
 *
 * The order of operations is the contract: every element of the tile is
 *     acc = load_c ? C[i][j] : 0;  for k = 0 .. K-1: acc = fmaf(A[i][k], B[k][j], acc);
 * one fused multiply-add per term, rounded once to float, k ascending.
 * Vectors run across j (different outputs), never across k, so the tile's
 * width, the register count and the instruction set change the speed and
 * nothing else. A fused multiply-add is exactly specified (IEEE 754: the
 * exact a*b+c, rounded once), so the FMA instruction and the C library's
 * fmaf give the same float: every path gives the same bits.
 */
#ifndef RUNNER_KERNELS_GEMM_TILE_H
#define RUNNER_KERNELS_GEMM_TILE_H

#include <stddef.h>

/* The tile kernel: mr rows of op(A) where they lie (element (r, k) at
 * a[r * a_rs + k * a_ks]), B's rows k at b + k * ldb (nr floats each), the
 * tile at c with row stride ldc. */
typedef void (*gemm_tile_fn)(size_t K, const float *a, size_t a_rs, size_t a_ks, const float *b, size_t ldb, float *c,
                             size_t ldc, int load_c);

typedef struct {
    size_t nr; /* columns of B */
    gemm_tile_fn fn;
} gemm_tile_t;

typedef struct {
    const char *name; /* "avx512", "avx2", "portable": RUNNER_KERNELS and the file's provenance */
    size_t mr;        /* rows of A in a tile (at most 32) */
    size_t kc;        /* K per block: a strip of B (kc x nr) fits the L1 cache */
    gemm_tile_t tiles[3]; /* widest first (at most 32 columns), then narrower ones for the last columns */
    /* The same widths with r < mr rows: short[r - 1][width], for panels
     * of fewer rows when m is not a multiple of mr (gemm.c evens the
     * panels out; the same order of operations: only fewer rows). */
    gemm_tile_fn short_rows[7][3];
    /* The strip of a transposed B: rows [0, cols) of src (kc <= 256 floats
     * each, row stride lds) as the columns of pack (kc rows, nr wide, zero
     * past cols), as the tile reads a strip. Moves only. */
    void (*pack_transposed)(const float *src, size_t lds, size_t cols, size_t kc, size_t nr, float *pack);
    /* Rows [0, rows) x columns [0, cols) of C into a tile on the stack (nr
     * wide, zero past cols), for a tile over C's last columns to go on
     * from. In whole vectors, as the tile loads them: a vector load from
     * several narrower stores waits for them to reach the cache (a failed
     * store-to-load forward), which a float-at-a-time copy made 10% of
     * the CNN's dW^T product. Moves only. */
    void (*copy_in)(float *tile, size_t nr, const float *c, size_t ldc, size_t rows, size_t cols);
} gemm_path_t;

/* One per instruction set (gemm_tile.c, built once for each); whether the
 * CPU can run one is kernels_supported's business (gemm.h). */
extern const gemm_path_t gemm_path_portable, gemm_path_avx2, gemm_path_avx512;

#endif
