/*
 * sgd.c: stochastic gradient descent as torch.optim.SGD (PyTorch 1.13),
 * in float32, exported three times with different defaults:
 *   sgd       lr required, momentum 0 (plain gradient descent)
 *   momentum  momentum 0.9, lr 0.01: the textbook "Momentum"
 *   nesterov  momentum 0.9, lr 0.01, Nesterov's look-ahead always on
 * The update, for g = grad (negated when maximize):
 *   d = g + weight_decay * w
 *   buf = d (first step) | momentum * buf + (1 - dampening) * d
 *   d = nesterov ? d + momentum * buf : buf        (when momentum != 0)
 *   w = w - lr * d
 * Each line rounds as torch's kernel does: x.add(y, alpha=a) is one fused
 * multiply-add (fmaf, a single rounding), x.mul_(m) is a plain product.
 */
#include <math.h>
#include <runner/plugin.h>
#include <stdio.h>
#include <string.h>

/* Hyperparameters in the order of the sgd schema. The other two
 * descriptors map theirs onto this struct in their own init. */
typedef struct {
    float lr, momentum, dampening, weight_decay;
    int nesterov, maximize;
    int have_buf; /* torch starts the buffer as a copy of the first d */
    int buf_from_d; /* this step's: the buffer starts here (begin sets it) */
} sgd_state_t;

/* State: the header above, padded to 64 bytes, then buf[n]. */
#define SGD_HEADER 64
_Static_assert(sizeof(sgd_state_t) <= SGD_HEADER, "header fits");

#define LR_PARAM(def, fl) {"lr", RUNNER_PARAM_FLOAT, (fl) | RUNNER_PARAM_LOG, def, 0.0, 1e6, "learning rate"}
#define COMMON_PARAMS(mom_def)                                                                  \
    {"momentum", RUNNER_PARAM_FLOAT, 0, mom_def, 0.0, 1e6, "momentum factor (0 = none)"},       \
    {"dampening", RUNNER_PARAM_FLOAT, 0, 0.0, 0.0, 1.0, "dampening for momentum"},              \
    {"weight_decay", RUNNER_PARAM_FLOAT, 0, 0.0, 0.0, 1e6, "L2 penalty added to the gradient"}

static const runner_param_t sgd_params[] = {
    LR_PARAM(0.0, RUNNER_PARAM_REQUIRED),
    COMMON_PARAMS(0.0),
    {"nesterov", RUNNER_PARAM_BOOL, 0, 0.0, 0.0, 1.0, "Nesterov momentum (needs momentum > 0, dampening 0)"},
    {"maximize", RUNNER_PARAM_BOOL, 0, 0.0, 0.0, 1.0, "maximize the objective instead of minimizing"},
};
static const runner_param_t momentum_params[] = {
    LR_PARAM(0.01, 0),
    COMMON_PARAMS(0.9),
    {"nesterov", RUNNER_PARAM_BOOL, 0, 0.0, 0.0, 1.0, "Nesterov momentum (needs momentum > 0, dampening 0)"},
    {"maximize", RUNNER_PARAM_BOOL, 0, 0.0, 0.0, 1.0, "maximize the objective instead of minimizing"},
};
/* nesterov has no 'nesterov' switch: it is always on. */
static const runner_param_t nesterov_params[] = {
    LR_PARAM(0.01, 0),
    COMMON_PARAMS(0.9),
    {"maximize", RUNNER_PARAM_BOOL, 0, 0.0, 0.0, 1.0, "maximize the objective instead of minimizing"},
};

/* hp -> struct; nesterov_fixed is 1 for the nesterov descriptor. */
static sgd_state_t unpack(const double *hp, int nesterov_fixed)
{
    sgd_state_t s = {
        .lr = (float)hp[0],
        .momentum = (float)hp[1],
        .dampening = (float)hp[2],
        .weight_decay = (float)hp[3],
    };
    s.nesterov = nesterov_fixed ? 1 : hp[4] != 0.0;
    s.maximize = nesterov_fixed ? hp[4] != 0.0 : hp[5] != 0.0;
    return s;
}

static int check_common(sgd_state_t s, runner_err_t *err)
{
    /* The same rule torch.optim.SGD enforces. */
    if (s.nesterov && (s.momentum <= 0.0f || s.dampening != 0.0f)) {
        snprintf(err->msg, sizeof err->msg,
                 "Nesterov momentum requires momentum > 0 and dampening = 0 (got momentum %g, dampening %g)",
                 (double)s.momentum, (double)s.dampening);
        return RUNNER_FAIL;
    }
    return RUNNER_OK;
}
static int sgd_check(const double *hp, runner_err_t *err) { return check_common(unpack(hp, 0), err); }
static int nesterov_check(const double *hp, runner_err_t *err) { return check_common(unpack(hp, 1), err); }

