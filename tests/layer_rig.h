/*
 * layer_rig.h: the gradient check shared by test_layers.c and
 * test_image_layers.c: one layer plugin driven through the ABI exactly as
 * the network calls it, its backward held against a central-difference
 * numerical gradient (the textbook's gradient check).
 *
 * The check: with a fixed random r, L(x, p) = sum(r * layer(x, p)) in
 * double. backward(dy = r) must give dL/dx and dL/dp. Float32 forward
 * passes limit the numerical side; the step and tolerance are the self-
 * test's (GRAD_CHECK_* in plugin_check.h, with the reasoning).
 */
#ifndef RUNNER_TEST_LAYER_RIG_H
#define RUNNER_TEST_LAYER_RIG_H

#include <math.h>

#include "helpers.h"
#include "plugin_host/host_services.h"
#include "plugin_host/plugin_check.h"

static registry_t reg;
static void setup(void) { load_build_plugins(&reg); }
static void teardown(void) { registry_free(&reg); }

/* the self-test's constants (plugin_check.h): one gradient check, two users */
#define H GRAD_CHECK_STEP
#define REL GRAD_CHECK_REL
#define ABS GRAD_CHECK_ABS

typedef struct {
    const runner_plugin_t *d;
    double hp[16];
    runner_layer_ctx_t c;
    size_t I, O, B;
    float *x, *y, *dy, *dx;
    uint64_t rng_at_forward;
} layer_rig_t;

static void rig_free(layer_rig_t *r)
{
    free(r->c.params), free(r->c.grads), free(r->c.state), free(r->c.work);
    free(r->x), free(r->y), free(r->dy), free(r->dx), free(r->c.rng);
}

/* name with hp overrides as "key=value" pairs over the defaults. */
static void rig_make(layer_rig_t *r, const char *name, const char *const *set, runner_shape_t in, size_t B)
{
    memset(r, 0, sizeof *r);
    const plugin_entry_t *pe = registry_find(&reg, RUNNER_KIND_LAYER, name);
    cr_assert(pe, "no layer plugin '%s'", name);
    r->d = pe->desc;
    for (uint32_t i = 0; i < r->d->n_params; i++) r->hp[i] = r->d->params[i].default_value;
    for (size_t k = 0; set && set[k]; k += 2) {
        uint32_t i = 0;
        while (i < r->d->n_params && strcmp(r->d->params[i].name, set[k])) i++;
        cr_assert_lt(i, r->d->n_params, "%s has no parameter %s", name, set[k]);
        r->hp[i] = atof(set[k + 1]);
    }
    const runner_layer_ops_t *ops = r->d->layer;
    runner_shape_t out;
    size_t np = 0;
    runner_err_t e = {{0}};
    cr_assert_eq(ops->shape(r->hp, &in, &out, &np, &e), RUNNER_OK, "%s shape: %s", name, e.msg);
    r->I = runner_shape_size(&in), r->O = runner_shape_size(&out), r->B = B;
    size_t sb = ops->state_bytes ? ops->state_bytes(r->hp, &in) : 0;
    size_t wb = ops->work_bytes ? ops->work_bytes(r->hp, &in, B) : 0;
    runner_rng_t *rng = calloc(1, sizeof *rng);
    rng->state = 12345;
    r->c = (runner_layer_ctx_t){.host = host_services(), .hp = r->hp, .in = in, .out = out, .batch = B,
                                .params = calloc(np + 1, sizeof(float)), .grads = calloc(np + 1, sizeof(float)),
                                .state = calloc(sb + 1, 1), .work = calloc(wb + 1, 1), .training = 1, .rng = rng};
    r->x = malloc(B * r->I * sizeof(float));
    r->dx = malloc(B * r->I * sizeof(float));
    r->y = malloc(B * r->O * sizeof(float));
    r->dy = malloc(B * r->O * sizeof(float));
    if (ops->init) cr_assert_eq(ops->init(&r->c, &e), RUNNER_OK, "%s init: %s", name, e.msg);
    /* inputs away from 0, where relu and maxpool have kinks: |x| in [0.1, 1] */
    for (size_t i = 0; i < B * r->I; i++) {
        double u = runner_rng_uniform(rng);
        r->x[i] = (float)((u < 0.5 ? -1 : 1) * (0.1 + 0.9 * runner_rng_uniform(rng)));
    }
    for (size_t i = 0; i < B * r->O; i++) r->dy[i] = (float)(2.0 * runner_rng_uniform(rng) - 1.0);
    r->rng_at_forward = rng->state;
}

