/*
 * lbfgs.c: L-BFGS as torch.optim.LBFGS (PyTorch 1.13), float32, with its
 * optional strong-Wolfe line search. One step is torch's step(closure): up
 * to max_iter iterations of the two-loop recursion, each evaluating the
 * objective once (or up to 25 times in the line search), within max_eval
 * evaluations. It needs the objective at points of its own choosing, so it
 * steps through the closure extension (RUNNER_EXT_CLOSURE_STEP, ABI 1.4)
 * and runs on analytic problems only.
 *
 * Bit for bit with torch means its scalar types too. torch keeps some
 * scalars as 0-d float32 tensors (dot products, ys, H_diag, the
 * directional derivatives) and others as Python floats (losses, the step
 * t until a tensor enters it, the line search's bounds); an operation with
 * a tensor rounds the Python float to float32 and computes in float32, a
 * comparison too (and a Python float divided by a tensor is torch's
 * __rtruediv__, a reciprocal times the float: two roundings). tnum_t below
 * carries that distinction, and each formula keeps torch's order of
 * operations. Other roundings as torch on a CPU:
 *   dot(x, y)   the float products summed in double, rounded once (what
 *               torch's BLAS sdot does below 32 elements; kept for all n)
 *   sum |g|     torch's cascade_sum: 4 interleaved partials below 8
 *               elements, 8-lane vectors (its AVX2 path) from 8
 *   add(alpha=) fused: fmaf(alpha, x, y)
 * tests/fixtures/lbfgs_reference.json holds torch's trajectories
 * (tests/reference/make_lbfgs_reference.py).
 */
#include <math.h>
#include <runner/plugin.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum { P_LR, P_MAX_ITER, P_MAX_EVAL, P_TOL_GRAD, P_TOL_CHANGE, P_HISTORY, P_LINE_SEARCH, N_PARAMS };
enum { LS_NONE, LS_STRONG_WOLFE };
#define MAX_HISTORY 100000
#define MAX_LS 25  /* torch's max_ls */
#define N_POOL 4   /* gradient buffers the line search juggles (at most 3 live, and the new one) */

static const runner_param_t params[] = {
    {"lr", RUNNER_PARAM_FLOAT, RUNNER_PARAM_LOG | RUNNER_PARAM_MIN_EXCLUSIVE, 1.0, 0.0, 1e6,
     "learning rate: the step length tried first"},
    {"max_iter", RUNNER_PARAM_INT, 0, 20, 1, 1e6, "iterations per step"},
    {"max_eval", RUNNER_PARAM_INT, 0, 0, 0, 1e8, "objective evaluations per step (0: max_iter * 5 / 4, torch's None)"},
    {"tolerance_grad", RUNNER_PARAM_FLOAT, 0, 1e-7, 0.0, 1e6, "stop when the largest |gradient| is at most this"},
    {"tolerance_change", RUNNER_PARAM_FLOAT, 0, 1e-9, 0.0, 1e6, "stop when the loss or the step changes less"},
    {"history_size", RUNNER_PARAM_INT, 0, 100, 1, MAX_HISTORY, "curvature pairs kept"},
    {"line_search_fn", RUNNER_PARAM_CHOICE, 0, LS_NONE, 0, 1, "none (a fixed step of lr) or strong_wolfe"},
};
static const char *const line_search_names[] = {"none", "strong_wolfe", NULL};
static const char *const *const choices[] = {NULL, NULL, NULL, NULL, NULL, NULL, line_search_names};

/* ---- torch's scalars: a 0-d float32 tensor or a Python float ---- */

typedef struct {
    double v;
    int f32;
} tnum_t;

