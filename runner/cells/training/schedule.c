/* schedule.c: learning-rate schedules, parsed and stepped as torch steps
 * them (schedule.h). Each torch formula below keeps torch 1.13's order of
 * operations (lr_scheduler.py), so the doubles agree to the last bit. */
#include "cells/training/schedule.h"

#include <inttypes.h>
#include <math.h>
#include <runner/fixed_math.h>
#include <stdio.h>
#include <string.h>

#include "base/number_text.h"

#define PI 3.141592653589793 /* math.pi */

/* ---- the classes and their arguments ------------------------------------ */

typedef enum { K_INT, K_NUM, K_BOOL, K_CHOICE } arg_kind_t;
enum { REQ = 1u << 0, LO_OPEN = 1u << 1, NONE_OK = 1u << 2, MUST_BE_FALSE = 1u << 3 };

typedef struct {
    const char *name;
    int slot;
    arg_kind_t kind;
    double def, lo, hi;
    unsigned flags;
    const char *const *choices; /* K_CHOICE, NULL-terminated */
} arg_spec_t;

typedef struct {
    const char *name;
    lr_class_t cls;
    const arg_spec_t *args;
    size_t n_args;
    bool per_step;  /* torch's custom: stepped after each optimizer step */
    bool chainable; /* may be a SequentialLR's child */
} class_spec_t;

static const char *const anneal_names[] = {"cos", "linear", NULL};
static const char *const cyclic_modes[] = {"triangular", "triangular2", "exp_range", NULL};
static const char *const plateau_modes[] = {"min", "max", NULL};
static const char *const threshold_modes[] = {"rel", "abs", NULL};

#define BIG 1e15
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
#define ARGS(a) a, N_OF(a)

static const arg_spec_t step_args[] = {{"step_size", A_STEP_SIZE, K_INT, 0, 1, BIG, REQ, NULL},
                                       {"gamma", A_GAMMA, K_NUM, 0.1, 0, BIG, 0, NULL}};
static const arg_spec_t multistep_args[] = {{"gamma", A_GAMMA, K_NUM, 0.1, 0, BIG, 0, NULL}};
static const arg_spec_t constant_args[] = {{"factor", A_FACTOR, K_NUM, 1.0 / 3, 0, 1, LO_OPEN, NULL},
                                           {"total_iters", A_TOTAL_ITERS, K_INT, 5, 1, BIG, 0, NULL}};
static const arg_spec_t linear_args[] = {{"start_factor", A_START_FACTOR, K_NUM, 1.0 / 3, 0, 1, LO_OPEN, NULL},
                                         {"end_factor", A_END_FACTOR, K_NUM, 1.0, 0, 1, 0, NULL},
                                         {"total_iters", A_TOTAL_ITERS, K_INT, 5, 1, BIG, 0, NULL}};
static const arg_spec_t exponential_args[] = {{"gamma", A_GAMMA, K_NUM, 0, 0, BIG, REQ, NULL}};
static const arg_spec_t polynomial_args[] = {{"total_iters", A_TOTAL_ITERS, K_INT, 5, 1, BIG, 0, NULL},
                                             {"power", A_POWER, K_NUM, 1.0, 0, BIG, 0, NULL}};
static const arg_spec_t cosine_args[] = {{"T_max", A_T_MAX, K_INT, 0, 1, BIG, REQ, NULL},
                                         {"eta_min", A_ETA_MIN, K_NUM, 0, 0, BIG, 0, NULL}};
static const arg_spec_t warm_args[] = {{"T_0", A_T_0, K_INT, 0, 1, BIG, REQ, NULL},
                                       {"T_mult", A_T_MULT, K_INT, 1, 1, 1e6, 0, NULL},
                                       {"eta_min", A_ETA_MIN, K_NUM, 0, 0, BIG, 0, NULL}};
static const arg_spec_t onecycle_args[] = {
    {"max_lr", A_MAX_LR, K_NUM, 0, 0, BIG, REQ | LO_OPEN, NULL},
    {"total_steps", A_TOTAL_STEPS, K_INT, NAN, 1, BIG, NONE_OK, NULL},
    {"epochs", A_EPOCHS, K_INT, NAN, 1, BIG, NONE_OK, NULL},
    {"steps_per_epoch", A_STEPS_PER_EPOCH, K_INT, NAN, 1, BIG, NONE_OK, NULL},
    {"pct_start", A_PCT_START, K_NUM, 0.3, 0, 1, 0, NULL},
    {"anneal_strategy", A_ANNEAL, K_CHOICE, 0, 0, 0, 0, anneal_names},
    {"cycle_momentum", A_CYCLE_MOMENTUM, K_BOOL, 1, 0, 1, MUST_BE_FALSE, NULL},
    {"base_momentum", A_BASE_MOMENTUM, K_NUM, 0.85, 0, 1, 0, NULL},
    {"max_momentum", A_MAX_MOMENTUM, K_NUM, 0.95, 0, 1, 0, NULL},
    {"div_factor", A_DIV_FACTOR, K_NUM, 25.0, 0, BIG, LO_OPEN, NULL},
    {"final_div_factor", A_FINAL_DIV_FACTOR, K_NUM, 1e4, 0, BIG, LO_OPEN, NULL},
    {"three_phase", A_THREE_PHASE, K_BOOL, 0, 0, 1, 0, NULL}};
