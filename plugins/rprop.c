/*
 * rprop.c: Rprop as torch.optim.Rprop (PyTorch 1.13, single-tensor path),
 * float32: a step size per coordinate, grown while the gradient keeps its
 * sign and shrunk when it flips; only the gradient's sign is used.
 *   g = grad (negated when maximize);  f = eta_plus, eta_minus or 1 as sign(g * prev) is +, - or 0
 *   step = clamp(step * f, step_size_min, step_size_max)
 *   g = 0 where the sign flipped;  w = w - sign(g) * step;  prev = g
 * torch's etas and step_sizes tuples are split: eta_minus, eta_plus,
 * step_size_min, step_size_max. tests/fixtures/optimizer_reference.json
 * holds its trajectories.
 */
#include <math.h>
#include <runner/plugin.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    float lr, eta_minus, eta_plus, step_min, step_max;
    int maximize;
} rprop_state_t;
#define RPROP_HEADER 64
_Static_assert(sizeof(rprop_state_t) <= RPROP_HEADER, "header fits");

static const runner_param_t params[] = {
    {"lr", RUNNER_PARAM_FLOAT, RUNNER_PARAM_LOG, 1e-2, 0.0, 1e6, "initial step size"},
    {"eta_minus", RUNNER_PARAM_FLOAT, RUNNER_PARAM_MAX_EXCLUSIVE, 0.5, 0.0, 1.0, "step factor when the sign flips"},
    {"eta_plus", RUNNER_PARAM_FLOAT, 0, 1.2, 1.0, 1e6, "step factor while the sign holds"},
    {"step_size_min", RUNNER_PARAM_FLOAT, 0, 1e-6, 0.0, 1e6, "smallest step"},
    {"step_size_max", RUNNER_PARAM_FLOAT, 0, 50.0, 0.0, 1e6, "largest step"},
    {"maximize", RUNNER_PARAM_BOOL, 0, 0.0, 0.0, 1.0, "maximize the objective instead of minimizing"},
};

/* torch requires 0 < eta_minus < 1 < eta_plus: a factor of 0 would read as
 * "no sign change" in its own update, and step_size_min <= step_size_max. */
static int check(const double *hp, runner_err_t *err)
{
    if (!(hp[1] > 0.0) || !(hp[2] > 1.0)) {
        snprintf(err->msg, sizeof err->msg, "needs 0 < eta_minus < 1 < eta_plus (got %g and %g)", hp[1], hp[2]);
        return RUNNER_FAIL;
    }
    if (hp[3] > hp[4]) {
        snprintf(err->msg, sizeof err->msg, "step_size_min %g is above step_size_max %g", hp[3], hp[4]);
        return RUNNER_FAIL;
    }
    return RUNNER_OK;
}

/* State: header, then prev[n], step[n]. */
static size_t state_bytes(size_t n, const double *hp)
{
    (void)hp;
    return RPROP_HEADER + 2 * n * sizeof(float);
}

static int init(void *state, size_t n, const double *hp, uint64_t seed, runner_err_t *err)
{
    (void)seed, (void)err;
    rprop_state_t s = {.lr = (float)hp[0], .eta_minus = (float)hp[1], .eta_plus = (float)hp[2],
                       .step_min = (float)hp[3], .step_max = (float)hp[4], .maximize = hp[5] != 0.0};
    memcpy(state, &s, sizeof s);
    float *prev = (float *)((char *)state + RPROP_HEADER), *step = prev + n;
    memset(prev, 0, n * sizeof(float));
    for (size_t i = 0; i < n; i++) step[i] = s.lr;
    return RUNNER_OK;
}

static float sign_of(float x) { return x > 0.0f ? 1.0f : x < 0.0f ? -1.0f : x; /* 0, -0 and NaN as torch.sign */ }

/* Nothing changes per step but the arrays. */
static int begin(void *state, size_t n, runner_err_t *err)
{
    (void)state, (void)n, (void)err;
    return RUNNER_OK;
}

/* The update of elements [lo, hi). */
RUNNER_FMA_CLONES static void apply(void *state, size_t n, size_t lo, size_t hi, float *w, const float *g)
{
    const rprop_state_t *s = state;
    float *prev = (float *)((char *)state + RPROP_HEADER), *step = prev + n;
    const float eta_plus = s->eta_plus, eta_minus = s->eta_minus, step_min = s->step_min, step_max = s->step_max;
    const int maximize = s->maximize;
    for (size_t i = lo; i < hi; i++) {
        float gi = maximize ? -g[i] : g[i];
        const float p = gi * prev[i];
        const float f = p > 0.0f ? eta_plus : p < 0.0f ? eta_minus : p == 0.0f ? 1.0f : p;
        float st = step[i] * f;
        st = st < step_min ? step_min : st > step_max ? step_max : st; /* torch.clamp keeps NaN */
        step[i] = st;
        if (f == eta_minus) gi = 0.0f;
        w[i] = fmaf(-sign_of(gi), st, w[i]);
        prev[i] = gi;
    }
}

/* ABI 1.5: the host may share a step out over threads. */
static const runner_elementwise_step_t elementwise = {sizeof elementwise, begin, apply};
static const void *extension(const char *name)
{
    return strcmp(name, RUNNER_EXT_ELEMENTWISE_STEP) ? NULL : &elementwise;
}

static int step_fn(void *state, size_t n, float *w, const float *g, runner_err_t *err)
{
    return runner_step_by_ranges(&elementwise, state, n, w, g, err);
}

/* A schedule's lr is Rprop's initial step: it cannot change a run already started. */
static const runner_optimizer_ops_t ops = {
    .size = sizeof(runner_optimizer_ops_t), .state_bytes = state_bytes, .init = init, .step = step_fn, .check = check,
};

static const runner_plugin_t descriptor = {
    RUNNER_PLUGIN_HEADER, .kind = RUNNER_KIND_OPTIMIZER, .name = "rprop", .version = "1.0.0",
    .doc = "Rprop: per-coordinate steps grown or shrunk by the gradient's sign (resilient backpropagation)",
    .params = params, .n_params = sizeof params / sizeof params[0], .optimizer = &ops, .extension = extension,
};

RUNNER_EXPORT const runner_plugin_t *runner_plugin_get(uint32_t index) { return index == 0 ? &descriptor : NULL; }
