/*
 * batchnorm.c: batch normalisation (Ioffe and Szegedy 2015). Channels are
 * the first dimension of the per-sample shape: features for flat input
 * (C), channels for images (C, H, W), normalised over the batch and, for
 * images, over every pixel too (PyTorch's BatchNorm1d and BatchNorm2d).
 * N = B * (values per channel per sample).
 *   training:   y = gamma (x - mean) / sqrt(var + eps) + beta, with the
 *               batch's mean and (biased) variance per channel;
 *               running = momentum running + (1 - momentum) batch, with the
 *               unbiased variance N/(N-1) var, as PyTorch (unbiased: false,
 *               the textbook's: the batch's own variance)
 *   evaluation: the running mean and variance instead of the batch's
 *   params: gamma (C) = 1, then beta (C) = 0
 *   state:  running mean (C) = 0, then running variance (C) = 1 (running_init:
 *           torch) or 0 (zeros, the textbook's), doubles
 *   work:   the last training batch's mean and 1/sqrt(var + eps) (C each), doubles
 * Momentum is the textbook's (and Keras's) convention, the weight of the
 * old running value: PyTorch's momentum=0.1 is momentum 0.9 here.
 * Channels are independent: they run through the host's parallel_for, and
 * each channel's sums are in double, in one fixed order.
 */
#include <runner/plugin.h>
#include <stdbool.h>
#include <stdio.h>

enum { P_MOMENTUM, P_EPS, P_RUNNING_INIT, P_UNBIASED };
enum { INIT_TORCH, INIT_ZEROS };

static const runner_param_t params[] = {
    {"momentum", RUNNER_PARAM_FLOAT, 0, 0.9, 0.0, 1.0, "weight of the old running mean and variance"},
    {"eps", RUNNER_PARAM_FLOAT, RUNNER_PARAM_MIN_EXCLUSIVE, 1e-5, 0.0, 1.0, "added to the variance"},
    {"running_init", RUNNER_PARAM_CHOICE, 0, INIT_TORCH, 0, 1,
     "the running variance starts at 1 (torch) or 0 (zeros, the textbook's)"},
    {"unbiased", RUNNER_PARAM_BOOL, 0, 1.0, 0.0, 1.0,
     "the running variance takes the batch's unbiased variance (torch) or its biased one (false, the textbook's)"},
};
static const char *const init_names[] = {"torch", "zeros", NULL};
static const char *const *const choices[] = {NULL, NULL, init_names, NULL};

typedef struct {
    size_t C, S; /* channels, values per channel per sample */
} geometry_t;

static geometry_t geometry(const runner_shape_t *in)
{
    geometry_t g = {.C = in->dim[0], .S = 1};
    for (uint32_t d = 1; d < in->rank; d++) g.S *= in->dim[d];
    return g;
}

static int bn_shape(const double *hp, const runner_shape_t *in, runner_shape_t *out, size_t *n_params,
                    runner_err_t *err)
{
    (void)hp, (void)err;
    *out = *in;
    *n_params = 2 * (size_t)in->dim[0];
    return RUNNER_OK;
}

static size_t bn_state(const double *hp, const runner_shape_t *in)
{
    (void)hp;
    return 2 * (size_t)in->dim[0] * sizeof(double);
}

static size_t bn_work(const double *hp, const runner_shape_t *in, size_t batch)
{
    (void)hp, (void)batch;
    return 2 * (size_t)in->dim[0] * sizeof(double);
}

static int bn_init(const runner_layer_ctx_t *c, runner_err_t *err)
{
    (void)err;
    size_t C = c->in.dim[0];
    double *running_var = (double *)c->state + C;
    const double var0 = c->hp[P_RUNNING_INIT] == INIT_ZEROS ? 0.0 : 1.0;
    for (size_t i = 0; i < C; i++) c->params[i] = 1.0f, c->params[C + i] = 0.0f, running_var[i] = var0;
    return RUNNER_OK;
}

typedef struct {
    const runner_layer_ctx_t *c;
    geometry_t g;
    size_t B;
    const float *x, *dy;
    float *y, *dx;
} job_t;

/* Element s of channel ch of sample b sits at (b C + ch) S + s. */
#define AT(j, b, ch, s) (((b) * (j)->g.C + (ch)) * (j)->g.S + (s))

