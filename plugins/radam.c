/*
 * radam.c: RAdam as torch.optim.RAdam (PyTorch 1.13, single-tensor path),
 * float32: Adam whose adaptive step is switched on once the variance of
 * the second-moment estimate is tractable (rho_t > 5), and rectified.
 *   g = grad + weight_decay * w
 *   m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g g
 *   mh = m / (1 - beta1^t)
 *   rho_inf = 2 / (1 - beta2) - 1;  rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)     (double)
 *   rho_t > 5:  a = (1 / (sqrt(v) + eps)) * sqrt(1 - beta2^t)   (torch: scalar / tensor is reciprocal then *)
 *               w -= ((mh * lr) * a) * r,  r = sqrt((rho_t-4)(rho_t-2) rho_inf / ((rho_inf-4)(rho_inf-2) rho_t))
 *   otherwise:  w -= mh * lr
 * Rounding as torch: add(alpha=) and addcmul are fused (fmaf), a scalar
 * divides (no reciprocal). tests/fixtures/optimizer_reference.json holds
 * its trajectories.
 */
#include <math.h>
#include <runner/fixed_math.h>
#include <runner/plugin.h>
#include <string.h>

typedef struct {
    double lr, beta1, beta2;
    float beta1_f, beta2_f, one_minus_beta1, one_minus_beta2, eps, weight_decay;
    uint64_t t;
    runner_pow_seq_t beta1_t, beta2_t; /* beta ** t, step by step (fixed_math.h) */
    float rect, bc1_f, bc2_sqrt;        /* this step's scalars: begin sets them */
    int rectified;
} radam_state_t;
#define RADAM_HEADER 192
_Static_assert(sizeof(radam_state_t) <= RADAM_HEADER, "header fits");

static const runner_param_t params[] = {
    {"lr", RUNNER_PARAM_FLOAT, RUNNER_PARAM_LOG, 1e-3, 0.0, 1e6, "learning rate"},
    {"beta1", RUNNER_PARAM_FLOAT, RUNNER_PARAM_MAX_EXCLUSIVE, 0.9, 0.0, 1.0, "decay of the first-moment average"},
    {"beta2", RUNNER_PARAM_FLOAT, RUNNER_PARAM_MAX_EXCLUSIVE, 0.999, 0.0, 1.0, "decay of the second-moment average"},
    {"eps", RUNNER_PARAM_FLOAT, RUNNER_PARAM_LOG, 1e-8, 0.0, 1.0, "added to the denominator"},
    {"weight_decay", RUNNER_PARAM_FLOAT, 0, 0.0, 0.0, 1e6, "L2 penalty added to the gradient"},
};

/* State: header, then m[n], v[n]. */
static size_t state_bytes(size_t n, const double *hp)
{
    (void)hp;
    return RADAM_HEADER + 2 * n * sizeof(float);
}

static int init(void *state, size_t n, const double *hp, uint64_t seed, runner_err_t *err)
{
    (void)seed, (void)err;
    radam_state_t s = {.lr = hp[0], .beta1 = hp[1], .beta2 = hp[2], .beta1_f = (float)hp[1], .beta2_f = (float)hp[2],
                       .one_minus_beta1 = (float)(1.0 - hp[1]), .one_minus_beta2 = (float)(1.0 - hp[2]),
                       .eps = (float)hp[3], .weight_decay = (float)hp[4],
                       .beta1_t = runner_pow_seq(hp[1]), .beta2_t = runner_pow_seq(hp[2])};
    memcpy(state, &s, sizeof s);
    memset((char *)state + RADAM_HEADER, 0, 2 * n * sizeof(float));
    return RUNNER_OK;
}

/* The step's scalars: the bias corrections and the rectification term. */
static int begin(void *state, size_t n, runner_err_t *err)
{
    (void)n, (void)err;
    radam_state_t *s = state;
    s->t++;
    const double t = (double)s->t;
    const double beta2_t = runner_pow_seq_next(&s->beta2_t);
    const double bc1 = 1.0 - runner_pow_seq_next(&s->beta1_t), bc2 = 1.0 - beta2_t;
    const double rho_inf = 2.0 / (1.0 - s->beta2) - 1.0;
    const double rho_t = rho_inf - 2.0 * t * beta2_t / bc2;
    s->rectified = rho_t > 5.0;
    s->rect = s->rectified ? (float)sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
                           : 0.0f;
    s->bc1_f = (float)bc1, s->bc2_sqrt = (float)sqrt(bc2);
    return RUNNER_OK;
}

/* The update of elements [lo, hi). */
RUNNER_FMA_CLONES static void apply(void *state, size_t n, size_t lo, size_t hi, float *w, const float *g)
{
    const radam_state_t *s = state;
    float *m = (float *)((char *)state + RADAM_HEADER), *v = m + n;
    const float b1 = s->beta1_f, b2 = s->beta2_f, c1 = s->one_minus_beta1, c2 = s->one_minus_beta2;
    const float bc1_f = s->bc1_f, bc2_sqrt = s->bc2_sqrt, lr = (float)s->lr, eps = s->eps, wd = s->weight_decay;
    const float rect = s->rect;
    const int l2 = wd != 0.0f, rectified = s->rectified;
    for (size_t i = lo; i < hi; i++) {
        float gi = g[i];
        if (l2) gi = fmaf(wd, w[i], gi);
        const float mi = fmaf(c1, gi, m[i] * b1), vi = fmaf(c2 * gi, gi, v[i] * b2);
        m[i] = mi, v[i] = vi;
        const float mh = mi / bc1_f;
        if (rectified) {
            const float adaptive = (1.0f / (sqrtf(vi) + eps)) * bc2_sqrt;
            w[i] = w[i] - mh * lr * adaptive * rect;
        } else {
            w[i] = w[i] - mh * lr;
        }
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

static void set_lr(void *state, double lr) { ((radam_state_t *)state)->lr = lr; }

static const runner_optimizer_ops_t ops = {
    .size = sizeof(runner_optimizer_ops_t), .state_bytes = state_bytes, .init = init, .step = step, .set_lr = set_lr,
};

static const runner_plugin_t descriptor = {
    RUNNER_PLUGIN_HEADER, .kind = RUNNER_KIND_OPTIMIZER, .name = "radam", .version = "1.0.0",
    .doc = "RAdam: Adam with the variance of its adaptive step rectified (Liu et al.)",
    .params = params, .n_params = sizeof params / sizeof params[0], .optimizer = &ops, .extension = extension,
};

RUNNER_EXPORT const runner_plugin_t *runner_plugin_get(uint32_t index) { return index == 0 ? &descriptor : NULL; }
