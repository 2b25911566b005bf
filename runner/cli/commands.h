/*
 * commands.h: the subcommands. Each returns an error value (reported by
 * main) and, through *exit_status, what the process should exit with when
 * there was no error to report.
 */
#ifndef RUNNER_COMMANDS_H
#define RUNNER_COMMANDS_H

#include "cli/cli.h"
#include "sweep/mpi_link.h"
#include "plugin_host/registry.h"

/* What a reported error may point into: the config text and the loaded
 * experiment (marks of --set values live in its arena). cmd_run fills it;
 * main prints the error, then frees it. */
typedef struct {
    char *config_text;
    experiment_t exp;
    bool have_exp;
    /* Under MPI: another rank (rank 0) reports this error; print nothing. */
    bool reported_elsewhere;
    mpi_link_t *mpi; /* the job, when mpirun/srun started several processes */
} run_context_t;

/* Frees the context and, under MPI, leaves the job: after main has printed
 * the error, so that every rank waits for rank 0's report. */
void run_context_free(run_context_t *ctx);
/* The text a mark points into, for printing the line and caret. */
const char *run_context_source(const run_context_t *ctx, const cli_t *cli, const mark_t *mark);

err_code_t cmd_run(const cli_t *cli, registry_t *reg, run_context_t *ctx, int *exit_status, err_t *err);
/* `runner report`: needs no config and no plugins, only the file. */
err_code_t cmd_report(const cli_t *cli, err_t *err);
/* `runner check PLUGIN.so`: the verdict goes to stdout and into
 * *exit_status (0 pass, 1 fail); found is the normal search, to warn
 * about a plugin of the same name that would shadow this one. */
err_code_t cmd_check(const cli_t *cli, const registry_t *found, int *exit_status, err_t *err);
/* `runner surface`: an analytic cell's objective on a grid, as text rows. */
err_code_t cmd_surface(const cli_t *cli, registry_t *reg, run_context_t *ctx, err_t *err);
err_code_t cmd_plugins(const registry_t *reg, err_t *err);
err_code_t cmd_describe(const registry_t *reg, const char *name, err_t *err);

#endif
