/*
 * cli.h: the command line, parsed into a struct; nothing here prints.
 *
 *   runner CONFIG [--set PATH=VALUE]... [-o OUT] [-j N] [--dry-run] [--force] [--resume]
 *                 [--fail-fast] [--max-cells N] [--max-output SIZE] [--quiet]
 *   runner report RESULTS.h5 [--by AXIS] [--csv] [--tol T]
 *   runner check PLUGIN.so
 *   runner surface RESULTS.h5 --cell N --range LO,HI[,LO,HI] [--points N]
 *   runner plugins
 *   runner describe NAME
 *   runner --help | --version
 * --plugin-path DIR (repeatable) and --allow-insecure-plugins work with every command.
 */
#ifndef RUNNER_CLI_H
#define RUNNER_CLI_H

#include <stdbool.h>

#include "base/error.h"
#include "config/experiment.h"

typedef enum { CMD_RUN, CMD_REPORT, CMD_CHECK, CMD_SURFACE, CMD_PLUGINS, CMD_DESCRIBE, CMD_HELP, CMD_VERSION } command_t;

typedef struct {
    command_t command;
    const char *config;   /* CMD_RUN */
    const char *name;     /* CMD_DESCRIBE: a plugin name; CMD_CHECK: a plugin file */
    const char *results;  /* CMD_REPORT: the results file */
    const char *by;       /* --by AXIS */
    bool csv;             /* --csv */
    double tol;           /* --tol; NaN = the default (report.h) */
    size_t cell;          /* CMD_SURFACE: --cell */
    double range[4];      /* --range LO,HI[,LO,HI] */
    size_t n_range;       /* 2 or 4 numbers given */
    size_t points;        /* --points per dimension */
    const char *output;   /* -o */
    int threads;          /* -j; 0 = OMP_NUM_THREADS or all cores */
    uint64_t max_cells;   /* --max-cells; 0 = EXPERIMENT_MAX_CELLS */
    uint64_t max_output;  /* --max-output in bytes; 0 = the free disk space */
    bool dry_run, force, resume, fail_fast, quiet;
    bool allow_insecure_plugins;
    override_t *overrides;
    size_t n_overrides;
    const char **plugin_dirs;
    size_t n_plugin_dirs;
    int argc; /* the command line as given, for the results file */
    char **argv;
} cli_t;

/* argv strings are borrowed; free with cli_free. */
err_code_t cli_parse(int argc, char **argv, cli_t *cli, err_t *err);
void cli_free(cli_t *cli);

extern const char cli_usage[];

#endif
