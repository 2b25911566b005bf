/*
 * nadam.c: NAdam as torch.optim.NAdam (PyTorch 1.13, single-tensor path),
 * float32: Adam with Nesterov momentum and a momentum schedule.
 *   g = grad + weight_decay * w
 *   mu_t = beta1 (1 - 0.5 * 0.96^(t * momentum_decay)),  mu_{t+1} likewise (double)
 *   P = P * mu_t                                   (a float32 product, as torch's 0-d tensor)
 *   P' = P * mu_t * mu_{t+1}                       (torch 1.13 multiplies mu_t twice here: kept)
 *   m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g g
 *   d = sqrt(v / (1 - beta2^t)) + eps
 *   w += (-lr (1 - mu_t) / (1 - P)) g / d;  w += (-lr mu_{t+1} / (1 - P')) m / d
 * Rounding as torch: add(alpha=) and addcmul are fused (fmaf), addcdiv is
 * (value * t1) / t2 then an add, a scalar divides (no reciprocal).
 * tests/fixtures/optimizer_reference.json holds its trajectories.
 */
#include <math.h>
#include <runner/fixed_math.h>
#include <runner/plugin.h>
#include <string.h>

typedef struct {
    double lr, beta1, beta2, momentum_decay;
    float beta1_f, beta2_f, one_minus_beta1, one_minus_beta2, eps, weight_decay, mu_product;
    uint64_t t;
    runner_pow_seq_t beta2_t; /* beta2 ** t, step by step (fixed_math.h) */
    float value_g, value_m, bc2_f; /* this step's scales: begin sets them */
} nadam_state_t;
#define NADAM_HEADER 128
_Static_assert(sizeof(nadam_state_t) <= NADAM_HEADER, "header fits");

static const runner_param_t params[] = {
    {"lr", RUNNER_PARAM_FLOAT, RUNNER_PARAM_LOG, 2e-3, 0.0, 1e6, "learning rate"},
    {"beta1", RUNNER_PARAM_FLOAT, RUNNER_PARAM_MAX_EXCLUSIVE, 0.9, 0.0, 1.0, "decay of the first-moment average"},
    {"beta2", RUNNER_PARAM_FLOAT, RUNNER_PARAM_MAX_EXCLUSIVE, 0.999, 0.0, 1.0, "decay of the second-moment average"},
    {"eps", RUNNER_PARAM_FLOAT, RUNNER_PARAM_LOG, 1e-8, 0.0, 1.0, "added to the denominator"},
    {"weight_decay", RUNNER_PARAM_FLOAT, 0, 0.0, 0.0, 1e6, "L2 penalty added to the gradient"},
    {"momentum_decay", RUNNER_PARAM_FLOAT, 0, 4e-3, 0.0, 1e6, "how fast the momentum schedule approaches beta1"},
};

/* State: header, then m[n], v[n]. */
static size_t state_bytes(size_t n, const double *hp)
{
    (void)hp;
    return NADAM_HEADER + 2 * n * sizeof(float);
}

static int init(void *state, size_t n, const double *hp, uint64_t seed, runner_err_t *err)
{
    (void)seed, (void)err;
    nadam_state_t s = {.lr = hp[0], .beta1 = hp[1], .beta2 = hp[2], .momentum_decay = hp[5],
                       .beta1_f = (float)hp[1], .beta2_f = (float)hp[2],
                       .one_minus_beta1 = (float)(1.0 - hp[1]), .one_minus_beta2 = (float)(1.0 - hp[2]),
                       .eps = (float)hp[3], .weight_decay = (float)hp[4], .mu_product = 1.0f,
                       .beta2_t = runner_pow_seq(hp[2])};
    memcpy(state, &s, sizeof s);
    memset((char *)state + NADAM_HEADER, 0, 2 * n * sizeof(float));
    return RUNNER_OK;
}

/* The step's scalars: the momentum schedule mu_t, mu_{t+1} and its
 * product, the bias correction of v. */
static int begin(void *state, size_t n, runner_err_t *err)
{
    (void)n, (void)err;
    nadam_state_t *s = state;
    s->t++;
    const double t = (double)s->t;
    const double bc2 = 1.0 - runner_pow_seq_next(&s->beta2_t);
    const double mu = s->beta1 * (1.0 - 0.5 * runner_pow(0.96, t * s->momentum_decay));
    const double mu_next = s->beta1 * (1.0 - 0.5 * runner_pow(0.96, (t + 1.0) * s->momentum_decay));
    s->mu_product = s->mu_product * (float)mu;
    const float product_next = s->mu_product * (float)mu * (float)mu_next;
    s->value_g = (float)(-s->lr * (1.0 - mu) / (1.0 - (double)s->mu_product));
    s->value_m = (float)(-s->lr * mu_next / (1.0 - (double)product_next));
    s->bc2_f = (float)bc2;
    return RUNNER_OK;
}

/* The update of elements [lo, hi). */
RUNNER_FMA_CLONES static void apply(void *state, size_t n, size_t lo, size_t hi, float *w, const float *g)
{
    const nadam_state_t *s = state;
    float *m = (float *)((char *)state + NADAM_HEADER), *v = m + n;
    const float value_g = s->value_g, value_m = s->value_m, bc2_f = s->bc2_f;
    const float b1 = s->beta1_f, b2 = s->beta2_f, c1 = s->one_minus_beta1, c2 = s->one_minus_beta2;
    const float eps = s->eps, wd = s->weight_decay;
    const int l2 = wd != 0.0f;
    for (size_t i = lo; i < hi; i++) {
        float gi = g[i];
        if (l2) gi = fmaf(wd, w[i], gi);
        const float mi = fmaf(c1, gi, m[i] * b1), vi = fmaf(c2 * gi, gi, v[i] * b2);
        m[i] = mi, v[i] = vi;
        const float denom = sqrtf(vi / bc2_f) + eps;
        const float wi = w[i] + value_g * gi / denom;
        w[i] = wi + value_m * mi / denom;
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

static void set_lr(void *state, double lr) { ((nadam_state_t *)state)->lr = lr; }

static const runner_optimizer_ops_t ops = {
    .size = sizeof(runner_optimizer_ops_t), .state_bytes = state_bytes, .init = init, .step = step, .set_lr = set_lr,
};

static const runner_plugin_t descriptor = {
    RUNNER_PLUGIN_HEADER, .kind = RUNNER_KIND_OPTIMIZER, .name = "nadam", .version = "1.0.0",
    .doc = "NAdam: Adam with Nesterov momentum (Dozat), torch's momentum schedule",
    .params = params, .n_params = sizeof params / sizeof params[0], .optimizer = &ops, .extension = extension,
};

RUNNER_EXPORT const runner_plugin_t *runner_plugin_get(uint32_t index) { return index == 0 ? &descriptor : NULL; }
