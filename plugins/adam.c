/*
 * adam.c: Adam and AdamW as torch.optim.Adam / torch.optim.AdamW
 * (PyTorch 1.13, single-tensor path), float32. The two differ only in how
 * weight decay enters:
 *   adam   g = grad + weight_decay * w             (L2 in the gradient)
 *   adamw  w = w * (1 - lr * weight_decay)         (decoupled, before the step)
 * then, with t counting steps and bias corrections computed in double:
 *   m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g * g
 *   vmax = max(vmax, v)                            (amsgrad)
 *   w -= lr / (1 - beta1^t) * m / (sqrt(v or vmax) / sqrt(1 - beta2^t) + eps)
 * Rounding as torch: add(alpha=) and addcmul are fused (fmaf), addcdiv is
 * (value * t1) / t2 then an add.
 */
#include <math.h>
#include <runner/fixed_math.h>
#include <runner/plugin.h>
#include <string.h>

/* One step's constants. apply copies them into a local: a store to w[i]
 * may alias a float in the state, which would force a reload per element
 * and keep the loop scalar. */
typedef struct {
    float b1, b2, c1, c2, eps, wd, neg_step, bc2s, decay;
} step_coef_t;

typedef struct {
    double lr, beta1, beta2;
    float beta1_f, beta2_f, one_minus_beta1, one_minus_beta2, eps, weight_decay;
    int amsgrad, maximize, decoupled;
    uint64_t t;
    runner_pow_seq_t beta1_t, beta2_t; /* beta ** t, step by step (fixed_math.h) */
    step_coef_t k;                     /* this step's constants: begin sets them, apply reads them */
} adam_state_t;
#define ADAM_HEADER 256
_Static_assert(sizeof(adam_state_t) <= ADAM_HEADER, "header fits");

#define ADAM_PARAMS(wd_default, wd_doc)                                                          \
    {"lr", RUNNER_PARAM_FLOAT, RUNNER_PARAM_LOG, 1e-3, 0.0, 1e6, "learning rate"},              \
    {"beta1", RUNNER_PARAM_FLOAT, RUNNER_PARAM_MAX_EXCLUSIVE, 0.9, 0.0, 1.0,                     \
     "decay of the first-moment average"},                                                      \
    {"beta2", RUNNER_PARAM_FLOAT, RUNNER_PARAM_MAX_EXCLUSIVE, 0.999, 0.0, 1.0,                   \
     "decay of the second-moment average"},                                                     \
    {"eps", RUNNER_PARAM_FLOAT, RUNNER_PARAM_LOG, 1e-8, 0.0, 1.0, "added to the denominator"},   \
    {"weight_decay", RUNNER_PARAM_FLOAT, 0, wd_default, 0.0, 1e6, wd_doc},                       \
    {"amsgrad", RUNNER_PARAM_BOOL, 0, 0.0, 0.0, 1.0, "use the maximum of past second moments"}, \
    {"maximize", RUNNER_PARAM_BOOL, 0, 0.0, 0.0, 1.0, "maximize the objective instead of minimizing"}

static const runner_param_t adam_params[] = {ADAM_PARAMS(0.0, "L2 penalty added to the gradient")};
static const runner_param_t adamw_params[] = {ADAM_PARAMS(0.01, "decoupled weight decay (AdamW)")};

/* State: header, then m[n], v[n], vmax[n]. */
static size_t adam_state_bytes(size_t n, const double *hp)
{
    (void)hp;
    return ADAM_HEADER + 3 * n * sizeof(float);
}

static int init_common(void *state, size_t n, const double *hp, int decoupled)
{
    adam_state_t s = {.lr = hp[0], .beta1 = hp[1], .beta2 = hp[2],
                      .beta1_f = (float)hp[1], .beta2_f = (float)hp[2],
                      .one_minus_beta1 = (float)(1.0 - hp[1]), .one_minus_beta2 = (float)(1.0 - hp[2]),
                      .eps = (float)hp[3], .weight_decay = (float)hp[4],
                      .amsgrad = hp[5] != 0.0, .maximize = hp[6] != 0.0, .decoupled = decoupled,
                      .beta1_t = runner_pow_seq(hp[1]), .beta2_t = runner_pow_seq(hp[2])};
    memcpy(state, &s, sizeof s);
    memset((char *)state + ADAM_HEADER, 0, 3 * n * sizeof(float));
    return RUNNER_OK;
}
static int adam_init(void *state, size_t n, const double *hp, uint64_t seed, runner_err_t *err)
{
    (void)seed, (void)err;
    return init_common(state, n, hp, 0);
}
static int adamw_init(void *state, size_t n, const double *hp, uint64_t seed, runner_err_t *err)
{
    (void)seed, (void)err;
    return init_common(state, n, hp, 1);
}

/* The update of n elements. Inlined with constant flags, each variant is a
 * loop without branches that GCC vectorises (sqrtf and / are exactly
 * rounded in vector form too, so the bits are those of the scalar loop). */
