/* Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"):
 * the sign of an interpolated momentum, so every coordinate moves by lr.
 *   c = beta1 m + (1 - beta1) g;  w -= lr (sign(c) + wd w);  m = beta2 m + (1 - beta2) g */
#include <runner/plugin.h>
#include <string.h>

enum { LR, BETA1, BETA2, WD };
static const runner_param_t params[] = {
    {"lr", RUNNER_PARAM_FLOAT, RUNNER_PARAM_LOG, 1e-4, 0.0, 10.0, "learning rate (each step moves lr per coordinate)"},
    {"beta1", RUNNER_PARAM_FLOAT, 0, 0.9, 0.0, 1.0, "weight of the momentum in the update direction"},
    {"beta2", RUNNER_PARAM_FLOAT, 0, 0.99, 0.0, 1.0, "decay of the momentum"},
    {"weight_decay", RUNNER_PARAM_FLOAT, 0, 0.0, 0.0, 10.0, "decoupled weight decay"},
};

typedef struct {
    float lr, beta1, beta2, wd;
    float m[]; /* momentum, one per parameter */
} lion_t;

static size_t state_bytes(size_t n, const double *hp)
{
    (void)hp;
    return sizeof(lion_t) + n * sizeof(float);
}

static int init(void *state, size_t n, const double *hp, uint64_t seed, runner_err_t *err)
{
    (void)seed, (void)err;
    lion_t *s = state;
    *s = (lion_t){(float)hp[LR], (float)hp[BETA1], (float)hp[BETA2], (float)hp[WD]};
    for (size_t i = 0; i < n; i++) s->m[i] = 0.0f;
    return RUNNER_OK;
}

/* The update of elements [lo, hi): each element needs only its own g, w
 * and m, so the runner may run ranges on several threads at once (the
 * elementwise extension below; `runner check` tests that ranges give the
 * bits of one whole step). */
static void apply(void *state, size_t n, size_t lo, size_t hi, float *w, const float *g)
{
    (void)n;
    lion_t *s = state;
    for (size_t i = lo; i < hi; i++) {
        float c = s->beta1 * s->m[i] + (1.0f - s->beta1) * g[i];
        float sign = (float)((c > 0.0f) - (c < 0.0f));
        w[i] -= s->lr * (sign + s->wd * w[i]);
        s->m[i] = s->beta2 * s->m[i] + (1.0f - s->beta2) * g[i];
    }
}

/* Once a step, before the ranges: Lion has no per-step numbers to advance. */
static int begin(void *state, size_t n, runner_err_t *err)
{
    (void)state, (void)n, (void)err;
    return RUNNER_OK;
}

static const runner_elementwise_step_t elementwise = {sizeof elementwise, begin, apply};
static const void *extension(const char *name)
{
    return strcmp(name, RUNNER_EXT_ELEMENTWISE_STEP) ? NULL : &elementwise;
}

static int step(void *state, size_t n, float *w, const float *g, runner_err_t *err)
{
    return runner_step_by_ranges(&elementwise, state, n, w, g, err);
}

static void set_lr(void *state, double lr) { ((lion_t *)state)->lr = (float)lr; }

static const runner_optimizer_ops_t ops = {
    .size = sizeof ops, .state_bytes = state_bytes, .init = init, .step = step, .set_lr = set_lr};
static const runner_plugin_t lion = {RUNNER_PLUGIN_HEADER, .kind = RUNNER_KIND_OPTIMIZER, .name = "lion",
                                     .version = "1.0.0", .doc = "Lion: signed interpolated momentum (Chen et al. 2023)",
                                     .params = params, .n_params = 4, .optimizer = &ops, .extension = extension};

RUNNER_EXPORT const runner_plugin_t *runner_plugin_get(uint32_t index) { return index == 0 ? &lion : NULL; }
