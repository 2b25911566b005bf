/*
 * no_ops.h: settings that would silently do nothing are errors (issue 17,
 * item 5). Part of loading an experiment (experiment.c calls these):
 *
 * - Two grid axes that address one value: one path inside the other
 *   (`optimizer` and `optimizer.lr`), or two spellings of one list index
 *   (`problem.start.1` and `problem.start.01`). Every cell sets both, in
 *   order, so one of them would never show.
 * - A --set value that no cell sees: every run, or a grid axis, sets that
 *   path again. The user asked for a change that would not happen.
 * - A base value that every cell overrides (the grid, or every run, sets
 *   it again) is still checked: an optimizer's against its schema, so
 *   `lr: abc` is an error even where no cell uses it; any other must be
 *   the kind of value that replaces it (`steps: abc` under a grid of
 *   numbers is an error; a number where every run has a list too).
 *
 * A base value overridden by the runs or the grid is otherwise allowed: a
 * fallback that the grid replaces (momentum_sweep's base lr) is ordinary.
 */
#ifndef RUNNER_NO_OPS_H
#define RUNNER_NO_OPS_H

#include "config/experiment.h"

/* Before the cells are built: grid axes that meet in cells (all of a
 * cartesian study's; a ragged study's per run) against each other. */
err_code_t no_ops_check_axes(const axis_t *axes, size_t n_axes, err_t *err);
/* After: each --set (not grid.*, runs.*) is seen by some cell; the base
 * optimizer's values are valid for it. */
err_code_t no_ops_check_settings(experiment_t *exp, const override_t *ov, size_t n_ov, const registry_t *reg,
                                 err_t *err);

#endif
