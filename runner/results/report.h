/*
 * report.h: tables of what a sweep came to, from a results file read back
 * (results.h). `runner report` prints them; the end-of-sweep summary of a
 * run is the same code on the file the run just closed.
 *
 * Rows: by default one per setting of the non-seed axes, its numbers the
 * mean +- sample standard deviation over the seed axis (when there is
 * one); with --by AXIS one per value of that axis, over all its cells, with
 * the best setting of the other axes in that group. Only ok cells enter the
 * means; diverged, failed and pending cells are counted. Best: lowest mean
 * final loss (analytic) or highest mean final validation accuracy (training
 * with a validation split; else test accuracy), or --metric's.
 */
#ifndef RUNNER_REPORT_H
#define RUNNER_REPORT_H

#include <stdio.h>

#include "results/results.h"

/* The loss tolerance of analytic reports ("steps to 1e-06") unless --tol is given. */
#define REPORT_DEFAULT_TOL 1e-6

typedef struct {
    int by;   /* the axis to group by, or -1 */
    bool csv; /* comma-separated values with a header line, numbers unrounded */
} report_opts_t;

/* What "best" ranks by (--metric NAME, a CSV column's name such as
 * final_validation_loss); the default is final_validation_accuracy when
 * the file has a validation split, else final_test_accuracy (training) or
 * final_loss. An error when the file has no such numbers. */
err_code_t report_set_metric(results_t *r, const char *name, err_t *err);

/* The index of the axis called `name`, for --by; an error naming the axes otherwise. */
err_code_t report_find_axis(const results_t *r, const char *name, int *by, err_t *err);

/* The whole report: a heading line, the table, the best setting and the first failure. */
err_code_t report_print(FILE *out, const results_t *r, const report_opts_t *o, err_t *err);

/* The end-of-sweep lines: the table when it has 2 to max_rows rows, the
 * best cell and the first failure. */
err_code_t report_summary(FILE *out, const results_t *r, size_t max_rows, err_t *err);

#endif
