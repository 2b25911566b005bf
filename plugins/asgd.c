/*
 * asgd.c: averaged SGD as torch.optim.ASGD (PyTorch 1.13, single-tensor
 * path), float32. The iterates w:
 *   g = grad (negated when maximize) + weight_decay * w
 *   w = w * (1 - lambd * eta);  w = w - eta * g
 *   eta = lr / (1 + lambd * lr * t)^alpha     (for the next step; float32, as torch's 0-d tensor)
 * torch also keeps the running average ax = ax + (w - ax) * mu with
 * mu = 1 / max(1, t - t0); it never feeds back into w, and the runner
 * records the iterates, so it is not kept here (t0 is accepted for torch's
 * signature). tests/fixtures/optimizer_reference.json holds its trajectories.
 */
#include <math.h>
#include <runner/fixed_math.h>
#include <runner/plugin.h>
#include <string.h>

typedef struct {
    double lr, lambd, alpha;
    float eta, weight_decay;
    int maximize;
    uint64_t t;
    float decay, neg_eta; /* this step's: begin sets them */
} asgd_state_t;
#define ASGD_HEADER 64
_Static_assert(sizeof(asgd_state_t) <= ASGD_HEADER, "header fits");

static const runner_param_t params[] = {
    {"lr", RUNNER_PARAM_FLOAT, RUNNER_PARAM_LOG, 1e-2, 0.0, 1e6, "learning rate"},
    {"lambd", RUNNER_PARAM_FLOAT, 0, 1e-4, 0.0, 1e6, "decay term"},
    {"alpha", RUNNER_PARAM_FLOAT, 0, 0.75, 0.0, 1e6, "power of the learning-rate decay"},
    {"t0", RUNNER_PARAM_FLOAT, 0, 1e6, 0.0, 1e18, "step at which averaging starts (the average is not recorded)"},
    {"weight_decay", RUNNER_PARAM_FLOAT, 0, 0.0, 0.0, 1e6, "L2 penalty added to the gradient"},
    {"maximize", RUNNER_PARAM_BOOL, 0, 0.0, 0.0, 1.0, "maximize the objective instead of minimizing"},
};

static size_t state_bytes(size_t n, const double *hp)
{
    (void)n, (void)hp;
    return ASGD_HEADER;
}

static int init(void *state, size_t n, const double *hp, uint64_t seed, runner_err_t *err)
{
    (void)n, (void)seed, (void)err;
    asgd_state_t s = {.lr = hp[0], .lambd = hp[1], .alpha = hp[2], .eta = (float)hp[0], .weight_decay = (float)hp[4],
                      .maximize = hp[5] != 0.0};
    memcpy(state, &s, sizeof s);
    return RUNNER_OK;
}

/* The step's decay and rate from the current eta, then eta for the next. */
static int begin(void *state, size_t n, runner_err_t *err)
{
    (void)n, (void)err;
    asgd_state_t *s = state;
    s->t++;
    const double eta = (double)s->eta;
    s->decay = (float)(1.0 - s->lambd * eta), s->neg_eta = (float)-eta;
    s->eta = (float)(s->lr / runner_pow(1.0 + s->lambd * s->lr * (double)s->t, s->alpha));
    return RUNNER_OK;
}

/* The update of elements [lo, hi). */
RUNNER_FMA_CLONES static void apply(void *state, size_t n, size_t lo, size_t hi, float *w, const float *g)
{
    (void)n;
    const asgd_state_t *s = state;
    const float decay = s->decay, neg_eta = s->neg_eta, wd = s->weight_decay;
    const int maximize = s->maximize, l2 = wd != 0.0f;
    for (size_t i = lo; i < hi; i++) {
        float gi = maximize ? -g[i] : g[i];
        if (l2) gi = fmaf(wd, w[i], gi);
        const float wi = w[i] * decay;
        w[i] = fmaf(neg_eta, gi, wi);
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

/* A schedule sets lr, which the next eta is computed from. */
static void set_lr(void *state, double lr) { ((asgd_state_t *)state)->lr = lr; }

static const runner_optimizer_ops_t ops = {
    .size = sizeof(runner_optimizer_ops_t), .state_bytes = state_bytes, .init = init, .step = step, .set_lr = set_lr,
};

static const runner_plugin_t descriptor = {
    RUNNER_PLUGIN_HEADER, .kind = RUNNER_KIND_OPTIMIZER, .name = "asgd", .version = "1.0.0",
    .doc = "ASGD: SGD with a decaying step (the iterates of torch's averaged SGD)",
    .params = params, .n_params = sizeof params / sizeof params[0], .optimizer = &ops, .extension = extension,
};

RUNNER_EXPORT const runner_plugin_t *runner_plugin_get(uint32_t index) { return index == 0 ? &descriptor : NULL; }
