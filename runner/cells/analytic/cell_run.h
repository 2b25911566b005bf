/*
 * cell_run.h: cells, start to finish. Per cell: the optimizer's state is
 * reset, then each step is gradient -> optimizer update -> loss and gradient
 * at the new point, recorded row by row. No allocation: the caller hands in
 * each cell's state block and work buffer, sized by cell_run_sizes().
 *
 * Up to CELL_LANES cells run interleaved on one thread, one step of each in
 * turn. A step is a chain of dependent operations (w -> gradient -> update
 * -> w) too short to keep a core busy; independent cells side by side let
 * the out-of-order core overlap their chains. Each cell's arithmetic is the
 * same as alone, so the numbers do not depend on which cells share a group.
 *
 * An optimizer with the closure extension (RUNNER_EXT_CLOSURE_STEP: L-BFGS)
 * takes each step through it, evaluating the objective as often as it
 * chooses; every evaluation is counted, the recorded one of each row too.
 *
 * Shapes (S = rows reserved per cell, >= steps + 1; P = columns, >= dim):
 *   params (S, P), loss (S), grad_norm (S), and evaluations (S) when asked:
 *   the objective evaluations up to and including each row's. Rows after
 *   the last step taken and columns past the problem's dimension are NaN.
 */
#ifndef RUNNER_CELL_RUN_H
#define RUNNER_CELL_RUN_H

#include <runner/plugin.h>
#include <stdint.h>

#include "cells/analytic/problem.h"
#include "config/experiment.h"

#define CELL_LANES 4

typedef struct {
    size_t state_bytes; /* optimizer state, 64-byte aligned block */
    size_t work_bytes;  /* doubles and floats for x, gradient, scratch */
} cell_sizes_t;

cell_sizes_t cell_run_sizes(const cell_t *cell);

typedef struct {
    /* in */
    const cell_t *cell;
    void *state, *work;
    float *params, *loss, *grad_norm; /* this cell's rows */
    float *evaluations;               /* this cell's row, or NULL: not recorded */
    /* out */
    int status; /* STATUS_OK, STATUS_DIVERGED (loss became NaN/Inf: that step is
                 * recorded, the rest NaN) or STATUS_FAILED (plugin error in err) */
    runner_err_t err;
    /* internal */
    size_t rows;
    runner_closure_step_fn closure_step; /* NULL: a plain step */
    double f;                            /* the loss at the last recorded point */
    uint64_t n_evals;
} cell_lane_t;

/* Run k <= CELL_LANES cells to completion, interleaved. */
void cell_run_lanes(cell_lane_t *lanes, size_t k, size_t S, size_t P);

#endif
