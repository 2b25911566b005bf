/*
 * activations.c: the element-wise activation layers, relu, sigmoid and tanh,
 * three descriptors in one file because they differ only in one line of
 * forward and one of backward. No parameters, no state; the output shape
 * is the input shape. Shapes: N = B * (features of one sample).
 *   relu     y = max(x, 0)        dx = dy * (y > 0)
 *   sigmoid  y = 1 / (1 + e^-x)   dx = dy * y * (1 - y)
 *   tanh     y = tanh(x)          dx = dy * (1 - y^2)
 * Backward needs only y, as in the textbook's layers.
 */
#include <runner/plugin.h>

static int same_shape(const double *hp, const runner_shape_t *in, runner_shape_t *out, size_t *n_params,
                      runner_err_t *err)
{
    (void)hp, (void)err;
    *out = *in;
    *n_params = 0;
    return RUNNER_OK;
}

static size_t count(const runner_layer_ctx_t *c) { return c->batch * runner_shape_size(&c->in); }

static int relu_forward(const runner_layer_ctx_t *c, const float *x, float *y, runner_err_t *err)
{
    (void)err;
    for (size_t i = 0, n = count(c); i < n; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
    return RUNNER_OK;
}
static int relu_backward(const runner_layer_ctx_t *c, const float *x, const float *y, const float *dy, float *dx,
                         runner_err_t *err)
{
    (void)x, (void)err;
    for (size_t i = 0, n = count(c); dx && i < n; i++) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
    return RUNNER_OK;
}

static int sigmoid_forward(const runner_layer_ctx_t *c, const float *x, float *y, runner_err_t *err)
{
    (void)err;
    for (size_t i = 0, n = count(c); i < n; i++) y[i] = 1.0f / (1.0f + expf(-x[i]));
    return RUNNER_OK;
}
static int sigmoid_backward(const runner_layer_ctx_t *c, const float *x, const float *y, const float *dy, float *dx,
                            runner_err_t *err)
{
    (void)x, (void)err;
    for (size_t i = 0, n = count(c); dx && i < n; i++) dx[i] = dy[i] * y[i] * (1.0f - y[i]);
    return RUNNER_OK;
}

static int tanh_forward(const runner_layer_ctx_t *c, const float *x, float *y, runner_err_t *err)
{
    (void)err;
    for (size_t i = 0, n = count(c); i < n; i++) y[i] = tanhf(x[i]);
    return RUNNER_OK;
}
static int tanh_backward(const runner_layer_ctx_t *c, const float *x, const float *y, const float *dy, float *dx,
                         runner_err_t *err)
{
    (void)x, (void)err;
    for (size_t i = 0, n = count(c); dx && i < n; i++) dx[i] = dy[i] * (1.0f - y[i] * y[i]);
    return RUNNER_OK;
}

#define ACTIVATION(fn)                                                                                       \
    static const runner_layer_ops_t fn##_ops = {                                                            \
        .size = sizeof(runner_layer_ops_t), .shape = same_shape, .forward = fn##_forward, .backward = fn##_backward, \
    }
ACTIVATION(relu);
ACTIVATION(sigmoid);
ACTIVATION(tanh);

#define DESCRIPTOR(fn, text) \
    {RUNNER_PLUGIN_HEADER, .kind = RUNNER_KIND_LAYER, .name = #fn, .version = "1.0.0", .doc = text, .layer = &fn##_ops}
static const runner_plugin_t descriptors[] = {
    DESCRIPTOR(relu, "rectified linear unit, y = max(x, 0)"),
    DESCRIPTOR(sigmoid, "logistic sigmoid, y = 1 / (1 + exp(-x))"),
    DESCRIPTOR(tanh, "hyperbolic tangent, y = tanh(x)"),
};

RUNNER_EXPORT const runner_plugin_t *runner_plugin_get(uint32_t index)
{
    return index < sizeof descriptors / sizeof descriptors[0] ? &descriptors[index] : NULL;
}
