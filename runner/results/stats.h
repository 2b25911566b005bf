/*
 * stats.h: the statistics a report gives over seeds (issue 20, item 2).
 *
 * A 95% confidence interval of a mean over n seeds is Student's t interval,
 * mean +- t(0.975, n-1) s / sqrt(n): exact for normal samples, the usual
 * choice for a handful of seeds (a bootstrap needs more of them). Two
 * settings are compared by the Mann-Whitney U test (two-sided; it assumes
 * no distribution): exactly, from the U distribution, when neither sample
 * has more than 25 values and there are no ties, as scipy.stats.mannwhitneyu
 * does with method="exact"; else by the normal approximation with the tie
 * and continuity corrections (method="asymptotic"). Several comparisons
 * are adjusted by Holm's step-down method. tests/reference/make_stats_reference.py
 * made the reference values test_stats checks against scipy 1.10.
 */
#ifndef RUNNER_STATS_H
#define RUNNER_STATS_H

#include <stddef.h>

/* t(0.975, df): the two-sided 95% critical value of Student's t; NaN for df 0. */
double stats_t975(size_t df);

/* The two-sided p-value of the Mann-Whitney U test of a (na values) against
 * b (nb), and U of a (the count of pairs where a's value is larger, ties
 * counting a half); NaN when either sample is empty. NaN values are not
 * passed in. */
double stats_mann_whitney(const double *a, size_t na, const double *b, size_t nb, double *u);

/* Holm's adjustment of m p-values, in place (each at most 1). */
void stats_holm(double *p, size_t m);

#endif
