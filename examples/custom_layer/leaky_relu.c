/* Leaky ReLU: y = x for x > 0, slope * x otherwise (Maas et al. 2013). Any
 * input shape; no parameters to learn. */
#include <runner/plugin.h>

static const runner_param_t params[] = {
    {"slope", RUNNER_PARAM_FLOAT, 0, 0.01, 0.0, 1.0, "slope for negative inputs"},
};

static int shape(const double *hp, const runner_shape_t *in, runner_shape_t *out, size_t *n_params, runner_err_t *err)
{
    (void)hp, (void)err;
    *out = *in;
    *n_params = 0;
    return RUNNER_OK;
}

static int forward(const runner_layer_ctx_t *c, const float *x, float *y, runner_err_t *err)
{
    (void)err;
    float slope = (float)c->hp[0];
    for (size_t i = 0, n = c->batch * runner_shape_size(&c->in); i < n; i++) y[i] = x[i] > 0.0f ? x[i] : slope * x[i];
    return RUNNER_OK;
}

static int backward(const runner_layer_ctx_t *c, const float *x, const float *y, const float *dy, float *dx,
                    runner_err_t *err)
{
    (void)y, (void)err;
    if (!dx) return RUNNER_OK; /* first layer: no parameters, nothing to do */
    float slope = (float)c->hp[0];
    for (size_t i = 0, n = c->batch * runner_shape_size(&c->in); i < n; i++) dx[i] = x[i] > 0.0f ? dy[i] : slope * dy[i];
    return RUNNER_OK;
}

/* Element by element, so each sample on its own: the runner may run it a few
 * samples at a time between conv2d and pooling, while they are in cache. */
static const runner_layer_ops_t ops = {.size = sizeof ops, .flags = RUNNER_LAYER_PER_SAMPLE, .shape = shape,
                                       .forward = forward, .backward = backward};
static const runner_plugin_t leaky_relu = {RUNNER_PLUGIN_HEADER, .kind = RUNNER_KIND_LAYER, .name = "leaky_relu",
                                           .version = "1.0.0", .doc = "leaky ReLU: x if x > 0, else slope * x",
                                           .params = params, .n_params = 1, .layer = &ops};

RUNNER_EXPORT const runner_plugin_t *runner_plugin_get(uint32_t index) { return index == 0 ? &leaky_relu : NULL; }