static const arg_spec_t cyclic_args[] = {
    {"base_lr", A_BASE_LR, K_NUM, 0, 0, BIG, REQ, NULL},
    {"max_lr", A_MAX_LR, K_NUM, 0, 0, BIG, REQ, NULL},
    {"step_size_up", A_STEP_SIZE_UP, K_NUM, 2000, 0, BIG, LO_OPEN, NULL},
    {"step_size_down", A_STEP_SIZE_DOWN, K_NUM, NAN, 0, BIG, LO_OPEN | NONE_OK, NULL},
    {"mode", A_MODE, K_CHOICE, 0, 0, 0, 0, cyclic_modes},
    {"gamma", A_GAMMA, K_NUM, 1.0, 0, BIG, 0, NULL},
    {"cycle_momentum", A_CYCLE_MOMENTUM, K_BOOL, 1, 0, 1, MUST_BE_FALSE, NULL},
    {"base_momentum", A_BASE_MOMENTUM, K_NUM, 0.8, 0, 1, 0, NULL},
    {"max_momentum", A_MAX_MOMENTUM, K_NUM, 0.9, 0, 1, 0, NULL}};
static const arg_spec_t plateau_args[] = {
    {"mode", A_MODE, K_CHOICE, 0, 0, 0, 0, plateau_modes},
    {"factor", A_FACTOR, K_NUM, 0.1, 0, 0.999999999999, 0, NULL},
    {"patience", A_PATIENCE, K_INT, 10, 0, BIG, 0, NULL},
    {"threshold", A_THRESHOLD, K_NUM, 1e-4, 0, BIG, 0, NULL},
    {"threshold_mode", A_THRESHOLD_MODE, K_CHOICE, 0, 0, 0, 0, threshold_modes},
    {"cooldown", A_COOLDOWN, K_INT, 0, 0, BIG, 0, NULL},
    {"min_lr", A_MIN_LR, K_NUM, 0, 0, BIG, 0, NULL},
    {"eps", A_EPS, K_NUM, 1e-8, 0, BIG, 0, NULL}};
/* the short names' (every was a real number: kept) */
static const arg_spec_t short_args[] = {{"every", A_EVERY, K_NUM, 1, 1e-9, 1e9, 0, NULL},
                                        {"gamma", A_GAMMA, K_NUM, 0.5, 0, 1e6, 0, NULL},
                                        {"lr_min", A_LR_MIN, K_NUM, 0, 0, 1e6, 0, NULL}};

static const class_spec_t classes[] = {
    {"constant", LR_SHORT_CONSTANT, ARGS(short_args), false, false},
    {"step", LR_SHORT_STEP, ARGS(short_args), false, false},
    {"exponential", LR_SHORT_EXPONENTIAL, ARGS(short_args), false, false},
    {"cosine", LR_SHORT_COSINE, ARGS(short_args), false, false},
    {"StepLR", LR_STEP, ARGS(step_args), false, true},
    {"MultiStepLR", LR_MULTISTEP, ARGS(multistep_args), false, true},
    {"ConstantLR", LR_CONSTANT, ARGS(constant_args), false, true},
    {"LinearLR", LR_LINEAR, ARGS(linear_args), false, true},
    {"ExponentialLR", LR_EXPONENTIAL, ARGS(exponential_args), false, true},
    {"PolynomialLR", LR_POLYNOMIAL, ARGS(polynomial_args), false, true},
    {"CosineAnnealingLR", LR_COSINE, ARGS(cosine_args), false, true},
    {"CosineAnnealingWarmRestarts", LR_WARM_RESTARTS, ARGS(warm_args), false, true},
    {"OneCycleLR", LR_ONECYCLE, ARGS(onecycle_args), true, false},
    {"CyclicLR", LR_CYCLIC, ARGS(cyclic_args), true, false},
    {"ReduceLROnPlateau", LR_PLATEAU, ARGS(plateau_args), false, false},
    {"SequentialLR", LR_SEQUENTIAL, NULL, 0, false, false},
};

static const class_spec_t *class_of(lr_class_t c)
{
    for (size_t i = 0; i < N_OF(classes); i++)
        if (classes[i].cls == c) return &classes[i];
    return &classes[0];
}

static bool is_short(lr_class_t c) { return c <= LR_SHORT_COSINE; }

/* ---- parsing --------------------------------------------------------------- */

typedef struct {
    arena_t *a;
    uint64_t per_epoch, iterations;
    uint32_t epochs;
    err_t *err;
} parse_t;

static err_code_t parse_one(parse_t *p, const node_t *n, bool child, const schedule_t **out);

