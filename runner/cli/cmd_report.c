/* cmd_report.c: `runner report RESULTS.h5 [--by AXIS] [--csv] [--tol T]`. */
#include <math.h>

#include "cli/commands.h"
#include "results/report.h"

err_code_t cmd_report(const cli_t *cli, err_t *err)
{
    results_t r;
    bool tol_given = !isnan(cli->tol);
    err_code_t rc = results_read(cli->results, tol_given ? cli->tol : REPORT_DEFAULT_TOL, &r, err);
    /* the default tolerance is for analytic losses; a training loss rarely
     * gets near it, so its column appears only when asked for */
    if (rc == ERR_OK && r.training && !tol_given) r.tol = NAN;
    report_opts_t o = {.by = -1, .csv = cli->csv};
    if (rc == ERR_OK && cli->by) rc = report_find_axis(&r, cli->by, &o.by, err);
    if (rc == ERR_OK) rc = report_print(stdout, &r, &o, err);
    results_free(&r);
    return rc;
}
