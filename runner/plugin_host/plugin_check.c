/* plugin_check.c: self-tests of optimizer, layer and loss plugins. */
#include "plugin_host/plugin_check.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/size_math.h"
#include "plugin_host/descriptor.h"
#include "plugin_host/host_services.h"

#define QUAD_STEPS 300
#define CANARY 64 /* bytes checked past an optimizer's state */
/* A size no machine has (256 TiB): a plugin asking for more fails the check
 * before anything is allocated (an allocator asked for SIZE_MAX is itself
 * an error to valgrind). */
#define PLUGIN_CHECK_MAX_BYTES ((size_t)1 << 48)
#define H GRAD_CHECK_STEP
#define REL GRAD_CHECK_REL
#define ABS GRAD_CHECK_ABS

static bool fail(char *msg, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool fail(char *msg, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, len, fmt, ap);
    va_end(ap);
    return false;
}

/* The defaults; a required parameter (no default) gets a stand-in inside
 * its bounds: 0.01 for a float (a learning rate, typically), 4 for an int. */
static void self_test_hp(const runner_plugin_t *d, double *hp, char *text, size_t len)
{
    size_t used = 0;
    text[0] = 0;
    for (uint32_t i = 0; i < d->n_params; i++) {
        const runner_param_t *p = &d->params[i];
        double v = p->default_value;
        if (p->flags & RUNNER_PARAM_REQUIRED) {
            v = p->type == RUNNER_PARAM_FLOAT ? 0.01 : p->type == RUNNER_PARAM_INT ? 4 : 0;
            if (v < p->min || ((p->flags & RUNNER_PARAM_MIN_EXCLUSIVE) && v <= p->min))
                v = p->type == RUNNER_PARAM_INT ? floor(p->min) + 1 : p->min + fmax(fabs(p->min), 1.0) * 1e-3;
            if (v > p->max) v = p->max;
            if (used < len) used += (size_t)snprintf(text + used, len - used, "%s%s=%g", used ? ", " : "", p->name, v);
        }
        hp[i] = v;
    }
}

/* ---- optimizers ---- */

static double quad_loss(const float *w, const double *a, size_t n)
{
    double f = 0.0;
    for (size_t i = 0; i < n; i++) f += 0.5 * a[i] * (double)w[i] * w[i];
    return f;
}

typedef struct {
    const double *a;
    size_t n;
} quadratic_t;

/* The closure of an optimizer with RUNNER_EXT_CLOSURE_STEP: the quadratic anywhere. */
static int quad_eval(void *ctx, const float *w, float *g, double *loss, runner_err_t *err)
{
    (void)err;
    const quadratic_t *q = ctx;
    for (size_t i = 0; i < q->n; i++) g[i] = (float)(q->a[i] * w[i]);
    *loss = quad_loss(w, q->a, q->n);
    return RUNNER_OK;
}

/* A step through RUNNER_EXT_ELEMENTWISE_STEP as a host with threads takes
 * it: begin, then apply over ranges of 1, 2, 3, ... elements, last range
 * first (any order, any cut must give step's bits). */
static int step_by_pieces(const runner_elementwise_step_t *e, void *state, size_t n, float *w, const float *g,
                          runner_err_t *err)
{
    if (e->begin(state, n, err) != RUNNER_OK) return RUNNER_FAIL;
    size_t cuts[64], k = 0, at = 0;
    for (size_t len = 1; at < n && k < 63; len++) cuts[k++] = at, at += len < n - at ? len : n - at;
    cuts[k] = n;
    while (k-- > 0) e->apply(state, n, cuts[k], cuts[k + 1], w, g);
    return RUNNER_OK;
}

/* QUAD_STEPS steps from w = +-1 on f(w) = sum a_i w_i^2 / 2; w ends in w,
 * f at the start and the end in f_start and f_end. by_pieces: the steps
 * through the elementwise extension (step_by_pieces), not `step`. */
