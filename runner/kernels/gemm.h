/*
 * gemm.h: single-precision matrix products with one order of operations on
 * every x86-64 CPU (gemm_tile.h states it), and the choice of kernels.
 *
 * C = alpha op(A) op(B) + beta C, row-major, as cblas_sgemm takes it. With
 * alpha 1 and beta 0 or 1 (every product the layers make) each element is
 * the ordered sum of gemm_tile.h, started from C when beta is 1. Other alpha
 * and beta: T = op(A) op(B) that way, then C = alpha T + beta C, element by
 * element. beta 0 never reads C (it may hold NaN).
 */
#ifndef RUNNER_KERNELS_GEMM_H
#define RUNNER_KERNELS_GEMM_H

#include <stdbool.h>
#include <stddef.h>

#include "kernels/gemm_tile.h"

/* Which kernels compute products: one of the tile paths, or OpenBLAS
 * (faster or slower by CPU, and its sums are ordered by CPU: no bitwise
 * guarantee). */
typedef enum { KERNELS_PORTABLE, KERNELS_AVX2, KERNELS_AVX512, KERNELS_OPENBLAS } kernels_t;

/* The name as RUNNER_KERNELS and provenance spell it. */
const char *kernels_name(kernels_t k);
/* By name ("auto" is the best path this CPU runs): false for an unknown name. */
bool kernels_parse(const char *name, kernels_t *out);
/* Whether this CPU (and its OS) can run them. */
bool kernels_supported(kernels_t k);
/* The fastest tile path this CPU runs. */
kernels_t kernels_best(void);

/* The product on one thread with the given kernels. */
void gemm_f32(kernels_t k, int trans_a, int trans_b, size_t m, size_t n, size_t K, float alpha, const float *a,
              size_t lda, const float *b, size_t ldb, float beta, float *c, size_t ldc);

/* The same product element by element in plain C: the definition the tile
 * paths are tested against, bit for bit; also what computes the general
 * alpha and beta. */
void gemm_f32_reference(int trans_a, int trans_b, size_t m, size_t n, size_t K, float alpha, const float *a,
                        size_t lda, const float *b, size_t ldb, float beta, float *c, size_t ldc);

#endif