static size_t sgd_state_bytes(size_t n, const double *hp)
{
    (void)hp;
    return SGD_HEADER + n * sizeof(float);
}

static int init_common(void *state, const double *hp, int nesterov_fixed, runner_err_t *err)
{
    sgd_state_t s = unpack(hp, nesterov_fixed);
    if (check_common(s, err) != RUNNER_OK) return RUNNER_FAIL;
    memcpy(state, &s, sizeof s);
    return RUNNER_OK;
}
static int sgd_init(void *state, size_t n, const double *hp, uint64_t seed, runner_err_t *err)
{
    (void)n, (void)seed;
    return init_common(state, hp, 0, err);
}
static int nesterov_init(void *state, size_t n, const double *hp, uint64_t seed, runner_err_t *err)
{
    (void)n, (void)seed;
    return init_common(state, hp, 1, err);
}

static int sgd_begin(void *state, size_t n, runner_err_t *err)
{
    (void)n, (void)err;
    sgd_state_t *s = state;
    s->buf_from_d = !s->have_buf;
    s->have_buf = 1;
    return RUNNER_OK;
}

/* The update of elements [lo, hi), the step's values in locals (a store
 * to w[i] may alias the state). */
RUNNER_FMA_CLONES static void sgd_apply(void *state, size_t n, size_t lo, size_t hi, float *w, const float *g)
{
    (void)n;
    const sgd_state_t *s = state;
    float *buf = (float *)((char *)state + SGD_HEADER);
    const float keep = (float)(1.0 - (double)s->dampening); /* torch computes 1 - dampening in double */
    const float lr = s->lr, momentum = s->momentum, wd = s->weight_decay;
    const int maximize = s->maximize, nesterov = s->nesterov, from_d = s->buf_from_d;
    for (size_t i = lo; i < hi; i++) {
        float d = maximize ? -g[i] : g[i];
        if (wd != 0.0f) d = fmaf(wd, w[i], d);
        if (momentum != 0.0f) {
            buf[i] = from_d ? d : fmaf(keep, d, buf[i] * momentum);
            d = nesterov ? fmaf(momentum, buf[i], d) : buf[i];
        }
        w[i] = fmaf(-lr, d, w[i]);
    }
}

/* ABI 1.5: the host may share a step out over threads. */
static const runner_elementwise_step_t elementwise = {sizeof elementwise, sgd_begin, sgd_apply};
static const void *extension(const char *name)
{
    return strcmp(name, RUNNER_EXT_ELEMENTWISE_STEP) ? NULL : &elementwise;
}

static int sgd_step(void *state, size_t n, float *w, const float *g, runner_err_t *err)
{
    return runner_step_by_ranges(&elementwise, state, n, w, g, err);
}

/* ABI 1.1: schedules change the learning rate between steps. */
static void set_lr(void *state, double lr) { ((sgd_state_t *)state)->lr = (float)lr; }

static const runner_optimizer_ops_t sgd_ops = {
    .size = sizeof(runner_optimizer_ops_t),
    .check = sgd_check, .state_bytes = sgd_state_bytes, .init = sgd_init, .step = sgd_step, .set_lr = set_lr,
};
static const runner_optimizer_ops_t nesterov_ops = {
    .size = sizeof(runner_optimizer_ops_t),
    .check = nesterov_check, .state_bytes = sgd_state_bytes, .init = nesterov_init, .step = sgd_step, .set_lr = set_lr,
};

#define N_OF(a) (uint32_t)(sizeof(a) / sizeof((a)[0]))
static const runner_plugin_t descriptors[] = {
    {RUNNER_PLUGIN_HEADER, .kind = RUNNER_KIND_OPTIMIZER, .name = "sgd", .version = "1.0.0",
     .doc = "stochastic gradient descent, optionally with momentum (torch.optim.SGD)",
     .params = sgd_params, .n_params = N_OF(sgd_params), .optimizer = &sgd_ops, .extension = extension},
    {RUNNER_PLUGIN_HEADER, .kind = RUNNER_KIND_OPTIMIZER, .name = "momentum", .version = "1.0.0",
     .doc = "SGD with momentum 0.9 by default (the textbook Momentum)",
     .params = momentum_params, .n_params = N_OF(momentum_params), .optimizer = &sgd_ops, .extension = extension},
    {RUNNER_PLUGIN_HEADER, .kind = RUNNER_KIND_OPTIMIZER, .name = "nesterov", .version = "1.0.0",
     .doc = "SGD with Nesterov momentum, 0.9 by default",
     .params = nesterov_params, .n_params = N_OF(nesterov_params), .optimizer = &nesterov_ops, .extension = extension},
};

RUNNER_EXPORT const runner_plugin_t *runner_plugin_get(uint32_t index)
{
    return index < N_OF(descriptors) ? &descriptors[index] : NULL;
}