static bool run_quadratic(const runner_plugin_t *d, const double *hp, unsigned char *state, size_t bytes, size_t n,
                          bool by_pieces, float *w, double *f_start, double *f_end, char *msg, size_t len)
{
    const runner_optimizer_ops_t *ops = d->optimizer;
    double *a = malloc(n * sizeof *a);
    float *g = malloc(n * sizeof *g);
    if (!a || !g) {
        free(a), free(g);
        return fail(msg, len, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        a[i] = n > 1 ? 0.5 + 1.5 * (double)i / (double)(n - 1) : 1.0;
        w[i] = i % 2 ? -1.0f : 1.0f;
    }
    *f_start = quad_loss(w, a, n);
    runner_err_t e = {{0}};
    runner_closure_step_fn closure_step = (runner_closure_step_fn)plugin_extension(d, RUNNER_EXT_CLOSURE_STEP);
    quadratic_t quad = {a, n};
    const runner_closure_t closure = {quad_eval, &quad};
    bool ok = ops->init(state, n, hp, 42, &e) == RUNNER_OK || fail(msg, len, "init failed: %s", e.msg);
    for (int t = 0; ok && t < QUAD_STEPS; t++) {
        for (size_t i = 0; i < n; i++) g[i] = (float)(a[i] * w[i]);
        int rc = closure_step ? closure_step(state, n, w, g, quad_loss(w, a, n), &closure, &e)
                 : by_pieces  ? step_by_pieces(plugin_extension(d, RUNNER_EXT_ELEMENTWISE_STEP), state, n, w, g, &e)
                              : ops->step(state, n, w, g, &e);
        if (rc != RUNNER_OK) ok = fail(msg, len, "step %d failed: %s", t + 1, e.msg);
        for (size_t i = 0; ok && i < n; i++)
            if (!isfinite(w[i])) ok = fail(msg, len, "parameter %zu is %g after step %d", i, w[i], t + 1);
    }
    for (size_t i = 0; ok && i < CANARY; i++)
        if (state[bytes + i] != 0xA5) ok = fail(msg, len, "step wrote past the %zu bytes of state_bytes(%zu)", bytes, n);
    *f_end = quad_loss(w, a, n);
    free(a), free(g);
    return ok;
}

static bool check_optimizer(FILE *out, const runner_plugin_t *d, const double *hp)
{
    const runner_optimizer_ops_t *ops = d->optimizer;
    char msg[RUNNER_ERR_MAX + 128];
    runner_err_t e = {{0}};
    if (ops->check && ops->check(hp, &e) != RUNNER_OK) {
        fprintf(out, "  FAIL: its own check() refuses its defaults: %s\n", e.msg);
        return false;
    }
    const runner_elementwise_step_t *pieces = plugin_extension(d, RUNNER_EXT_ELEMENTWISE_STEP);
    if (pieces && (!RUNNER_HAS_FIELD(pieces, runner_elementwise_step_t, apply) || !pieces->begin || !pieces->apply)) {
        fprintf(out, "  FAIL: its %s extension has no begin or apply\n", RUNNER_EXT_ELEMENTWISE_STEP);
        return false;
    }
    static const size_t sizes[] = {1, 10, 37};
    bool ok = true;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0] && ok; s++) {
        size_t n = sizes[s], bytes = ops->state_bytes(n, hp);
        bool absurd = bytes > PLUGIN_CHECK_MAX_BYTES;
        unsigned char *state = absurd ? NULL : aligned_alloc(64, size_round_up(size_add(bytes, CANARY), 64));
        float *w = malloc(n * sizeof *w), *w2 = malloc(n * sizeof *w2);
        double f0 = NAN, f_end = NAN, f_again = NAN;
        if (absurd) {
            ok = fail(msg, sizeof msg, "state_bytes(%zu) asks for %zu bytes, more than any machine has", n, bytes);
        } else if (!state || !w || !w2) {
            ok = fail(msg, sizeof msg, "out of memory");
        } else {
            memset(state, 0xA5, bytes + CANARY);
            ok = run_quadratic(d, hp, state, bytes, n, false, w, &f0, &f_end, msg, sizeof msg);
            /* again on the used state: init must reset everything a run depends on */
            if (ok) ok = run_quadratic(d, hp, state, bytes, n, false, w2, &f0, &f_again, msg, sizeof msg);
            if (ok && memcmp(w, w2, n * sizeof *w))
                ok = fail(msg, sizeof msg, "a second run after init gave other numbers (init does not reset the state)");
            /* and in pieces, as a host with threads steps an elementwise optimizer */
            if (ok && pieces) ok = run_quadratic(d, hp, state, bytes, n, true, w2, &f0, &f_again, msg, sizeof msg);
            if (ok && pieces && memcmp(w, w2, n * sizeof *w))
                ok = fail(msg, sizeof msg,
                          "its elementwise step (begin, then apply over ranges) gave other numbers than step: an "
                          "element's update must not depend on the range it is in");
            if (ok && !(f_end < f0))
                ok = fail(msg, sizeof msg, "the loss did not decrease: %.6g at the start, %.6g after %d steps", f0, f_end,
                          QUAD_STEPS);
        }
        if (ok)
            fprintf(out, "  ok: %zu parameter%s, %d steps: loss %.4g -> %.4g, finite, same bits after a second init%s\n",
                    n, n == 1 ? "" : "s", QUAD_STEPS, f0, f_end, pieces ? " and stepped in ranges" : "");
        else
            fprintf(out, "  FAIL: convex quadratic of %zu parameter%s: %s\n", n, n == 1 ? "" : "s", msg);
        free(state), free(w), free(w2);
    }
    return ok;
}

