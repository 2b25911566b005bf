/*
 * isolate.h: compute a batch's cells in child processes, so that a cell
 * that crashes (a fatal signal, exit() in plugin code) or runs past a time
 * limit costs that cell and not the sweep.
 *
 * The parent thread's child process (forked once, kept while it lives)
 * computes the batch's unfinished cells with the kind's own compute() into the batch's rows
 * (shared mappings, so no copy) and counts finished cells in a shared
 * page. When the child dies early, the cells it finished are kept and the
 * next one (with analytic lanes, the first of a group that crashed
 * together) is computed alone by a new child: if it dies again it is the
 * culprit and is marked failed with the reason; either way the batch goes
 * on after it. A stop request is passed on as SIGTERM; a child that does
 * not stop within ISOLATE_STOP_GRACE seconds is killed, its cell left
 * pending.
 *
 * A child's kernels run on one thread (OpenMP's thread pool does not
 * survive fork), and it shares nothing writable with the parent but the
 * batch rows and the counter page.
 */
#ifndef RUNNER_SWEEP_ISOLATE_H
#define RUNNER_SWEEP_ISOLATE_H

#include "cells/kind.h"
#include "config/experiment.h"
#include "results/layout.h"

#define ISOLATE_STOP_GRACE 5.0 /* seconds a child has to stop after SIGTERM */

typedef struct {
    double cell_timeout;      /* seconds without a finished cell before the child is killed; 0: none */
    int (*stop_signal)(void); /* the child's own stop poll (its interrupt flag); may be NULL */
} isolate_opts_t;

/* One compute thread's child process, forked when first needed and kept
 * for batch after batch (a fresh fork per batch cost 1.5-2 ms: the fork,
 * then the child's faults on every shared page it writes); forked again
 * after a crash. exp, l and buffers (the thread's) stay the same for
 * every batch. NULL when out of memory. */
typedef struct isolate_worker isolate_worker_t;
isolate_worker_t *isolate_worker_create(const experiment_t *exp, const layout_t *l, void *buffers,
                                        const isolate_opts_t *o);
void isolate_worker_destroy(isolate_worker_t *w);

/* As kind->compute(exp, l, b, buffers, env), in the worker's child
 * processes. b's rows must be in shared mappings made before the worker
 * first forked (isolate_alloc). */
void isolate_compute(isolate_worker_t *w, batch_t *b, const cell_env_t *env);

/* Memory a child can write and the parent read: zeroed, page-granular. */
void *isolate_alloc(size_t bytes);
void isolate_free(void *p, size_t bytes);

#endif
