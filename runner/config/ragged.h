/*
 * ragged.h: the cells of a study that is not one cartesian product (issue 19).
 *
 * A run may have its own axes (grid:, search:, seeds: or repeat: inside its
 * entry), and exclude: leaves cells out:
 *
 *   runs:
 *     - {label: SGD, optimizer: {name: sgd}, grid: {optimizer.lr: {logspace: [-3, 0, 4]}}}
 *     - {label: Adam, optimizer: {name: adam}, grid: {optimizer.lr: {logspace: [-4, -1, 3]}}}
 *   exclude:
 *     - {run: SGD, optimizer.lr: 1}
 *
 * Each run's axes are the sweep-wide grid axes, then its own grid axes as
 * written, then its seed axis (its own seeds:/repeat:, else the sweep's).
 * Its cells are the product of those, row-major (seed fastest), and the
 * study's cells are run after run. The study's axes (experiment_t.axes)
 * become columns: `run`, the sweep-wide grid axes, each own axis by name
 * (runs that name one axis alike share its column: the SGD and Adam
 * learning rates above are one column `optimizer.lr`), then `seed`. A
 * column's values are its runs' values one after the other, so a cell's
 * value index says which run's list it came from.
 *
 * exclude: is a list of partial assignments {PATH: VALUE, ...}. A cell
 * that matches every entry of one of them is left out. PATH is `run` (the
 * run's label), an axis path or a path inside one (the cell's value), or
 * any other path (the run's value there: base and run merged). Values
 * match when both are numbers of equal value (1 and 1.0) or have the same
 * text. An entry that matches no cell is a warning (exp->warnings), not an
 * error: a filter written for a wider study still reads.
 */
#ifndef RUNNER_CONFIG_RAGGED_H
#define RUNNER_CONFIG_RAGGED_H

#include "config/experiment.h"

/* A run's own axes: its grid axes as written, then its seed axis (NULL
 * when the run has none; the sweep's applies). */
typedef struct {
    axis_t *grid;
    size_t n_grid;
    axis_t *seed;
} run_axes_t;

/* Set exp->axes (the columns), exp->n_axes, exp->coords and exp->n_cells
 * from the run axis, the sweep-wide grid axes and seed axis (NULL: none),
 * each run's own axes (own[r] for run r) and exclude: (NULL: none). */
err_code_t ragged_expand(experiment_t *exp, const axis_t *run_axis, const axis_t *sweep_grid, size_t n_sweep_grid,
                         const axis_t *sweep_seed, const run_axes_t *own, const node_t *exclude, err_t *err);

#endif