/* ---- layers ---- */

typedef struct {
    const runner_plugin_t *d;
    const double *hp;
    runner_layer_ctx_t c;
    runner_rng_t rng;
    uint64_t rng_at_forward;
    size_t I, O, B, np;
    float *x, *y, *dy, *dx, *grads;
} layer_run_t;

static void layer_run_free(layer_run_t *r)
{
    free(r->c.params), free(r->c.grads), free(r->c.state), free(r->c.work);
    free(r->x), free(r->y), free(r->dy), free(r->dx), free(r->grads);
}

/* sum(dy * forward(x)) in double, the random stream rewound first (dropout
 * then draws the same mask each time); NAN when forward fails. */
static double objective(layer_run_t *r)
{
    runner_err_t e = {{0}};
    r->rng.state = r->rng_at_forward;
    if (r->d->layer->forward(&r->c, r->x, r->y, &e) != RUNNER_OK) return NAN;
    double L = 0.0;
    for (size_t i = 0; i < r->B * r->O; i++) L += (double)r->dy[i] * r->y[i];
    return L;
}

/* Derivatives of the objective in v by differences: central, and the two
 * one-sided ones (which differ where v sits on a kink such as a tie of a
 * max: there the backward may give either side's slope). */
typedef struct {
    double central, right, left;
} differences_t;

static differences_t differences(layer_run_t *r, float *v)
{
    float keep = *v;
    double mid = objective(r);
    *v = (float)(keep + H);
    double up = objective(r);
    *v = (float)(keep - H);
    double down = objective(r);
    *v = keep;
    return (differences_t){(up - down) / (2 * H), (up - mid) / H, (mid - down) / H};
}

static bool close_to(double analytic, double numeric)
{
    return fabs(analytic - numeric) <= REL * fmax(fabs(analytic), fabs(numeric)) + ABS;
}

/* Analytic against differences over every element (a stride through large
 * arrays). An element may match a one-sided difference instead of the
 * central one (a kink inside the step), but only a few may. */
