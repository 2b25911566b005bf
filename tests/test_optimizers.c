/*
 * test_optimizers.c: every optimizer plugin against PyTorch 1.13.
 * tests/fixtures/optimizer_reference.json comes from
 * tests/reference/make_optimizer_reference.py (torch.optim, float32); each
 * case is replayed here through the plugin ABI with the same gradient
 * (g = a * w in float32) and must match bit for bit at every one of its 40
 * steps (the README says so: the same float32 operations in the same order).
 * A mismatch reports the worst relative error and its step. Then every
 * case again on 20,000 parameters, its step shared out over threads
 * (RUNNER_EXT_ELEMENTWISE_STEP, cells/training/optimizer_step.c): the
 * same bits as one call of step.
 */
#include <math.h>

#include "cells/training/optimizer_step.h"
#include "helpers.h"
#include "plugin_host/descriptor.h"
#include "plugin_host/host_services.h"

static registry_t reg;
static arena_t arena;
static node_t *fixture;

static void setup(void)
{
    load_build_plugins(&reg);
    arena_init(&arena);
    char *text;
    size_t len;
    err_t err = {0};
    cr_assert_eq(read_text_file(RUNNER_SOURCE_DIR "/tests/fixtures/optimizer_reference.json", &text, &len, &err), ERR_OK,
                 "%s", err.msg);
    cr_assert_eq(yaml_load(&arena, text, len, "optimizer_reference.json", &fixture, &err), ERR_OK, "%s", err.msg);
    free(text);
}

static void teardown(void)
{
    arena_free(&arena);
    registry_free(&reg);
}

static double num(const node_t *n)
{
    double v = 0;
    err_t err;
    cr_assert_eq(node_to_double(n, "fixture", &v, &err), ERR_OK, "%s", err.msg);
    return v;
}

/* Resolve a case's hyperparameters against the plugin schema: defaults, then the case's values. */
static void resolve_hp(const runner_plugin_t *d, const node_t *params, double *hp)
{
    for (uint32_t i = 0; i < d->n_params; i++) hp[i] = d->params[i].default_value;
    for (size_t j = 0; j < params->n; j++) {
        uint32_t i = 0;
        while (i < d->n_params && strcmp(d->params[i].name, params->pairs[j].key)) i++;
        cr_assert_lt(i, d->n_params, "fixture names parameter '%s' that %s lacks", params->pairs[j].key, d->name);
        const node_t *v = params->pairs[j].value;
        if (d->params[i].type == RUNNER_PARAM_CHOICE) { /* a name: its index */
            const char *const *names = d->param_choices[i];
            size_t k = 0;
            while (names[k] && strcmp(names[k], v->text)) k++;
            cr_assert(names[k], "%s has no %s '%s'", d->name, d->params[i].name, v->text);
            hp[i] = (double)k;
            continue;
        }
        hp[i] = scalar_type(v) == SCALAR_BOOL ? (v->text[0] == 't' || v->text[0] == 'T') : num(v);
    }
}

TestSuite(optimizers, .init = setup, .fini = teardown);

Test(optimizers, match_pytorch_reference)
{
    const node_t *cases = node_get(fixture, "cases");
    cr_assert(cases && cases->n >= 49, "fixture has too few cases");
    size_t checked = 0, exact = 0;
    double overall = 0.0;
    for (size_t c = 0; c < cases->n; c++) {
        const node_t *cs = cases->items[c];
        const char *name = node_get(cs, "optimizer")->text;
        const plugin_entry_t *pe = registry_find(&reg, RUNNER_KIND_OPTIMIZER, name);
        cr_assert(pe, "no optimizer plugin '%s'", name);
        const runner_plugin_t *d = pe->desc;
        const node_t *a = node_get(cs, "a"), *w0 = node_get(cs, "w0"), *traj = node_get(cs, "trajectory");
        size_t n = w0->n;
        double hp[64];
        resolve_hp(d, node_get(cs, "params"), hp);
        if (d->optimizer->check) {
            runner_err_t perr = {{0}};
            cr_assert_eq(d->optimizer->check(hp, &perr), RUNNER_OK, "%s", perr.msg);
        }
        size_t bytes = d->optimizer->state_bytes(n, hp);
        void *state = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
        float w[8], g[8], av[8];
        runner_err_t perr = {{0}};
        cr_assert_eq(d->optimizer->init(state, n, hp, 0, &perr), RUNNER_OK, "%s", perr.msg);
        for (size_t i = 0; i < n; i++) w[i] = (float)num(w0->items[i]), av[i] = (float)num(a->items[i]);
        double worst = 0.0;
        size_t worst_step = 0;
        for (size_t t = 1; t < traj->n; t++) {
            for (size_t i = 0; i < n; i++) g[i] = av[i] * w[i];
            cr_assert_eq(d->optimizer->step(state, n, w, g, &perr), RUNNER_OK, "%s", perr.msg);
            for (size_t i = 0; i < n; i++) {
                double ref = num(traj->items[t]->items[i]);
                /* relative error, on the scale of the run's values so a
                 * crossing of zero does not divide by ~0 */
                double scale = fmax(fabs(ref), 1e-3);
                double rel = fabs((double)w[i] - ref) / scale;
                if (rel > worst) worst = rel, worst_step = t;
            }
        }
        free(state);
        cr_expect_eq(worst, 0.0, "case %zu %s %s (torch: %s): not bitwise, worst relative error %.3g at step %zu", c, name,
                      node_to_flow(&arena, node_get(cs, "params")), node_get(cs, "torch")->text, worst, worst_step);
        checked++;
        exact += worst == 0.0;
        if (worst > overall) overall = worst;
    }
    cr_expect_eq(exact, checked, "%zu of %zu optimizer cases bitwise identical to PyTorch (worst relative error %.3g)",
                 exact, checked, overall);
    cr_expect_geq(checked, 49, "the README counts 49 reference trajectories");
}

