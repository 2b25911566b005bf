/* gather.c: see gather.h. */
#include "cells/training/gather.h"

#include <string.h>

#include "plugin_host/host_services.h"

/* Rows per parallel_for index: 8 Fashion-MNIST images are 25 KB. A batch
 * under SHARE_BYTES is one serial copy: a parallel region costs ~1-3 us. */
#define CHUNK_ROWS 8
#define SHARE_BYTES ((size_t)128 << 10)

typedef struct {
    const batch_rows_t *src;
    size_t first, B;
    float *dst;
} gather_t;

static size_t row_of(const batch_rows_t *s, size_t at)
{
    size_t i = s->rows ? s->rows[at] : at;
    return s->map ? s->map[i] : i;
}

static void copy_chunk(void *arg, size_t chunk)
{
    const gather_t *g = arg;
    const batch_rows_t *s = g->src;
    size_t lo = chunk * CHUNK_ROWS, hi = lo + CHUNK_ROWS < g->B ? lo + CHUNK_ROWS : g->B;
    if (!s->rows && !s->map) { /* consecutive rows: one copy */
        memcpy(g->dst + lo * s->width, s->x + (g->first + lo) * s->width, (hi - lo) * s->width * sizeof(float));
        return;
    }
    for (size_t r = lo; r < hi; r++)
        memcpy(g->dst + r * s->width, s->x + row_of(s, g->first + r) * s->width, s->width * sizeof(float));
}

void gather_rows(const batch_rows_t *src, size_t first, size_t B, float *dst, int32_t *labels)
{
    gather_t g = {src, first, B, dst};
    size_t chunks = (B + CHUNK_ROWS - 1) / CHUNK_ROWS;
    if (B * src->width * sizeof(float) < SHARE_BYTES)
        for (size_t c = 0; c < chunks; c++) copy_chunk(&g, c);
    else
        host_services()->parallel_for(chunks, copy_chunk, &g);
    for (size_t r = 0; labels && r < B; r++) labels[r] = src->y[row_of(src, first + r)];
}