static bool compare(layer_run_t *r, const float *analytic, float *values, size_t n, const char *what, size_t *kinks,
                    char *msg, size_t len)
{
    size_t stride = n > 400 ? n / 397 : 1, checked = 0, here = 0;
    for (size_t i = 0; i < n; i += stride, checked++) {
        differences_t d = differences(r, &values[i]);
        double an = analytic[i];
        if (close_to(an, d.central)) continue;
        if (!close_to(d.left, d.right) && (close_to(an, d.left) || close_to(an, d.right))) {
            here++;
            continue;
        }
        return fail(msg, len, "%s[%zu]: backward gives %.6g, differences %.6g (central), %.6g / %.6g (one-sided)",
                    what, i, an, d.central, d.left, d.right);
    }
    *kinks += here;
    if (here * 10 > checked + 10)
        return fail(msg, len, "%s: %zu of %zu elements match only a one-sided difference: too many for kinks", what,
                    here, checked);
    return true;
}

static bool layer_setup(layer_run_t *r, const runner_plugin_t *d, const double *hp, runner_shape_t in, size_t B,
                        uint64_t seed, char *msg, size_t len)
{
    const runner_layer_ops_t *ops = d->layer;
    memset(r, 0, sizeof *r);
    r->d = d, r->hp = hp, r->B = B;
    runner_shape_t outs;
    runner_err_t e = {{0}};
    if (ops->shape(hp, &in, &outs, &r->np, &e) != RUNNER_OK) return fail(msg, len, "shape refused: %s", e.msg);
    r->I = runner_shape_size(&in), r->O = runner_shape_size(&outs);
    size_t sb = ops->state_bytes ? ops->state_bytes(hp, &in) : 0, wb = ops->work_bytes ? ops->work_bytes(hp, &in, B) : 0;
    r->rng.state = seed;
    /* every size here is a plugin's number: saturating, so an absurd one fails to allocate */
    size_t np1 = size_add(r->np, 1), xb = size_add(size_mul(size_mul(B, r->I), sizeof(float)), 1),
           yb = size_add(size_mul(size_mul(B, r->O), sizeof(float)), 1);
    r->c = (runner_layer_ctx_t){.host = host_services(), .hp = hp, .in = in, .out = outs, .batch = B,
                                .params = calloc(np1, sizeof(float)), .grads = calloc(np1, sizeof(float)),
                                .state = calloc(size_add(sb, 1), 1), .work = calloc(size_add(wb, 1), 1), .training = 1,
                                .rng = &r->rng};
    r->x = malloc(xb), r->dx = malloc(xb);
    r->y = malloc(yb), r->dy = malloc(yb);
    r->grads = malloc(size_add(size_mul(r->np, sizeof(float)), 1));
    if (!r->c.params || !r->c.grads || !r->c.state || !r->c.work || !r->x || !r->dx || !r->y || !r->dy || !r->grads)
        return fail(msg, len, "out of memory");
    if (ops->init && ops->init(&r->c, &e) != RUNNER_OK) return fail(msg, len, "init failed: %s", e.msg);
    for (size_t i = 0; i < B * r->I; i++) {
        double sign = runner_rng_uniform(&r->rng) < 0.5 ? -1 : 1;
        r->x[i] = (float)(sign * (0.1 + 0.9 * runner_rng_uniform(&r->rng)));
    }
    for (size_t i = 0; i < B * r->O; i++) r->dy[i] = (float)(2.0 * runner_rng_uniform(&r->rng) - 1.0);
    r->rng_at_forward = r->rng.state;
    return true;
}

/* Float results of two ways to the same numbers (sums in another order). */
static bool same_values(const float *a, const float *b, size_t n, size_t *at)
{
    for (size_t i = 0; i < n; i++)
        if (!(fabsf(a[i] - b[i]) <= 1e-5f * fmaxf(fabsf(a[i]), fabsf(b[i])) + 1e-6f)) {
            *at = i;
            return false;
        }
    return true;
}

