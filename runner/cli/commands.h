/*
 * commands.h: the subcommands, as one table (commands.c, git's builtin table):
 * a row names the command, its function, whether it needs the plugins
 * loaded, its usage lines and its options. Each command parses its own
 * arguments (options.h) in its own file, cmd_<name>.c.
 *
 * A command returns an error value (main prints it) and, through
 * *exit_status, what the process exits with when there was no error.
 */
#ifndef RUNNER_COMMANDS_H
#define RUNNER_COMMANDS_H

#include <stdbool.h>
#include <stdio.h>

#include "cli/options.h"
#include "config/experiment.h"
#include "plugin_host/registry.h"
#include "sweep/mpi_link.h"

/* What every command gets: the whole command line (for the record) and
 * the options that work with every command, which main has taken out. */
typedef struct {
    int argc;
    char **argv;
    const char **plugin_dirs; /* --plugin-path DIR, repeatable */
    size_t n_plugin_dirs;
    bool allow_insecure_plugins;
} cli_globals_t;

/* What a reported error may point into: the config text and the loaded
 * experiment (marks of --set values live in its arena). Commands that load
 * a config fill it; main prints the error, then frees it. */
typedef struct {
    char *config_text;
    char *config_name; /* owned: the name marks point to when it is not argv's (a file's resolved_config) */
    experiment_t exp;
    bool have_exp;
    /* the --set values (owned), for printing the line an error's mark is in */
    override_t *overrides;
    size_t n_overrides;
    /* Under MPI: another rank (rank 0) reports this error; print nothing. */
    bool reported_elsewhere;
    mpi_link_t *mpi; /* the job, when mpirun/srun started several processes */
} run_context_t;

/* Frees the context and, under MPI, leaves the job: after main has printed
 * the error, so that every rank waits for rank 0's report. */
void run_context_free(run_context_t *ctx);
/* The text a mark points into, for printing the line and caret. */
const char *run_context_source(const run_context_t *ctx, const mark_t *mark);

/* A command: argv are its own arguments (after the command's name); reg is
 * NULL unless the row says NEEDS_PLUGINS. */
typedef err_code_t (*command_f)(int argc, char **argv, const cli_globals_t *g, registry_t *reg, run_context_t *ctx,
                                int *exit_status, err_t *err);

/* A command's definition, COMMAND(name) { ... } in cmd_<name>.c, and its
 * declaration, COMMAND(name); in commands.c: one signature for both. */
#define COMMAND(name)                                                                                       \
    err_code_t cmd_##name(int argc, char **argv, const cli_globals_t *g, registry_t *reg, run_context_t *ctx, \
                          int *exit_status, err_t *err)

enum { NEEDS_PLUGINS = 1u << 0 };

typedef struct {
    const char *name;  /* the word after runner; NULL: the default, runner CONFIG */
    command_f fn;
    unsigned flags;    /* NEEDS_PLUGINS */
    const char *usage; /* its lines of runner --help */
    const cli_options_t *options; /* NULL: none */
} command_t;

/* The row for a command word (the first argument after the global
 * options; NULL when there is none): its command, else the default. */
const command_t *commands_find(const char *word);
/* Every row, the default last; *n gets the count. */
const command_t *commands_all(size_t *n);
/* runner --help. */
void commands_print_usage(FILE *out);
/* The command that has option a (as typed: "--csv", "--tol=3"), for the
 * message when another command is given it; NULL when none has. */
const char *commands_option_owner(const char *a);

#endif