static const char *class_names_list(void)
{
    return "constant, step, exponential, cosine, or torch's StepLR, MultiStepLR, ConstantLR, LinearLR, ExponentialLR, "
           "PolynomialLR, CosineAnnealingLR, CosineAnnealingWarmRestarts, OneCycleLR, CyclicLR, ReduceLROnPlateau, "
           "SequentialLR";
}

static err_code_t parse_arg(parse_t *p, const char *cls, const arg_spec_t *as, const node_t *v, double *out)
{
    char what[96];
    snprintf(what, sizeof what, "%s's %s", cls, as->name);
    err_code_t rc;
    if (as->kind == K_BOOL) {
        bool b;
        if ((rc = node_to_bool(v, what, &b, p->err))) return rc;
        if (b && (as->flags & MUST_BE_FALSE))
            return err_set(p->err, ERR_CONFIG, v->mark,
                           "%s: true is torch's default, but runner does not cycle momentum: write %s: false (the "
                           "optimizer's momentum then stays as configured)",
                           what, as->name);
        *out = b;
        return ERR_OK;
    }
    if (as->kind == K_CHOICE) {
        const char *s;
        if ((rc = node_to_string(v, what, &s, p->err))) return rc;
        for (size_t i = 0; as->choices[i]; i++)
            if (!strcmp(s, as->choices[i])) return *out = (double)i, ERR_OK;
        char list[128] = "";
        for (size_t i = 0; as->choices[i]; i++) {
            size_t len = strlen(list);
            snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", as->choices[i]);
        }
        return err_set(p->err, ERR_CONFIG, v->mark, "%s is one of %s, got '%s'", what, list, s);
    }
    if (as->kind == K_INT) {
        int64_t i;
        if ((rc = node_to_int64(v, what, (int64_t)as->lo, (int64_t)as->hi, &i, p->err))) return rc;
        return *out = (double)i, ERR_OK;
    }
    if ((rc = node_to_double(v, what, out, p->err))) return rc;
    bool low = (as->flags & LO_OPEN) ? !(*out > as->lo) : !(*out >= as->lo);
    if (low || !(*out <= as->hi))
        return err_set(p->err, ERR_CONFIG, v->mark, "%s must be %s %g%s%g, got %g", what,
                       (as->flags & LO_OPEN) ? "above" : "at least", as->lo, as->hi < BIG ? " and at most " : "",
                       as->hi < BIG ? as->hi : 0.0, *out);
    return ERR_OK;
}

/* milestones: a list of whole numbers, each above the last. */
static err_code_t parse_milestones(parse_t *p, const char *cls, const node_t *v, schedule_t *s)
{
    if (v->kind != NODE_SEQ)
        return err_set(p->err, ERR_CONFIG, v->mark, "%s's milestones is a list of epoch (or step) numbers, like [30, 80]",
                       cls);
    if (v->n > LR_MAX_MILESTONES)
        return err_set(p->err, ERR_CONFIG, v->mark, "%s has %zu milestones; at most %d", cls, v->n, LR_MAX_MILESTONES);
    for (size_t i = 0; i < v->n; i++) {
        int64_t m;
        err_code_t rc = node_to_int64(v->items[i], "a milestone", 1, (int64_t)BIG, &m, p->err);
        if (rc) return rc;
        if (i > 0 && m <= s->milestones[i - 1])
            return err_set(p->err, ERR_CONFIG, v->items[i]->mark,
                           "%s's milestones must increase: %" PRId64 " comes after %" PRId64, cls, m,
                           s->milestones[i - 1]);
        s->milestones[i] = m;
    }
    s->n_milestones = v->n;
    return ERR_OK;
}

static err_code_t parse_children(parse_t *p, const node_t *v, schedule_t *s)
{
    if (v->kind != NODE_SEQ || v->n == 0)
        return err_set(p->err, ERR_CONFIG, v->mark,
                       "SequentialLR's schedulers is a list of schedules, like [{name: LinearLR, start_factor: 0.1, "
                       "total_iters: 5}, {name: CosineAnnealingLR, T_max: 95}]");
    if (v->n > LR_MAX_CHILDREN)
        return err_set(p->err, ERR_CONFIG, v->mark, "SequentialLR has %zu schedulers; at most %d", v->n, LR_MAX_CHILDREN);
    for (size_t i = 0; i < v->n; i++) {
        err_code_t rc = parse_one(p, v->items[i], true, &s->children[i]);
        if (rc) return rc;
    }
    s->n_children = v->n;
    return ERR_OK;
}

