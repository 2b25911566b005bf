/*
 * adadelta.c: Adadelta as torch.optim.Adadelta (PyTorch 1.13,
 * single-tensor path), float32.
 *   g = grad (negated when maximize) + weight_decay * w
 *   s = rho s + (1 - rho) g g
 *   d = sqrt(a + eps) / sqrt(s + eps) * g
 *   a = rho a + (1 - rho) d d
 *   w = w - lr d
 * Rounding as torch: add(alpha=) and addcmul are fused (fmaf).
 * tests/fixtures/optimizer_reference.json holds its trajectories.
 */
#include <math.h>
#include <runner/plugin.h>
#include <string.h>

typedef struct {
    float lr, rho, one_minus_rho, eps, weight_decay;
    int maximize;
} adadelta_state_t;
#define ADADELTA_HEADER 64
_Static_assert(sizeof(adadelta_state_t) <= ADADELTA_HEADER, "header fits");

static const runner_param_t params[] = {
    {"lr", RUNNER_PARAM_FLOAT, RUNNER_PARAM_LOG, 1.0, 0.0, 1e6, "scale of the step (torch's default 1)"},
    {"rho", RUNNER_PARAM_FLOAT, 0, 0.9, 0.0, 1.0, "decay of the squared-gradient and squared-step averages"},
    {"eps", RUNNER_PARAM_FLOAT, RUNNER_PARAM_LOG, 1e-6, 0.0, 1.0, "added inside both square roots"},
    {"weight_decay", RUNNER_PARAM_FLOAT, 0, 0.0, 0.0, 1e6, "L2 penalty added to the gradient"},
    {"maximize", RUNNER_PARAM_BOOL, 0, 0.0, 0.0, 1.0, "maximize the objective instead of minimizing"},
};

/* State: header, then s[n] (squared gradients), a[n] (squared steps). */
static size_t state_bytes(size_t n, const double *hp)
{
    (void)hp;
    return ADADELTA_HEADER + 2 * n * sizeof(float);
}

static int init(void *state, size_t n, const double *hp, uint64_t seed, runner_err_t *err)
{
    (void)seed, (void)err;
    adadelta_state_t s = {.lr = (float)hp[0], .rho = (float)hp[1], .one_minus_rho = (float)(1.0 - hp[1]),
                          .eps = (float)hp[2], .weight_decay = (float)hp[3], .maximize = hp[4] != 0.0};
    memcpy(state, &s, sizeof s);
    memset((char *)state + ADADELTA_HEADER, 0, 2 * n * sizeof(float));
    return RUNNER_OK;
}

/* Nothing changes per step but the arrays. */
static int begin(void *state, size_t n, runner_err_t *err)
{
    (void)state, (void)n, (void)err;
    return RUNNER_OK;
}

/* The update of elements [lo, hi). */
RUNNER_FMA_CLONES static void apply(void *state, size_t n, size_t lo, size_t hi, float *w, const float *g)
{
    const adadelta_state_t *s = state;
    float *sq = (float *)((char *)state + ADADELTA_HEADER), *acc = sq + n;
    const float rho = s->rho, c = s->one_minus_rho, eps = s->eps, wd = s->weight_decay, neg_lr = -s->lr;
    const int maximize = s->maximize, l2 = wd != 0.0f;
    for (size_t i = lo; i < hi; i++) {
        float gi = maximize ? -g[i] : g[i];
        if (l2) gi = fmaf(wd, w[i], gi);
        const float si = fmaf(c * gi, gi, sq[i] * rho);
        const float delta = sqrtf(acc[i] + eps) / sqrtf(si + eps) * gi;
        sq[i] = si;
        acc[i] = fmaf(c * delta, delta, acc[i] * rho);
        w[i] = fmaf(neg_lr, delta, w[i]);
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

static void set_lr(void *state, double lr) { ((adadelta_state_t *)state)->lr = (float)lr; }

static const runner_optimizer_ops_t ops = {
    .size = sizeof(runner_optimizer_ops_t), .state_bytes = state_bytes, .init = init, .step = step, .set_lr = set_lr,
};

static const runner_plugin_t descriptor = {
    RUNNER_PLUGIN_HEADER, .kind = RUNNER_KIND_OPTIMIZER, .name = "adadelta", .version = "1.0.0",
    .doc = "Adadelta: steps scaled by the ratio of running RMS step to running RMS gradient (Zeiler)",
    .params = params, .n_params = sizeof params / sizeof params[0], .optimizer = &ops, .extension = extension,
};

RUNNER_EXPORT const runner_plugin_t *runner_plugin_get(uint32_t index) { return index == 0 ? &descriptor : NULL; }
