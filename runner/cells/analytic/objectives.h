/*
 * objectives.h: the built-in test functions, each with its exact gradient.
 * An objective maps x[n] to a loss and, when grad is not NULL, writes
 * d loss / d x into grad[n]. Everything is computed in double; the runner
 * rounds to float32 where the optimizer sees it.
 */
#ifndef RUNNER_OBJECTIVES_H
#define RUNNER_OBJECTIVES_H

#include <stddef.h>

typedef double (*objective_fn)(const void *ctx, size_t n, const double *x, double *grad);

typedef struct {
    const char *name;
    const char *doc;
    size_t min_dim, max_dim; /* the start point's length must be within */
    objective_fn fn;
    const char *const *param_names; /* NULL: x0, x1, ... */
} objective_def_t;

/* NULL when unknown. */
const objective_def_t *objective_find(const char *name);
/* The table, for listings and suggestions. */
const objective_def_t *objective_table(size_t *n);

/* Linear regression on inline data: params (a, b), loss mean((a*x+b-y)^2). */
typedef struct {
    size_t n;
    const double *x, *y;
} linreg_data_t;
double linreg_loss(const void *ctx, size_t n, const double *p, double *grad);

#endif