static tnum_t py(double v) { return (tnum_t){v, 0}; }
static tnum_t ten(float v) { return (tnum_t){v, 1}; }
static int either(tnum_t a, tnum_t b) { return a.f32 || b.f32; }
static tnum_t t_add(tnum_t a, tnum_t b) { return either(a, b) ? ten((float)a.v + (float)b.v) : py(a.v + b.v); }
static tnum_t t_sub(tnum_t a, tnum_t b) { return either(a, b) ? ten((float)a.v - (float)b.v) : py(a.v - b.v); }
static tnum_t t_mul(tnum_t a, tnum_t b) { return either(a, b) ? ten((float)a.v * (float)b.v) : py(a.v * b.v); }
/* A Python float over a tensor is torch's __rtruediv__: reciprocal, then a product. */
static tnum_t t_div(tnum_t a, tnum_t b)
{
    if (!a.f32 && b.f32) return ten((1.0f / (float)b.v) * (float)a.v);
    return either(a, b) ? ten((float)a.v / (float)b.v) : py(a.v / b.v);
}
static int t_lt(tnum_t a, tnum_t b) { return either(a, b) ? (float)a.v < (float)b.v : a.v < b.v; }
static int t_le(tnum_t a, tnum_t b) { return either(a, b) ? (float)a.v <= (float)b.v : a.v <= b.v; }
static tnum_t t_abs(tnum_t a) { return (tnum_t){fabs(a.v), a.f32}; }
/* Python's min(a, b) and max(a, b): a unless b is strictly beyond it. */
static tnum_t t_min(tnum_t a, tnum_t b) { return t_lt(b, a) ? b : a; }
static tnum_t t_max(tnum_t a, tnum_t b) { return t_lt(a, b) ? b : a; }

/* ---- torch's float32 reductions ---- */

static float dot(size_t n, const float *x, const float *y)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)(x[i] * y[i]);
    return (float)s;
}

static float abs_max(size_t n, const float *x)
{
    float m = 0.0f;
    for (size_t i = 0; i < n; i++) {
        float a = fabsf(x[i]);
        if (a > m || a != a) m = a; /* torch's max propagates NaN */
    }
    return m;
}

/* torch's multi_row_sum: rows of `rows` partials in levels of 2^p steps.
 * x[i * stride + k] is row i's partial k; acc receives the rows' sums. */
#define SUM_LEVELS 4
static void multi_row_sum(const float *x, size_t stride, size_t rows, size_t n_rows, float *acc)
{
    size_t log2 = 0;
    while (((size_t)1 << log2) < n_rows) log2++;
    size_t power = log2 / SUM_LEVELS > 4 ? log2 / SUM_LEVELS : 4, step = (size_t)1 << power, mask = step - 1;
    float lv[SUM_LEVELS][8] = {{0}};
    size_t i = 0;
    while (i + step <= n_rows) {
        for (size_t j = 0; j < step; j++, i++)
            for (size_t k = 0; k < rows; k++) lv[0][k] += x[i * stride + k];
        for (size_t j = 1; j < SUM_LEVELS; j++) {
            for (size_t k = 0; k < rows; k++) lv[j][k] += lv[j - 1][k], lv[j - 1][k] = 0.0f;
            if (i & (mask << (j * power))) break;
        }
    }
    for (; i < n_rows; i++)
        for (size_t k = 0; k < rows; k++) lv[0][k] += x[i * stride + k];
    for (size_t j = 1; j < SUM_LEVELS; j++)
        for (size_t k = 0; k < rows; k++) lv[0][k] += lv[j][k];
    memcpy(acc, lv[0], rows * sizeof *acc);
}

/* sum(|x|) in torch's order; a[] is scratch of n floats (the absolute values). */
static float abs_sum(size_t n, const float *x, float *a)
{
    for (size_t i = 0; i < n; i++) a[i] = fabsf(x[i]);
    enum { ILP = 4, LANES = 8 };
    if (n < LANES) { /* scalar: rows of 4 partials, the rest into the first */
        float p[ILP];
        multi_row_sum(a, ILP, ILP, n / ILP, p);
        for (size_t i = n / ILP * ILP; i < n; i++) p[0] += a[i];
        return ((p[0] + p[1]) + p[2]) + p[3];
    }
    /* vectors of 8 lanes, 4 of them a row; the tail scalar; then the lanes */
    size_t vecs = n / LANES, rows = vecs / ILP;
    float acc[LANES] = {0}, v[ILP][LANES];
    for (size_t k = 0; k < ILP; k++) { /* multi_row_sum over vectors: lane by lane, same order */
        float lanes_k[LANES];
        for (size_t l = 0; l < LANES; l++) {
            float one;
            multi_row_sum(a + k * LANES + l, ILP * LANES, 1, rows, &one);
            lanes_k[l] = one;
        }
        memcpy(v[k], lanes_k, sizeof lanes_k);
    }
    for (size_t r = rows * ILP; r < vecs; r++)
        for (size_t l = 0; l < LANES; l++) v[0][l] += a[r * LANES + l];
    for (size_t k = 1; k < ILP; k++)
        for (size_t l = 0; l < LANES; l++) v[0][l] += v[k][l];
    float s = 0.0f;
    for (size_t i = vecs * LANES; i < n; i++) s += a[i];
    for (size_t l = 0; l < LANES; l++) acc[l] = v[0][l];
    for (size_t l = 0; l < LANES; l++) s += acc[l];
    return s;
}

