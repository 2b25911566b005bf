/* commands.c: the table of commands (git's builtin table), their help, and
 * look-ups in it. Adding a command: its cmd_<name>.c, one row here, CMake
 * and the man page. */
#include "cli/commands.h"

#include <string.h>

/* Each command (cmd_<name>.c) and, for those with options, its table. */
COMMAND(run);
COMMAND(report);
COMMAND(compare);
COMMAND(surface);
COMMAND(check);
COMMAND(plugins);
COMMAND(describe);
extern const cli_options_t cmd_run_options, cmd_report_options, cmd_surface_options, cmd_check_options,
    cmd_compare_options;

/* Every command, one row each (git's builtin table). */
static const command_t commands[] = {
    {"report", cmd_report, 0,
     "       runner report RESULTS.h5 [--by AXIS] [--csv] [--tol T] [--metric M] [--phase P] [--provenance]\n"
     "                                     tabulate a results file: per setting (mean +- std over\n"
     "                                     seeds) or per value of AXIS: final/best loss, steps to\n"
     "                                     loss <= T (default 1e-6, any finite T; training: epochs,\n"
     "                                     only with --tol), test accuracy, diverged/failed counts,\n"
     "                                     validation accuracy and loss when the file has them, the\n"
     "                                     best setting (mean over seeds) by validation accuracy, else\n"
     "                                     test accuracy or final loss, or by --metric (a CSV column\n"
     "                                     name, e.g. final_validation_loss); a study with select:\n"
     "                                     shows its final phase, --phase tune its tuning cells;\n"
     "                                     --provenance first prints what made the file (build,\n"
     "                                     machine, plugin and data hashes)\n",
     &cmd_report_options},
    {"compare", cmd_compare, 0,
     "       runner compare FILE... [--tol T] [--tau LIST] [--target-accuracy A] [--csv]\n"
     "                                     each file one problem, settings matched by label: per\n"
     "                                     setting, problems solved (every seed reached loss <= T,\n"
     "                                     default 1e-6; training: test accuracy >= A), steps or\n"
     "                                     epochs to it per problem, the Dolan-More performance\n"
     "                                     profile rho(tau) at --tau (default 1,2,4,8,16) and its area\n",
     &cmd_compare_options},
    {"check", cmd_check, NEEDS_PLUGINS,
     "       runner check PLUGIN.so        validate a plugin file and self-test what it exports:\n"
     "                                     optimizers on convex quadratics, layers by gradient check\n"
     "       runner check CONFIG [--samples N] [--params N]\n"
     "                                     a training config's networks: backpropagation against\n"
     "                                     numerical gradients, layer by layer (N samples, default 3;\n"
     "                                     up to N parameters a layer, default 20)\n",
     &cmd_check_options},
    {"surface", cmd_surface, 0, /* the objective needs no plugin */
     "       runner surface RESULTS.h5 --cell N --range LO,HI[,LO,HI] [--points N]\n"
     "                                     an analytic cell's objective on a grid (rows of numbers;\n"
     "                                     runner-plot draws its contour lines from them)\n",
     &cmd_surface_options},
    {"plugins", cmd_plugins, NEEDS_PLUGINS, "       runner plugins                list the plugins found\n", NULL},
    {"describe", cmd_describe, NEEDS_PLUGINS, "       runner describe NAME          show a plugin's parameters\n",
     NULL},
    /* the default: runner CONFIG (last: a config may not be named like a command) */
    {NULL, cmd_run, NEEDS_PLUGINS,
     "usage: runner CONFIG [options]       run an experiment\n"
     "       runner RESULTS.h5 [options]   rerun the experiment a results file records (its\n"
     "                                     resolved_config), with the plugin and data files it names;\n"
     "                                     over the file itself unless -o (so --resume finishes it)\n",
     &cmd_run_options},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static const char run_options_help[] =
    "\n"
    "options:\n"
    "  --set PATH=VALUE   override a config value (YAML), e.g. --set optimizer.lr=0.3,\n"
    "                     --set steps=50, --set grid.optimizer.lr=[0.1,0.2] (repeatable)\n"
    "  -o, --output FILE  write results to FILE instead of the config's output\n"
    "  -j, --jobs N       threads (default: OMP_NUM_THREADS, else all cores)\n"
    "  --dry-run          print the cells and exit without running\n"
    "  --force            overwrite an existing output file (with --resume: start over\n"
    "                     when the file cannot be resumed)\n"
    "  --resume           finish an interrupted run: compute only the cells the output\n"
    "                     file does not hold yet (refused if it was made from another config)\n"
    "  --fail-fast        stop at the first failed cell (default: record it and go on)\n"
    "  --isolate          compute cells in child processes: a cell that crashes, calls\n"
    "                     exit() or hangs is marked failed and the sweep goes on\n"
    "  --cell-timeout S   stop and fail a cell that runs longer than S seconds (implies\n"
    "                     --isolate)\n"
    "  --all-cells        with --dry-run: list every cell (a study of more than 40 is\n"
    "                     summarised: its axes, its first and last cells)\n"
    "  --max-cells N      refuse sweeps of more than N cells (default 10000000)\n"
    "  --max-output SIZE  refuse output files larger than SIZE, e.g. 500M, 20G (default:\n"
    "                     the free space where the file goes)\n"
    "  --quiet            no progress line and no summary\n"
    "  --plugin-path DIR  also search DIR for plugins (repeatable; after RUNNER_PLUGIN_PATH)\n"
    "  --allow-insecure-plugins\n"
    "                     load plugins even from world-writable files or directories\n"
    "  -h, --help         this help\n"
    "  --version          print the version\n"
    "\n"
    "\n"
    "on a cluster: mpirun -np N runner CONFIG [options] (or srun) shares the cells between the\n"
    "             ranks; rank 0 writes the one file, the same bits as a single-process run\n"
    "\n"
    "exit status: 0 success (diverged cells are results), 1 runtime failure or a failed cell,\n"
    "             2 usage or config error (nothing is written), 130/143 interrupted by\n"
    "             SIGINT/SIGTERM (finished cells are kept: run again with --resume)\n";

void commands_print_usage(FILE *out)
{
    fputs(commands[N_COMMANDS - 1].usage, out);
    for (size_t i = 0; i + 1 < N_COMMANDS; i++) fputs(commands[i].usage, out);
    fputs(run_options_help, out);
}

const char *commands_option_owner(const char *a)
{
    size_t len = strcspn(a, "=");
    for (size_t i = 0; i < N_COMMANDS; i++)
        for (size_t k = 0; commands[i].options && k < commands[i].options->n; k++) {
            const cli_option_t *o = &commands[i].options->list[k];
            if ((strlen(o->name) == len && !strncmp(a, o->name, len)) || (o->short_name && !strcmp(a, o->short_name)))
                return commands[i].name ? commands[i].name : "CONFIG";
        }
    return NULL;
}


const command_t *commands_all(size_t *n)
{
    *n = N_COMMANDS;
    return commands;
}

const command_t *commands_find(const char *word)
{
    for (size_t i = 0; word && i + 1 < N_COMMANDS; i++)
        if (!strcmp(word, commands[i].name)) return &commands[i];
    return &commands[N_COMMANDS - 1];
}
