/*
 * adagrad.c: AdaGrad as torch.optim.Adagrad (PyTorch 1.13), float32.
 *   g = grad (negated when maximize) + weight_decay * w
 *   clr = lr / (1 + (t - 1) * lr_decay)          (double, as torch)
 *   sum += g * g;  w -= clr * g / (sqrt(sum) + eps)
 * Rounding as torch: add(alpha=) and addcmul are fused (fmaf), addcdiv is
 * (value * t1) / t2 then an add.
 */
#include <math.h>
#include <runner/plugin.h>
#include <string.h>

typedef struct {
    double lr, lr_decay;
    float weight_decay, eps;
    int maximize;
    uint64_t t;
    float neg_clr; /* this step's -lr / (1 + (t - 1) lr_decay): begin sets it */
} adagrad_state_t;
#define ADAGRAD_HEADER 64
_Static_assert(sizeof(adagrad_state_t) <= ADAGRAD_HEADER, "header fits");

static const runner_param_t params[] = {
    {"lr", RUNNER_PARAM_FLOAT, RUNNER_PARAM_LOG, 0.01, 0.0, 1e6, "learning rate"},
    {"lr_decay", RUNNER_PARAM_FLOAT, 0, 0.0, 0.0, 1e6, "learning rate decay per step"},
    {"weight_decay", RUNNER_PARAM_FLOAT, 0, 0.0, 0.0, 1e6, "L2 penalty added to the gradient"},
    {"initial_accumulator_value", RUNNER_PARAM_FLOAT, 0, 0.0, 0.0, 1e30, "starting value of the sum of squares"},
    {"eps", RUNNER_PARAM_FLOAT, RUNNER_PARAM_LOG, 1e-10, 0.0, 1.0, "added to the denominator"},
    {"maximize", RUNNER_PARAM_BOOL, 0, 0.0, 0.0, 1.0, "maximize the objective instead of minimizing"},
};

static size_t adagrad_state_bytes(size_t n, const double *hp)
{
    (void)hp;
    return ADAGRAD_HEADER + n * sizeof(float);
}

static int adagrad_init(void *state, size_t n, const double *hp, uint64_t seed, runner_err_t *err)
{
    (void)seed, (void)err;
    adagrad_state_t s = {.lr = hp[0], .lr_decay = hp[1], .weight_decay = (float)hp[2],
                         .eps = (float)hp[4], .maximize = hp[5] != 0.0};
    memcpy(state, &s, sizeof s);
    float *sum = (float *)((char *)state + ADAGRAD_HEADER);
    for (size_t i = 0; i < n; i++) sum[i] = (float)hp[3];
    return RUNNER_OK;
}

/* The step's rate: lr / (1 + (t - 1) lr_decay). */
static int begin(void *state, size_t n, runner_err_t *err)
{
    (void)n, (void)err;
    adagrad_state_t *s = state;
    s->t++;
    s->neg_clr = (float)-(s->lr / (1.0 + (double)(s->t - 1) * s->lr_decay));
    return RUNNER_OK;
}

/* The update of elements [lo, hi), the step's values in locals (a store
 * to w[i] may alias the state). */
RUNNER_FMA_CLONES static void apply(void *state, size_t n, size_t lo, size_t hi, float *w, const float *g)
{
    (void)n;
    const adagrad_state_t *s = state;
    float *sum = (float *)((char *)state + ADAGRAD_HEADER);
    const float neg_clr = s->neg_clr, wd = s->weight_decay, eps = s->eps;
    const int maximize = s->maximize;
    for (size_t i = lo; i < hi; i++) {
        float gi = maximize ? -g[i] : g[i];
        if (wd != 0.0f) gi = fmaf(wd, w[i], gi);
        sum[i] = fmaf(gi, gi, sum[i]);
        const float std = sqrtf(sum[i]) + eps;
        w[i] = w[i] + neg_clr * gi / std;
    }
}

/* ABI 1.5: the host may share a step out over threads. */
static const runner_elementwise_step_t elementwise = {sizeof elementwise, begin, apply};
static const void *extension(const char *name)
{
    return strcmp(name, RUNNER_EXT_ELEMENTWISE_STEP) ? NULL : &elementwise;
}

static int adagrad_step(void *state, size_t n, float *w, const float *g, runner_err_t *err)
{
    return runner_step_by_ranges(&elementwise, state, n, w, g, err);
}

/* ABI 1.1: schedules change the learning rate between steps. */
static void set_lr(void *state, double lr) { ((adagrad_state_t *)state)->lr = lr; }

static const runner_optimizer_ops_t ops = {
    .size = sizeof(runner_optimizer_ops_t),
    .state_bytes = adagrad_state_bytes, .init = adagrad_init, .step = adagrad_step, .set_lr = set_lr,
};

static const runner_plugin_t descriptor = {
    RUNNER_PLUGIN_HEADER, .kind = RUNNER_KIND_OPTIMIZER, .name = "adagrad", .version = "1.0.0",
    .doc = "AdaGrad: per-coordinate steps scaled by the root of the summed squared gradients",
    .params = params, .n_params = sizeof params / sizeof params[0], .optimizer = &ops, .extension = extension,
};

RUNNER_EXPORT const runner_plugin_t *runner_plugin_get(uint32_t index)
{
    return index == 0 ? &descriptor : NULL;
}
