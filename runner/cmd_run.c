/* cmd_run.c: `runner CONFIG`: load, validate, create the file, sweep, summarise. */
#include <errno.h>
#include <limits.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "h5out.h"
#include "sweep.h"
#include "yaml_load.h"

/* mkdir -p of the directory part of path. */
static err_code_t make_parent_dirs(const char *path, err_t *err)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return err_set(err, ERR_IO, (mark_t){path, 0, 0}, "output path too long");
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return err_set(err, ERR_IO, (mark_t){path, 0, 0}, "cannot create directory %s: %s", buf, strerror(errno));
        *p = '/';
    }
    return ERR_OK;
}

static void print_cell_table(const experiment_t *exp)
{
    printf("%s: %zu cell%s, %zu %s", exp->name, exp->n_cells, exp->n_cells == 1 ? "" : "s", exp->n_axes,
           exp->n_axes == 1 ? "axis" : "axes");
    for (size_t k = 0; k < exp->n_axes; k++) printf("%s %s[%zu]", k ? "," : ":", exp->axes[k].name, exp->axes[k].n);
    printf("\n%-6s", "cell");
    for (size_t k = 0; k < exp->n_axes; k++) printf(" %-14s", exp->axes[k].name);
    printf(" %-6s %-20s %s\n", "steps", "problem", "optimizer");
    size_t idx[64];
    for (size_t c = 0; c < exp->n_cells; c++) {
        const cell_t *cell = &exp->cells[c];
        experiment_cell_coords(exp, c, idx);
        printf("%-6zu", c);
        for (size_t k = 0; k < exp->n_axes; k++) printf(" %-14s", exp->axes[k].labels[idx[k]]);
        printf(" %-6u %-20s %s\n", cell->steps, cell->problem->label, cell->opt->text);
    }
}

static char *join_command_line(int argc, char **argv)
{
    size_t len = 1;
    for (int i = 0; i < argc; i++) len += strlen(argv[i]) * 4 + 3;
    char *s = malloc(len), *p = s;
    if (!s) return NULL;
    for (int i = 0; i < argc; i++) {
        bool quote = strpbrk(argv[i], " \t'\"$*?[]{}()<>|&;\\") != NULL || !*argv[i];
        if (i) *p++ = ' ';
        if (quote) *p++ = '\'';
        for (const char *q = argv[i]; *q; q++) {
            if (*q == '\'' && quote) {
                memcpy(p, "'\\''", 4);
                p += 4;
            } else {
                *p++ = *q;
            }
        }
        if (quote) *p++ = '\'';
    }
    *p = 0;
    return s;
}

static void print_summary(const experiment_t *exp, const sweep_summary_t *sum, const char *output, int threads)
{
    printf("%s: %zu cell%s in %.3f s on %d thread%s: %zu ok, %zu diverged, %zu failed\n", exp->name, exp->n_cells,
           exp->n_cells == 1 ? "" : "s", sum->seconds, threads, threads == 1 ? "" : "s", sum->ok, sum->diverged,
           sum->failed);
    if (sum->have_best) {
        char label[512];
        experiment_cell_label(exp, sum->best_cell, label, sizeof label);
        printf("best: cell %zu%s%s, final loss %.6g\n", sum->best_cell, *label ? " " : "", label, sum->best_loss);
    }
    if (sum->failed) {
        char label[512];
        experiment_cell_label(exp, sum->first_failed, label, sizeof label);
        printf("first failure: cell %zu %s: %s\n", sum->first_failed, label, sum->first_failure);
    }
    printf("output: %s\n", output);
}

void run_context_free(run_context_t *ctx)
{
    if (ctx->have_exp) experiment_free(&ctx->exp);
    free(ctx->config_text);
    memset(ctx, 0, sizeof *ctx);
}

const char *run_context_source(const run_context_t *ctx, const cli_t *cli, const mark_t *mark)
{
    if (!mark->file) return NULL;
    if (cli->config && ctx->config_text && !strcmp(mark->file, cli->config)) return ctx->config_text;
    for (size_t i = 0; i < cli->n_overrides; i++) {
        char name[512];
        snprintf(name, sizeof name, "--set %s", cli->overrides[i].path);
        if (!strcmp(mark->file, name)) return cli->overrides[i].value;
    }
    return NULL;
}

err_code_t cmd_run(const cli_t *cli, registry_t *reg, run_context_t *ctx, int *exit_status, err_t *err)
{
    size_t len = 0;
    err_code_t rc;
    *exit_status = 2; /* until the output file exists, any error is the input's */
    if ((rc = read_text_file(cli->config, &ctx->config_text, &len, err))) return rc;
    experiment_t *exp = &ctx->exp;
    ctx->have_exp = true;
    if ((rc = experiment_load(exp, cli->config, ctx->config_text, len, cli->overrides, cli->n_overrides, reg, err)))
        return rc;
    const char *output = cli->output ? cli->output : exp->output;
    if (cli->dry_run) {
        print_cell_table(exp);
        printf("output: %s (not written: --dry-run)\n", output);
        *exit_status = 0;
        return ERR_OK;
    }
    struct stat st;
    if (stat(output, &st) == 0 && !cli->force)
        return err_set(err, ERR_CONFIG, (mark_t){output, 0, 0},
                       "output file exists; use --force to overwrite it, or -o to write elsewhere");
    if ((rc = make_parent_dirs(output, err))) return rc;
    char *cmdline = join_command_line(cli->argc, cli->argv);
    h5out_t *out;
    rc = h5out_create(exp, output, cmdline ? cmdline : "", &out, err);
    free(cmdline);
    if (rc) return rc;

    *exit_status = 1; /* the file exists: from here on a failure is a runtime one */
    int threads = cli->threads > 0 ? cli->threads : omp_get_max_threads();
    sweep_opts_t opts = {.threads = threads, .progress = !cli->quiet && isatty(STDERR_FILENO)};
    sweep_summary_t sum;
    rc = sweep_run(exp, out, &opts, &sum, err);
    err_t close_err;
    err_code_t crc = h5out_close(out, &close_err);
    if (rc) return rc == ERR_NOMEM ? rc : ERR_RUNTIME;
    if (crc) {
        *err = close_err;
        return ERR_RUNTIME;
    }
    if (!cli->quiet) print_summary(exp, &sum, output, threads);
    *exit_status = sum.failed ? 1 : 0;
    return ERR_OK;
}
