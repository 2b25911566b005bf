/*
 * main.c: the dispatcher, and the one place that prints errors and chooses
 * the exit status. Everything below returns error values.
 *
 *   runner [global options] CONFIG [options]        (the default command)
 *   runner [global options] COMMAND ARGS [options]  (a row of commands.c)
 *
 * Global options work with every command and may come anywhere: --help,
 * --version, --plugin-path DIR, --allow-insecure-plugins. The command word,
 * when there is one, is the first other argument. main loads the plugins
 * for the commands whose row says NEEDS_PLUGINS.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "cli/commands.h"
#include "sweep/crash.h"
#include "plugin_host/host_services.h"
#include "plugin_host/registry.h"
#include "version.h"

static void print_version(void)
{
#ifdef RUNNER_HAVE_MPI
    const char *mpi = ", MPI";
#else
    const char *mpi = "";
#endif
    printf("runner %s (plugin ABI %d.%d%s)\n", RUNNER_VERSION, RUNNER_ABI_MAJOR, RUNNER_ABI_MINOR, mpi);
    /* which matrix kernels run here: scripts (and test_train) read this line */
    printf("matrix kernels: %s; this CPU runs:", kernels_name(host_kernels()));
    const kernels_t all[] = {KERNELS_AVX512, KERNELS_AVX2, KERNELS_PORTABLE, KERNELS_OPENBLAS};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (kernels_supported(all[i])) printf(" %s", kernels_name(all[i]));
    printf("\n");
}

/* Plugin code that calls exit() (from a step, or from a constructor while
 * the plugins load) would end the runner with the plugin's status, 0
 * included, and an unfinished file. Every exit but main's own return comes
 * through here: it says so and makes the status 70 (EX_SOFTWARE). */
static volatile sig_atomic_t main_returns;
static const char *volatile exit_phase = "while loading plugins";

static void unexpected_exit(void)
{
    if (main_returns) return;
    if (crash_in_child()) _exit(70); /* a cell's own process (isolate.h): its parent says what happened */
    bool in_cell = crash_note_exit();
    char msg[4800]; /* the hint is up to 4 KB */
    int n = snprintf(msg, sizeof msg,
                     "runner: error: plugin code called exit() %s; the runner did not finish (a results file keeps "
                     "every cell finished before it: %s)%s\n",
                     exit_phase,
                     in_cell ? "--resume computes the cells that were in flight each in a process of its own, marks "
                               "the one that exits failed and goes on"
                             : "--resume finishes it once the plugin is fixed",
                     crash_hint());
    if (n > 0 && write(STDERR_FILENO, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1) < 0) {
        /* nothing more to do: the status says it */
    }
    _exit(70);
}

static int exit_status_for(err_code_t code, int run_status)
{
    if (code == ERR_USAGE || code == ERR_CONFIG) return 2;
    if (code == ERR_IO) return run_status == 1 ? 1 : 2;
    if (code == ERR_STOPPED) return run_status; /* 130/143 after a signal, 1 after --fail-fast */
    return 1;
}

typedef enum { GLOBALS_RUN, GLOBALS_HELP, GLOBALS_VERSION } globals_outcome_t;

/* Take the global options out of argv (into g); what is left, in order,
 * goes to rest. */
static err_code_t take_globals(int argc, char **argv, cli_globals_t *g, char **rest, int *n_rest,
                               globals_outcome_t *outcome, err_t *err)
{
    *outcome = GLOBALS_RUN;
    *n_rest = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            *outcome = GLOBALS_HELP;
            return ERR_OK;
        }
        if (!strcmp(a, "--version")) {
            *outcome = GLOBALS_VERSION;
            return ERR_OK;
        }
        if (!strcmp(a, "--allow-insecure-plugins")) {
            g->allow_insecure_plugins = true;
        } else if (!strcmp(a, "--plugin-path")) {
            if (i + 1 >= argc) return err_set(err, ERR_USAGE, (mark_t){0}, "--plugin-path needs a directory");
            g->plugin_dirs[g->n_plugin_dirs++] = argv[++i];
        } else if (!strncmp(a, "--plugin-path=", 14)) {
            g->plugin_dirs[g->n_plugin_dirs++] = a + 14;
        } else {
            rest[(*n_rest)++] = argv[i];
        }
    }
    return ERR_OK;
}

/* RUNNER_KERNELS: which kernels compute matrix products (kernels/gemm.h);
 * unset or "auto" is the fastest this CPU runs, all with the same bits. */
static err_code_t take_kernels(err_t *err)
{
    const char *name = getenv("RUNNER_KERNELS");
    kernels_t k = kernels_best();
    if (name && *name && !kernels_parse(name, &k))
        return err_set(err, ERR_USAGE, (mark_t){0},
                       "RUNNER_KERNELS=%s: expected auto, avx512, avx2, portable or openblas", name);
    if (!kernels_supported(k))
        return err_set(err, ERR_USAGE, (mark_t){0},
                       "RUNNER_KERNELS=%s: this CPU cannot run them; it runs %s (all give the same bits)", name,
                       kernels_supported(KERNELS_AVX2) ? "avx2, portable or openblas" : "portable or openblas");
    host_set_kernels(k);
    return ERR_OK;
}

int main(int argc, char **argv)
{
    /* Our files are closed explicitly on every path that keeps one. Left to
     * HDF5's atexit cleanup, a file whose close failed (disk full, file-size
     * limit) was closed again at exit and crashed in H5F__close_cb (1.10.8,
     * seen with ulimit -f: SIGSEGV after the error was printed). */
    H5dont_atexit();
    atexit(unexpected_exit);
    err_t err = {0};
    cli_globals_t g = {.argc = argc, .argv = argv};
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    g.plugin_dirs = calloc((size_t)argc + 1, sizeof *g.plugin_dirs);
    int n_rest = 0, status = 2;
    globals_outcome_t outcome = GLOBALS_RUN;
    err_code_t rc = !rest || !g.plugin_dirs ? err_set(&err, ERR_NOMEM, (mark_t){0}, "out of memory")
                                            : take_globals(argc, argv, &g, rest, &n_rest, &outcome, &err);
    if (rc == ERR_OK) rc = take_kernels(&err);
    if (rc) {
        fprintf(stderr, "runner: error: %s\n", err.msg);
    } else if (outcome != GLOBALS_RUN) {
        outcome == GLOBALS_HELP ? commands_print_usage(stdout) : print_version();
        status = 0;
    } else {
        const command_t *cmd = commands_find(n_rest > 0 ? rest[0] : NULL);
        int skip = cmd->name ? 1 : 0; /* the command word */
        registry_t reg;
        registry_init(&reg);
        reg.allow_insecure = g.allow_insecure_plugins;
        run_context_t ctx = {0};
        if (cmd->flags & NEEDS_PLUGINS) rc = registry_scan_all(&reg, g.plugin_dirs, g.n_plugin_dirs, &err);
        exit_phase = "while running the command";
        if (rc == ERR_OK)
            rc = cmd->fn(n_rest - skip, rest + skip, &g, &reg, &ctx, &status, &err); /* empty unless NEEDS_PLUGINS */
        if (rc) {
            if (!ctx.reported_elsewhere) err_print(&err, run_context_source(&ctx, &err.mark), "runner");
            status = exit_status_for(rc, status);
        }
        run_context_free(&ctx);
        registry_free(&reg);
    }
    free(rest);
    free(g.plugin_dirs);
    main_returns = 1;
    return status;
}