/* RUNNER_LAYER_PER_SAMPLE kept: each sample alone, with its own work and
 * gradient, gives the batch's y and dx, the summed gradients give the
 * batch's, and no random number is drawn. r holds the whole batch's y, dx
 * and grads from the calls just made. */
static bool check_slices(layer_run_t *r, char *msg, size_t len)
{
    const runner_layer_ops_t *ops = r->d->layer;
    size_t wb = ops->work_bytes ? ops->work_bytes(r->hp, &r->c.in, 1) : 0, at = 0;
    float *y = malloc(size_add(size_mul(size_mul(r->B, r->O), sizeof(float)), 1));
    float *dx = malloc(size_add(size_mul(size_mul(r->B, r->I), sizeof(float)), 1));
    float *g = calloc(size_add(r->np, 1), sizeof(float)), *sum = calloc(size_add(r->np, 1), sizeof(float));
    void *work = calloc(size_add(wb, 1), 1);
    bool ok = y && dx && g && sum && work ? true : fail(msg, len, "out of memory");
    uint64_t rng = r->rng.state;
    for (size_t s = 0; ok && s < r->B; s++) {
        runner_layer_ctx_t c = r->c;
        c.batch = 1, c.work = work, c.grads = g;
        runner_err_t e = {{0}};
        if (ops->forward(&c, r->x + s * r->I, y + s * r->O, &e) != RUNNER_OK ||
            ops->backward(&c, r->x + s * r->I, y + s * r->O, r->dy + s * r->O, dx + s * r->I, &e) != RUNNER_OK)
            ok = fail(msg, len, "per sample (RUNNER_LAYER_PER_SAMPLE): a call on one sample failed: %s", e.msg);
        for (size_t i = 0; ok && i < r->np; i++) sum[i] += g[i];
    }
    if (ok && r->rng.state != rng)
        ok = fail(msg, len, "per sample (RUNNER_LAYER_PER_SAMPLE): drew random numbers, which slices run in parallel cannot share");
    if (ok && !same_values(r->y, y, r->B * r->O, &at))
        ok = fail(msg, len, "per sample (RUNNER_LAYER_PER_SAMPLE): y[%zu] is %g for the batch but %g sample by sample",
                  at, r->y[at], y[at]);
    if (ok && !same_values(r->dx, dx, r->B * r->I, &at))
        ok = fail(msg, len, "per sample (RUNNER_LAYER_PER_SAMPLE): dx[%zu] is %g for the batch but %g sample by sample",
                  at, r->dx[at], dx[at]);
    if (ok && !same_values(r->grads, sum, r->np, &at))
        ok = fail(msg, len,
                  "per sample (RUNNER_LAYER_PER_SAMPLE): dparams[%zu] is %g for the batch but %g summed over samples",
                  at, r->grads[at], sum[at]);
    free(y), free(dx), free(g), free(sum), free(work);
    return ok;
}

