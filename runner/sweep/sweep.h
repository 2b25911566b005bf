/*
 * sweep.h: run every cell of an experiment in parallel and write them.
 *
 * OpenMP threads take batches of consecutive cells (dynamic schedule: cells
 * differ in cost); each batch is computed into a buffer slot and handed to
 * one writer thread, the only thread that calls HDF5 (the library is
 * serialised anyway, and one writer fed by the workers measured fastest).
 * A cell's numbers depend only on the cell, never on the thread or the
 * batch, so the file is bitwise the same for any -j. With a link
 * (sweep_link.h) the batches are shared with other processes (MPI ranks).
 */
#ifndef RUNNER_SWEEP_H
#define RUNNER_SWEEP_H

#include <stdbool.h>

#include "config/experiment.h"
#include "results/h5out.h"
#include "sweep/summary.h"
#include "sweep/sweep_link.h"

typedef struct {
    int threads;                /* >= 1 */
    bool progress;              /* draw a progress line on stderr */
    bool fail_fast;             /* stop taking new cells after the first failed one */
    const unsigned char *todo;  /* n_cells flags: which cells to compute; NULL: all */
    int (*stop_signal)(void);   /* polled between cells: nonzero asks to stop; may be NULL */
    const sweep_link_t *link;   /* other processes in the sweep; NULL: this one alone */
    /* Crash containment (journal.h, isolate.h). journal: where the local
     * threads note their cells in flight (NULL: nowhere). suspects: cells
     * (n_cells flags, within todo) that were in flight when an earlier
     * process crashed: computed first, each batch of them in child
     * processes. isolate: every batch in child processes; cell_timeout
     * (seconds, 0: none) applies there. resume_hint: how to go on, for the
     * line printed when the process must end early. */
    struct journal *journal;
    const unsigned char *suspects;
    bool isolate;
    double cell_timeout;
    const char *resume_hint;
} sweep_opts_t;

typedef struct {
    int signal;       /* the signal that stopped it, or 0 */
    bool on_failure;  /* stopped by --fail-fast */
} sweep_stop_t;

/* Memory the sweep's buffers take with `threads` threads, at most: for
 * the resource guard, checked before any work. */
uint64_t sweep_buffer_bytes(const experiment_t *exp, int threads);

/* Compute the cells and write them. sum is added to (it may already hold a
 * resumed file's cells). On a stop request the cells in flight are
 * finished and written, the rest stay pending, *stop says why, and the
 * return is still ERR_OK: the file is consistent. On a worker (link, not
 * coordinator) out is not used: batches go to the coordinator. */
err_code_t sweep_run(const experiment_t *exp, h5out_t *out, const sweep_opts_t *opts, sweep_summary_t *sum,
                     sweep_stop_t *stop, err_t *err);

#endif