/* L = sum(dy * forward(x)), with the random stream rewound so dropout draws
 * the same mask every time. */
static double rig_objective(layer_rig_t *r)
{
    runner_err_t e = {{0}};
    r->c.rng->state = r->rng_at_forward;
    cr_assert_eq(r->d->layer->forward(&r->c, r->x, r->y, &e), RUNNER_OK, "%s", e.msg);
    double L = 0.0;
    for (size_t i = 0; i < r->B * r->O; i++) L += (double)r->dy[i] * r->y[i];
    return L;
}

static double numerical(layer_rig_t *r, float *v)
{
    float keep = *v;
    *v = (float)(keep + H);
    double up = rig_objective(r);
    *v = (float)(keep - H);
    double down = rig_objective(r);
    *v = keep;
    return (up - down) / (2 * H);
}

static void expect_close(double analytic, double numeric, const char *what, size_t i)
{
    double tol = REL * fmax(fabs(analytic), fabs(numeric)) + ABS;
    cr_expect(fabs(analytic - numeric) <= tol, "%s[%zu]: backward %.6g, numerical %.6g (difference %.3g > %.3g)", what,
              i, analytic, numeric, fabs(analytic - numeric), tol);
}

/* Backward against central differences at the rig's x and parameters,
 * then again with dx = NULL; frees the rig. */
static void rig_check(layer_rig_t *rp)
{
    layer_rig_t r = *rp;
    const char *name = r.d->name;
    runner_shape_t in = r.c.in;
    size_t B = r.B;
    runner_err_t e = {{0}};
    rig_objective(&r);
    cr_assert_eq(r.d->layer->backward(&r.c, r.x, r.y, r.dy, r.dx, &e), RUNNER_OK, "%s", e.msg);
    size_t np = 0;
    runner_shape_t out;
    r.d->layer->shape(r.hp, &in, &out, &np, &e);
    float *analytic_p = malloc((np + 1) * sizeof(float));
    memcpy(analytic_p, r.c.grads, np * sizeof(float));
    char what[96];
    snprintf(what, sizeof what, "%s dx", name);
    /* every input element for small shapes, a stride through large ones */
    size_t step_x = B * r.I > 400 ? B * r.I / 397 : 1, step_p = np > 400 ? np / 397 : 1;
    for (size_t i = 0; i < B * r.I; i += step_x) expect_close(r.dx[i], numerical(&r, &r.x[i]), what, i);
    snprintf(what, sizeof what, "%s dparams", name);
    for (size_t i = 0; i < np; i += step_p) expect_close(analytic_p[i], numerical(&r, &r.c.params[i]), what, i);
    /* backward with dx = NULL (the first layer) still gives the parameter gradients */
    rig_objective(&r);
    memset(r.c.grads, 0, np * sizeof(float));
    cr_assert_eq(r.d->layer->backward(&r.c, r.x, r.y, r.dy, NULL, &e), RUNNER_OK, "%s", e.msg);
    for (size_t i = 0; i < np; i++) cr_expect_eq(r.c.grads[i], analytic_p[i], "%s: dparams differ without dx", name);
    free(analytic_p);
    rig_free(&r);
}

static void gradient_check(const char *name, const char *const *set, runner_shape_t in, size_t B)
{
    layer_rig_t r;
    rig_make(&r, name, set, in, B);
    rig_check(&r);
}

#define FLAT(n) ((runner_shape_t){.rank = 1, .dim = {n}})
#define IMAGE(c, h, w) ((runner_shape_t){.rank = 3, .dim = {c, h, w}})

#endif
