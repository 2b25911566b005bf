/*
 * adamax.c: Adamax as torch.optim.Adamax (PyTorch 1.13, single-tensor
 * path), float32: Adam with the infinity norm in place of the second
 * moment.
 *   g = grad (negated when maximize) + weight_decay * w
 *   m = beta1 * m + (1 - beta1) * g
 *   u = max(beta2 * u, |g| + eps)                     (NaN propagates, as torch.amax)
 *   w += (-lr / (1 - beta1^t)) * m / u                (the step size in double, then float)
 * Rounding as torch: add(alpha=) is fused (fmaf), addcdiv is (value * t1)
 * / t2 then an add. tests/fixtures/optimizer_reference.json holds its
 * trajectories from torch.
 */
#include <math.h>
#include <runner/fixed_math.h>
#include <runner/plugin.h>
#include <string.h>

typedef struct {
    double lr, beta1;
    float beta1_f, beta2_f, one_minus_beta1, eps, weight_decay;
    int maximize;
    uint64_t t;
    runner_pow_seq_t beta1_t; /* beta1 ** t, step by step (fixed_math.h) */
    float value;              /* this step's -lr / (1 - beta1^t): begin sets it */
} adamax_state_t;
#define ADAMAX_HEADER 128
_Static_assert(sizeof(adamax_state_t) <= ADAMAX_HEADER, "header fits");

static const runner_param_t params[] = {
    {"lr", RUNNER_PARAM_FLOAT, RUNNER_PARAM_LOG, 2e-3, 0.0, 1e6, "learning rate"},
    {"beta1", RUNNER_PARAM_FLOAT, RUNNER_PARAM_MAX_EXCLUSIVE, 0.9, 0.0, 1.0, "decay of the first-moment average"},
    {"beta2", RUNNER_PARAM_FLOAT, RUNNER_PARAM_MAX_EXCLUSIVE, 0.999, 0.0, 1.0, "decay of the infinity norm"},
    {"eps", RUNNER_PARAM_FLOAT, RUNNER_PARAM_LOG, 1e-8, 0.0, 1.0, "added to |g| before the maximum"},
    {"weight_decay", RUNNER_PARAM_FLOAT, 0, 0.0, 0.0, 1e6, "L2 penalty added to the gradient"},
    {"maximize", RUNNER_PARAM_BOOL, 0, 0.0, 0.0, 1.0, "maximize the objective instead of minimizing"},
};

/* State: header, then m[n], u[n]. */
static size_t state_bytes(size_t n, const double *hp)
{
    (void)hp;
    return ADAMAX_HEADER + 2 * n * sizeof(float);
}

static int init(void *state, size_t n, const double *hp, uint64_t seed, runner_err_t *err)
{
    (void)seed, (void)err;
    adamax_state_t s = {.lr = hp[0], .beta1 = hp[1], .beta1_f = (float)hp[1], .beta2_f = (float)hp[2],
                        .one_minus_beta1 = (float)(1.0 - hp[1]), .eps = (float)hp[3], .weight_decay = (float)hp[4],
                        .maximize = hp[5] != 0.0, .beta1_t = runner_pow_seq(hp[1])};
    memcpy(state, &s, sizeof s);
    memset((char *)state + ADAMAX_HEADER, 0, 2 * n * sizeof(float));
    return RUNNER_OK;
}

/* The step's scale: -lr / (1 - beta1^t). */
static int begin(void *state, size_t n, runner_err_t *err)
{
    (void)n, (void)err;
    adamax_state_t *s = state;
    s->t++;
    s->value = (float)-(s->lr / (1.0 - runner_pow_seq_next(&s->beta1_t)));
    return RUNNER_OK;
}

/* The update of elements [lo, hi). */
RUNNER_FMA_CLONES static void apply(void *state, size_t n, size_t lo, size_t hi, float *w, const float *g)
{
    const adamax_state_t *s = state;
    float *m = (float *)((char *)state + ADAMAX_HEADER), *u = m + n;
    const float value = s->value;
    const float b1 = s->beta1_f, b2 = s->beta2_f, c1 = s->one_minus_beta1, eps = s->eps, wd = s->weight_decay;
    const int maximize = s->maximize, l2 = wd != 0.0f;
    for (size_t i = lo; i < hi; i++) {
        float gi = maximize ? -g[i] : g[i];
        if (l2) gi = fmaf(wd, w[i], gi);
        const float mi = fmaf(c1, gi, m[i] * b1);
        const float decayed = u[i] * b2, fresh = fabsf(gi) + eps;
        const float ui = (fresh > decayed || fresh != fresh) ? fresh : decayed; /* amax propagates NaN */
        m[i] = mi, u[i] = ui;
        w[i] = w[i] + value * mi / ui;
    }
}

/* ABI 1.5: the host may share a step out over threads. */
static const runner_elementwise_step_t elementwise = {sizeof elementwise, begin, apply};
static const void *extension(const char *name)
{
    return strcmp(name, RUNNER_EXT_ELEMENTWISE_STEP) ? NULL : &elementwise;
}

static int step(void *state, size_t n, float *w, const float *g, runner_err_t *err)
{
    return runner_step_by_ranges(&elementwise, state, n, w, g, err);
}

/* ABI 1.1: schedules change the learning rate between steps. */
static void set_lr(void *state, double lr) { ((adamax_state_t *)state)->lr = lr; }

static const runner_optimizer_ops_t ops = {
    .size = sizeof(runner_optimizer_ops_t), .state_bytes = state_bytes, .init = init, .step = step, .set_lr = set_lr,
};

static const runner_plugin_t descriptor = {
    RUNNER_PLUGIN_HEADER, .kind = RUNNER_KIND_OPTIMIZER, .name = "adamax", .version = "1.0.0",
    .doc = "Adamax: Adam with the infinity norm of past gradients in place of the second moment",
    .params = params, .n_params = sizeof params / sizeof params[0], .optimizer = &ops, .extension = extension,
};

RUNNER_EXPORT const runner_plugin_t *runner_plugin_get(uint32_t index) { return index == 0 ? &descriptor : NULL; }