/* ---- state ---- */

typedef struct {
    double lr, tol_grad, tol_change;
    uint64_t max_iter, max_eval, history;
    int line_search;
    uint64_t n_iter;          /* iterations over all steps (torch's state['n_iter']) */
    tnum_t t, h_diag;         /* the last step length; the initial Hessian's scale */
    uint64_t hist_len, hist_head; /* curvature pairs kept; the oldest one's slot */
} lbfgs_state_t;
#define LBFGS_HEADER 128
_Static_assert(sizeof(lbfgs_state_t) <= LBFGS_HEADER, "header fits");

/* Arrays after the header, n floats each unless said. */
typedef struct {
    float *d, *prev_g, *g, *r, *x0, *wt, *scratch, *pool[N_POOL];
    float *dirs, *stps; /* history x n each, a ring */
    float *ro, *al;     /* history each */
} lbfgs_arrays_t;
#define N_VECTORS (7 + N_POOL)

static lbfgs_arrays_t arrays(void *state, size_t n, uint64_t history)
{
    float *p = (float *)((char *)state + LBFGS_HEADER);
    lbfgs_arrays_t a;
    a.d = p, a.prev_g = p + n, a.g = p + 2 * n, a.r = p + 3 * n, a.x0 = p + 4 * n, a.wt = p + 5 * n,
    a.scratch = p + 6 * n;
    for (size_t i = 0; i < N_POOL; i++) a.pool[i] = p + (7 + i) * n;
    a.dirs = p + N_VECTORS * n;
    a.stps = a.dirs + history * n;
    a.ro = a.stps + history * n;
    a.al = a.ro + history;
    return a;
}

/* (N_VECTORS + 2 * history) * n + 2 * history floats after the header;
 * SIZE_MAX when that does not fit a size_t (the host refuses it). */
static size_t state_bytes(size_t n, const double *hp)
{
    size_t h = (size_t)hp[P_HISTORY], per = N_VECTORS + 2 * h, floats;
    if (n && per > SIZE_MAX / n) return SIZE_MAX;
    floats = per * n;
    if (floats > SIZE_MAX - 2 * h) return SIZE_MAX;
    floats += 2 * h;
    if (floats > (SIZE_MAX - LBFGS_HEADER) / sizeof(float)) return SIZE_MAX;
    return LBFGS_HEADER + floats * sizeof(float);
}

static uint64_t max_eval_of(const double *hp)
{
    return hp[P_MAX_EVAL] > 0 ? (uint64_t)hp[P_MAX_EVAL] : (uint64_t)hp[P_MAX_ITER] * 5 / 4;
}

static int init(void *state, size_t n, const double *hp, uint64_t seed, runner_err_t *err)
{
    (void)seed, (void)err;
    lbfgs_state_t s = {.lr = hp[P_LR], .tol_grad = hp[P_TOL_GRAD], .tol_change = hp[P_TOL_CHANGE],
                       .max_iter = (uint64_t)hp[P_MAX_ITER], .max_eval = max_eval_of(hp),
                       .history = (uint64_t)hp[P_HISTORY], .line_search = (int)hp[P_LINE_SEARCH],
                       .t = py(0.0), .h_diag = py(1.0)};
    memcpy(state, &s, sizeof s);
    lbfgs_arrays_t a = arrays(state, n, s.history);
    memset(a.d, 0, 2 * n * sizeof(float)); /* d and prev_g: read before written only by a bug */
    return RUNNER_OK;
}

