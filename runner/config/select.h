/*
 * select.h: the tune -> select -> rerun protocol (issue 19).
 *
 *   select:
 *     metric: validation_accuracy   # a per-cell result (below)
 *     goal: max                     # default: the metric's own (accuracy max, loss and steps min)
 *     by: run                       # an axis or a list of axes (default: run; none: one group)
 *     tol: 1.0e-6                   # steps_to_tol only
 *     rerun: {seeds: [1, 2, 3, 4, 5]}   # or {repeat: 5}: the config's seed counting up
 *
 * The study's cells are the tuning phase. Once they are done, each group
 * (the tuning cells that share their values of the `by` axes) chooses its
 * best setting: a setting is a cell's values on every axis but seed, its
 * score the mean of the metric over its seeds; only settings whose every
 * cell finished ok compete, and a tie goes to the first. The chosen setting
 * of each group is then run again once per rerun seed: the final phase,
 * cells n_tune.. of the same experiment, group after group, seed fastest.
 *
 * Known at load time: the groups, the final cells' count, seeds and their
 * `by` values. The rest of a final cell is its chosen tuning cell's, so
 * each final cell starts as a copy of its group's first tuning cell and is
 * made the chosen one's copy by select_apply. A final cell's seed is
 * derive_cell_seed(its rerun seed, the number of tuning settings + its
 * group): fixed at load, whatever is chosen.
 *
 * Metrics, from the variables the cells record (a metric whose variable
 * the cells do not record, validation without data.validation, is a load
 * error):
 *   final_loss, best_loss, steps_to_tol   analytic `loss`, training `train_epoch_loss`
 *   train_loss                            training: `train_epoch_loss`, final epoch
 *   test_accuracy, validation_accuracy, validation_loss   training, final epoch
 * "final" is the last recorded value; steps_to_tol the first step (epoch)
 * at or below tol, a cell that never gets there scoring +inf.
 */
#ifndef RUNNER_CONFIG_SELECT_H
#define RUNNER_CONFIG_SELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/experiment.h"

typedef enum { METRIC_LAST, METRIC_LOWEST, METRIC_REACH } metric_reduce_t;

typedef struct select_spec {
    const char *metric;   /* as written */
    const char *variable; /* the layout variable it reads */
    metric_reduce_t reduce;
    bool maximize;
    double tol;           /* steps_to_tol */
    size_t *by;           /* axis indices */
    size_t n_by;
    int64_t *seeds;       /* the rerun seeds */
    size_t n_seeds;
    const char *text;     /* the select: mapping as written (flow), for the file */
    size_t n_tune;        /* tuning cells: 0..n_tune-1 */
    size_t n_groups;
    size_t *group_of;     /* n_tune: each tuning cell's group */
    size_t *group_first;  /* n_groups: each group's first tuning cell */
    size_t *chosen;       /* n_groups: each group's chosen tuning cell (select_choose; SIZE_MAX: none) */
} select_spec_t;

/* Read select: (node) and append the final cells to exp (ragged: coords
 * set). Called once the tuning cells are built. */
err_code_t select_expand(experiment_t *exp, const node_t *node, err_t *err);

/* The per-cell score of a recorded series (n values, NaN padded). */
double select_score(const select_spec_t *s, const float *series, size_t n);

/* Each group's chosen tuning cell (chosen[g]; SIZE_MAX: no setting of the
 * group finished ok), from every tuning cell's score and status. */
void select_choose(const experiment_t *exp, const double *score, const int8_t *status, size_t *chosen);

/* Make the final cells the copies of exp->select->chosen's cells (their
 * own seeds kept). */
void select_apply(experiment_t *exp);

#endif