/* The two numbers quoted in the source material, exactly as printed there. */
Test(optimizers, source_material_values)
{
    struct {
        const char *name;
        double lr, momentum;
        double w1, w2;
    } cases[] = {{"sgd", 0.01, 0.9, 0.990000, 0.971100}, {"adagrad", 0.01, -1, 0.990000, 0.982965}};
    for (size_t k = 0; k < 2; k++) {
        const runner_plugin_t *d = registry_find(&reg, RUNNER_KIND_OPTIMIZER, cases[k].name)->desc;
        double hp[64];
        for (uint32_t i = 0; i < d->n_params; i++) hp[i] = d->params[i].default_value;
        hp[0] = cases[k].lr;
        if (cases[k].momentum >= 0) hp[1] = cases[k].momentum;
        _Alignas(64) unsigned char state[256];
        runner_err_t perr;
        float w = 1.0f, g;
        d->optimizer->init(state, 1, hp, 0, &perr);
        g = w, d->optimizer->step(state, 1, &w, &g, &perr);
        cr_expect_float_eq(w, cases[k].w1, 5e-7, "%s step 1: %.6f", cases[k].name, w);
        g = w, d->optimizer->step(state, 1, &w, &g, &perr);
        cr_expect_float_eq(w, cases[k].w2, 5e-7, "%s step 2: %.6f", cases[k].name, w);
    }
}

/* ---- L-BFGS: torch's step(closure), through the closure extension ---- */

typedef struct {
    const char *problem;
    size_t n;
    float a[16];
    size_t calls;
} objective_t;

/* The objective exactly as tests/reference/make_lbfgs_reference.py computes it in float32. */
static int objective_eval(void *ctx, const float *w, float *g, double *loss, runner_err_t *err)
{
    (void)err;
    objective_t *o = ctx;
    o->calls++;
    if (!strcmp(o->problem, "quadratic")) {
        float f = 0.0f;
        for (size_t i = 0; i < o->n; i++) {
            f = f + ((o->a[i] * w[i]) * w[i]) * 0.5f;
            g[i] = o->a[i] * w[i];
        }
        *loss = f;
    } else {
        const float x = w[0], y = w[1], p = 1.0f - x, q = y - x * x;
        *loss = p * p + 100.0f * (q * q);
        g[0] = -2.0f * p - (400.0f * x) * q;
        g[1] = 200.0f * q;
    }
    return RUNNER_OK;
}

