/*
 * test_step_alloc.c: a training step allocates nothing. Issue 3's bar: a
 * cell's working memory is allocated once, before its first step. The
 * test counts every malloc, calloc, realloc and aligned allocation of the
 * process (this executable defines them, so they take the place of libc's
 * for the plugins, OpenBLAS and libgomp too) over steps of the networks
 * that exercise every layer, sliced and whole, at one and two threads.
 *
 * Under ASan the sanitizer owns malloc, so there the test only says it was
 * skipped (make test runs it).
 */
#include "helpers.h"
#include "cells/training/model.h"
#include "cells/training/network.h"
#include "config/yaml_load.h"
#include "plugin_host/host_services.h"

#if defined(__SANITIZE_ADDRESS__)
#define COUNTING 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define COUNTING 0
#endif
#endif
#ifndef COUNTING
#define COUNTING 1
#endif

static _Atomic size_t allocations;
static _Atomic int counting;

#if COUNTING
/* glibc's own entry points, under the names every program may call */
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t k, size_t n);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t align, size_t n);

static void count(void)
{
    if (counting) allocations++;
}
void *malloc(size_t n)
{
    count();
    return __libc_malloc(n);
}
void *calloc(size_t k, size_t n)
{
    count();
    return __libc_calloc(k, n);
}
void *realloc(void *p, size_t n)
{
    count();
    return __libc_realloc(p, n);
}
void *aligned_alloc(size_t align, size_t n)
{
    count();
    return __libc_memalign(align, n);
}
void *memalign(size_t align, size_t n)
{
    count();
    return __libc_memalign(align, n);
}
int posix_memalign(void **p, size_t align, size_t n)
{
    count();
    *p = __libc_memalign(align, n);
    return *p ? 0 : 12; /* ENOMEM */
}
#endif

static registry_t reg;
static void setup(void) { load_build_plugins(&reg); }
static void teardown(void) { registry_free(&reg); }
TestSuite(step_alloc, .init = setup, .fini = teardown);

static arena_t arena;

/* Train on a fixed batch for a few steps; the allocations made by the
 * steps after the first (which may warm up OpenBLAS and the thread pool). */
static size_t step_allocations(const char *model_yaml, runner_shape_t input, size_t slice_bytes, int threads)
{
    arena_init(&arena);
    node_t *mn, *ln;
    err_t err = {0};
    cr_assert_eq(yaml_load(&arena, model_yaml, strlen(model_yaml), "model.yaml", &mn, &err), ERR_OK, "%s", err.msg);
    cr_assert_eq(yaml_load(&arena, "softmax_cross_entropy", 21, "loss.yaml", &ln, &err), ERR_OK, "%s", err.msg);
    model_t *m;
    cr_assert_eq(model_compile(&arena, mn, ln, &reg, input, 3, &m, &err), ERR_OK, "%s", err.msg);
    host_set_kernel_threads(threads);
    network_t net;
    cr_assert_eq(network_create_sliced(&net, m, 16, slice_bytes, &err), ERR_OK);
    const plugin_entry_t *adam = registry_find(&reg, RUNNER_KIND_OPTIMIZER, "adam");
    cr_assert(adam);
    const runner_optimizer_ops_t *ops = adam->desc->optimizer;
    double hp[16];
    for (uint32_t i = 0; i < adam->desc->n_params; i++) hp[i] = adam->desc->params[i].default_value;
    void *state = aligned_alloc(64, (ops->state_bytes(m->n_params, hp) + 63) & ~(size_t)63);
    runner_err_t e = {{0}};
    cr_assert_eq(network_init(&net, 3, &e), RUNNER_OK);
    cr_assert_eq(ops->init(state, m->n_params, hp, 3, &e), RUNNER_OK);
    runner_rng_t rng = {5};
    for (size_t i = 0; i < 16 * runner_shape_size(&input); i++) network_input(&net)[i] = (float)runner_rng_uniform(&rng);
    int32_t labels[16];
    for (size_t i = 0; i < 16; i++) labels[i] = (int32_t)(i % 3);
    size_t before = 0;
    for (int step = 0; step < 4; step++) {
        if (step == 1) before = allocations, counting = 1;
        double loss;
        cr_assert_eq(network_forward(&net, 16, 1, &e), RUNNER_OK, "%s", e.msg);
        cr_assert_eq(network_backward(&net, 16, labels, &loss, &e), RUNNER_OK, "%s", e.msg);
        cr_assert_eq(ops->step(state, m->n_params, net.params, net.grads, &e), RUNNER_OK);
        /* an evaluation batch, smaller than the batch, as the last one of a split */
        cr_assert_eq(network_forward(&net, 11, 0, &e), RUNNER_OK, "%s", e.msg);
        cr_assert_eq(network_loss(&net, 11, labels, &loss, &e), RUNNER_OK, "%s", e.msg);
    }
    counting = 0;
    size_t made = allocations - before;
    free(state);
    network_destroy(&net);
    host_set_kernel_threads(1);
    arena_free(&arena);
    return made;
}

static const char *const cnn = "[{layer: conv2d, filters: 4, size: 3, pad: 1}, {layer: relu}, {layer: maxpool},"
                               " {layer: conv2d, filters: 3, size: 3}, {layer: tanh}, {layer: avgpool},"
                               " {layer: flatten}, {layer: batchnorm}, {layer: dropout, ratio: 0.3},"
                               " {layer: affine, out: 8}, {layer: sigmoid}, {layer: affine, out: 3}]";

Test(step_alloc, training_steps_allocate_nothing)
{
    if (!COUNTING) {
        cr_log_info("skipped: the sanitizer owns malloc");
        return;
    }
    for (int threads = 1; threads <= 2; threads++) {
        const runner_shape_t image = {.rank = 3, .dim = {2, 12, 12}};
    size_t whole = step_allocations(cnn, image, (size_t)1 << 30, threads);
        size_t sliced = step_allocations(cnn, image, 1, threads);
        cr_expect_eq(whole, 0, "%zu allocations in 3 steps, layers on whole batches, %d thread(s)", whole, threads);
        cr_expect_eq(sliced, 0, "%zu allocations in 3 steps, sample by sample, %d thread(s)", sliced, threads);
    }
    /* and the count works: a step that allocates is seen */
    counting = 1;
    size_t before = allocations;
    void *volatile p = malloc(16);
    free(p);
    counting = 0;
    cr_expect_eq(allocations - before, 1);
}
