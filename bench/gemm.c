/*
 * bench/gemm.c: the runner's matrix kernels against OpenBLAS (single
 * thread) on the products the layers make, best of 5 timings each, and
 * whether each path gives the reference bits. Built and run by bench/gemm.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "kernels/gemm.h"

void openblas_set_num_threads(int);

typedef struct {
    const char *name;
    int ta, tb;
    size_t m, n, k;
    float beta;
} shape_t;

int main(void)
{
    openblas_set_num_threads(1);
    const shape_t shapes[] = {
        {"affine forward 100x100x784", 0, 0, 100, 100, 784, 1}, {"affine dW 784x100x100", 1, 0, 784, 100, 100, 0},
        {"affine dx 100x784x100", 0, 1, 100, 784, 100, 0},      {"affine forward 100x10x100", 0, 0, 100, 10, 100, 1},
        {"affine forward 100x50x784", 0, 0, 100, 50, 784, 1},   {"conv forward 30x576x26", 0, 0, 30, 576, 26, 0},
        {"conv dW (old) 30x25x576", 0, 1, 30, 25, 576, 1},      {"conv dW^T 25x30x576", 0, 1, 25, 30, 576, 1},
        {"conv dcol 25x576x30", 1, 0, 25, 576, 30, 0},
        {"affine forward 100x100x4320", 0, 0, 100, 100, 4320, 1}, {"affine forward 100x100x100", 0, 0, 100, 100, 100, 1},
        {"affine dW 100x100x100", 1, 0, 100, 100, 100, 0},      {"affine dx 100x100x100", 0, 1, 100, 100, 100, 0},
        {"affine dW 4320x100x100", 1, 0, 4320, 100, 100, 0},    {"affine dx 100x4320x100", 0, 1, 100, 4320, 100, 0},
    };
    const kernels_t ks[] = {KERNELS_OPENBLAS, KERNELS_AVX2, KERNELS_AVX512, KERNELS_PORTABLE};
    printf("%-30s", "product (m x n x k)");
    for (size_t q = 0; q < 4; q++) printf(" %16s", kernels_name(ks[q]));
    printf("\n");
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const shape_t *p = &shapes[s];
        size_t na = p->m * p->k, nb = p->k * p->n, nc = p->m * p->n;
        float *a = malloc(na * 4), *b = malloc(nb * 4), *c0 = malloc(nc * 4), *c = malloc(nc * 4), *ref = malloc(nc * 4);
        srand(1);
        for (size_t i = 0; i < na; i++) a[i] = (float)rand() / (float)RAND_MAX - 0.5f;
        for (size_t i = 0; i < nb; i++) b[i] = (float)rand() / (float)RAND_MAX - 0.5f;
        for (size_t i = 0; i < nc; i++) c0[i] = (float)rand() / (float)RAND_MAX;
        size_t lda = p->ta ? p->m : p->k, ldb = p->tb ? p->k : p->n;
        memcpy(ref, c0, nc * 4);
        gemm_f32_reference(p->ta, p->tb, p->m, p->n, p->k, 1, a, lda, b, ldb, p->beta, ref, p->n);
        printf("%-30s", p->name);
        for (size_t q = 0; q < 4; q++) {
            if (!kernels_supported(ks[q])) {
                printf(" %16s", "-");
                continue;
            }
            double best = 1e9;
            long reps = (long)(ks[q] == KERNELS_PORTABLE ? 2e6 : 1e8) / (long)(p->m * p->n * p->k) + 1;
            for (int t = 0; t < 5; t++) {
                double t0 = now_seconds();
                for (long r = 0; r < reps; r++) {
                    memcpy(c, c0, nc * 4);
                    gemm_f32(ks[q], p->ta, p->tb, p->m, p->n, p->k, 1, a, lda, b, ldb, p->beta, c, p->n);
                }
                double dt = (now_seconds() - t0) / (double)reps;
                if (dt < best) best = dt;
            }
            printf(" %7.1fus %4.0fGF%s", best * 1e6, 2.0 * (double)(p->m * p->n * p->k) / best / 1e9,
                   q == 0 ? " " : memcmp(c, ref, nc * 4) ? "X" : "=");
        }
        printf("\n");
        free(a), free(b), free(c0), free(c), free(ref);
    }
    printf("(= the reference bits, X not; GF: 2 m n k / time, 1e9 per second)\n");
    return 0;
}