Test(optimizers, lbfgs_matches_pytorch_reference)
{
    char *text;
    size_t len;
    err_t err = {0};
    node_t *ref;
    cr_assert_eq(read_text_file(RUNNER_SOURCE_DIR "/tests/fixtures/lbfgs_reference.json", &text, &len, &err), ERR_OK,
                 "%s", err.msg);
    cr_assert_eq(yaml_load(&arena, text, len, "lbfgs_reference.json", &ref, &err), ERR_OK, "%s", err.msg);
    free(text);
    const runner_plugin_t *d = registry_find(&reg, RUNNER_KIND_OPTIMIZER, "lbfgs")->desc;
    runner_closure_step_fn closure_step = (runner_closure_step_fn)plugin_extension(d, RUNNER_EXT_CLOSURE_STEP);
    cr_assert(closure_step, "lbfgs has no closure step");
    const node_t *cases = node_get(ref, "cases");
    cr_assert(cases && cases->n >= 8);
    size_t exact = 0;
    for (size_t c = 0; c < cases->n; c++) {
        const node_t *cs = cases->items[c], *w0 = node_get(cs, "w0"), *a = node_get(cs, "a");
        const node_t *traj = node_get(cs, "trajectory"), *evals = node_get(cs, "func_evals");
        objective_t o = {.problem = node_get(cs, "problem")->text, .n = w0->n};
        cr_assert_leq(o.n, 16);
        for (size_t i = 0; i < a->n; i++) o.a[i] = (float)num(a->items[i]);
        double hp[16];
        resolve_hp(d, node_get(cs, "params"), hp);
        void *state = aligned_alloc(64, (d->optimizer->state_bytes(o.n, hp) + 63) & ~(size_t)63);
        runner_err_t perr = {{0}};
        cr_assert_eq(d->optimizer->init(state, o.n, hp, 0, &perr), RUNNER_OK, "%s", perr.msg);
        float w[16], g[16];
        for (size_t i = 0; i < o.n; i++) w[i] = (float)num(w0->items[i]);
        runner_closure_t closure = {objective_eval, &o};
        size_t mismatches = 0, first_bad = 0;
        for (size_t t = 1; t < traj->n; t++) {
            double loss;
            objective_eval(&o, w, g, &loss, &perr); /* torch's first closure() of the step */
            cr_assert_eq(closure_step(state, o.n, w, g, loss, &closure, &perr), RUNNER_OK, "%s", perr.msg);
            bool same = (double)o.calls == num(evals->items[t - 1]);
            for (size_t i = 0; i < o.n; i++) same &= (double)w[i] == num(traj->items[t]->items[i]);
            if (!same && !mismatches++) first_bad = t;
        }
        free(state);
        cr_expect_eq(mismatches, 0, "case %zu %s %s (%s): %zu of %zu steps differ from torch, the first at step %zu", c,
                     o.problem, node_to_flow(&arena, node_get(cs, "params")), node_get(cs, "torch")->text, mismatches,
                     traj->n - 1, first_bad);
        exact += mismatches == 0;
    }
    cr_expect_eq(exact, cases->n, "%zu of %zu L-BFGS cases bitwise identical to torch, evaluation counts included", exact,
                 cases->n);
}

/* Without the closure (a host before ABI 1.4) its plain step says why it cannot run. */
Test(optimizers, lbfgs_plain_step_explains)
{
    const runner_plugin_t *d = registry_find(&reg, RUNNER_KIND_OPTIMIZER, "lbfgs")->desc;
    double hp[16];
    for (uint32_t i = 0; i < d->n_params; i++) hp[i] = d->params[i].default_value;
    void *state = aligned_alloc(64, (d->optimizer->state_bytes(2, hp) + 63) & ~(size_t)63);
    runner_err_t perr = {{0}};
    float w[2] = {1, 2}, g[2] = {1, 2};
    cr_assert_eq(d->optimizer->init(state, 2, hp, 0, &perr), RUNNER_OK);
    cr_expect_eq(d->optimizer->step(state, 2, w, g, &perr), RUNNER_FAIL);
    cr_expect(strstr(perr.msg, "closure"), "%s", perr.msg);
    free(state);
    /* the state size of a huge history saturates instead of wrapping */
    hp[5] = 100000;
    cr_expect_eq(d->optimizer->state_bytes(SIZE_MAX / 1000, hp), SIZE_MAX);
}

/* Every case of the reference, each element of a 20,000-parameter vector
 * one of the case's own (w0 and a repeated): 40 steps through
 * optimizer_step at 1 and at 3 threads (3 ranges, begin once a step) give
 * the same bits, and every optimizer but L-BFGS has the extension. */
