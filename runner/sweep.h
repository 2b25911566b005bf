/*
 * sweep.h: run every cell of an experiment in parallel and write them.
 *
 * OpenMP threads take batches of consecutive cells (dynamic schedule: cells
 * differ in cost); each batch is computed into a buffer slot and handed to
 * one writer thread, the only thread that calls HDF5 (the library is
 * serialised anyway, and one writer fed by the workers measured fastest).
 * A cell's numbers depend only on the cell, never on the thread or the
 * batch, so the file is bitwise the same for any -j.
 */
#ifndef RUNNER_SWEEP_H
#define RUNNER_SWEEP_H

#include <stdbool.h>

#include "experiment.h"
#include "h5out.h"

typedef struct {
    int threads;   /* >= 1 */
    bool progress; /* draw a progress line on stderr */
} sweep_opts_t;

typedef struct {
    size_t ok, diverged, failed;
    bool have_best;
    size_t best_cell; /* lowest final loss among ok cells */
    double best_loss;
    size_t first_failed;
    char first_failure[RUNNER_ERR_MAX];
    double seconds;
} sweep_summary_t;

err_code_t sweep_run(const experiment_t *exp, h5out_t *out, const sweep_opts_t *opts, sweep_summary_t *sum,
                     err_t *err);

#endif
