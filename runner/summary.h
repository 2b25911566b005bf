/*
 * summary.h: what a sweep came to, cell by cell: counts by status, the best
 * cell by its final metric (loss: lowest is best; test accuracy: highest),
 * the first failure. Fed with the cells a resumed file
 * already holds, then with each batch as it is written.
 */
#ifndef RUNNER_SUMMARY_H
#define RUNNER_SUMMARY_H

#include <runner/plugin.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct {
    size_t ok, diverged, failed;
    size_t resumed; /* of those, cells already in the file when it was resumed */
    bool higher_is_better;   /* the metric: accuracy (true) or loss (false) */
    const char *metric_name; /* "final loss", "final test accuracy" */
    bool have_best;
    size_t best_cell; /* best final metric among ok cells (lowest index on ties) */
    double best_value;
    size_t first_failed;
    char first_failure[RUNNER_ERR_MAX];
    double seconds;
} sweep_summary_t;

void summary_init(sweep_summary_t *sum, const char *metric_name, bool higher_is_better);
/* One finished cell; final is read only for ok cells, failure only for failed ones. */
void summary_add(sweep_summary_t *sum, size_t cell, int status, double final, const char *failure);
size_t summary_done(const sweep_summary_t *sum);

#endif