static int step_without_closure(void *state, size_t n, float *w, const float *g, runner_err_t *err)
{
    (void)state, (void)n, (void)w, (void)g;
    snprintf(err->msg, sizeof err->msg,
             "lbfgs evaluates the objective several times a step and needs a host with the closure "
             "extension (plugin ABI 1.4, analytic problems)");
    return RUNNER_FAIL;
}

/* ---- the strong-Wolfe line search (torch's _strong_wolfe, lswolfe.lua) ---- */

typedef struct {
    const runner_closure_t *closure;
    runner_err_t *err;
    size_t n;
    const float *x0, *d;
    float *wt;
    int failed;
} line_t;

/* f and its gradient at x0 + t d (torch's _directional_evaluate). */
static double evaluate_at(line_t *ln, tnum_t t, float *g)
{
    const float tf = (float)t.v;
    for (size_t i = 0; i < ln->n; i++) ln->wt[i] = fmaf(tf, ln->d[i], ln->x0[i]);
    double f = NAN;
    if (!ln->failed && ln->closure->eval(ln->closure->ctx, ln->wt, g, &f, ln->err) != RUNNER_OK) ln->failed = 1;
    return f;
}

/* A buffer of the pool that none of the n_live live ones is: torch makes
 * a new gradient tensor for each evaluation and keeps some of the old ones
 * (the start's, the previous try's, the bracket's). */
static float *fresh(float *const *pool, float *const *live, size_t n_live)
{
    for (size_t b = 0; b < N_POOL; b++) {
        int used = 0;
        for (size_t u = 0; u < n_live; u++) used |= live[u] == pool[b];
        if (!used) return pool[b];
    }
    return pool[N_POOL - 1]; /* not reached: at most 3 are live */
}

/* One try of the line search: f at x0 + t d, its gradient in a fresh
 * buffer (*g) and its slope along d. */
static double trial(line_t *ln, tnum_t t, float *const *pool, float *const *live, size_t n_live, float **g,
                    tnum_t *gtd)
{
    *g = fresh(pool, live, n_live);
    double f = evaluate_at(ln, t, *g);
    *gtd = ten(dot(ln->n, *g, ln->d));
    return f;
}

/* torch's _cubic_interpolate; bounds NULL: the interval of x1 and x2. */
static tnum_t cubic_interpolate(tnum_t x1, tnum_t f1, tnum_t g1, tnum_t x2, tnum_t f2, tnum_t g2, const tnum_t *bounds)
{
    tnum_t lo, hi;
    if (bounds) lo = bounds[0], hi = bounds[1];
    else if (t_le(x1, x2)) lo = x1, hi = x2;
    else lo = x2, hi = x1;
    tnum_t d1 = t_sub(t_add(g1, g2), t_div(t_mul(py(3), t_sub(f1, f2)), t_sub(x1, x2)));
    tnum_t d2_square = t_sub(t_mul(d1, d1), t_mul(g1, g2));
    if (t_le(py(0), d2_square)) {
        tnum_t d2 = d2_square.f32 ? ten(sqrtf((float)d2_square.v)) : py(sqrt(d2_square.v));
        tnum_t min_pos;
        if (t_le(x1, x2))
            min_pos = t_sub(x2, t_mul(t_sub(x2, x1), t_div(t_sub(t_add(g2, d2), d1), t_add(t_sub(g2, g1), t_mul(py(2), d2)))));
        else
            min_pos = t_sub(x1, t_mul(t_sub(x1, x2), t_div(t_sub(t_add(g1, d2), d1), t_add(t_sub(g1, g2), t_mul(py(2), d2)))));
        return t_min(t_max(min_pos, lo), hi);
    }
    return t_div(t_add(lo, hi), py(2.0));
}

