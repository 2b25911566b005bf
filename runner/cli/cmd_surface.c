/* cmd_surface.c: `runner surface RESULTS.h5 --cell N --range LO,HI[,LO,HI] [--points N]`:
 * the objective of an analytic cell on a regular grid, as text, so that
 * runner-plot draws contour lines of exactly the function the cell
 * optimized (named, formula or regression), computed by the same code.
 * The cell's problem comes from the file's resolved_config, which runs on
 * its own; the plugins it names must be on the search path. */
#include <hdf5.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cells/analytic/problem.h"
#include "cells/kind.h"
#include "cli/commands.h"
#include "results/results.h"

typedef struct {
    size_t cell;     /* --cell; SIZE_MAX: not given */
    double range[4]; /* --range LO,HI[,LO,HI] */
    size_t n_range;  /* 2 or 4 numbers given */
    size_t points;   /* --points per dimension */
} surface_options_t;

static err_code_t set_cell(void *o, const char *v, err_t *err)
{
    unsigned long long c;
    if (!cli_parse_count(v, &c) || c >= SIZE_MAX)
        return err_set(err, ERR_USAGE, (mark_t){0}, "--cell needs a cell index, got '%s'", v);
    ((surface_options_t *)o)->cell = (size_t)c;
    return ERR_OK;
}

static err_code_t set_points(void *o, const char *v, err_t *err)
{
    long n;
    if (!cli_parse_int(v, 2, 4000, &n))
        return err_set(err, ERR_USAGE, (mark_t){0}, "--points needs a number from 2 to 4000, got '%s'", v);
    ((surface_options_t *)o)->points = (size_t)n;
    return ERR_OK;
}

static err_code_t set_range(void *opts, const char *v, err_t *err)
{
    surface_options_t *o = opts;
    const char *q = v;
    o->n_range = 0;
    while (o->n_range < 4) {
        char *end;
        double x = strtod(q, &end);
        if (end == q || !isfinite(x)) break;
        o->range[o->n_range++] = x;
        q = end;
        if (*q != ',') break;
        q++;
    }
    bool ordered = o->n_range >= 2 && o->range[0] < o->range[1] && (o->n_range == 2 || o->range[2] < o->range[3]);
    if (*q || (o->n_range != 2 && o->n_range != 4) || !ordered)
        return err_set(err, ERR_USAGE, (mark_t){0}, "--range needs LO,HI or LO,HI,LO,HI with LO < HI, got '%s'", v);
    return ERR_OK;
}

static const cli_option_t surface_option_list[] = {
    {"--cell", NULL, "a cell index", set_cell},
    {"--range", NULL, "LO,HI[,LO,HI]", set_range},
    {"--points", NULL, "a number", set_points},
};
const cli_options_t cmd_surface_options = {surface_option_list, sizeof surface_option_list / sizeof surface_option_list[0]};

COMMAND(surface)
{
    (void)g;
    *exit_status = 2;
    surface_options_t so = {.cell = SIZE_MAX, .points = 100}, *o = &so;
    const char *results;
    size_t n_pos;
    err_code_t rc = cli_parse_options(argc, argv, &cmd_surface_options, &so, &results, 1, &n_pos, err);
    if (rc) return rc;
    if (n_pos != 1)
        return err_set(err, ERR_USAGE, (mark_t){0},
                       "surface needs one results file: runner surface RESULTS.h5 --cell N --range ...");
    if (so.cell == SIZE_MAX || !so.n_range)
        return err_set(err, ERR_USAGE, (mark_t){0}, "surface needs --cell N and --range LO,HI[,LO,HI]");

    rc = results_read_config(results, &ctx->config_text, err);
    if (rc) return rc;
    experiment_t *exp = &ctx->exp;
    ctx->have_exp = true;
    /* owned by the context: an error's mark names it after this returns */
    size_t name_len = strlen(results) + sizeof " (resolved_config)";
    if (!(ctx->config_name = malloc(name_len))) return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
    snprintf(ctx->config_name, name_len, "%s (resolved_config)", results);
    if ((rc = experiment_load(exp, ctx->config_name, ctx->config_text, strlen(ctx->config_text),
                              &(experiment_options_t){.objectives_only = true}, reg, err)))
        return rc;
    if (exp->kind != &cell_kind_analytic)
        return err_set(err, ERR_USAGE, (mark_t){0}, "%s holds %s cells: no objective surface (only analytic cells have one)",
                       results, exp->kind->name);
    if (o->cell >= exp->n_cells)
        return err_set(err, ERR_USAGE, (mark_t){0}, "--cell %zu: the file has cells 0 to %zu", o->cell, exp->n_cells - 1);
    const problem_t *p = exp->cells[o->cell].problem;
    size_t dim = o->n_range / 2;
    if (dim != p->dim || dim > 2)
        return err_set(err, ERR_USAGE, (mark_t){0},
                       "cell %zu's objective has %zu parameter%s: give --range LO,HI%s (surfaces are for 1 or 2)",
                       o->cell, p->dim, p->dim == 1 ? "" : "s", p->dim == 2 ? ",LO,HI" : "");
    size_t n = o->points, ny = dim == 2 ? n : 1;
    double x[2], grad[2], scratch[2];
    for (size_t j = 0; j < ny; j++) {
        if (dim == 2) x[1] = o->range[2] + (o->range[3] - o->range[2]) * (double)j / (double)(n - 1);
        for (size_t i = 0; i < n; i++) {
            x[0] = o->range[0] + (o->range[1] - o->range[0]) * (double)i / (double)(n - 1);
            printf(i ? " %.9g" : "%.9g", problem_eval(p, x, grad, scratch));
        }
        putchar('\n');
    }
    if (ferror(stdout)) return err_set(err, ERR_IO, (mark_t){0}, "cannot write to stdout");
    *exit_status = 0;
    return ERR_OK;
}