/* "Name(arg=value, ...)": every argument, defaults included, exactly. */
static char *describe(arena_t *a, const schedule_t *s)
{
    const class_spec_t *c = class_of(s->cls);
    char buf[2048];
    size_t len = (size_t)snprintf(buf, sizeof buf, "%s(", c->name);
    for (size_t i = 0; i < c->n_args && len < sizeof buf; i++) {
        const arg_spec_t *as = &c->args[i];
        double v = s->a[as->slot];
        char num[40];
        if (isnan(v)) snprintf(num, sizeof num, "None");
        else if (as->kind == K_CHOICE) snprintf(num, sizeof num, "%s", as->choices[(int)v]);
        else if (as->kind == K_BOOL) snprintf(num, sizeof num, "%s", v != 0 ? "true" : "false");
        else if (v == floor(v) && fabs(v) < 1e15) snprintf(num, sizeof num, "%.0f", v); /* 10000, not 1e+04 */
        else format_double(num, sizeof num, v);
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s=%s", i ? ", " : "", as->name, num);
    }
    if (s->cls == LR_MULTISTEP || s->cls == LR_SEQUENTIAL) {
        if (s->cls == LR_SEQUENTIAL) {
            len += (size_t)snprintf(buf + len < buf + sizeof buf ? buf + len : buf, len < sizeof buf ? sizeof buf - len : 0,
                                    "schedulers=[");
            for (size_t k = 0; k < s->n_children && len < sizeof buf; k++)
                len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", k ? ", " : "", s->children[k]->text);
            if (len < sizeof buf) len += (size_t)snprintf(buf + len, sizeof buf - len, "], ");
        } else if (len < sizeof buf) {
            len += (size_t)snprintf(buf + len, sizeof buf - len, ", ");
        }
        if (len < sizeof buf) len += (size_t)snprintf(buf + len, sizeof buf - len, "milestones=[");
        for (size_t k = 0; k < s->n_milestones && len < sizeof buf; k++)
            len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%" PRId64, k ? ", " : "", s->milestones[k]);
        if (len < sizeof buf) len += (size_t)snprintf(buf + len, sizeof buf - len, "]");
    }
    if (!is_short(s->cls) && len < sizeof buf)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%sinterval=%s", c->n_args || s->n_milestones ? ", " : "",
                                s->per_step ? "step" : "epoch");
    if (len < sizeof buf) snprintf(buf + len, sizeof buf - len, ")");
    if (len >= sizeof buf) return NULL; /* cannot happen with the bounds above; refused rather than cut */
    return arena_printf(a, "%s", buf);
}

/* Checks that need the training's length or several arguments together. */
static err_code_t check_whole(parse_t *p, const node_t *n, schedule_t *s)
{
    const char *name = class_of(s->cls)->name;
    uint64_t stepped = s->per_step ? p->iterations : p->epochs; /* step() calls in all */
    if (s->cls == LR_ONECYCLE) {
        bool total = !isnan(s->a[A_TOTAL_STEPS]), ep = !isnan(s->a[A_EPOCHS]), spe = !isnan(s->a[A_STEPS_PER_EPOCH]);
        if (!total && ep != spe)
            return err_set(p->err, ERR_CONFIG, n->mark, "OneCycleLR takes total_steps, or epochs with steps_per_epoch");
        /* neither: the length of the training, as one would write it */
        double length = total ? s->a[A_TOTAL_STEPS] : ep ? s->a[A_EPOCHS] * s->a[A_STEPS_PER_EPOCH] : (double)stepped;
        if (!total && !ep) s->a[A_TOTAL_STEPS] = length;
        else if (!total) s->a[A_TOTAL_STEPS] = length;
        if (length < (double)stepped)
            return err_set(p->err, ERR_CONFIG, n->mark,
                           "OneCycleLR's schedule has %.0f steps but is stepped %" PRIu64 " times (after each %s): torch "
                           "would stop with 'Tried to step %" PRIu64 " times'",
                           length, stepped, s->per_step ? "optimizer step" : "epoch", stepped + 1);
    }
    if (s->cls == LR_PLATEAU && s->per_step)
        return err_set(p->err, ERR_CONFIG, n->mark,
                       "ReduceLROnPlateau follows the loss of each epoch: it takes interval: epoch");
    if (s->cls == LR_SEQUENTIAL && s->n_milestones + 1 != s->n_children)
        return err_set(p->err, ERR_CONFIG, n->mark,
                       "SequentialLR needs one milestone fewer than schedulers (it switches at each), got %zu "
                       "schedulers and %zu milestones",
                       s->n_children, s->n_milestones);
    (void)name;
    return ERR_OK;
}

