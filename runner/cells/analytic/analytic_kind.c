/*
 * analytic_kind.c: the cell kind "analytic": an optimizer on an objective
 * (problem:) for a number of steps (steps:). Cells are cheap (microseconds
 * to milliseconds), so they run CELL_LANES at a time interleaved on one
 * thread (cell_run.h), each single-threaded.
 */
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/size_math.h"
#include "cells/analytic/cell_run.h"
#include "cells/analytic/problem.h"
#include "cells/kind.h"
#include "config/experiment.h"
#include "plugin_host/descriptor.h"
#include "results/format.h"
#include "results/layout.h"
#include "results/report.h"

#define MAX_STEPS 100000000

static const char *const analytic_keys[] = {"steps", "problem", NULL};

/* What the kind knows about all cells (exp->kind_data). */
typedef struct {
    size_t max_dim;                 /* the most parameters of any problem */
    const char *const *param_names; /* max_dim names: shared ones, or x0.. when problems differ */
    bool closure;                   /* some optimizer evaluates several times a step: record evaluations */
} analytic_data_t;

static analytic_data_t *data_of(const experiment_t *exp) { return exp->kind_data; }

static bool claims(const node_t *tree)
{
    (void)tree;
    return true; /* the default kind: a cell without model: */
}

/* Steps and a problem (compiled once per run unless a grid axis changed it). */
static err_code_t build(experiment_t *exp, const registry_t *reg, node_t *tree, cell_run_cache_t *run, cell_t *cell,
                        err_t *err)
{
    (void)reg;
    err_code_t rc;
    if (!exp->kind_data && !(exp->kind_data = arena_alloc(&exp->arena, sizeof(analytic_data_t))))
        return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
    analytic_data_t *ad = data_of(exp);
    const node_t *steps = node_get(tree, "steps");
    int64_t v;
    if (!steps)
        return err_set(err, ERR_CONFIG, (mark_t){exp->path, 1, 1},
                       "missing 'steps': how many optimizer steps each cell takes (e.g. steps: 100)");
    if ((rc = node_to_int64(steps, "steps", 1, MAX_STEPS, &v, err))) return rc;
    cell->steps = (uint32_t)v;
    const node_t *pnode = node_get(tree, "problem");
    if (!pnode)
        return err_set(err, ERR_CONFIG, (mark_t){exp->path, 1, 1},
                       "missing 'problem', e.g. problem: {objective: elliptic, start: [-7, 2]}, or model: to train a "
                       "network");
    bool shared_problem = pnode == node_get(run->tree, "problem");
    if (shared_problem && run->kind_cache) {
        cell->problem = run->kind_cache;
    } else {
        problem_t *p;
        if ((rc = problem_compile(&exp->arena, pnode, &p, err))) return rc;
        if (shared_problem) run->kind_cache = p;
        cell->problem = p;
    }
    if (cell->problem->dim > ad->max_dim) ad->max_dim = cell->problem->dim;
    return ERR_OK;
}

/* Whether evaluations are recorded; parameter names for the param
 * dimension: shared when every problem agrees. */
static err_code_t finish(experiment_t *exp, err_t *err)
{
    analytic_data_t *ad = data_of(exp);
    for (size_t c = 0; c < exp->n_cells && !ad->closure; c++)
        ad->closure = exp->cells[c].opt && plugin_extension(exp->cells[c].opt->plugin->desc, RUNNER_EXT_CLOSURE_STEP);
    const problem_t *first = exp->cells[0].problem;
    bool same = true;
    for (size_t c = 1; c < exp->n_cells && same; c++) {
        const problem_t *p = exp->cells[c].problem;
        if (p == first) continue;
        if (p->dim != first->dim) same = false;
        for (size_t i = 0; same && i < p->dim; i++) same = !strcmp(p->param_names[i], first->param_names[i]);
    }
    if (same && first->dim == ad->max_dim) {
        ad->param_names = first->param_names;
        return ERR_OK;
    }
    const char **nm = arena_alloc(&exp->arena, ad->max_dim * sizeof *nm);
    if (!nm) return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
    for (size_t i = 0; i < ad->max_dim; i++) nm[i] = arena_printf(&exp->arena, "x%zu", i);
    ad->param_names = nm;
    return ERR_OK;
}

static void layout(const experiment_t *exp, layout_t *l)
{
    int step = layout_add_dim(l, (layout_dim_t){"step", exp->max_steps + 1, 0, NULL, "optimizer step (0 is the start point)"});
    const analytic_data_t *ad = data_of(exp);
    int param = layout_add_dim(l, (layout_dim_t){"param", ad->max_dim, 0, ad->param_names, "parameter"});
    layout_add_var(l, "params", "parameters at each step (step 0 is the start point)", step, param);
    layout_add_var(l, "loss", "objective value at each step", step, -1);
    layout_add_var(l, "grad_norm", "L2 norm of the gradient at each step", step, -1);
    if (ad->closure) /* float32: exact to 2^24 evaluations */
        layout_add_var(l, "evaluations", "objective evaluations up to and including this step's (cumulative)", step,
                       -1);
}
enum { V_PARAMS, V_LOSS, V_GRAD_NORM, V_EVALUATIONS }; /* the order above */

