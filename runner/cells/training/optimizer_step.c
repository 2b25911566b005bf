/* optimizer_step.c: see optimizer_step.h. */
#include "cells/training/optimizer_step.h"

#include "plugin_host/descriptor.h"
#include "plugin_host/host_services.h"

/* Ranges no shorter than this: below it a parallel region costs more than
 * it saves (Adam updates 4096 elements in ~4 us). */
#define MIN_RANGE 4096
/* Range boundaries at multiples of 16 floats: between cache lines in the
 * 64-byte aligned arrays (w, g, the state's first). */
#define RANGE_ALIGN 16

typedef struct {
    const runner_elementwise_step_t *e;
    void *state;
    size_t n, range;
    float *w;
    const float *g;
} ranges_t;

static void apply_range(void *arg, size_t k)
{
    const ranges_t *r = arg;
    size_t lo = k * r->range, hi = lo + r->range < r->n ? lo + r->range : r->n;
    r->e->apply(r->state, r->n, lo, hi, r->w, r->g);
}

optimizer_step_t optimizer_step_of(const runner_plugin_t *d)
{
    const runner_elementwise_step_t *e = plugin_extension(d, RUNNER_EXT_ELEMENTWISE_STEP);
    if (e && (!RUNNER_HAS_FIELD(e, runner_elementwise_step_t, apply) || !e->begin || !e->apply)) e = NULL;
    return (optimizer_step_t){d->optimizer, e};
}

int optimizer_step(const optimizer_step_t *o, void *state, size_t n, float *w, const float *g, runner_err_t *err)
{
    int threads = host_kernel_threads();
    if (!o->elementwise || threads <= 1 || n < 2 * MIN_RANGE) return o->ops->step(state, n, w, g, err);
    /* one range per thread (ranges decide only who computes what) */
    size_t range = (n + (size_t)threads - 1) / (size_t)threads;
    if (range < MIN_RANGE) range = MIN_RANGE;
    range = (range + RANGE_ALIGN - 1) / RANGE_ALIGN * RANGE_ALIGN;
    if (o->elementwise->begin(state, n, err) != RUNNER_OK) return RUNNER_FAIL;
    ranges_t r = {o->elementwise, state, n, range, w, g};
    host_services()->parallel_for((n + range - 1) / range, apply_range, &r);
    return RUNNER_OK;
}