static err_code_t parse_one(parse_t *p, const node_t *n, bool child, const schedule_t **out)
{
    const node_t *name_node = n && n->kind == NODE_MAP ? node_get(n, "name") : n;
    if (!n || n->kind == NODE_SEQ || !name_node)
        return err_set(p->err, ERR_CONFIG, n ? n->mark : (mark_t){0},
                       "expected a schedule, like {name: StepLR, step_size: 30, gamma: 0.1} or cosine");
    const char *name;
    err_code_t rc = node_to_string(name_node, "train.schedule.name", &name, p->err);
    if (rc) return rc;
    const class_spec_t *c = NULL;
    for (size_t i = 0; i < N_OF(classes) && !c; i++)
        if (!strcmp(name, classes[i].name)) c = &classes[i];
    if (!c) {
        const char *names[N_OF(classes)];
        for (size_t i = 0; i < N_OF(classes); i++) names[i] = classes[i].name;
        const char *near = closest_match(name, names, N_OF(classes));
        return err_set(p->err, ERR_CONFIG, name_node->mark, "unknown schedule '%s' (%s%s%s)", name,
                       near ? "did you mean '" : "schedules: ", near ? near : class_names_list(), near ? "'?" : "");
    }
    if (child && !c->chainable)
        return err_set(p->err, ERR_CONFIG, name_node->mark,
                       "%s cannot be one of SequentialLR's schedulers here (runner chains StepLR, MultiStepLR, "
                       "ConstantLR, LinearLR, ExponentialLR, PolynomialLR, CosineAnnealingLR and "
                       "CosineAnnealingWarmRestarts)",
                       name);
    schedule_t *s = arena_alloc(p->a, sizeof *s);
    if (!s) return err_set(p->err, ERR_NOMEM, (mark_t){0}, "out of memory");
    memset(s, 0, sizeof *s);
    s->cls = c->cls;
    s->per_step = c->per_step;
    for (size_t i = 0; i < A__COUNT; i++) s->a[i] = NAN;
    for (size_t i = 0; i < c->n_args; i++) s->a[c->args[i].slot] = c->args[i].def;
    bool seen[N_OF(onecycle_args) + 4] = {0};
    for (size_t i = 0; n->kind == NODE_MAP && i < n->n; i++) {
        const node_pair_t *pr = &n->pairs[i];
        const char *key = pr->key;
        if (!strcmp(key, "name")) continue;
        if (!strcmp(key, "interval") && !is_short(c->cls)) {
            if (child)
                return err_set(p->err, ERR_CONFIG, pr->value->mark,
                               "interval goes on the SequentialLR, which steps its schedulers, not on one of them");
            const char *iv;
            if ((rc = node_to_string(pr->value, "train.schedule.interval", &iv, p->err))) return rc;
            if (strcmp(iv, "epoch") && strcmp(iv, "step"))
                return err_set(p->err, ERR_CONFIG, pr->value->mark,
                               "interval is epoch (step() after each epoch) or step (after each optimizer step), got '%s'",
                               iv);
            s->per_step = !strcmp(iv, "step");
            continue;
        }
        if (!strcmp(key, "milestones") && (c->cls == LR_MULTISTEP || c->cls == LR_SEQUENTIAL)) {
            if ((rc = parse_milestones(p, name, pr->value, s))) return rc;
            continue;
        }
        if (!strcmp(key, "schedulers") && c->cls == LR_SEQUENTIAL) {
            if ((rc = parse_children(p, pr->value, s))) return rc;
            continue;
        }
        size_t k = 0;
        while (k < c->n_args && strcmp(key, c->args[k].name)) k++;
        if (k == c->n_args) {
            const char *keys[N_OF(onecycle_args) + 4];
            size_t nk = 0;
            keys[nk++] = "name";
            for (size_t j = 0; j < c->n_args; j++) keys[nk++] = c->args[j].name;
            if (c->cls == LR_MULTISTEP || c->cls == LR_SEQUENTIAL) keys[nk++] = "milestones";
            if (c->cls == LR_SEQUENTIAL) keys[nk++] = "schedulers";
            if (!is_short(c->cls) && !child) keys[nk++] = "interval";
            char where[64];
            snprintf(where, sizeof where, " in %s", name);
            return node_unknown_key(pr, where, keys, nk, p->err);
        }
        if ((rc = parse_arg(p, name, &c->args[k], pr->value, &s->a[c->args[k].slot]))) return rc;
        seen[k] = true;
    }
    for (size_t k = 0; k < c->n_args; k++) {
        const arg_spec_t *as = &c->args[k];
        if (seen[k] || !(as->flags & (REQ | MUST_BE_FALSE))) continue;
        if (as->flags & MUST_BE_FALSE)
            return err_set(p->err, ERR_CONFIG, n->mark,
                           "%s cycles momentum by default (cycle_momentum: true), which runner does not do: write "
                           "cycle_momentum: false",
                           name);
        return err_set(p->err, ERR_CONFIG, n->mark, "%s needs %s (torch.optim.lr_scheduler.%s has no default for it)",
                       name, as->name, name);
    }
    if (c->cls == LR_MULTISTEP && !s->n_milestones && !node_get(n, "milestones"))
        return err_set(p->err, ERR_CONFIG, n->mark, "MultiStepLR needs milestones, like milestones: [30, 80]");
    if (c->cls == LR_SEQUENTIAL && (!s->n_children || !node_get(n, "milestones")))
        return err_set(p->err, ERR_CONFIG, n->mark, "SequentialLR needs schedulers: [...] and milestones: [...]");
    if ((rc = check_whole(p, n, s))) return rc;
    if (!(s->text = describe(p->a, s))) return err_set(p->err, ERR_NOMEM, (mark_t){0}, "out of memory");
    *out = s;
    return ERR_OK;
}