/* Returns the chosen step; *f and the gradient there (one of pool) come back too. */
static tnum_t strong_wolfe(line_t *ln, tnum_t t, double f, float *g, tnum_t gtd, float *const *pool, double tol_change,
                           double *f_out, float **g_out, uint64_t *evals)
{
    const size_t n = ln->n;
    const tnum_t c1 = py(1e-4), c2 = py(0.9);
    const tnum_t d_norm = ten(abs_max(n, ln->d));
    /* buffers: g (the start's), then a fresh one per evaluation */
    float *g0 = pool[0];
    memcpy(g0, g, n * sizeof *g0);
    float *g_prev = g0, *g_new, *bg[2] = {NULL, NULL};
    tnum_t gtd_new;
    double f_new = trial(ln, t, pool, (float *[]){g0}, 1, &g_new, &gtd_new);
    uint64_t ls_evals = 1;
    tnum_t t_prev = py(0), gtd_prev = gtd;
    double f_prev = f;
    int done = 0, have_bracket = 0;
    unsigned ls_iter = 0;
    tnum_t br[2] = {py(0), py(0)}, br_gtd[2] = {py(0), py(0)};
    double br_f[2] = {0, 0};
    size_t n_br = 0;
    while (ls_iter < MAX_LS && !ln->failed) {
        /* f_new > f + c1 t gtd (a tensor: f rounds), or no decrease after two tries */
        if (t_lt(t_add(py(f), t_mul(t_mul(c1, t), gtd)), py(f_new)) || (ls_iter > 1 && f_new >= f_prev)) {
            br[0] = t_prev, br[1] = t, br_f[0] = f_prev, br_f[1] = f_new, bg[0] = g_prev, bg[1] = g_new;
            br_gtd[0] = gtd_prev, br_gtd[1] = gtd_new, n_br = 2, have_bracket = 1;
            break;
        }
        if (t_le(t_abs(gtd_new), t_mul(py(-c2.v), gtd))) {
            br[0] = t, br_f[0] = f_new, bg[0] = g_new, n_br = 1, done = 1, have_bracket = 1;
            break;
        }
        if (t_le(py(0), gtd_new)) {
            br[0] = t_prev, br[1] = t, br_f[0] = f_prev, br_f[1] = f_new, bg[0] = g_prev, bg[1] = g_new;
            br_gtd[0] = gtd_prev, br_gtd[1] = gtd_new, n_br = 2, have_bracket = 1;
            break;
        }
        /* interpolate within [t + 0.01 (t - t_prev), 10 t] */
        tnum_t bounds[2] = {t_add(t, t_mul(py(0.01), t_sub(t, t_prev))), t_mul(t, py(10))};
        tnum_t tmp = t;
        t = cubic_interpolate(t_prev, py(f_prev), gtd_prev, t, py(f_new), gtd_new, bounds);
        t_prev = tmp, f_prev = f_new, g_prev = g_new, gtd_prev = gtd_new;
        f_new = trial(ln, t, pool, (float *[]){g0, g_prev}, 2, &g_new, &gtd_new);
        ls_evals++;
        ls_iter++;
    }
    if (ln->failed) { /* the caller returns the closure's error */
        *f_out = f, *g_out = g0, *evals = ls_evals;
        return py(0);
    }
    if (!have_bracket) { /* max_ls tries without a bracket */
        br[0] = py(0), br[1] = t, br_f[0] = f, br_f[1] = f_new, bg[0] = g0, bg[1] = g_new, n_br = 2;
    }
    /* zoom: refine the bracket until a point meets the conditions */
    int insuf_progress = 0;
    size_t low = 0, high = 1;
    if (!(br_f[0] <= br_f[n_br - 1])) low = 1, high = 0;
    while (!done && ls_iter < MAX_LS && !ln->failed) {
        if (t_lt(t_mul(t_abs(t_sub(br[1], br[0])), d_norm), py(tol_change))) break;
        t = cubic_interpolate(br[0], py(br_f[0]), br_gtd[0], br[1], py(br_f[1]), br_gtd[1], NULL);
        tnum_t bmax = t_max(br[0], br[1]), bmin = t_min(br[0], br[1]);
        tnum_t eps = t_mul(py(0.1), t_sub(bmax, bmin));
        if (t_lt(t_min(t_sub(bmax, t), t_sub(t, bmin)), eps)) {
            if (insuf_progress || t_le(bmax, t) || t_le(t, bmin)) {
                if (t_lt(t_abs(t_sub(t, bmax)), t_abs(t_sub(t, bmin)))) t = t_sub(bmax, eps);
                else t = t_add(bmin, eps);
                insuf_progress = 0;
            } else {
                insuf_progress = 1;
            }
        } else {
            insuf_progress = 0;
        }
        f_new = trial(ln, t, pool, (float *[]){g0, bg[0], bg[1]}, 3, &g_new, &gtd_new);
        ls_evals++;
        ls_iter++;
        if (t_lt(t_add(py(f), t_mul(t_mul(c1, t), gtd)), py(f_new)) || f_new >= br_f[low]) {
            br[high] = t, br_f[high] = f_new, bg[high] = g_new, br_gtd[high] = gtd_new;
            if (br_f[0] <= br_f[1]) low = 0, high = 1;
            else low = 1, high = 0;
        } else {
            if (t_le(t_abs(gtd_new), t_mul(py(-c2.v), gtd))) {
                done = 1;
            } else if (t_le(py(0), t_mul(gtd_new, t_sub(br[high], br[low])))) {
                br[high] = br[low], br_f[high] = br_f[low], bg[high] = bg[low], br_gtd[high] = br_gtd[low];
            }
            br[low] = t, br_f[low] = f_new, bg[low] = g_new, br_gtd[low] = gtd_new;
        }
    }
    *f_out = br_f[low];
    *g_out = bg[low];
    *evals = ls_evals;
    return br[low];
}

