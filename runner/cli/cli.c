/* cli.c: argument parsing. */
#include "cli/cli.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sweep/guards.h"

const char cli_usage[] =
    "usage: runner CONFIG [options]       run an experiment\n"
    "       runner report RESULTS.h5 [--by AXIS] [--csv] [--tol T]\n"
    "                                     tabulate a results file: per setting (mean +- std over\n"
    "                                     seeds) or per value of AXIS: final/best loss, steps to\n"
    "                                     loss <= T (default 1e-6; training: epochs, only with\n"
    "                                     --tol), test accuracy, diverged/failed counts, best setting\n"
    "       runner check PLUGIN.so        validate a plugin file and self-test what it exports:\n"
    "                                     optimizers on convex quadratics, layers by gradient check\n"
    "       runner surface RESULTS.h5 --cell N --range LO,HI[,LO,HI] [--points N]\n"
    "                                     an analytic cell's objective on a grid (rows of numbers;\n"
    "                                     runner-plot draws its contour lines from them)\n"
    "       runner plugins                list the plugins found\n"
    "       runner describe NAME          show a plugin's parameters\n"
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

static err_code_t usage_error(err_t *err, const char *fmt, const char *arg)
{
    return err_set(err, ERR_USAGE, (mark_t){0}, fmt, arg);
}

/* "--opt VALUE" or "--opt=VALUE" */
static const char *option_value(int argc, char **argv, int *i, const char *longname, const char *shortname)
{
    const char *a = argv[*i];
    size_t ll = strlen(longname);
    if (!strncmp(a, longname, ll) && a[ll] == '=') return a + ll + 1;
    if (!strcmp(a, longname) || (shortname && !strcmp(a, shortname))) {
        if (*i + 1 >= argc) return NULL;
        return argv[++*i];
    }
    return NULL;
}

/* A whole number >= 0, all of v. */
static bool parse_count(const char *v, unsigned long long *n)
{
    char *end;
    errno = 0;
    *n = strtoull(v, &end, 10);
    return end != v && !*end && !errno && *v != '-';
}

static bool is_option(const char *a, const char *longname, const char *shortname)
{
    size_t ll = strlen(longname);
    return !strcmp(a, longname) || (shortname && !strcmp(a, shortname)) || (!strncmp(a, longname, ll) && a[ll] == '=');
}