err_code_t schedule_parse(arena_t *a, const node_t *n, uint64_t steps_per_epoch, uint64_t iterations, uint32_t epochs,
                          const schedule_t **out, err_t *err)
{
    parse_t p = {a, steps_per_epoch, iterations, epochs, err};
    if (n) return parse_one(&p, n, false, out);
    const node_t constant = {.kind = NODE_SCALAR, .text = "constant"};
    return parse_one(&p, &constant, false, out);
}

bool schedule_changes_lr(const schedule_t *s) { return s && s->cls != LR_SHORT_CONSTANT; }

/* ---- torch's formulas -------------------------------------------------------- */

/* Python's a % b for b > 0: never negative. */
static int64_t py_mod(int64_t a, int64_t b)
{
    int64_t m = a % b;
    return m < 0 ? m + b : m;
}

/* bisect.bisect_right(list, x) */
static size_t bisect_right(const int64_t *v, size_t n, int64_t x)
{
    size_t i = 0;
    while (i < n && v[i] <= x) i++;
    return i;
}

static bool in_milestones(const schedule_t *s, int64_t e)
{
    for (size_t i = 0; i < s->n_milestones; i++)
        if (s->milestones[i] == e) return true;
    return false;
}

/* get_lr(): the chainable form, from the group's current rate. */
static double chain_lr(const lr_one_t *o, double lr)
{
    const schedule_t *s = o->s;
    const double *a = s->a;
    int64_t le = o->last_epoch;
    switch (s->cls) {
    case LR_STEP:
        if (le == 0 || le % (int64_t)a[A_STEP_SIZE] != 0) return lr;
        return lr * a[A_GAMMA];
    case LR_MULTISTEP:
        if (!in_milestones(s, le)) return lr;
        return lr * runner_pow(a[A_GAMMA], 1.0); /* gamma ** Counter(milestones)[e]: each milestone once */
    case LR_CONSTANT: {
        int64_t ti = (int64_t)a[A_TOTAL_ITERS];
        if (le == 0) return lr * a[A_FACTOR];
        if (le > ti || le != ti) return lr;
        return lr * (1.0 / a[A_FACTOR]);
    }
    case LR_LINEAR: {
        int64_t ti = (int64_t)a[A_TOTAL_ITERS];
        double sf = a[A_START_FACTOR], ef = a[A_END_FACTOR];
        if (le == 0) return lr * sf;
        if (le > ti) return lr;
        return lr * (1. + (ef - sf) / ((double)ti * sf + (double)(le - 1) * (ef - sf)));
    }
    case LR_EXPONENTIAL:
        if (le == 0) return lr;
        return lr * a[A_GAMMA];
    case LR_POLYNOMIAL: {
        int64_t ti = (int64_t)a[A_TOTAL_ITERS];
        if (le == 0 || le > ti) return lr;
        double decay = runner_pow((1.0 - (double)le / (double)ti) / (1.0 - (double)(le - 1) / (double)ti), a[A_POWER]);
        return lr * decay;
    }
    case LR_COSINE: {
        int64_t T = (int64_t)a[A_T_MAX];
        double eta = a[A_ETA_MIN];
        if (le == 0) return lr;
        if (o->step_count == 1 && le > 0)
            return eta + (o->base_lr - eta) * (1 + runner_cos_cr((double)le * PI / (double)T)) / 2;
        if (py_mod(le - 1 - T, 2 * T) == 0) return lr + (o->base_lr - eta) * (1 - runner_cos_cr(PI / (double)T)) / 2;
        return (1 + runner_cos_cr(PI * (double)le / (double)T)) / (1 + runner_cos_cr(PI * (double)(le - 1) / (double)T)) * (lr - eta) + eta;
    }
    case LR_WARM_RESTARTS:
        return a[A_ETA_MIN] + (o->base_lr - a[A_ETA_MIN]) * (1 + runner_cos_cr(PI * (double)o->T_cur / (double)o->T_i)) / 2;
    case LR_ONECYCLE: {
        int64_t total = (int64_t)a[A_TOTAL_STEPS];
        double pct = a[A_PCT_START];
        bool three = a[A_THREE_PHASE] != 0;
        double ends[3], starts_lr[3], ends_lr[3];
        size_t phases = three ? 3 : 2;
        ends[0] = pct * (double)total - 1;
        starts_lr[0] = o->initial_lr, ends_lr[0] = o->max_lr;
        if (three) {
            ends[1] = 2 * pct * (double)total - 2;
            starts_lr[1] = o->max_lr, ends_lr[1] = o->initial_lr;
            ends[2] = (double)(total - 1);
            starts_lr[2] = o->initial_lr, ends_lr[2] = o->min_lr;
        } else {
            ends[1] = (double)(total - 1);
            starts_lr[1] = o->max_lr, ends_lr[1] = o->min_lr;
        }
        double start_step = 0, step_num = (double)le, out = lr;
        for (size_t i = 0; i < phases; i++) {
            if (step_num <= ends[i] || i == phases - 1) {
                double f = (step_num - start_step) / (ends[i] - start_step);
                if (a[A_ANNEAL] == 0) {
                    double cos_out = runner_cos_cr(PI * f) + 1;
                    out = ends_lr[i] + (starts_lr[i] - ends_lr[i]) / 2.0 * cos_out;
                } else {
                    out = (ends_lr[i] - starts_lr[i]) * f + starts_lr[i];
                }
                break;
            }
            start_step = ends[i];
        }
        return out;
    }
    case LR_CYCLIC: {
        double cycle = floor(1 + (double)le / o->total_size);
        double x = 1. + (double)le / o->total_size - cycle;
        double scale_factor = x <= o->step_ratio ? x / o->step_ratio : (x - 1) / (o->step_ratio - 1);
        double base_height = (a[A_MAX_LR] - a[A_BASE_LR]) * scale_factor;
        int mode = (int)a[A_MODE];
        double scale = mode == 0 ? 1. : mode == 1 ? 1 / runner_pow(2., cycle - 1) : runner_pow(a[A_GAMMA], (double)le);
        return a[A_BASE_LR] + base_height * scale;
    }
    default: return lr;
    }
}

