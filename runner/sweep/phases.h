/*
 * phases.h: a study run as its phases (config/select.h). Without select:
 * one sweep over the cells. With it: the tuning cells as one sweep; then
 * the choice, made by rank 0 from the tuning results in the file (so a
 * resumed study chooses from exactly the numbers an uninterrupted one
 * did), shared with every rank, applied to the final cells and written
 * into the file; then the final cells as a second sweep. A group whose
 * every setting failed or diverged has nothing to rerun: its final cells
 * are written as failed, saying so.
 */
#ifndef RUNNER_PHASES_H
#define RUNNER_PHASES_H

#include "config/experiment.h"
#include "results/h5out.h"
#include "sweep/mpi_link.h"
#include "sweep/sweep.h"

/* opts->todo and opts->suspects cover every cell (NULL: all, none); out is
 * rank 0's (NULL on the others); mpi NULL when alone. exp's final cells
 * become the chosen settings' copies. */
err_code_t phases_run(experiment_t *exp, h5out_t *out, const sweep_opts_t *opts, mpi_link_t *mpi,
                      sweep_summary_t *sum, sweep_stop_t *stop, err_t *err);

#endif
