/* cell_run.c: the step loop, over a few cells at once. */
#include "cells/analytic/cell_run.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "base/size_math.h"
#include "base/text_safety.h"
#include "plugin_host/descriptor.h"
#include "results/format.h"

cell_sizes_t cell_run_sizes(const cell_t *cell)
{
    size_t n = cell->problem->dim;
    const runner_optimizer_ops_t *ops = cell->opt->plugin->desc->optimizer;
    cell_sizes_t s = {
        .state_bytes = size_round_up(ops->state_bytes(n, cell->opt->hp), 64), /* a plugin's number: saturates */
        /* x, grad, numerical-gradient scratch (doubles); w, g (floats) */
        .work_bytes = 3 * n * sizeof(double) + 2 * n * sizeof(float),
    };
    return s;
}

static void fill_nan(float *p, size_t n)
{
    for (size_t i = 0; i < n; i++) p[i] = NAN;
}

/* Work buffer layout: x[n], g[n], scratch[n] (double), then w[n], gf[n] (float). */
static inline float *lane_w(const cell_lane_t *l) { return (float *)((double *)l->work + 3 * l->cell->problem->dim); }

/* Evaluate at the lane's w, record row t; false when the loss is not finite. */
static inline bool record(cell_lane_t *l, size_t t, size_t P)
{
    const problem_t *pb = l->cell->problem;
    const size_t n = pb->dim;
    double *x = l->work, *g = x + n, *scratch = g + n;
    float *w = lane_w(l), *gf = w + n;
    float *row = l->params + t * P;
    for (size_t i = 0; i < n; i++) x[i] = row[i] = w[i];
    if (P > n) fill_nan(row + n, P - n);
    double f = problem_eval(pb, x, g, scratch), g2 = 0.0;
    for (size_t i = 0; i < n; i++) {
        gf[i] = (float)g[i];
        g2 += g[i] * g[i];
    }
    l->loss[t] = (float)f;
    l->grad_norm[t] = (float)sqrt(g2);
    l->f = f;
    l->n_evals++;
    if (l->evaluations) l->evaluations[t] = (float)l->n_evals;
    l->rows = t + 1;
    return isfinite(l->loss[t]);
}

/* The closure a closure-step optimizer calls: the objective at any point. */
static int lane_eval(void *ctx, const float *w, float *g, double *loss, runner_err_t *err)
{
    (void)err;
    cell_lane_t *l = ctx;
    const problem_t *pb = l->cell->problem;
    const size_t n = pb->dim;
    double *x = l->work, *gd = x + n, *scratch = gd + n;
    for (size_t i = 0; i < n; i++) x[i] = w[i];
    *loss = problem_eval(pb, x, gd, scratch);
    for (size_t i = 0; i < n; i++) g[i] = (float)gd[i];
    l->n_evals++;
    return RUNNER_OK;
}

/* One optimizer step of a lane from its w and the gradient there. */
static int lane_step(cell_lane_t *l)
{
    const runner_optimizer_ops_t *ops = l->cell->opt->plugin->desc->optimizer;
    const size_t n = l->cell->problem->dim;
    float *w = lane_w(l);
    if (!l->closure_step) return ops->step(l->state, n, w, w + n, &l->err);
    const runner_closure_t closure = {lane_eval, l};
    return l->closure_step(l->state, n, w, w + n, l->f, &closure, &l->err);
}

void cell_run_lanes(cell_lane_t *lanes, size_t k, size_t S, size_t P)
{
    size_t active = 0, max_steps = 0;
    /* reset and record the start point */
    for (size_t j = 0; j < k; j++) {
        cell_lane_t *l = &lanes[j];
        const cell_t *c = l->cell;
        l->err.msg[0] = 0;
        l->rows = 0;
        l->n_evals = 0;
        l->status = STATUS_OK;
        l->closure_step = (runner_closure_step_fn)plugin_extension(c->opt->plugin->desc, RUNNER_EXT_CLOSURE_STEP);
        if (c->opt->plugin->desc->optimizer->init(l->state, c->problem->dim, c->opt->hp, c->seed, &l->err) != RUNNER_OK) {
            l->status = STATUS_FAILED;
            continue;
        }
        float *w = lane_w(l);
        for (size_t i = 0; i < c->problem->dim; i++) w[i] = (float)c->problem->start[i];
        if (!record(l, 0, P)) l->status = STATUS_DIVERGED;
        else if (c->steps > max_steps) max_steps = c->steps;
        active += l->status == STATUS_OK;
    }
    /* one step of each running cell in turn */
    for (size_t t = 1; t <= max_steps && active; t++) {
        for (size_t j = 0; j < k; j++) {
            cell_lane_t *l = &lanes[j];
            if (l->status != STATUS_OK || t > l->cell->steps) continue;
            if (lane_step(l) != RUNNER_OK) {
                l->status = STATUS_FAILED;
                active--;
            } else if (!record(l, t, P)) {
                l->status = STATUS_DIVERGED;
                active--;
            } else if (t == l->cell->steps) {
                active--;
            }
        }
    }
    /* rows not recorded stay NaN */
    for (size_t j = 0; j < k; j++) {
        cell_lane_t *l = &lanes[j];
        if (l->rows < S) {
            fill_nan(l->params + l->rows * P, (S - l->rows) * P);
            fill_nan(l->loss + l->rows, S - l->rows);
            fill_nan(l->grad_norm + l->rows, S - l->rows);
            if (l->evaluations) fill_nan(l->evaluations + l->rows, S - l->rows);
        }
        l->err.msg[RUNNER_ERR_MAX - 1] = 0;
        text_make_safe(l->err.msg); /* a plugin's words go to the terminal and the file */
    }
}