bool plugin_check_layer(const runner_plugin_t *d, const double *hp, runner_shape_t in, size_t batch, uint64_t seed,
                        char *msg, size_t len)
{
    layer_run_t r;
    bool ok = layer_setup(&r, d, hp, in, batch, seed, msg, len);
    runner_err_t e = {{0}};
    if (ok && isnan(objective(&r))) ok = fail(msg, len, "forward failed or gave a non-finite output");
    for (size_t i = 0; ok && i < r.B * r.O; i++)
        if (!isfinite(r.y[i])) ok = fail(msg, len, "forward output %zu is %g", i, r.y[i]);
    float *first = ok ? malloc(r.B * r.O * sizeof *first + 1) : NULL;
    if (first) {
        memcpy(first, r.y, r.B * r.O * sizeof *first);
        objective(&r);
        if (memcmp(first, r.y, r.B * r.O * sizeof *first)) ok = fail(msg, len, "forward gave other bits on a repeat");
        free(first);
    }
    if (ok && d->layer->backward(&r.c, r.x, r.y, r.dy, r.dx, &e) != RUNNER_OK)
        ok = fail(msg, len, "backward failed: %s", e.msg);
    if (ok) memcpy(r.grads, r.c.grads, r.np * sizeof(float));
    if (ok && (d->layer->flags & RUNNER_LAYER_PER_SAMPLE)) ok = check_slices(&r, msg, len);
    size_t kinks = 0;
    if (ok) ok = compare(&r, r.dx, r.x, r.B * r.I, "dx", &kinks, msg, len);
    if (ok) ok = compare(&r, r.grads, r.c.params, r.np, "dparams", &kinks, msg, len);
    if (ok && r.np) { /* the first layer of a network gets dx = NULL */
        objective(&r);
        memset(r.c.grads, 0, r.np * sizeof(float));
        if (d->layer->backward(&r.c, r.x, r.y, r.dy, NULL, &e) != RUNNER_OK)
            ok = fail(msg, len, "backward with dx = NULL failed: %s", e.msg);
        else if (memcmp(r.grads, r.c.grads, r.np * sizeof(float)))
            ok = fail(msg, len, "backward with dx = NULL gives other parameter gradients");
    }
    if (ok)
        snprintf(msg, len, "%zu inputs -> %zu outputs, %zu parameters%s%s", r.I, r.O, r.np,
                 d->layer->flags & RUNNER_LAYER_PER_SAMPLE ? ", sample by sample the same" : "",
                 kinks ? " (some elements at a kink: matched a one-sided difference)" : "");
    layer_run_free(&r);
    return ok;
}