/* _get_closed_form_lr(): from base_lr alone (a SequentialLR's switch). */
static double closed_lr(const lr_one_t *o)
{
    const schedule_t *s = o->s;
    const double *a = s->a;
    int64_t le = o->last_epoch;
    double base = o->base_lr;
    switch (s->cls) {
    case LR_STEP: return base * runner_pow(a[A_GAMMA], (double)(le / (int64_t)a[A_STEP_SIZE]));
    case LR_MULTISTEP: return base * runner_pow(a[A_GAMMA], (double)bisect_right(s->milestones, s->n_milestones, le));
    case LR_CONSTANT:
        return base * (a[A_FACTOR] + (le >= (int64_t)a[A_TOTAL_ITERS] ? 1.0 - a[A_FACTOR] : 0.0));
    case LR_LINEAR: {
        int64_t ti = (int64_t)a[A_TOTAL_ITERS];
        double m = (double)(ti < le ? ti : le);
        return base * (a[A_START_FACTOR] + (a[A_END_FACTOR] - a[A_START_FACTOR]) * m / (double)ti);
    }
    case LR_EXPONENTIAL: return base * runner_pow(a[A_GAMMA], (double)le);
    case LR_POLYNOMIAL: {
        int64_t ti = (int64_t)a[A_TOTAL_ITERS];
        return base * runner_pow(1.0 - (double)(ti < le ? ti : le) / (double)ti, a[A_POWER]);
    }
    case LR_COSINE:
        return a[A_ETA_MIN] + (base - a[A_ETA_MIN]) * (1 + runner_cos_cr(PI * (double)le / (double)a[A_T_MAX])) / 2;
    default: return base;
    }
}

/* _LRScheduler.step(epoch): the group's rate after it. */
static void one_step(lr_one_t *o, double *lr, bool with_epoch, int64_t epoch)
{
    const schedule_t *s = o->s;
    if (s->cls == LR_WARM_RESTARTS) { /* its own step() */
        int64_t T0 = (int64_t)s->a[A_T_0], Tm = (int64_t)s->a[A_T_MULT];
        if (!with_epoch && o->last_epoch < 0) with_epoch = true, epoch = 0;
        if (!with_epoch) {
            epoch = o->last_epoch + 1;
            o->T_cur = o->T_cur + 1;
            if (o->T_cur >= o->T_i) {
                o->T_cur = o->T_cur - o->T_i;
                o->T_i = o->T_i * Tm;
            }
        } else {
            /* only epoch 0 reaches here (construction, a SequentialLR's switch) */
            o->T_i = T0;
            o->T_cur = epoch;
        }
        o->last_epoch = epoch;
        *lr = chain_lr(o, *lr);
        return;
    }
    o->step_count++;
    if (!with_epoch) {
        o->last_epoch++;
        *lr = chain_lr(o, *lr);
    } else {
        o->last_epoch = epoch;
        *lr = s->cls == LR_ONECYCLE || s->cls == LR_CYCLIC ? chain_lr(o, *lr) : closed_lr(o);
    }
}

/* ReduceLROnPlateau.step(metric). */
static void plateau_step(lr_one_t *o, double *lr, double current)
{
    const double *a = o->s->a;
    o->last_epoch++;
    bool max_mode = a[A_MODE] != 0, abs_mode = a[A_THRESHOLD_MODE] != 0;
    double th = a[A_THRESHOLD], best = o->best;
    bool better = !max_mode ? (!abs_mode ? current < best * (1. - th) : current < best - th)
                            : (!abs_mode ? current > best * (th + 1.) : current > best + th);
    if (better) {
        o->best = current;
        o->num_bad = 0;
    } else {
        o->num_bad++;
    }
    if (o->cooldown_counter > 0) {
        o->cooldown_counter--;
        o->num_bad = 0;
    }
    if (o->num_bad > (int64_t)a[A_PATIENCE]) {
        double old_lr = *lr, new_lr = old_lr * a[A_FACTOR];
        if (new_lr < a[A_MIN_LR]) new_lr = a[A_MIN_LR];
        if (old_lr - new_lr > a[A_EPS]) *lr = new_lr;
        o->cooldown_counter = (int64_t)a[A_COOLDOWN];
        o->num_bad = 0;
    }
}

