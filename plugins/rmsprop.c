/*
 * rmsprop.c: RMSProp as torch.optim.RMSprop (PyTorch 1.13), float32.
 *   g = grad (negated when maximize) + weight_decay * w
 *   sq = alpha * sq + (1 - alpha) * g * g
 *   avg = sqrt(sq - ga * ga) + eps with ga = alpha * ga + (1 - alpha) * g   (centered)
 *       | sqrt(sq) + eps
 *   buf = momentum * buf + g / avg; w -= lr * buf     (momentum > 0)
 *   w -= lr * g / avg                                 (otherwise)
 * Rounding as torch: add(alpha=) and addcmul are fused (fmaf), addcdiv is
 * (value * t1) / t2 then an add.
 */
#include <math.h>
#include <runner/plugin.h>
#include <string.h>

typedef struct {
    float lr, alpha, one_minus_alpha, eps, weight_decay, momentum;
    int centered, maximize;
} rmsprop_state_t;
#define RMSPROP_HEADER 64
_Static_assert(sizeof(rmsprop_state_t) <= RMSPROP_HEADER, "header fits");

static const runner_param_t params[] = {
    {"lr", RUNNER_PARAM_FLOAT, RUNNER_PARAM_LOG, 0.01, 0.0, 1e6, "learning rate"},
    {"alpha", RUNNER_PARAM_FLOAT, 0, 0.99, 0.0, 1.0, "smoothing constant of the squared-gradient average"},
    {"eps", RUNNER_PARAM_FLOAT, RUNNER_PARAM_LOG, 1e-8, 0.0, 1.0, "added to the denominator"},
    {"weight_decay", RUNNER_PARAM_FLOAT, 0, 0.0, 0.0, 1e6, "L2 penalty added to the gradient"},
    {"momentum", RUNNER_PARAM_FLOAT, 0, 0.0, 0.0, 1e6, "momentum factor (0 = none)"},
    {"centered", RUNNER_PARAM_BOOL, 0, 0.0, 0.0, 1.0, "normalise by the estimated variance of the gradient"},
    {"maximize", RUNNER_PARAM_BOOL, 0, 0.0, 0.0, 1.0, "maximize the objective instead of minimizing"},
};

/* State: header, then sq[n], ga[n], buf[n]. */
static size_t rmsprop_state_bytes(size_t n, const double *hp)
{
    (void)hp;
    return RMSPROP_HEADER + 3 * n * sizeof(float);
}

static int rmsprop_init(void *state, size_t n, const double *hp, uint64_t seed, runner_err_t *err)
{
    (void)seed, (void)err;
    rmsprop_state_t s = {.lr = (float)hp[0], .alpha = (float)hp[1], .one_minus_alpha = (float)(1.0 - hp[1]),
                         .eps = (float)hp[2], .weight_decay = (float)hp[3], .momentum = (float)hp[4],
                         .centered = hp[5] != 0.0, .maximize = hp[6] != 0.0};
    memcpy(state, &s, sizeof s);
    memset((char *)state + RMSPROP_HEADER, 0, 3 * n * sizeof(float));
    return RUNNER_OK;
}

/* Nothing changes per step but the arrays. */
static int begin(void *state, size_t n, runner_err_t *err)
{
    (void)state, (void)n, (void)err;
    return RUNNER_OK;
}

/* The update of elements [lo, hi), the values in locals (a store to w[i]
 * may alias the state). */
RUNNER_FMA_CLONES static void apply(void *state, size_t n, size_t lo, size_t hi, float *w, const float *g)
{
    const rmsprop_state_t *s = state;
    float *sq = (float *)((char *)state + RMSPROP_HEADER), *ga = sq + n, *buf = ga + n;
    const float lr = s->lr, alpha = s->alpha, c = s->one_minus_alpha, eps = s->eps, wd = s->weight_decay;
    const float momentum = s->momentum;
    const int centered = s->centered, maximize = s->maximize;
    for (size_t i = lo; i < hi; i++) {
        float gi = maximize ? -g[i] : g[i];
        if (wd != 0.0f) gi = fmaf(wd, w[i], gi);
        sq[i] = fmaf(c * gi, gi, sq[i] * alpha);
        float avg;
        if (centered) {
            ga[i] = fmaf(c, gi, ga[i] * alpha);
            avg = sqrtf(fmaf(-ga[i], ga[i], sq[i]));
        } else {
            avg = sqrtf(sq[i]);
        }
        avg = avg + eps;
        if (momentum > 0.0f) {
            buf[i] = buf[i] * momentum + gi / avg;
            w[i] = fmaf(-lr, buf[i], w[i]);
        } else {
            w[i] = w[i] + (-lr) * gi / avg;
        }
    }
}

/* ABI 1.5: the host may share a step out over threads. */
static const runner_elementwise_step_t elementwise = {sizeof elementwise, begin, apply};
static const void *extension(const char *name)
{
    return strcmp(name, RUNNER_EXT_ELEMENTWISE_STEP) ? NULL : &elementwise;
}

static int rmsprop_step(void *state, size_t n, float *w, const float *g, runner_err_t *err)
{
    return runner_step_by_ranges(&elementwise, state, n, w, g, err);
}

/* ABI 1.1: schedules change the learning rate between steps. */
static void set_lr(void *state, double lr) { ((rmsprop_state_t *)state)->lr = (float)lr; }

static const runner_optimizer_ops_t ops = {
    .size = sizeof(runner_optimizer_ops_t),
    .state_bytes = rmsprop_state_bytes, .init = rmsprop_init, .step = rmsprop_step, .set_lr = set_lr,
};

static const runner_plugin_t descriptor = {
    RUNNER_PLUGIN_HEADER, .kind = RUNNER_KIND_OPTIMIZER, .name = "rmsprop", .version = "1.0.0",
    .doc = "RMSProp: steps scaled by a moving average of squared gradients",
    .params = params, .n_params = sizeof params / sizeof params[0], .optimizer = &ops, .extension = extension,
};

RUNNER_EXPORT const runner_plugin_t *runner_plugin_get(uint32_t index)
{
    return index == 0 ? &descriptor : NULL;
}