err_code_t cli_parse(int argc, char **argv, cli_t *cli, err_t *err)
{
    memset(cli, 0, sizeof *cli);
    cli->tol = NAN;
    cli->cell = SIZE_MAX;
    cli->points = 100;
    cli->argc = argc;
    cli->argv = argv;
    cli->overrides = calloc((size_t)argc + 1, sizeof *cli->overrides);
    cli->plugin_dirs = calloc((size_t)argc + 1, sizeof *cli->plugin_dirs);
    if (!cli->overrides || !cli->plugin_dirs) return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
    const char *positional[3];
    int n_pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            cli->command = CMD_HELP;
            return ERR_OK;
        }
        if (!strcmp(a, "--version")) {
            cli->command = CMD_VERSION;
            return ERR_OK;
        }
        if (!strcmp(a, "--dry-run")) cli->dry_run = true;
        else if (!strcmp(a, "--force")) cli->force = true;
        else if (!strcmp(a, "--resume")) cli->resume = true;
        else if (!strcmp(a, "--fail-fast")) cli->fail_fast = true;
        else if (!strcmp(a, "--allow-insecure-plugins")) cli->allow_insecure_plugins = true;
        else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) cli->quiet = true;
        else if (!strcmp(a, "--csv")) cli->csv = true;
        else if (is_option(a, "--by", NULL)) {
            if (!(cli->by = option_value(argc, argv, &i, "--by", NULL))) return usage_error(err, "%s needs an axis name", a);
        } else if (is_option(a, "--cell", NULL)) {
            if (!(v = option_value(argc, argv, &i, "--cell", NULL))) return usage_error(err, "%s needs a cell index", a);
            unsigned long long c;
            if (!parse_count(v, &c) || c >= SIZE_MAX) return usage_error(err, "--cell needs a cell index, got '%s'", v);
            cli->cell = (size_t)c;
        } else if (is_option(a, "--points", NULL)) {
            if (!(v = option_value(argc, argv, &i, "--points", NULL))) return usage_error(err, "%s needs a number", a);
            char *end;
            long n = strtol(v, &end, 10);
            if (*end || n < 2 || n > 4000) return usage_error(err, "--points needs a number from 2 to 4000, got '%s'", v);
            cli->points = (size_t)n;
        } else if (is_option(a, "--range", NULL)) {
            if (!(v = option_value(argc, argv, &i, "--range", NULL))) return usage_error(err, "%s needs LO,HI[,LO,HI]", a);
            const char *q = v;
            cli->n_range = 0;
            while (cli->n_range < 4) {
                char *end;
                double x = strtod(q, &end);
                if (end == q || !isfinite(x)) break;
                cli->range[cli->n_range++] = x;
                q = end;
                if (*q != ',') break;
                q++;
            }
            bool ordered = cli->n_range >= 2 && cli->range[0] < cli->range[1] &&
                           (cli->n_range == 2 || cli->range[2] < cli->range[3]);
            if (*q || (cli->n_range != 2 && cli->n_range != 4) || !ordered)
                return usage_error(err, "--range needs LO,HI or LO,HI,LO,HI with LO < HI, got '%s'", v);
        } else if (is_option(a, "--tol", NULL)) {
            if (!(v = option_value(argc, argv, &i, "--tol", NULL))) return usage_error(err, "%s needs a number", a);
            char *end;
            cli->tol = strtod(v, &end);
            if (*end || end == v || !isfinite(cli->tol))
                return usage_error(err, "--tol needs a finite number such as 1e-6, got '%s'", v);
        }
        else if (is_option(a, "--set", NULL)) {
            if (!(v = option_value(argc, argv, &i, "--set", NULL))) return usage_error(err, "%s needs PATH=VALUE", a);
            const char *eq = strchr(v, '=');
            if (!eq || eq == v) return usage_error(err, "--set needs PATH=VALUE, got '%s'", v);
            char *path = strndup(v, (size_t)(eq - v));
            if (!path) return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
            cli->overrides[cli->n_overrides++] = (override_t){path, eq + 1};
        } else if (is_option(a, "--output", "-o")) {
            if (!(cli->output = option_value(argc, argv, &i, "--output", "-o"))) return usage_error(err, "%s needs a file name", a);
        } else if (is_option(a, "--jobs", "-j")) {
            if (!(v = option_value(argc, argv, &i, "--jobs", "-j"))) return usage_error(err, "%s needs a number", a);
            char *end;
            long n = strtol(v, &end, 10);
            if (*end || n < 1 || n > 4096) return usage_error(err, "-j needs a thread count from 1 to 4096, got '%s'", v);
            cli->threads = (int)n;
        } else if (is_option(a, "--max-cells", NULL)) {
            if (!(v = option_value(argc, argv, &i, "--max-cells", NULL))) return usage_error(err, "%s needs a number", a);
            unsigned long long n;
            if (!parse_count(v, &n) || n < 1) return usage_error(err, "--max-cells needs a positive whole number, got '%s'", v);
            cli->max_cells = n;
        } else if (is_option(a, "--max-output", NULL)) {
            if (!(v = option_value(argc, argv, &i, "--max-output", NULL))) return usage_error(err, "%s needs a size", a);
            if (parse_bytes(v, &cli->max_output) != 0 || cli->max_output == 0)
                return usage_error(err, "--max-output needs a size such as 500M, 20G or 1T, got '%s'", v);
        } else if (is_option(a, "--plugin-path", NULL)) {
            if (!(v = option_value(argc, argv, &i, "--plugin-path", NULL))) return usage_error(err, "%s needs a directory", a);
            cli->plugin_dirs[cli->n_plugin_dirs++] = v;
        } else if (!strncmp(a, "-j", 2) && a[2]) {
            char *end;
            long n = strtol(a + 2, &end, 10);
            if (*end || n < 1 || n > 4096) return usage_error(err, "-j needs a thread count from 1 to 4096, got '%s'", a + 2);
            cli->threads = (int)n;
        } else if (a[0] == '-' && a[1]) {
            return usage_error(err, "unknown option '%s' (see runner --help)", a);
        } else {
            if (n_pos == 3) return usage_error(err, "unexpected argument '%s'", a);
            positional[n_pos++] = a;
        }
    }
    if (n_pos == 0) return usage_error(err, "%s", "no config given (see runner --help)");
    if (!strcmp(positional[0], "plugins")) {
        if (n_pos > 1) return usage_error(err, "unexpected argument '%s'", positional[1]);
        cli->command = CMD_PLUGINS;
    } else if (!strcmp(positional[0], "report")) {
        if (n_pos != 2) return usage_error(err, "%s", "report needs one results file: runner report RESULTS.h5");
        cli->command = CMD_REPORT;
        cli->results = positional[1];
    } else if (!strcmp(positional[0], "surface")) {
        if (n_pos != 2) return usage_error(err, "%s", "surface needs one results file: runner surface RESULTS.h5 --cell N --range ...");
        if (cli->cell == SIZE_MAX || !cli->n_range)
            return usage_error(err, "%s", "surface needs --cell N and --range LO,HI[,LO,HI]");
        cli->command = CMD_SURFACE;
        cli->results = positional[1];
    } else if (!strcmp(positional[0], "check")) {
        if (n_pos != 2) return usage_error(err, "%s", "check needs one plugin file: runner check PLUGIN.so");
        cli->command = CMD_CHECK;
        cli->name = positional[1];
    } else if (!strcmp(positional[0], "describe")) {
        if (n_pos != 2) return usage_error(err, "%s", "describe needs one plugin name: runner describe NAME");
        cli->command = CMD_DESCRIBE;
        cli->name = positional[1];
    } else {
        if (n_pos > 1) return usage_error(err, "unexpected argument '%s' (one config at a time)", positional[1]);
        cli->command = CMD_RUN;
        cli->config = positional[0];
    }
    if (cli->command != CMD_REPORT && (cli->by || cli->csv || !isnan(cli->tol)))
        return usage_error(err, "%s", "--by, --csv and --tol go with runner report RESULTS.h5");
    if (cli->command != CMD_SURFACE && (cli->cell != SIZE_MAX || cli->n_range))
        return usage_error(err, "%s", "--cell and --range go with runner surface RESULTS.h5");
    return ERR_OK;
}

void cli_free(cli_t *cli)
{
    for (size_t i = 0; i < cli->n_overrides; i++) free((char *)cli->overrides[i].path);
    free(cli->overrides);
    free(cli->plugin_dirs);
}
