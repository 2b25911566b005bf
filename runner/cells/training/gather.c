/* gather.c: see gather.h. */
#include "cells/training/gather.h"

#include <string.h>

#include "plugin_host/host_services.h"

/* Rows per parallel_for index: 8 Fashion-MNIST images are 25 KB. A batch
 * under SHARE_BYTES is one serial copy: a parallel region costs ~1-3 us. */
#define CHUNK_ROWS 8
#define SHARE_BYTES ((size_t)128 << 10)

typedef struct {
    float *dst;
    const float *x;
    size_t width;
    const uint32_t *rows, *map;
    size_t first, B;
} gather_t;

static void copy_chunk(void *arg, size_t chunk)
{
    const gather_t *g = arg;
    size_t lo = chunk * CHUNK_ROWS, hi = lo + CHUNK_ROWS < g->B ? lo + CHUNK_ROWS : g->B;
    if (!g->rows && !g->map) { /* consecutive rows: one copy */
        memcpy(g->dst + lo * g->width, g->x + (g->first + lo) * g->width, (hi - lo) * g->width * sizeof(float));
        return;
    }
    for (size_t r = lo; r < hi; r++) {
        size_t i = g->rows ? g->rows[g->first + r] : g->first + r;
        if (g->map) i = g->map[i];
        memcpy(g->dst + r * g->width, g->x + i * g->width, g->width * sizeof(float));
    }
}

void gather_rows(float *dst, const float *x, size_t width, const uint32_t *rows, const uint32_t *map, size_t first,
                 size_t B)
{
    gather_t g = {dst, x, width, rows, map, first, B};
    size_t chunks = (B + CHUNK_ROWS - 1) / CHUNK_ROWS;
    if (B * width * sizeof(float) < SHARE_BYTES) {
        for (size_t c = 0; c < chunks; c++) copy_chunk(&g, c);
        return;
    }
    host_services()->parallel_for(chunks, copy_chunk, &g);
}
