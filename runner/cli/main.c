/*
 * main.c: the one place that prints errors and chooses the exit status.
 * Everything below returns error values.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "plugin_host/registry.h"
#include "version.h"

static int exit_status_for(err_code_t code, int run_status)
{
    if (code == ERR_USAGE || code == ERR_CONFIG) return 2;
    if (code == ERR_IO) return run_status == 1 ? 1 : 2;
    if (code == ERR_STOPPED) return run_status; /* 130/143 after a signal, 1 after --fail-fast */
    return 1;
}

int main(int argc, char **argv)
{
    err_t err = {0};
    cli_t cli;
    if (cli_parse(argc, argv, &cli, &err)) {
        fprintf(stderr, "runner: error: %s\n", err.msg);
        cli_free(&cli);
        return 2;
    }
    if (cli.command == CMD_HELP) {
        fputs(cli_usage, stdout);
        cli_free(&cli);
        return 0;
    }
    if (cli.command == CMD_VERSION) {
#ifdef RUNNER_HAVE_MPI
        const char *mpi = ", MPI";
#else
        const char *mpi = "";
#endif
        printf("runner %s (plugin ABI %d.%d%s)\n", RUNNER_VERSION, RUNNER_ABI_MAJOR, RUNNER_ABI_MINOR, mpi);
        cli_free(&cli);
        return 0;
    }
    if (cli.command == CMD_REPORT) {
        err_code_t rc = cmd_report(&cli, &err);
        if (rc) err_print(&err, NULL, "runner");
        cli_free(&cli);
        return rc ? exit_status_for(rc, 2) : 0;
    }
    registry_t reg;
    registry_init(&reg);
    reg.allow_insecure = cli.allow_insecure_plugins;
    err_code_t rc = registry_scan_all(&reg, cli.plugin_dirs, cli.n_plugin_dirs, &err);
    int status = 2;
    run_context_t ctx = {0};
    if (rc == ERR_OK) {
        switch (cli.command) {
        case CMD_PLUGINS: rc = cmd_plugins(&reg, &err), status = 0; break;
        case CMD_DESCRIBE: rc = cmd_describe(&reg, cli.name, &err), status = 0; break;
        case CMD_CHECK: rc = cmd_check(&cli, &reg, &status, &err); break;
        case CMD_SURFACE: rc = cmd_surface(&cli, &reg, &ctx, &err), status = 0; break;
        default: rc = cmd_run(&cli, &reg, &ctx, &status, &err); break;
        }
    }
    if (rc) {
        if (!ctx.reported_elsewhere) err_print(&err, run_context_source(&ctx, &cli, &err.mark), "runner");
        status = exit_status_for(rc, status);
    }
    run_context_free(&ctx);
    registry_free(&reg);
    cli_free(&cli);
    return status;
}
