/*
 * bench/blocks.c: how the host cuts the layers' large products into blocks
 * at 1 to 32 threads (plugin_host/host_services.c), and what that predicts
 * on a machine with that many cores: each block timed alone on this core
 * (best of 20), the work in all, and the makespan of OpenMP's static
 * schedule (thread t runs a contiguous share of the blocks), against the
 * whole product on one core. A model: it leaves out the region's start and
 * the threads sharing L3 and memory. At 2 threads it is checked against the
 * host's product measured on 2 threads. Built and run by bench/blocks.sh.
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "kernels/gemm.h"
#include "plugin_host/host_services.h"

typedef struct {
    const char *name;
    int ta, tb;
    size_t m, n, k;
} shape_t;

typedef struct {
    const shape_t *s;
    const float *a, *b;
    float *c;
    size_t lda, ldb;
} operands_t;

/* Rows or columns [at, at + len) of C, as the host's block does it. */
static void block(kernels_t kern, const operands_t *o, const product_blocks_t *bl, size_t i)
{
    const shape_t *s = o->s;
    size_t at, len;
    host_product_block(bl, i, &at, &len);
    size_t r0 = bl->by_cols ? 0 : at, rows = bl->by_cols ? s->m : len;
    size_t c0 = bl->by_cols ? at : 0, cols = bl->by_cols ? len : s->n;
    gemm_f32(kern, s->ta, s->tb, rows, cols, s->k, 1, s->ta ? o->a + r0 : o->a + r0 * o->lda, o->lda,
             s->tb ? o->b + c0 * o->ldb : o->b + c0, o->ldb, 0, o->c + r0 * s->n + c0, s->n);
}

static double best_of(int reps, kernels_t kern, const operands_t *o, const product_blocks_t *bl, size_t i)
{
    double best = 1e9;
    for (int r = 0; r < reps; r++) {
        double t0 = now_seconds();
        block(kern, o, bl, i);
        double t = now_seconds() - t0;
        if (t < best) best = t;
    }
    return best;
}

int main(void)
{
    const shape_t shapes[] = {
        {"CNN affine forward 100x100x4320", 0, 0, 100, 100, 4320}, {"CNN affine dW 4320x100x100", 1, 0, 4320, 100, 100},
        {"CNN affine dx 100x4320x100", 0, 1, 100, 4320, 100},      {"MLP affine forward 100x100x784", 0, 0, 100, 100, 784},
        {"MLP affine dW 784x100x100", 1, 0, 784, 100, 100},        {"MLP affine dx 100x784x100", 0, 1, 100, 784, 100},
    };
    const int threads[] = {1, 2, 4, 8, 16, 32};
    const kernels_t kern = kernels_best();
    host_set_kernels(kern);
    printf("kernels %s; per product: threads, blocks (rows|cols each), work in all, predicted time "
           "(static schedule), speed-up over the whole product on one core\n", kernels_name(kern));
    for (size_t q = 0; q < sizeof shapes / sizeof shapes[0]; q++) {
        const shape_t *s = &shapes[q];
        size_t na = s->m * s->k, nb = s->k * s->n;
        float *a = malloc(na * 4), *b = malloc(nb * 4), *c = malloc(s->m * s->n * 4);
        for (size_t i = 0; i < na; i++) a[i] = (float)rand() / (float)RAND_MAX - 0.5f;
        for (size_t i = 0; i < nb; i++) b[i] = (float)rand() / (float)RAND_MAX - 0.5f;
        operands_t o = {s, a, b, c, s->ta ? s->m : s->k, s->tb ? s->k : s->n};
        const product_blocks_t whole = {false, 1, s->m, s->m, 0};
        double one = best_of(20, kern, &o, &whole, 0);
        printf("\n%s: %.0f us on one core\n", s->name, one * 1e6);
        for (size_t t = 0; t < sizeof threads / sizeof threads[0]; t++) {
            const int T = threads[t];
            const product_blocks_t bl = host_product_blocks(kern, s->m, s->n, s->k, T);
            double total = 0, makespan = 0;
            size_t share = (bl.blocks + (size_t)T - 1) / (size_t)T; /* OpenMP static: contiguous shares */
            for (size_t t0 = 0; t0 < bl.blocks; t0 += share) {
                double mine = 0;
                for (size_t i = t0; i < t0 + share && i < bl.blocks; i++) mine += best_of(20, kern, &o, &bl, i);
                total += mine;
                if (mine > makespan) makespan = mine;
            }
            printf("  %2d threads: %3zu blocks of %3zu %s, %5.0f us in all, %5.0f us predicted, %5.1fx", T, bl.blocks,
                   bl.each, bl.by_cols ? "cols" : "rows", total * 1e6, makespan * 1e6, one / makespan);
            if (T == 2 && omp_get_num_procs() >= 2) { /* the model against the host's product on 2 threads */
                host_set_kernel_threads(2);
                double best = 1e9;
                for (int r = 0; r < 20; r++) {
                    double t1 = now_seconds();
                    host_services()->sgemm(s->ta, s->tb, s->m, s->n, s->k, 1, a, o.lda, b, o.ldb, 0, c, s->n);
                    if (now_seconds() - t1 < best) best = now_seconds() - t1;
                }
                host_set_kernel_threads(1);
                printf("; measured %5.0f us (%.1fx)", best * 1e6, one / best);
            }
            printf("\n");
        }
        free(a), free(b), free(c);
    }
    return 0;
}
