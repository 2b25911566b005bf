/*
 * results.h: a results file read back, for reports and plots. It needs no
 * config and no plugins: the file describes itself (axes from the
 * dimension labels of `status`, the cell kind from its variables).
 *
 * Per cell it keeps what a report shows: status, final and best loss, the
 * step (analytic) or epoch (training) at which the loss first reached a
 * tolerance, and, for training, final and best test accuracy. Variables are
 * read in slabs of cells, so a file larger than memory can be summarised.
 */
#ifndef RUNNER_RESULTS_H
#define RUNNER_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

typedef struct {
    char *name;    /* "run", a dotted grid path, or "seed" */
    size_t n;
    char **labels; /* each value as text: a run label, or the shortest exact number */
    bool is_seed;
} results_axis_t;

typedef struct {
    int8_t status;        /* STATUS_* of h5out.h */
    double final_loss;    /* last recorded loss (analytic: objective; training: loss on the training samples) */
    double best_loss;     /* lowest recorded loss */
    int32_t reach;        /* first step/epoch with loss <= tol; -1 never (or no tol) */
    int32_t reach_acc;    /* training: first epoch with test accuracy >= the target; -1 never (or no target) */
    double final_train_acc; /* training: last accuracy on the training samples (the evaluation's); NaN for analytic cells */
    double final_acc;     /* training: last test accuracy; NaN for analytic cells */
    double best_acc;      /* training: highest test accuracy */
    double final_val_acc, best_val_acc;   /* training with a validation split: last and highest */
    double final_val_loss, best_val_loss; /* and its loss: last and lowest */
    double final_evals;   /* analytic, with `evaluations`: the objective evaluations of the whole cell; else NaN */
    double reach_evals;   /* ... and those up to the step that reached tol; NaN never (or no tol) */
} results_cell_t;

typedef struct {
    char *path, *title;
    /* the caller's path, which errors name: an error is printed after
     * results_free, so never r->path (a freed name was printed) */
    const char *mark_path;
    bool training;
    bool has_validation; /* training: validation_accuracy and validation_loss exist */
    bool has_evaluations; /* analytic: `evaluations` exists (an optimizer took several a step) */
    int rank_metric;     /* what "best" ranks by (report.c's metrics); -1: the default */
    int run_state;       /* run_state_t of h5out.h */
    results_axis_t *axes;
    size_t n_axes, n_cells;
    /* The file's cell dimensions: n_axes of them, or a ragged study's one,
     * `cell` (format.h), whose axes are columns: coords holds each cell's
     * label index on each (n_cells x n_axes; a cell without a value on an
     * axis has the label "-"). NULL for a cartesian file. */
    size_t n_dims;
    uint32_t *coords;
    /* Each cell's setting: its values on every axis but seed, numbered in
     * the order they first appear (cells of a setting differ in seed only). */
    size_t *setting;
    size_t n_settings;
    /* A study with select: (config/select.h): its axes include `phase`
     * ("tune", "final") until results_keep_phase keeps one of them. */
    bool has_phases;
    size_t cell_offset; /* the file's index of cell 0 here (a phase kept: its first cell) */
    results_cell_t *cells;
    size_t first_failed; /* valid when some cell failed */
    char *first_failure;
    double tol;          /* the tolerance reach was computed with; NaN when none */
    double target_acc;   /* the accuracy reach_acc was computed with; NaN when none */
} results_t;

/* Read `path`. tol: the loss tolerance for `reach` (NaN: none). */
err_code_t results_read(const char *path, double tol, results_t *r, err_t *err);
/* The same, and for training cells reach_acc, the first epoch whose test
 * accuracy is at least target_acc (NaN: none). */
err_code_t results_read_target(const char *path, double tol, double target_acc, results_t *r, err_t *err);
void results_free(results_t *r);

/* Keep the cells of one phase ("tune" or "final") of a study with
 * select:, renumbered, the `phase` axis dropped. ERR_USAGE when the file
 * has no phases or no such phase. */
err_code_t results_keep_phase(results_t *r, const char *phase, err_t *err);

/* Whether path is an HDF5 file (its signature), so `runner PATH` reruns it. */
bool results_is_hdf5(const char *path);
/* The resolved_config attribute of a results file, into *text (malloc'd):
 * the experiment as it ran, runnable on its own. */
err_code_t results_read_config(const char *path, char **text, err_t *err);

/* Coordinates of a cell into idx[n_axes]: row-major (last axis fastest), or
 * a ragged file's table. */
void results_cell_coords(const results_t *r, size_t cell, size_t *idx);

/* "axis=value axis=value" for a cell, skipping axis `skip` (-1: none) and the seed axis when skip_seed. */
void results_cell_label(const results_t *r, size_t cell, int skip, bool skip_seed, char *buf, size_t len);

#endif
