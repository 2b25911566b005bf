/*
 * summary.h: a sweep's progress, cell by cell as batches are written:
 * counts by status and the first failure, for the progress line, the exit
 * status and the message of a stopped run. Fed with the cells a resumed
 * file already holds, then with each batch. (The end-of-sweep table and
 * best cell come from the file itself: report.h.)
 */
#ifndef RUNNER_SUMMARY_H
#define RUNNER_SUMMARY_H

#include <runner/plugin.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct {
    size_t ok, diverged, failed;
    size_t resumed; /* of those, cells already in the file when it was resumed */
    size_t first_failed;
    char first_failure[RUNNER_ERR_MAX];
    double seconds;
    double write_seconds; /* of those, the writer's time in HDF5 calls: the serial part of a sweep */
} sweep_summary_t;

void summary_init(sweep_summary_t *sum);
/* One finished cell; failure is read only for failed ones. */
void summary_add(sweep_summary_t *sum, size_t cell, int status, const char *failure);
size_t summary_done(const sweep_summary_t *sum);

#endif