/* A scheduler's __init__ on the group (initial step included). */
static void one_construct(lr_run_t *r, lr_one_t *o, const schedule_t *s)
{
    memset(o, 0, sizeof *o);
    o->s = s;
    o->last_epoch = -1;
    if (s->cls == LR_PLATEAU) {
        o->last_epoch = 0;
        o->best = s->a[A_MODE] != 0 ? -INFINITY : INFINITY;
        return;
    }
    if (s->cls == LR_ONECYCLE) {
        o->max_lr = s->a[A_MAX_LR];
        o->initial_lr = o->max_lr / s->a[A_DIV_FACTOR];
        o->min_lr = o->initial_lr / s->a[A_FINAL_DIV_FACTOR];
        r->initial_lr = o->initial_lr; /* group['initial_lr'], set before the base class reads it */
    }
    if (s->cls == LR_CYCLIC) {
        r->lr = s->a[A_BASE_LR];
        double up = s->a[A_STEP_SIZE_UP], down = isnan(s->a[A_STEP_SIZE_DOWN]) ? up : s->a[A_STEP_SIZE_DOWN];
        o->total_size = up + down;
        o->step_ratio = up / o->total_size;
    }
    if (s->cls == LR_WARM_RESTARTS) o->T_i = (int64_t)s->a[A_T_0], o->T_cur = -1;
    if (isnan(r->initial_lr)) r->initial_lr = r->lr; /* setdefault('initial_lr', lr) */
    o->base_lr = r->initial_lr;
    /* _initial_step */
    o->step_count = 0;
    one_step(o, &r->lr, false, 0);
}

void schedule_start(lr_run_t *r, const schedule_t *s, double lr, uint64_t per_epoch, uint64_t iterations)
{
    memset(r, 0, sizeof *r);
    r->s = s;
    r->lr = lr;
    r->initial_lr = NAN;
    r->per_epoch = per_epoch;
    r->iterations = iterations;
    if (!s || is_short(s->cls)) {
        r->initial_lr = lr;
        return;
    }
    if (s->cls != LR_SEQUENTIAL) {
        one_construct(r, &r->top, s);
        return;
    }
    /* the children, built in order on the optimizer, then SequentialLR's
     * own __init__: the rate back to initial_lr, each child's epoch one
     * back, the first child's initial step again */
    for (size_t i = 0; i < s->n_children; i++) one_construct(r, &r->kids[i], s->children[i]);
    r->seq_epoch = 0;
    r->lr = r->initial_lr;
    for (size_t i = 0; i < s->n_children; i++) r->kids[i].last_epoch -= 1;
    lr_one_t *first = &r->kids[0];
    first->step_count = 0;
    one_step(first, &r->lr, false, 0);
}

/* The short names: closed forms of the step count t. */
static double short_lr(const lr_run_t *r)
{
    const schedule_t *s = r->s;
    double lr = r->initial_lr, epoch = floor((double)r->t / (double)r->per_epoch);
    switch (s ? s->cls : LR_SHORT_CONSTANT) {
    case LR_SHORT_STEP: return lr * runner_pow(s->a[A_GAMMA], floor(epoch / s->a[A_EVERY]));
    case LR_SHORT_EXPONENTIAL: return lr * runner_pow(s->a[A_GAMMA], epoch);
    case LR_SHORT_COSINE:
        return s->a[A_LR_MIN] +
               (lr - s->a[A_LR_MIN]) * 0.5 * (1.0 + runner_cos_cr(PI * (double)r->t / (double)r->iterations));
    default: return lr;
    }
}

double schedule_lr_now(const lr_run_t *r)
{
    if (!r->s || is_short(r->s->cls)) return short_lr(r);
    return r->lr;
}

void schedule_torch_step(lr_run_t *r, double metric)
{
    const schedule_t *s = r->s;
    if (!s || is_short(s->cls)) return;
    if (s->cls == LR_PLATEAU) {
        plateau_step(&r->top, &r->lr, metric);
    } else if (s->cls != LR_SEQUENTIAL) {
        one_step(&r->top, &r->lr, false, 0);
    } else {
        r->seq_epoch++;
        size_t idx = bisect_right(s->milestones, s->n_milestones, r->seq_epoch);
        bool switching = idx > 0 && s->milestones[idx - 1] == r->seq_epoch;
        one_step(&r->kids[idx], &r->lr, switching, 0);
    }
}

void schedule_after_step(lr_run_t *r)
{
    r->t++;
    if (r->s && !is_short(r->s->cls) && r->s->per_step) schedule_torch_step(r, 0.0);
}

void schedule_after_epoch(lr_run_t *r, double metric, bool evaluated)
{
    if (r->s && r->s->cls == LR_PLATEAU && !evaluated) return;
    if (r->s && !is_short(r->s->cls) && !r->s->per_step) schedule_torch_step(r, metric);
}