static void forward_channel(void *arg, size_t ch)
{
    const job_t *j = arg;
    const runner_layer_ctx_t *c = j->c;
    size_t C = j->g.C, S = j->g.S, N = j->B * S;
    double *running_mean = c->state, *running_var = running_mean + C;
    double *mean = c->work, *inv_std = mean + C;
    double mu, istd;
    if (c->training) {
        double sum = 0.0, sq = 0.0;
        for (size_t b = 0; b < j->B; b++)
            for (size_t s = 0; s < S; s++) sum += j->x[AT(j, b, ch, s)];
        mu = sum / (double)N;
        for (size_t b = 0; b < j->B; b++)
            for (size_t s = 0; s < S; s++) {
                double d = j->x[AT(j, b, ch, s)] - mu;
                sq += d * d;
            }
        double var = sq / (double)N, m = c->hp[P_MOMENTUM];
        istd = 1.0 / sqrt(var + c->hp[P_EPS]);
        mean[ch] = mu, inv_std[ch] = istd;
        running_mean[ch] = m * running_mean[ch] + (1.0 - m) * mu;
        const bool unbiased = c->hp[P_UNBIASED] != 0.0 && N > 1;
        running_var[ch] = m * running_var[ch] + (1.0 - m) * (unbiased ? var * (double)N / (double)(N - 1) : var);
    } else {
        mu = running_mean[ch];
        istd = 1.0 / sqrt(running_var[ch] + c->hp[P_EPS]);
    }
    float scale = (float)(c->params[ch] * istd), shift = (float)(c->params[C + ch] - c->params[ch] * istd * mu);
    for (size_t b = 0; b < j->B; b++)
        for (size_t s = 0; s < S; s++) j->y[AT(j, b, ch, s)] = scale * j->x[AT(j, b, ch, s)] + shift;
}

static int bn_forward(const runner_layer_ctx_t *c, const float *x, float *y, runner_err_t *err)
{
    (void)err;
    job_t j = {.c = c, .g = geometry(&c->in), .B = c->batch, .x = x, .y = y};
    c->host->parallel_for(j.g.C, forward_channel, &j);
    return RUNNER_OK;
}

/* With xhat = (x - mean) inv_std: dbeta = sum dy, dgamma = sum dy xhat,
 * dx = gamma inv_std / N (N dy - dbeta - xhat dgamma). */
static void backward_channel(void *arg, size_t ch)
{
    const job_t *j = arg;
    const runner_layer_ctx_t *c = j->c;
    size_t C = j->g.C, S = j->g.S, N = j->B * S;
    const double *mean = c->work, *inv_std = mean + C;
    double mu = mean[ch], istd = inv_std[ch], dbeta = 0.0, dgamma = 0.0;
    for (size_t b = 0; b < j->B; b++)
        for (size_t s = 0; s < S; s++) {
            size_t i = AT(j, b, ch, s);
            dbeta += j->dy[i];
            dgamma += j->dy[i] * (j->x[i] - mu) * istd;
        }
    c->grads[ch] = (float)dgamma, c->grads[C + ch] = (float)dbeta;
    if (!j->dx) return;
    double k = c->params[ch] * istd / (double)N;
    for (size_t b = 0; b < j->B; b++)
        for (size_t s = 0; s < S; s++) {
            size_t i = AT(j, b, ch, s);
            double xhat = (j->x[i] - mu) * istd;
            j->dx[i] = (float)(k * ((double)N * j->dy[i] - dbeta - xhat * dgamma));
        }
}

static int bn_backward(const runner_layer_ctx_t *c, const float *x, const float *y, const float *dy, float *dx,
                       runner_err_t *err)
{
    (void)y, (void)err;
    job_t j = {.c = c, .g = geometry(&c->in), .B = c->batch, .x = x, .dy = dy, .dx = dx};
    c->host->parallel_for(j.g.C, backward_channel, &j);
    return RUNNER_OK;
}

static const runner_layer_ops_t ops = {
    .size = sizeof(runner_layer_ops_t),
    .shape = bn_shape,
    .state_bytes = bn_state,
    .work_bytes = bn_work,
    .init = bn_init,
    .forward = bn_forward,
    .backward = bn_backward,
};

static const runner_plugin_t batchnorm = {
    RUNNER_PLUGIN_HEADER,
    .kind = RUNNER_KIND_LAYER,
    .name = "batchnorm",
    .version = "1.1.0",
    .doc = "batch normalisation per feature or per image channel, running statistics at evaluation",
    .params = params,
    .n_params = 4,
    .param_choices = choices,
    .layer = &ops,
};

RUNNER_EXPORT const runner_plugin_t *runner_plugin_get(uint32_t index) { return index == 0 ? &batchnorm : NULL; }
