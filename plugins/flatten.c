/*
 * flatten.c: (C, H, W) -> (C*H*W). The data do not move (row-major is
 * already flat); forward and backward copy, because the host gives every
 * layer its own output buffer.
 */
#include <runner/plugin.h>
#include <string.h>

static int flatten_shape(const double *hp, const runner_shape_t *in, runner_shape_t *out, size_t *n_params,
                         runner_err_t *err)
{
    (void)hp, (void)err;
    *out = (runner_shape_t){.rank = 1, .dim = {(uint32_t)runner_shape_size(in)}};
    *n_params = 0;
    return RUNNER_OK;
}

static int flatten_forward(const runner_layer_ctx_t *c, const float *x, float *y, runner_err_t *err)
{
    (void)err;
    memcpy(y, x, c->batch * runner_shape_size(&c->in) * sizeof *y);
    return RUNNER_OK;
}

static int flatten_backward(const runner_layer_ctx_t *c, const float *x, const float *y, const float *dy, float *dx,
                            runner_err_t *err)
{
    (void)x, (void)y, (void)err;
    if (dx) memcpy(dx, dy, c->batch * runner_shape_size(&c->in) * sizeof *dx);
    return RUNNER_OK;
}

static const runner_layer_ops_t ops = {
    .size = sizeof(runner_layer_ops_t), .flags = RUNNER_LAYER_PER_SAMPLE, .shape = flatten_shape, .forward = flatten_forward, .backward = flatten_backward};

static const runner_plugin_t flatten = {RUNNER_PLUGIN_HEADER, .kind = RUNNER_KIND_LAYER, .name = "flatten",
                                        .version = "1.0.0", .doc = "reshape each sample to one flat vector",
                                        .layer = &ops};

RUNNER_EXPORT const runner_plugin_t *runner_plugin_get(uint32_t index) { return index == 0 ? &flatten : NULL; }
