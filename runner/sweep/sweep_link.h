/*
 * sweep_link.h: one sweep shared by several processes (MPI ranks), as the
 * engine in sweep.c and a transport (mpi_link.c) see each other.
 *
 * One process, the coordinator, plans the batches, hands them out one at a
 * time to whoever asks (its own threads and the workers: dynamic load
 * balancing, as cells differ in cost) and is the only one that writes the
 * file, through the same writer thread and the same h5out calls as a
 * single-process run. Workers compute the batches they are given and send
 * them back. A cell's numbers depend only on the cell, so the file is
 * bitwise the same as a single-process run's.
 */
#ifndef RUNNER_SWEEP_LINK_H
#define RUNNER_SWEEP_LINK_H

#include <runner/plugin.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "results/layout.h"

typedef struct sweep sweep_t;

/* What the workers need of the coordinator's plan to size their buffers. */
typedef struct {
    uint64_t n_batches, max_cells;
} sweep_plan_t;

/* How a worker ended, for the coordinator. */
typedef struct {
    int signal;           /* stopped by this signal, or 0 */
    bool failed;          /* err holds why */
    err_t err;
} sweep_peer_end_t;

typedef struct {
    void *ctx;
    bool coordinator;
    int threads; /* compute threads of all processes together: the plan is made for them */
    /* Both sides, collectively, before any batch: the coordinator gives its
     * plan (n_batches 0 when it has nothing to hand out), workers get it;
     * l is what each cell writes, the same on every process. */
    err_code_t (*share_plan)(void *ctx, const layout_t *l, sweep_plan_t *plan, err_t *err);
    /* Coordinator: answer the workers until each one has said it is done;
     * runs on a thread of its own, the only one that talks to them. */
    void (*serve)(void *ctx, sweep_t *s);
    /* Worker: the next batch to compute; false when there is none left. */
    bool (*fetch)(void *ctx, size_t *c0, size_t *c1);
    /* Worker: hand a computed batch over (in place of writing it). */
    err_code_t (*send)(void *ctx, const layout_t *l, const batch_t *b, err_t *err);
    /* Worker: whether the coordinator asked everyone to stop (cheap to poll). */
    bool (*stop_asked)(void *ctx);
    /* Worker: after its last batch went out. */
    void (*done)(void *ctx, const sweep_peer_end_t *end);
} sweep_link_t;

/* For serve(), from its thread. */

/* The next batch of the plan for a worker; false when none is left or the sweep is stopping. */
bool sweep_take_batch(sweep_t *s, size_t *c0, size_t *c1);
/* A batch a worker computed, for the writer; release(b, arg) runs once it is written. */
void sweep_submit(sweep_t *s, batch_t *b, void (*release)(batch_t *b, void *arg), void *arg);
/* A worker stopped early (signal) or failed: the whole sweep stops. */
void sweep_peer_ended(sweep_t *s, const sweep_peer_end_t *end);
/* Whether the sweep is stopping (a signal, --fail-fast, a failure anywhere). */
bool sweep_stopping(sweep_t *s);
/* Whether it is stopping for a signal (here or on another process). */
bool sweep_signalled(sweep_t *s);

#endif
