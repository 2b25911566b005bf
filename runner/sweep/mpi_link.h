/*
 * mpi_link.h: the processes of one sweep under mpirun or srun (MPI ranks).
 *
 * Rank 0, the coordinator, owns the file: it creates or reopens it, plans
 * the batches, hands them out one at a time to whoever asks (its own
 * threads and the other ranks: dynamic load balancing, as training cells
 * cost far more than analytic ones and differ among themselves) and writes
 * every batch through its one writer thread, the same code path as a
 * single-process run. The other ranks load the same config, compute the
 * batches they are given with their OpenMP threads and send the numbers
 * back. Parallel HDF5 is not used: Debian's openmpi HDF5 build is not
 * thread-safe (docs/hdf5-notes.md), and one writer keeps the file
 * layout, resume and kill -9 behaviour exactly those of one process.
 *
 * What this is not: a fault-tolerant scheduler. When a rank dies, mpirun
 * ends the job (SIGTERM to every rank, SIGKILL about a second later); the
 * coordinator stops taking batches, writes what it holds, marks the file
 * interrupted and the cells not yet written stay pending for --resume,
 * which works with or without mpirun.
 *
 * Built without MPI (cmake -DRUNNER_MPI=OFF), mpi_link_create refuses a
 * job of several processes instead of letting each write the same file.
 */
#ifndef RUNNER_MPI_LINK_H
#define RUNNER_MPI_LINK_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "sweep/sweep_link.h"

typedef struct mpi_link mpi_link_t;

/* Whether a launcher (mpirun, srun) started this process as one of a job,
 * from its environment; nothing is initialised. */
bool mpi_launched(void);

/* Join the job (MPI_Init). *m is NULL when the job has one process: the
 * run is then a plain single-process one. */
err_code_t mpi_link_create(mpi_link_t **m, err_t *err);
/* Leave the job (MPI_Finalize), unless a rank was lost: then the process
 * just exits and mpirun ends the job. NULL is fine. */
void mpi_link_destroy(mpi_link_t *m);

int mpi_link_rank(const mpi_link_t *m);
int mpi_link_size(const mpi_link_t *m);

/* Collective, every rank: whether every rank got ERR_OK; *first_failed is
 * the lowest rank that did not (or -1). */
bool mpi_link_all_ok(mpi_link_t *m, err_code_t rc, int *first_failed);
/* Collective: rank 0's bytes to every rank. */
void mpi_link_bcast(mpi_link_t *m, void *buf, size_t bytes);
/* Collective: the first rank whose text differs from rank 0's, or -1; on
 * rank 0 *theirs gets that rank's text (room for len bytes). */
int mpi_link_first_different(mpi_link_t *m, const char *text, size_t len, char *theirs);
/* Collective: the sum of every rank's v. */
int mpi_link_sum(mpi_link_t *m, int v);

/* The sweep engine's view of the job (sweep_link.h), for the sweep that
 * `threads` compute threads of all ranks together run. */
const sweep_link_t *mpi_link_for_sweep(mpi_link_t *m, int threads);

#endif