/* ---- one step: torch's LBFGS.step(closure) ---- */

RUNNER_FMA_CLONES static int closure_step(void *state, size_t n, float *w, const float *g_in, double loss_in,
                                          const runner_closure_t *closure, runner_err_t *err)
{
    lbfgs_state_t *s = state;
    lbfgs_arrays_t a = arrays(state, n, s->history);
    float *g = a.g, *d = a.d, *r = a.r;
    double loss = loss_in;
    memcpy(g, g_in, n * sizeof *g);
    const tnum_t tol_grad = py(s->tol_grad), tol_change = py(s->tol_change);
    if (t_le(ten(abs_max(n, g)), tol_grad)) return RUNNER_OK; /* optimal already */
    uint64_t current_evals = 1, n_iter = 0;
    while (n_iter < s->max_iter) {
        n_iter++;
        s->n_iter++;
        /* the direction */
        if (s->n_iter == 1) {
            for (size_t i = 0; i < n; i++) d[i] = -g[i];
            s->hist_len = s->hist_head = 0;
            s->h_diag = py(1);
        } else {
            float *y = a.scratch, *st = a.wt; /* y = g - prev_g, s = d t */
            const float tf = (float)s->t.v;
            for (size_t i = 0; i < n; i++) y[i] = g[i] - a.prev_g[i], st[i] = d[i] * tf;
            float ys = dot(n, y, st);
            if (ys > 1e-10f) { /* torch: ys > 1e-10, the Python float rounded */
                size_t slot;
                if (s->hist_len == s->history) { /* forget the oldest pair */
                    slot = s->hist_head;
                    s->hist_head = (s->hist_head + 1) % s->history;
                } else {
                    slot = (s->hist_head + s->hist_len++) % s->history;
                }
                memcpy(a.dirs + slot * n, y, n * sizeof *y);
                memcpy(a.stps + slot * n, st, n * sizeof *st);
                a.ro[slot] = 1.0f / ys;
                s->h_diag = ten(ys / dot(n, y, y));
            }
            /* the two-loop recursion; q lives in r */
            for (size_t i = 0; i < n; i++) r[i] = -g[i];
            for (size_t k = s->hist_len; k-- > 0;) {
                size_t slot = (s->hist_head + k) % s->history;
                const float *sk = a.stps + slot * n, *yk = a.dirs + slot * n;
                a.al[slot] = dot(n, sk, r) * a.ro[slot];
                const float alpha = -a.al[slot];
                for (size_t i = 0; i < n; i++) r[i] = fmaf(alpha, yk[i], r[i]);
            }
            const float hd = (float)s->h_diag.v;
            for (size_t i = 0; i < n; i++) d[i] = r[i] * hd;
            for (size_t k = 0; k < s->hist_len; k++) {
                size_t slot = (s->hist_head + k) % s->history;
                const float *sk = a.stps + slot * n, *yk = a.dirs + slot * n;
                const float be = dot(n, yk, d) * a.ro[slot];
                const float alpha = a.al[slot] - be;
                for (size_t i = 0; i < n; i++) d[i] = fmaf(alpha, sk[i], d[i]);
            }
        }
        memcpy(a.prev_g, g, n * sizeof *g);
        const double prev_loss = loss;
        /* the step length */
        tnum_t t;
        if (s->n_iter == 1) {
            tnum_t inv = ten(1.0f / abs_sum(n, g, a.scratch));
            t = t_mul(t_min(py(1.0), inv), py(s->lr));
        } else {
            t = py(s->lr);
        }
        const tnum_t gtd = ten(dot(n, g, d));
        if (t_lt(py(-tol_change.v), gtd)) { /* gtd > -tolerance_change */
            s->t = t;
            break;
        }
        uint64_t ls_evals = 0;
        int opt_cond = 0;
        if (s->line_search == LS_STRONG_WOLFE) {
            memcpy(a.x0, w, n * sizeof *w);
            line_t ln = {.closure = closure, .err = err, .n = n, .x0 = a.x0, .d = d, .wt = a.wt};
            float *g_ls;
            t = strong_wolfe(&ln, t, loss, g, gtd, a.pool, s->tol_change, &loss, &g_ls, &ls_evals);
            if (ln.failed) return RUNNER_FAIL;
            memcpy(g, g_ls, n * sizeof *g);
            const float tf = (float)t.v;
            for (size_t i = 0; i < n; i++) w[i] = fmaf(tf, d[i], w[i]);
            opt_cond = t_le(ten(abs_max(n, g)), tol_grad);
        } else {
            const float tf = (float)t.v;
            for (size_t i = 0; i < n; i++) w[i] = fmaf(tf, d[i], w[i]);
            if (n_iter != s->max_iter) {
                if (closure->eval(closure->ctx, w, g, &loss, err) != RUNNER_OK) return RUNNER_FAIL;
                opt_cond = t_le(ten(abs_max(n, g)), tol_grad);
                ls_evals = 1;
            }
        }
        s->t = t;
        current_evals += ls_evals;
        if (n_iter == s->max_iter || current_evals >= s->max_eval || opt_cond) break;
        /* no progress: the step or the loss barely moved */
        const float tf = (float)t.v;
        float step_max = 0.0f;
        for (size_t i = 0; i < n; i++) {
            float v = fabsf(d[i] * tf);
            if (v > step_max || v != v) step_max = v;
        }
        if (t_le(ten(step_max), tol_change)) break;
        if (fabs(loss - prev_loss) < s->tol_change) break;
    }
    return RUNNER_OK;
}