static void shape_text(const runner_shape_t *s, char *buf, size_t len)
{
    size_t used = (size_t)snprintf(buf, len, "(");
    for (uint32_t i = 0; i < s->rank && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%u", i ? ", " : "", s->dim[i]);
    if (used < len) snprintf(buf + used, len - used, ")");
}

static uint32_t draw(runner_rng_t *rng, uint32_t lo, uint32_t hi)
{
    return lo + (uint32_t)(runner_rng_uniform(rng) * (hi - lo + 1));
}

static bool check_layer(FILE *out, const runner_plugin_t *d, const double *hp)
{
    runner_rng_t rng = {2026};
    int accepted = 0;
    bool ok = true;
    for (int k = 0; k < 4 && ok; k++) {
        runner_shape_t in = k % 2 == 0 ? (runner_shape_t){1, {draw(&rng, 3, 9)}}
                                       : (runner_shape_t){3, {draw(&rng, 1, 3), draw(&rng, 5, 8), draw(&rng, 5, 8)}};
        char shape[64], msg[RUNNER_ERR_MAX + 128];
        shape_text(&in, shape, sizeof shape);
        runner_shape_t o;
        size_t np;
        runner_err_t e = {{0}};
        if (d->layer->shape(hp, &in, &o, &np, &e) != RUNNER_OK) {
            fprintf(out, "  skipped: input %s refused (%s)\n", shape, e.msg);
            continue;
        }
        accepted++;
        ok = plugin_check_layer(d, hp, in, 3, rng.state, msg, sizeof msg);
        fprintf(out, "  %s: input %s, batch 3: %s\n", ok ? "ok" : "FAIL", shape, msg);
        if (ok) fprintf(out, "      outputs finite, forward repeatable, backward matches the differences\n");
    }
    if (ok && !accepted) fprintf(out, "  FAIL: refused every input shape tried (flat and image)\n");
    return ok && accepted;
}

static bool check_loss(FILE *out, const runner_plugin_t *d, const double *hp)
{
    runner_rng_t rng = {2026};
    size_t B = 4, K = draw(&rng, 3, 7);
    runner_shape_t in = {1, {(uint32_t)K}}, o;
    size_t np = 0;
    runner_err_t e = {{0}};
    if (d->layer->shape(hp, &in, &o, &np, &e) != RUNNER_OK) {
        fprintf(out, "  FAIL: refuses %zu class scores: %s\n", K, e.msg);
        return false;
    }
    float x[4 * 7], dx[4 * 7];
    int32_t labels[4];
    for (size_t i = 0; i < B * K; i++) x[i] = (float)(2.0 * runner_rng_uniform(&rng) - 1.0);
    for (size_t b = 0; b < B; b++) labels[b] = (int32_t)draw(&rng, 0, (uint32_t)K - 1);
    runner_layer_ctx_t c = {.host = host_services(), .hp = hp, .in = in, .out = o, .batch = B, .training = 1, .rng = &rng};
    double loss = NAN, up, down;
    if (d->layer->loss(&c, x, labels, &loss, dx, &e) != RUNNER_OK || !isfinite(loss)) {
        fprintf(out, "  FAIL: loss failed or is not finite (%g): %s\n", loss, e.msg);
        return false;
    }
    for (size_t i = 0; i < B * K; i++) {
        float keep = x[i];
        x[i] = (float)(keep + H);
        d->layer->loss(&c, x, labels, &up, NULL, &e);
        x[i] = (float)(keep - H);
        d->layer->loss(&c, x, labels, &down, NULL, &e);
        x[i] = keep;
        double num = (up - down) / (2 * H), tol = REL * fmax(fabs(dx[i]), fabs(num)) + ABS;
        if (!(fabs(dx[i] - num) <= tol)) {
            fprintf(out, "  FAIL: dx[%zu]: %.6g, central differences %.6g\n", i, dx[i], num);
            return false;
        }
    }
    fprintf(out, "  ok: %zu samples of %zu classes: loss %.4g, dx matches central differences\n", B, K, loss);
    return true;
}

/* RUNNER_EXT_RESOLVE's promise on the test's values: every value stays
 * within its bounds, and a second call changes nothing. */
static bool check_resolve(FILE *out, const runner_plugin_t *d, const double *hp)
{
    runner_resolve_fn resolve = (runner_resolve_fn)plugin_extension(d, RUNNER_EXT_RESOLVE);
    if (!resolve) return true;
    double once[64], twice[64];
    uint32_t n = d->n_params < 64 ? d->n_params : 64;
    memcpy(once, hp, n * sizeof *hp);
    resolve(once);
    memcpy(twice, once, n * sizeof *once);
    resolve(twice);
    for (uint32_t i = 0; i < n; i++) {
        char why[200];
        if (!param_value_valid(&d->params[i], once[i], why, sizeof why)) {
            fprintf(out, "  FAIL: resolve (%s) gives %s an invalid value: %s\n", RUNNER_EXT_RESOLVE, d->params[i].name, why);
            return false;
        }
        if (memcmp(&once[i], &twice[i], sizeof once[i])) {
            fprintf(out, "  FAIL: resolve (%s) is not idempotent: %s %g, then %g\n", RUNNER_EXT_RESOLVE,
                    d->params[i].name, once[i], twice[i]);
            return false;
        }
    }
    fprintf(out, "  ok: resolve (%s): values within bounds, a second call changes nothing\n", RUNNER_EXT_RESOLVE);
    return true;
}

bool plugin_self_test(FILE *out, const runner_plugin_t *d)
{
    double *hp = calloc(d->n_params + 1, sizeof *hp);
    if (!hp) return false;
    char stand_in[512];
    self_test_hp(d, hp, stand_in, sizeof stand_in);
    if (*stand_in) fprintf(out, "  required parameters, given for the test: %s\n", stand_in);
    bool ok = check_resolve(out, d, hp);
    ok &= d->kind == RUNNER_KIND_OPTIMIZER           ? check_optimizer(out, d, hp)
          : d->layer->flags & RUNNER_LAYER_LOSS ? check_loss(out, d, hp)
                                                : check_layer(out, d, hp);
    free(hp);
    return ok;
}
