/*
 * compare.h: results files as problems, compared by performance profiles
 * (issue 20, item 3; `runner compare`).
 *
 * Each file is one problem (an objective, a data set). Its settings (the
 * final phase of a study with select:) are labelled as the report labels
 * them, the run and the values of every axis but seed, and matched across
 * files by that label. A setting's cost on a problem is the mean over its
 * seeds of the steps (analytic) or epochs (training) until the loss is at
 * most tol, or, for training with a target accuracy, until the test
 * accuracy is at least that; it solves the problem when every one of its
 * cells is ok and gets there, and costs +inf otherwise (a setting absent
 * from a file too).
 *
 * Dolan and Moré's performance profile: on problem p, the ratio of a
 * setting's cost to the least cost of any setting, r(p, s) (a cost below 1
 * step counts as 1, so a start already at the target is ratio 1 for all);
 * rho_s(tau) = the fraction of problems with r(p, s) <= tau. The area is
 * the integral of rho_s over [1, tau_max] divided by tau_max - 1 (AlgoPerf's
 * score, on a linear tau axis): 1 for a setting that is the fastest on
 * every problem, 0 for one that solves none within tau_max.
 */
#ifndef RUNNER_COMPARE_H
#define RUNNER_COMPARE_H

#include <stdbool.h>
#include <stdio.h>

#include "base/error.h"

typedef struct {
    size_t n_problems, n_settings;
    char **problem; /* each file's title (its config's name), made unique */
    char **setting; /* labels, in the order first seen */
    double *cost;   /* n_settings x n_problems; INFINITY: not solved */
    double *best;   /* n_problems: the least cost of any setting */
    bool training;
    double tol, target_acc; /* what "reached" meant: loss <= tol, or accuracy >= target_acc */
} compare_t;

/* Read the files. For analytic files tol is the loss to reach (NaN, with
 * no target_acc: REPORT_DEFAULT_TOL); training files need target_acc (test
 * accuracy) or tol (training loss), else ERR_USAGE. */
err_code_t compare_read(const char *const *paths, size_t n, double tol, double target_acc, compare_t *c, err_t *err);
void compare_free(compare_t *c);

/* r(p, s): INFINITY when s does not solve p. */
double compare_ratio(const compare_t *c, size_t s, size_t p);
/* rho_s(tau) and the area over [1, tau_max]. */
double compare_rho(const compare_t *c, size_t s, double tau);
double compare_area(const compare_t *c, size_t s, double tau_max);

/* The table (text or CSV) at the given taus (ascending, >= 1). */
void compare_print(FILE *out, const compare_t *c, const double *taus, size_t n_taus, bool csv);

#endif
