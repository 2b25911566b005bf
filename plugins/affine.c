/*
 * affine.c: the fully connected layer, y = x W + b, flattening its input
 * as the textbook's Affine does. Shapes: B = batch, I = input features (the
 * product of the input shape), O = out.
 *   params: W (I, O) row-major, then b (O)
 *   init:   he, xavier, std or uniform, with fan-in I (weight_init.h)
 */
#include <runner/plugin.h>
#include <stdio.h>
#include <string.h>

#include "weight_init.h"

enum { P_OUT, P_INIT, P_SCALE };

static const runner_param_t params[] = {
    {"out", RUNNER_PARAM_INT, RUNNER_PARAM_REQUIRED, 0, 1, 1 << 20, "output features"},
    WEIGHT_INIT_PARAMS,
};
static const char *const *const choices[] = {NULL, weight_init_names, NULL};

static int affine_shape(const double *hp, const runner_shape_t *in, runner_shape_t *out, size_t *n_params,
                        runner_err_t *err)
{
    (void)err;
    size_t i = runner_shape_size(in), o = (size_t)hp[P_OUT];
    *out = (runner_shape_t){.rank = 1, .dim = {(uint32_t)o}};
    *n_params = i * o + o;
    return RUNNER_OK;
}

static int affine_init(const runner_layer_ctx_t *c, runner_err_t *err)
{
    (void)err;
    size_t I = runner_shape_size(&c->in), O = runner_shape_size(&c->out);
    weight_init_fill(c->rng, c->params, I * O, O, I, (int)c->hp[P_INIT], c->hp[P_SCALE]);
    return RUNNER_OK;
}

static int affine_forward(const runner_layer_ctx_t *c, const float *x, float *y, runner_err_t *err)
{
    (void)err;
    size_t B = c->batch, I = runner_shape_size(&c->in), O = runner_shape_size(&c->out);
    const float *W = c->params, *b = W + I * O;
    /* y (B,O) = b broadcast, then += x (B,I) W (I,O) */
    for (size_t r = 0; r < B; r++) memcpy(y + r * O, b, O * sizeof *y);
    c->host->sgemm(0, 0, B, O, I, 1.0f, x, I, W, O, 1.0f, y, O);
    return RUNNER_OK;
}

static int affine_backward(const runner_layer_ctx_t *c, const float *x, const float *y, const float *dy, float *dx,
                           runner_err_t *err)
{
    (void)y, (void)err;
    size_t B = c->batch, I = runner_shape_size(&c->in), O = runner_shape_size(&c->out);
    const float *W = c->params;
    float *dW = c->grads, *db = dW + I * O;
    /* dW (I,O) = x^T (I,B) dy (B,O); db (O) = column sums of dy; dx (B,I) = dy (B,O) W^T (O,I) */
    c->host->sgemm(1, 0, I, O, B, 1.0f, x, I, dy, O, 0.0f, dW, O);
    memset(db, 0, O * sizeof *db);
    for (size_t r = 0; r < B; r++)
        for (size_t o = 0; o < O; o++) db[o] += dy[r * O + o];
    if (dx) c->host->sgemm(0, 1, B, I, O, 1.0f, dy, O, W, O, 0.0f, dx, I);
    return RUNNER_OK;
}

static const runner_layer_ops_t ops = {
    .size = sizeof(runner_layer_ops_t),
    .shape = affine_shape,
    .init = affine_init,
    .forward = affine_forward,
    .backward = affine_backward,
};

static const runner_plugin_t affine = {
    RUNNER_PLUGIN_HEADER,
    .kind = RUNNER_KIND_LAYER,
    .name = "affine",
    .version = "1.0.0",
    .doc = "fully connected layer y = x W + b (flattens its input)",
    .params = params,
    .n_params = 3,
    .layer = &ops,
    .param_choices = choices,
};

RUNNER_EXPORT const runner_plugin_t *runner_plugin_get(uint32_t index) { return index == 0 ? &affine : NULL; }
