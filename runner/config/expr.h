/*
 * expr.h: objective formulas written in the config, e.g. "x^2/20 + y^2".
 * Grammar: + - * / ^ (or **), unary minus, parentheses, numbers, pi, e,
 * functions sin cos tan exp log sqrt abs tanh, variables x y z (the same as
 * x0 x1 x2) or x0..x99. ^ binds tighter than unary minus: -x^2 = -(x^2).
 *
 * The formula compiles to a tape evaluated forward for the value and
 * backward (reverse mode) for the exact gradient: one pass each, whatever
 * the dimension. Evaluation uses stack scratch only (no allocation), so it
 * runs in the step loop.
 */
#ifndef RUNNER_EXPR_H
#define RUNNER_EXPR_H

#include "base/arena.h"
#include "base/error.h"

#define EXPR_MAX_OPS 256
#define EXPR_MAX_VARS 100

typedef struct expr expr_t;

/* Compile text. `at` is where text begins in the config, so errors point at
 * the offending character. dim gets max variable index + 1; names (arena)
 * gets "x","y","z" or "x0".."xN" for each. */
err_code_t expr_compile(arena_t *a, const char *text, mark_t at, expr_t **out, size_t *dim,
                        const char ***names, err_t *err);

/* Value at x[dim]; writes the gradient when grad is not NULL. Matches objective_fn. */
double expr_eval(const void *expr, size_t n, const double *x, double *grad);

#endif