Test(optimizers, a_step_shared_out_over_threads_gives_the_same_bits)
{
    enum { N = 20000, STEPS = 40 };
    const node_t *cases = node_get(fixture, "cases");
    float *w[2], *g = malloc(N * sizeof *g), *av = malloc(N * sizeof *av);
    w[0] = malloc(N * sizeof(float)), w[1] = malloc(N * sizeof(float));
    size_t shared = 0;
    for (size_t c = 0; c < cases->n; c++) {
        const node_t *cs = cases->items[c], *w0 = node_get(cs, "w0"), *a = node_get(cs, "a");
        const runner_plugin_t *d = registry_find(&reg, RUNNER_KIND_OPTIMIZER, node_get(cs, "optimizer")->text)->desc;
        optimizer_step_t o = optimizer_step_of(d);
        cr_assert(o.elementwise, "%s has no elementwise step", d->name);
        double hp[64];
        resolve_hp(d, node_get(cs, "params"), hp);
        size_t bytes = (d->optimizer->state_bytes(N, hp) + 63) & ~(size_t)63;
        for (int run = 0; run < 2; run++) {
            host_set_kernel_threads(run ? 3 : 1);
            void *state = aligned_alloc(64, bytes);
            runner_err_t perr = {{0}};
            cr_assert_eq(d->optimizer->init(state, N, hp, 0, &perr), RUNNER_OK, "%s", perr.msg);
            for (size_t i = 0; i < N; i++)
                w[run][i] = (float)num(w0->items[i % w0->n]) * (1.0f + (float)(i / w0->n) * 1e-4f),
                av[i] = (float)num(a->items[i % a->n]);
            for (int t = 0; t < STEPS; t++) {
                for (size_t i = 0; i < N; i++) g[i] = av[i] * w[run][i];
                cr_assert_eq(optimizer_step(&o, state, N, w[run], g, &perr), RUNNER_OK, "%s", perr.msg);
            }
            free(state);
        }
        host_set_kernel_threads(1);
        size_t differ = 0;
        for (size_t i = 0; i < N; i++) differ += memcmp(&w[0][i], &w[1][i], sizeof(float)) != 0;
        cr_expect_eq(differ, 0, "case %zu %s %s: %zu of %d parameters differ between 1 and 3 threads", c, d->name,
                     node_to_flow(&arena, node_get(cs, "params")), differ, N);
        shared++;
    }
    cr_expect_geq(shared, 49);
    for (size_t i = 0; i < reg.n_plugins; i++) {
        const runner_plugin_t *d = reg.plugins[i].desc;
        if (d->kind == RUNNER_KIND_OPTIMIZER)
            cr_expect(!plugin_extension(d, RUNNER_EXT_ELEMENTWISE_STEP) == !strcmp(d->name, "lbfgs"),
                      "%s: every optimizer but L-BFGS steps elementwise", d->name);
    }
    free(w[0]), free(w[1]), free(g), free(av);
}

/* The ranges optimizer_step cuts: each element applied once a step, begin
 * called once, at any thread count and size; too small a vector, or one
 * thread, takes the plain step. */
static size_t begins, steps;
static unsigned char *applied;
static int count_begin(void *s, size_t n, runner_err_t *err)
{
    (void)s, (void)n, (void)err;
    begins++;
    return RUNNER_OK;
}
static void count_apply(void *s, size_t n, size_t lo, size_t hi, float *w, const float *g)
{
    (void)s, (void)n, (void)w, (void)g;
    for (size_t i = lo; i < hi; i++) __atomic_fetch_add(&applied[i], 1, __ATOMIC_RELAXED);
}
static int count_step(void *s, size_t n, float *w, const float *g, runner_err_t *err)
{
    (void)s, (void)n, (void)w, (void)g, (void)err;
    steps++;
    return RUNNER_OK;
}

Test(optimizers, a_shared_step_covers_every_element_once)
{
    static const runner_elementwise_step_t ext = {sizeof ext, count_begin, count_apply};
    static const runner_optimizer_ops_t ops = {.size = sizeof ops, .step = count_step};
    const optimizer_step_t o = {&ops, &ext};
    static const size_t sizes[] = {1, 8191, 8192, 8193, 20000, 433000, 433001};
    static const int threads[] = {1, 2, 3, 7, 16};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
        for (size_t t = 0; t < sizeof threads / sizeof *threads; t++) {
            size_t n = sizes[s];
            applied = calloc(n, 1);
            begins = steps = 0;
            host_set_kernel_threads(threads[t]);
            runner_err_t e = {{0}};
            cr_assert_eq(optimizer_step(&o, NULL, n, NULL, NULL, &e), RUNNER_OK);
            bool plain = threads[t] == 1 || n < 8192;
            cr_expect_eq(steps, plain, "n %zu, %d threads", n, threads[t]);
            cr_expect_eq(begins, !plain, "n %zu, %d threads", n, threads[t]);
            size_t once = 0;
            for (size_t i = 0; i < n; i++) once += applied[i] == 1;
            cr_expect_eq(once, plain ? 0 : n, "n %zu, %d threads: %zu elements applied once", n, threads[t], once);
            free(applied);
        }
    host_set_kernel_threads(1);
}
