/*
 * dropout.c: in training, each element is kept with probability 1 - ratio.
 * scale: train (the default, torch.nn.Dropout's "inverted" dropout): kept
 * elements are scaled by 1 / (1 - ratio), so evaluation is the identity;
 * scale: test (the textbook's Dropout, "Deep Learning from Scratch" 6.4):
 * kept elements pass unscaled and evaluation multiplies by 1 - ratio. The
 * two train different networks (the textbook's 200-epoch figure needs
 * test). The mask is drawn from the cell's random stream, so a cell's run
 * depends on its seed only. Work: the mask of the last training forward,
 * (B, I) floats holding 0 or the scale.
 */
#include <runner/plugin.h>
#include <stdbool.h>
#include <string.h>

enum { SCALE_TRAIN, SCALE_TEST };
static const runner_param_t params[] = {
    {"ratio", RUNNER_PARAM_FLOAT, RUNNER_PARAM_MAX_EXCLUSIVE, 0.5, 0.0, 1.0, "probability of dropping an element"},
    {"scale", RUNNER_PARAM_CHOICE, 0, SCALE_TRAIN, 0, 1,
     "when kept elements are rescaled: train (by 1/(1-ratio), torch) or test (by 1-ratio at evaluation, the textbook)"},
};
static const char *const scale_names[] = {"train", "test", NULL};
static const char *const *const choices[] = {NULL, scale_names};

static int dropout_shape(const double *hp, const runner_shape_t *in, runner_shape_t *out, size_t *n_params,
                         runner_err_t *err)
{
    (void)hp, (void)err;
    *out = *in;
    *n_params = 0;
    return RUNNER_OK;
}

static size_t dropout_work(const double *hp, const runner_shape_t *in, size_t batch)
{
    (void)hp;
    return batch * runner_shape_size(in) * sizeof(float);
}

static int dropout_forward(const runner_layer_ctx_t *c, const float *x, float *y, runner_err_t *err)
{
    (void)err;
    size_t n = c->batch * runner_shape_size(&c->in);
    double ratio = c->hp[0];
    bool at_test = c->hp[1] == SCALE_TEST;
    if (!c->training) {
        if (!at_test) {
            memcpy(y, x, n * sizeof *y);
        } else {
            const float keep = (float)(1.0 - ratio);
            for (size_t i = 0; i < n; i++) y[i] = x[i] * keep;
        }
        return RUNNER_OK;
    }
    float *mask = c->work;
    float scale = at_test ? 1.0f : (float)(1.0 / (1.0 - ratio));
    for (size_t i = 0; i < n; i++) {
        mask[i] = runner_rng_uniform(c->rng) >= ratio ? scale : 0.0f;
        y[i] = x[i] * mask[i];
    }
    return RUNNER_OK;
}

static int dropout_backward(const runner_layer_ctx_t *c, const float *x, const float *y, const float *dy, float *dx,
                            runner_err_t *err)
{
    (void)x, (void)y, (void)err;
    const float *mask = c->work;
    if (!dx) return RUNNER_OK;
    for (size_t i = 0, n = c->batch * runner_shape_size(&c->in); i < n; i++) dx[i] = dy[i] * mask[i];
    return RUNNER_OK;
}

static const runner_layer_ops_t ops = {.size = sizeof(runner_layer_ops_t),
                                       .shape = dropout_shape,
                                       .work_bytes = dropout_work,
                                       .forward = dropout_forward,
                                       .backward = dropout_backward};

static const runner_plugin_t dropout = {RUNNER_PLUGIN_HEADER,
                                        .kind = RUNNER_KIND_LAYER,
                                        .name = "dropout",
                                        .version = "1.1.0",
                                        .doc = "randomly zero elements in training (inverted, or scaled at test time)",
                                        .params = params,
                                        .n_params = 2,
                                        .param_choices = choices,
                                        .layer = &ops};

RUNNER_EXPORT const runner_plugin_t *runner_plugin_get(uint32_t index) { return index == 0 ? &dropout : NULL; }
