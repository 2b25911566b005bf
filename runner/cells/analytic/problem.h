/*
 * problem.h: a config's `problem:` mapping compiled into something the
 * step loop can evaluate: an objective (built-in or formula), a start point,
 * and how the gradient is obtained (exact, or central differences).
 *
 *   problem: {objective: elliptic, start: [-7, 2]}
 *   problem: {expression: "x^2/20 + y^2", start: [-7, 2], gradient: numerical}
 *   problem: {objective: linear_regression, start: [10, -20],
 *             data: {x: [...], y: [...]}, normalize: true}
 */
#ifndef RUNNER_PROBLEM_H
#define RUNNER_PROBLEM_H

#include <stdbool.h>

#include "cells/analytic/objectives.h"
#include "config/node.h"

#define NUMERICAL_GRADIENT_STEP 1e-4

typedef struct problem {
    const char *label;  /* objective name or the formula */
    objective_fn fn;
    const void *ctx;    /* expression tape or regression data */
    size_t dim;
    const double *start;
    bool numerical;     /* gradient by central difference, h = 1e-4 */
    const char *const *param_names; /* dim names */
} problem_t;

err_code_t problem_compile(arena_t *a, const node_t *node, problem_t **out, err_t *err);

double problem_eval_numerical(const problem_t *p, const double *x, double *grad, double *scratch);

/* Loss at x; gradient into grad (exact or numerical as configured).
 * scratch needs dim doubles when numerical. Inline: it is in the step loop. */
static inline double problem_eval(const problem_t *p, const double *x, double *grad, double *scratch)
{
    return p->numerical ? problem_eval_numerical(p, x, grad, scratch) : p->fn(p->ctx, p->dim, x, grad);
}

#endif