static const cell_record_t records[] = {{"problem_config", "objective or expression"}};

static const char *record(const cell_t *cell, size_t i)
{
    (void)i;
    return cell->problem->label;
}

/* The largest state and work block of the cells (lanes). */
static cell_sizes_t max_cell_sizes(const experiment_t *exp)
{
    cell_sizes_t max = {0, 0};
    for (size_t c = 0; c < exp->n_cells; c++) {
        cell_sizes_t cs = cell_run_sizes(&exp->cells[c]);
        if (cs.state_bytes > max.state_bytes) max.state_bytes = cs.state_bytes;
        if (cs.work_bytes > max.work_bytes) max.work_bytes = cs.work_bytes;
    }
    return max;
}

/* One optimizer state and work block per lane, sized for the largest cell. */
typedef struct {
    void *state[CELL_LANES], *work[CELL_LANES];
} lanes_buffers_t;

static uint64_t thread_bytes(const experiment_t *exp)
{
    cell_sizes_t max = max_cell_sizes(exp);
    return size_mul(CELL_LANES, size_add(size_add(max.state_bytes, max.work_bytes), 128));
}

static void thread_destroy(void *buffers)
{
    lanes_buffers_t *tb = buffers;
    if (!tb) return;
    for (size_t j = 0; j < CELL_LANES; j++) free(tb->state[j]), free(tb->work[j]);
    free(tb);
}

static void *thread_create(const experiment_t *exp)
{
    cell_sizes_t max = max_cell_sizes(exp);
    lanes_buffers_t *tb = calloc(1, sizeof *tb);
    bool ok = tb != NULL;
    for (size_t j = 0; ok && j < CELL_LANES; j++) {
        tb->state[j] = aligned_alloc(64, size_add(max.state_bytes, 64));
        tb->work[j] = aligned_alloc(64, size_round_up(max.work_bytes, 64));
        ok = tb->state[j] && tb->work[j];
    }
    if (!ok) thread_destroy(tb);
    return ok ? tb : NULL;
}

/* CELL_LANES cells at a time; a stop request is honoured between groups. */
static void compute(const experiment_t *exp, const layout_t *l, batch_t *b, void *buffers, const cell_env_t *env)
{
    const lanes_buffers_t *tb = buffers;
    size_t S = l->dims[0].n, P = l->dims[1].n;
    for (size_t c0 = b->c0; c0 < b->c1; c0 += CELL_LANES) {
        if (env->stopping(env->arg)) {
            b->c1 = c0;
            break;
        }
        size_t k = b->c1 - c0 < CELL_LANES ? b->c1 - c0 : CELL_LANES;
        cell_lane_t lanes[CELL_LANES];
        for (size_t j = 0; j < k; j++) {
            size_t r = c0 + j - b->c0;
            lanes[j] = (cell_lane_t){.cell = &exp->cells[c0 + j], .state = tb->state[j], .work = tb->work[j],
                                     .params = b->vars[V_PARAMS] + r * S * P, .loss = b->vars[V_LOSS] + r * S,
                                     .grad_norm = b->vars[V_GRAD_NORM] + r * S,
                                     .evaluations = data_of(exp)->closure ? b->vars[V_EVALUATIONS] + r * S : NULL};
        }
        double t0 = now_seconds();
        cell_run_lanes(lanes, k, S, P);
        /* interleaved cells share their wall time */
        double each = (now_seconds() - t0) / (double)k;
        for (size_t j = 0; j < k; j++) env->cell_done(env->arg, b, c0 + j - b->c0, lanes[j].status, each, &lanes[j].err);
    }
}

static void plan_column(const cell_t *cell, char *buf, size_t len) { snprintf(buf, len, "%s", cell->problem->label); }

const cell_kind_t cell_kind_analytic = {
    .name = "analytic",
    .does = "has a problem",
    .cell_keys = analytic_keys,
    .claims = claims,
    .build = build,
    .finish = finish,
    .layout = layout,
    .records = records,
    .n_records = sizeof records / sizeof records[0],
    .record = record,
    .thread_bytes = thread_bytes,
    .thread_create = thread_create,
    .thread_destroy = thread_destroy,
    .compute = compute,
    .cells_together = CELL_LANES,
    .threaded_cells = false,
    .plan_heading = "problem",
    .plan_column = plan_column,
    .report_tol = REPORT_DEFAULT_TOL,
};
