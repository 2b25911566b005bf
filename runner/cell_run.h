/*
 * cell_run.h: one cell, start to finish: the optimizer's state is reset,
 * then each step is gradient -> optimizer update -> loss and gradient at the
 * new point, recorded row by row. No allocation: the caller hands in the
 * state block and the work buffers, sized by cell_run_sizes().
 *
 * Shapes (S = rows reserved per cell, >= steps + 1; P = columns, >= dim):
 *   params (S, P), loss (S), grad_norm (S). Rows after the last step taken
 *   and columns past the problem's dimension are set to NaN.
 */
#ifndef RUNNER_CELL_RUN_H
#define RUNNER_CELL_RUN_H

#include <runner/plugin.h>
#include <stdint.h>

#include "experiment.h"

typedef struct {
    size_t state_bytes; /* optimizer state, 64-byte aligned block */
    size_t work_bytes;  /* doubles and floats for x, gradient, scratch */
} cell_sizes_t;

cell_sizes_t cell_run_sizes(const cell_t *cell);

/* Returns STATUS_OK, STATUS_DIVERGED (loss became NaN/Inf; that step is
 * recorded, the rest is NaN) or STATUS_FAILED (the plugin returned an
 * error, in perr). */
int cell_run(const cell_t *cell, size_t S, size_t P, void *state, void *work, float *params, float *loss,
             float *grad_norm, runner_err_t *perr);

#endif
