/* cmd_surface.c: `runner surface RESULTS.h5 --cell N --range LO,HI[,LO,HI] [--points N]`:
 * the objective of an analytic cell on a regular grid, as text, so that
 * runner-plot draws contour lines of exactly the function the cell
 * optimized (named, formula or regression), computed by the same code.
 * The cell's problem comes from the file's resolved_config, which runs on
 * its own; the plugins it names must be on the search path. */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cells/kind.h"
#include "cli/commands.h"
#include "results/h5util.h"

/* The resolved_config attribute of a results file, into *text (malloc'd). */
static err_code_t read_resolved_config(const char *path, char **text, err_t *err)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fis_hdf5(path) > 0 ? h5_open_read(path) : -1;
    if (f < 0) return err_set(err, ERR_IO, (mark_t){path, 0, 0}, "not an HDF5 file, or unreadable");
    *text = h5_read_attr_text(f, "resolved_config");
    H5Fclose(f);
    if (!*text) return err_set(err, ERR_IO, (mark_t){path, 0, 0}, "not a runner results file (no resolved_config)");
    return ERR_OK;
}

err_code_t cmd_surface(const cli_t *cli, registry_t *reg, run_context_t *ctx, err_t *err)
{
    err_code_t rc = read_resolved_config(cli->results, &ctx->config_text, err);
    if (rc) return rc;
    experiment_t *exp = &ctx->exp;
    ctx->have_exp = true;
    char source[1024];
    snprintf(source, sizeof source, "%s (resolved_config)", cli->results);
    if ((rc = experiment_load(exp, source, ctx->config_text, strlen(ctx->config_text), NULL, 0, reg, 0, err)))
        return rc;
    if (exp->kind != &cell_kind_analytic)
        return err_set(err, ERR_USAGE, (mark_t){0}, "%s holds %s cells: no objective surface (only analytic cells have one)",
                       cli->results, exp->kind->name);
    if (cli->cell >= exp->n_cells)
        return err_set(err, ERR_USAGE, (mark_t){0}, "--cell %zu: the file has cells 0 to %zu", cli->cell, exp->n_cells - 1);
    const problem_t *p = exp->cells[cli->cell].problem;
    size_t dim = cli->n_range / 2;
    if (dim != p->dim || dim > 2)
        return err_set(err, ERR_USAGE, (mark_t){0},
                       "cell %zu's objective has %zu parameter%s: give --range LO,HI%s (surfaces are for 1 or 2)",
                       cli->cell, p->dim, p->dim == 1 ? "" : "s", p->dim == 2 ? ",LO,HI" : "");
    size_t n = cli->points, ny = dim == 2 ? n : 1;
    double x[2], grad[2], scratch[2];
    for (size_t j = 0; j < ny; j++) {
        if (dim == 2) x[1] = cli->range[2] + (cli->range[3] - cli->range[2]) * (double)j / (double)(n - 1);
        for (size_t i = 0; i < n; i++) {
            x[0] = cli->range[0] + (cli->range[1] - cli->range[0]) * (double)i / (double)(n - 1);
            printf(i ? " %.9g" : "%.9g", problem_eval(p, x, grad, scratch));
        }
        putchar('\n');
    }
    return ferror(stdout) ? err_set(err, ERR_IO, (mark_t){0}, "cannot write to stdout") : ERR_OK;
}
