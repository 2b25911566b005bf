/*
 * losses.c: the loss layers, used as `loss:` in a config, never inside
 * `model:`. Both take class labels; x is (B, K) for K classes.
 *   softmax_cross_entropy  mean over the batch of -log softmax(x)[label]
 *                          (the textbook's SoftmaxWithLoss, torch's CrossEntropyLoss);
 *                          dx = (softmax(x) - onehot(label)) / B
 *   mse                    mean over all B*K elements of (x - onehot(label))^2
 *                          (torch's MSELoss on one-hot targets); dx = 2 (x - t) / (B K)
 * Sums run in double: a loss is one number per batch, cheap to get right.
 */
#include <runner/fixed_math.h>
#include <runner/plugin.h>
#include <stdio.h>

static int flat_shape(const double *hp, const runner_shape_t *in, runner_shape_t *out, size_t *n_params,
                      runner_err_t *err)
{
    (void)hp;
    if (in->rank != 1 || in->dim[0] < 2) {
        snprintf(err->msg, sizeof err->msg, "a loss needs a flat input of at least 2 class scores (put an affine "
                                            "layer with out: CLASSES last)");
        return RUNNER_FAIL;
    }
    *out = *in;
    *n_params = 0;
    return RUNNER_OK;
}

static int bad_label(runner_err_t *err, size_t r, int32_t label, size_t K)
{
    snprintf(err->msg, sizeof err->msg, "label %d of sample %zu is not a class in [0, %zu)", label, r, K);
    return RUNNER_FAIL;
}

static int softmax_ce_loss(const runner_layer_ctx_t *c, const float *x, const int32_t *labels, double *loss,
                           float *dx, runner_err_t *err)
{
    size_t B = c->batch, K = runner_shape_size(&c->in);
    double total = 0.0;
    for (size_t r = 0; r < B; r++) {
        const float *xr = x + r * K;
        if (labels[r] < 0 || (size_t)labels[r] >= K) return bad_label(err, r, labels[r], K);
        float m = xr[0];
        for (size_t k = 1; k < K; k++) m = xr[k] > m ? xr[k] : m;
        double sum = 0.0;
        for (size_t k = 0; k < K; k++) sum += runner_exp((double)(xr[k] - m));
        double log_sum = runner_log(sum);
        total += log_sum - (double)(xr[labels[r]] - m);
        if (dx) {
            float *dr = dx + r * K;
            for (size_t k = 0; k < K; k++)
                dr[k] = (float)((runner_exp((double)(xr[k] - m) - log_sum) - (k == (size_t)labels[r])) / (double)B);
        }
    }
    *loss = total / (double)B;
    return RUNNER_OK;
}

static int mse_loss(const runner_layer_ctx_t *c, const float *x, const int32_t *labels, double *loss, float *dx,
                    runner_err_t *err)
{
    size_t B = c->batch, K = runner_shape_size(&c->in);
    double total = 0.0, scale = 2.0 / (double)(B * K);
    for (size_t r = 0; r < B; r++) {
        if (labels[r] < 0 || (size_t)labels[r] >= K) return bad_label(err, r, labels[r], K);
        for (size_t k = 0; k < K; k++) {
            double d = (double)x[r * K + k] - (k == (size_t)labels[r]);
            total += d * d;
            if (dx) dx[r * K + k] = (float)(scale * d);
        }
    }
    *loss = total / (double)(B * K);
    return RUNNER_OK;
}

static const runner_layer_ops_t softmax_ce_ops = {
    .size = sizeof(runner_layer_ops_t), .flags = RUNNER_LAYER_LOSS, .shape = flat_shape, .loss = softmax_ce_loss};
static const runner_layer_ops_t mse_ops = {
    .size = sizeof(runner_layer_ops_t), .flags = RUNNER_LAYER_LOSS, .shape = flat_shape, .loss = mse_loss};

static const runner_plugin_t descriptors[] = {
    {RUNNER_PLUGIN_HEADER, .kind = RUNNER_KIND_LAYER, .name = "softmax_cross_entropy", .version = "1.0.0",
     .doc = "softmax then cross-entropy against class labels, averaged over the batch", .layer = &softmax_ce_ops},
    {RUNNER_PLUGIN_HEADER, .kind = RUNNER_KIND_LAYER, .name = "mse", .version = "1.0.0",
     .doc = "mean squared error against one-hot class labels", .layer = &mse_ops},
};

RUNNER_EXPORT const runner_plugin_t *runner_plugin_get(uint32_t index)
{
    return index < sizeof descriptors / sizeof descriptors[0] ? &descriptors[index] : NULL;
}