static inline __attribute__((always_inline)) void adam_loop(step_coef_t k, size_t n, float *w, const float *g,
                                                            float *m, float *v, float *vmax, int amsgrad,
                                                            int maximize, int decoupled, int l2)
{
    for (size_t i = 0; i < n; i++) {
        float gi = maximize ? -g[i] : g[i];
        const float wi = decoupled ? w[i] * k.decay : w[i];
        if (l2) gi = fmaf(k.wd, wi, gi);
        const float mi = fmaf(k.c1, gi, m[i] * k.b1), vi = fmaf(k.c2 * gi, gi, v[i] * k.b2);
        m[i] = mi, v[i] = vi;
        float denom_sq = vi;
        if (amsgrad) {
            /* torch.maximum propagates NaN; fmaxf would drop it */
            vmax[i] = (vi > vmax[i] || vi != vi) ? vi : vmax[i];
            denom_sq = vmax[i];
        }
        const float denom = sqrtf(denom_sq) / k.bc2s + k.eps;
        w[i] = wi + k.neg_step * mi / denom;
    }
}

/* The step's scalars: t, beta ** t, the bias corrections (in double). */
static int adam_begin(void *state, size_t n, runner_err_t *err)
{
    (void)n, (void)err;
    adam_state_t *s = state;
    s->t++;
    const double bc1 = 1.0 - runner_pow_seq_next(&s->beta1_t); /* beta1 ** t */
    const double bc2_sqrt = sqrt(1.0 - runner_pow_seq_next(&s->beta2_t));
    s->k = (step_coef_t){.b1 = s->beta1_f, .b2 = s->beta2_f, .c1 = s->one_minus_beta1, .c2 = s->one_minus_beta2,
                         .eps = s->eps, .wd = s->weight_decay, .neg_step = (float)-(s->lr / bc1),
                         .bc2s = (float)bc2_sqrt, .decay = (float)(1.0 - s->lr * (double)s->weight_decay)};
    return RUNNER_OK;
}

/* The update of elements [lo, hi). */
RUNNER_FMA_CLONES static void adam_apply(void *state, size_t n, size_t lo, size_t hi, float *w, const float *g)
{
    const adam_state_t *s = state;
    float *m = (float *)((char *)state + ADAM_HEADER), *v = m + n, *vmax = v + n;
    const step_coef_t k = s->k;
    const int l2 = !s->decoupled && s->weight_decay != 0.0f;
    w += lo, g += lo, m += lo, v += lo, vmax += lo, n = hi - lo;
    /* the common settings get loops of their own; the rest share one */
    if (!s->amsgrad && !s->maximize && !s->decoupled && !l2) adam_loop(k, n, w, g, m, v, vmax, 0, 0, 0, 0);
    else if (!s->amsgrad && !s->maximize && s->decoupled) adam_loop(k, n, w, g, m, v, vmax, 0, 0, 1, 0);
    else adam_loop(k, n, w, g, m, v, vmax, s->amsgrad, s->maximize, s->decoupled, l2);
}

/* ABI 1.5: the host may share a step out over threads. */
static const runner_elementwise_step_t elementwise = {sizeof elementwise, adam_begin, adam_apply};
static const void *extension(const char *name)
{
    return strcmp(name, RUNNER_EXT_ELEMENTWISE_STEP) ? NULL : &elementwise;
}

static int adam_step(void *state, size_t n, float *w, const float *g, runner_err_t *err)
{
    return runner_step_by_ranges(&elementwise, state, n, w, g, err);
}

/* ABI 1.1: schedules change the learning rate between steps. */
static void set_lr(void *state, double lr) { ((adam_state_t *)state)->lr = lr; }

static const runner_optimizer_ops_t adam_ops = {
    .size = sizeof(runner_optimizer_ops_t),
    .state_bytes = adam_state_bytes, .init = adam_init, .step = adam_step, .set_lr = set_lr,
};
static const runner_optimizer_ops_t adamw_ops = {
    .size = sizeof(runner_optimizer_ops_t),
    .state_bytes = adam_state_bytes, .init = adamw_init, .step = adam_step, .set_lr = set_lr,
};

#define N_OF(a) (uint32_t)(sizeof(a) / sizeof((a)[0]))
static const runner_plugin_t descriptors[] = {
    {RUNNER_PLUGIN_HEADER, .kind = RUNNER_KIND_OPTIMIZER, .name = "adam", .version = "1.0.0",
     .doc = "Adam: bias-corrected moving averages of the gradient and its square",
     .params = adam_params, .n_params = N_OF(adam_params), .optimizer = &adam_ops, .extension = extension},
    {RUNNER_PLUGIN_HEADER, .kind = RUNNER_KIND_OPTIMIZER, .name = "adamw", .version = "1.0.0",
     .doc = "AdamW: Adam with decoupled weight decay",
     .params = adamw_params, .n_params = N_OF(adamw_params), .optimizer = &adamw_ops, .extension = extension},
};

RUNNER_EXPORT const runner_plugin_t *runner_plugin_get(uint32_t index)
{
    return index < N_OF(descriptors) ? &descriptors[index] : NULL;
}
