/* problem.c: compile and evaluate the `problem:` section. */
#include "cells/analytic/problem.h"

#include <math.h>
#include <string.h>

#include "config/expr.h"

static const char *const problem_keys[] = {"objective", "expression", "start", "gradient", "data", "normalize"};
#define N_PROBLEM_KEYS (sizeof problem_keys / sizeof problem_keys[0])


/* A list of numbers -> doubles in the arena. */
static err_code_t number_list(arena_t *a, const node_t *n, const char *what, size_t min_len, double **out,
                              size_t *len, err_t *err)
{
    if (n->kind != NODE_SEQ)
        return err_set(err, ERR_CONFIG, n->mark, "expected a list of numbers for %s, got %s", what, node_kind_name(n));
    if (n->n < min_len)
        return err_set(err, ERR_CONFIG, n->mark, "%s needs at least %zu value%s, got %zu", what, min_len,
                       min_len == 1 ? "" : "s", n->n);
    double *v = arena_alloc(a, (n->n ? n->n : 1) * sizeof *v);
    if (!v) return err_set(err, ERR_NOMEM, n->mark, "out of memory");
    for (size_t i = 0; i < n->n; i++) {
        err_code_t rc = node_to_double(n->items[i], what, &v[i], err);
        if (rc) return rc;
    }
    *out = v;
    *len = n->n;
    return ERR_OK;
}

static err_code_t minmax_normalize(double *v, size_t n, const node_t *at, const char *what, err_t *err)
{
    double lo = v[0], hi = v[0];
    for (size_t i = 1; i < n; i++) lo = fmin(lo, v[i]), hi = fmax(hi, v[i]);
    if (hi == lo)
        return err_set(err, ERR_CONFIG, at->mark, "cannot normalize %s: all values are equal (%g)", what, lo);
    for (size_t i = 0; i < n; i++) v[i] = (v[i] - lo) / (hi - lo);
    return ERR_OK;
}

static err_code_t compile_linreg(arena_t *a, const node_t *node, problem_t *p, err_t *err)
{
    const node_t *data = node_get(node, "data");
    if (!data)
        return err_set(err, ERR_CONFIG, node->mark,
                       "objective linear_regression needs data: {x: [...], y: [...]} in problem");
    if (data->kind != NODE_MAP)
        return err_set(err, ERR_CONFIG, data->mark, "expected a mapping {x: [...], y: [...]} for problem.data, got %s",
                       node_kind_name(data));
    static const char *const data_keys[] = {"x", "y"};
    for (size_t i = 0; i < data->n; i++)
        if (strcmp(data->pairs[i].key, "x") && strcmp(data->pairs[i].key, "y"))
            return node_unknown_key(&data->pairs[i], " in problem.data", data_keys, 2, err);
    const node_t *xs = node_get(data, "x"), *ys = node_get(data, "y");
    if (!xs || !ys) return err_set(err, ERR_CONFIG, data->mark, "problem.data needs both x and y lists");
    linreg_data_t *d = arena_alloc(a, sizeof *d);
    double *x, *y;
    size_t nx, ny;
    err_code_t rc;
    if (!d) return err_set(err, ERR_NOMEM, node->mark, "out of memory");
    if ((rc = number_list(a, xs, "problem.data.x", 1, &x, &nx, err))) return rc;
    if ((rc = number_list(a, ys, "problem.data.y", 1, &y, &ny, err))) return rc;
    if (nx != ny)
        return err_set(err, ERR_CONFIG, ys->mark, "problem.data.y has %zu values but problem.data.x has %zu", ny, nx);
    const node_t *norm = node_get(node, "normalize");
    bool normalize = false;
    if (norm && (rc = node_to_bool(norm, "problem.normalize", &normalize, err))) return rc;
    if (normalize) {
        if ((rc = minmax_normalize(x, nx, xs, "problem.data.x", err))) return rc;
        if ((rc = minmax_normalize(y, ny, ys, "problem.data.y", err))) return rc;
    }
    *d = (linreg_data_t){nx, x, y};
    p->ctx = d;
    return ERR_OK;
}

