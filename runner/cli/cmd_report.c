/* cmd_report.c: `runner report RESULTS.h5 [--by AXIS] [--csv] [--tol T] [--provenance] [--metric M] [--phase P]`. */
#include <math.h>
#include <string.h>

#include "cli/commands.h"
#include "results/provenance.h"
#include "results/report.h"

typedef struct {
    const char *by; /* --by AXIS */
    const char *metric; /* --metric NAME */
    const char *phase;  /* --phase tune|final (a study with select:; default final) */
    bool csv, provenance;
    double tol; /* NaN: the default (report.h) */
} report_options_t;

static err_code_t set_by(void *o, const char *v, err_t *err)
{
    (void)err;
    ((report_options_t *)o)->by = v;
    return ERR_OK;
}

static err_code_t set_metric(void *o, const char *v, err_t *err)
{
    (void)err;
    ((report_options_t *)o)->metric = v;
    return ERR_OK;
}

static err_code_t set_phase(void *o, const char *v, err_t *err)
{
    if (strcmp(v, "tune") && strcmp(v, "final"))
        return err_set(err, ERR_USAGE, (mark_t){0}, "--phase is tune or final, got '%s'", v);
    ((report_options_t *)o)->phase = v;
    return ERR_OK;
}

static err_code_t set_csv(void *o, const char *v, err_t *err)
{
    (void)v, (void)err;
    ((report_options_t *)o)->csv = true;
    return ERR_OK;
}

static err_code_t set_provenance(void *o, const char *v, err_t *err)
{
    (void)v, (void)err;
    ((report_options_t *)o)->provenance = true;
    return ERR_OK;
}

static err_code_t set_tol(void *o, const char *v, err_t *err)
{
    if (!cli_parse_finite(v, &((report_options_t *)o)->tol))
        return err_set(err, ERR_USAGE, (mark_t){0}, "--tol needs a finite number such as 1e-6, got '%s'", v);
    return ERR_OK;
}

static const cli_option_t report_option_list[] = {
    {"--by", NULL, "an axis name", set_by},
    {"--csv", NULL, NULL, set_csv},
    {"--tol", NULL, "a number", set_tol},
    {"--provenance", NULL, NULL, set_provenance},
    {"--metric", NULL, "a metric name", set_metric},
    {"--phase", NULL, "tune or final", set_phase},
};
const cli_options_t cmd_report_options = {report_option_list, sizeof report_option_list / sizeof report_option_list[0]};

COMMAND(report)
{
    (void)g, (void)reg, (void)ctx;
    *exit_status = 2;
    report_options_t o = {.tol = NAN};
    const char *pos[1];
    size_t n_pos;
    err_code_t rc = cli_parse_options(argc, argv, &cmd_report_options, &o, pos, 1, &n_pos, err);
    if (rc) return rc;
    if (n_pos != 1) return err_set(err, ERR_USAGE, (mark_t){0}, "report needs one results file: runner report RESULTS.h5");
    results_t r;
    bool tol_given = !isnan(o.tol);
    rc = results_read(pos[0], tol_given ? o.tol : REPORT_DEFAULT_TOL, &r, err);
    /* the default tolerance is for analytic losses; a training loss rarely
     * gets near it, so its column appears only when asked for */
    if (rc == ERR_OK && r.training && !tol_given) r.tol = NAN;
    /* a study with select: shows its final phase (each group's chosen setting over the rerun seeds) */
    if (rc == ERR_OK && (o.phase || r.has_phases)) rc = results_keep_phase(&r, o.phase ? o.phase : "final", err);
    report_opts_t ro = {.by = -1, .csv = o.csv};
    if (rc == ERR_OK && o.by) rc = report_find_axis(&r, o.by, &ro.by, err);
    if (rc == ERR_OK && o.metric) rc = report_set_metric(&r, o.metric, err);
    if (rc == ERR_OK && o.provenance && (rc = provenance_print(stdout, pos[0], err)) == ERR_OK) putchar('\n');
    if (rc == ERR_OK) rc = report_print(stdout, &r, &ro, err);
    results_free(&r);
    if (rc == ERR_OK) *exit_status = 0;
    return rc;
}