/* ABI 1.1: schedules change the learning rate between steps. */
static void set_lr(void *state, double lr) { ((lbfgs_state_t *)state)->lr = lr; }

/* max_eval 0 means torch's default: record the number used (RUNNER_EXT_RESOLVE). */
static void resolve(double *hp)
{
    if (hp[P_MAX_EVAL] == 0) hp[P_MAX_EVAL] = (double)max_eval_of(hp);
}

static const void *extension(const char *name)
{
    if (!strcmp(name, RUNNER_EXT_RESOLVE)) return (const void *)(uintptr_t)resolve;
    if (!strcmp(name, RUNNER_EXT_CLOSURE_STEP)) return (const void *)(uintptr_t)closure_step;
    return NULL;
}

static const runner_optimizer_ops_t ops = {
    .size = sizeof(runner_optimizer_ops_t), .state_bytes = state_bytes, .init = init, .step = step_without_closure,
    .set_lr = set_lr,
};

static const runner_plugin_t descriptor = {
    RUNNER_PLUGIN_HEADER, .kind = RUNNER_KIND_OPTIMIZER, .name = "lbfgs", .version = "1.0.0",
    .doc = "L-BFGS: quasi-Newton steps from the last history_size gradient pairs, optionally with a strong-Wolfe "
           "line search (analytic problems)",
    .params = params, .n_params = N_PARAMS, .optimizer = &ops, .param_choices = choices, .extension = extension,
};

RUNNER_EXPORT const runner_plugin_t *runner_plugin_get(uint32_t index) { return index == 0 ? &descriptor : NULL; }