err_code_t problem_compile(arena_t *a, const node_t *node, problem_t **out, err_t *err)
{
    if (node->kind != NODE_MAP)
        return err_set(err, ERR_CONFIG, node->mark,
                       "expected a mapping for problem, like {objective: parabola, start: [-5]}, got %s",
                       node_kind_name(node));
    for (size_t i = 0; i < node->n; i++) {
        bool known = false;
        for (size_t k = 0; k < N_PROBLEM_KEYS; k++) known |= strcmp(node->pairs[i].key, problem_keys[k]) == 0;
        if (!known) return node_unknown_key(&node->pairs[i], " in problem", problem_keys, N_PROBLEM_KEYS, err);
    }
    problem_t *p = arena_alloc(a, sizeof *p);
    if (!p) return err_set(err, ERR_NOMEM, node->mark, "out of memory");
    const node_pair_t *obj = node_get_pair(node, "objective"), *ex = node_get_pair(node, "expression");
    err_code_t rc;
    size_t min_dim, max_dim;
    if (obj && ex)
        return err_set(err, ERR_CONFIG, ex->key_mark, "problem has both objective and expression; give one");
    if (!obj && !ex)
        return err_set(err, ERR_CONFIG, node->mark,
                       "problem needs an objective (e.g. objective: elliptic) or an expression (e.g. expression: "
                       "\"x^2/20 + y^2\")");
    if (obj) {
        const char *name;
        if ((rc = node_to_string(obj->value, "problem.objective", &name, err))) return rc;
        const objective_def_t *def = objective_find(name);
        if (!def) {
            size_t n;
            const objective_def_t *t = objective_table(&n);
            const char *names[32];
            for (size_t i = 0; i < n; i++) names[i] = t[i].name;
            const char *near = closest_match(name, names, n);
            if (near)
                return err_set(err, ERR_CONFIG, obj->value->mark, "unknown objective '%s' (did you mean '%s'?)", name, near);
            return err_set(err, ERR_CONFIG, obj->value->mark,
                           "unknown objective '%s' (known: parabola, sphere, elliptic, rosenbrock, beale, booth, "
                           "himmelblau, rastrigin, linear_regression; or write problem.expression)",
                           name);
        }
        p->label = def->name;
        p->fn = def->fn;
        p->param_names = def->param_names;
        min_dim = def->min_dim, max_dim = def->max_dim;
        if (def->fn == linreg_loss) {
            if ((rc = compile_linreg(a, node, p, err))) return rc;
        } else {
            const node_pair_t *extra = node_get_pair(node, "data");
            if (!extra) extra = node_get_pair(node, "normalize");
            if (extra)
                return err_set(err, ERR_CONFIG, extra->key_mark,
                               "problem.%s only applies to objective linear_regression, not '%s'", extra->key, name);
        }
    } else {
        const char *text;
        if ((rc = node_to_string(ex->value, "problem.expression", &text, err))) return rc;
        mark_t at = ex->value->mark;
        if (ex->value->quoted) at.col += 1; /* the opening quote */
        expr_t *e;
        const char **names;
        if ((rc = expr_compile(a, text, at, &e, &min_dim, &names, err))) return rc;
        max_dim = min_dim;
        p->label = text;
        p->fn = expr_eval;
        p->ctx = e;
        p->param_names = names;
    }
    const node_t *start = node_get(node, "start");
    if (!start)
        return err_set(err, ERR_CONFIG, node->mark, "problem needs a start point, e.g. start: [-7, 2]");
    double *x0;
    if ((rc = number_list(a, start, "problem.start", 1, &x0, &p->dim, err))) return rc;
    if (p->dim < min_dim || p->dim > max_dim) {
        if (min_dim == max_dim)
            return err_set(err, ERR_CONFIG, start->mark, "start has %zu value%s but %s '%s' has %zu dimension%s",
                           p->dim, p->dim == 1 ? "" : "s", obj ? "objective" : "expression", p->label, min_dim,
                           min_dim == 1 ? "" : "s");
        return err_set(err, ERR_CONFIG, start->mark, "start has %zu values but objective '%s' needs at least %zu",
                       p->dim, p->label, min_dim);
    }
    p->start = x0;
    if (!p->param_names) {
        const char **nm = arena_alloc(a, p->dim * sizeof *nm);
        if (!nm) return err_set(err, ERR_NOMEM, node->mark, "out of memory");
        for (size_t i = 0; i < p->dim; i++) nm[i] = arena_printf(a, "x%zu", i);
        p->param_names = nm;
    }
    const node_t *grad = node_get(node, "gradient");
    if (grad) {
        const char *g;
        if ((rc = node_to_string(grad, "problem.gradient", &g, err))) return rc;
        if (strcmp(g, "numerical") == 0) p->numerical = true;
        else if (strcmp(g, "exact") != 0)
            return err_set(err, ERR_CONFIG, grad->mark, "problem.gradient must be 'exact' or 'numerical', got '%s'", g);
    }
    *out = p;
    return ERR_OK;
}

double problem_eval_numerical(const problem_t *p, const double *x, double *grad, double *scratch)
{
    /* Central difference: (f(x + h e_i) - f(x - h e_i)) / 2h. */
    const double h = NUMERICAL_GRADIENT_STEP;
    double *xp = scratch;
    memcpy(xp, x, p->dim * sizeof *xp);
    for (size_t i = 0; i < p->dim; i++) {
        xp[i] = x[i] + h;
        double fp = p->fn(p->ctx, p->dim, xp, NULL);
        xp[i] = x[i] - h;
        double fm = p->fn(p->ctx, p->dim, xp, NULL);
        xp[i] = x[i];
        grad[i] = (fp - fm) / (2.0 * h);
    }
    return p->fn(p->ctx, p->dim, x, NULL);
}
