/* compare.c: performance profiles over results files (compare.h). */
#define _GNU_SOURCE /* asprintf */
#include "results/compare.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/number_text.h"
#include "results/format.h"
#include "results/report.h"
#include "results/results.h"

static err_code_t nomem(err_t *err) { return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory"); }

void compare_free(compare_t *c)
{
    for (size_t i = 0; c->problem && i < c->n_problems; i++) free(c->problem[i]);
    for (size_t i = 0; c->setting && i < c->n_settings; i++) free(c->setting[i]);
    free(c->problem), free(c->setting), free(c->cost), free(c->best);
    memset(c, 0, sizeof *c);
}

/* The index of label among the settings, adding it (and a row of costs,
 * +inf: absent until found) when new; SIZE_MAX when out of memory. */
static size_t setting_index(compare_t *c, const char *label, size_t cap_problems)
{
    for (size_t s = 0; s < c->n_settings; s++)
        if (!strcmp(c->setting[s], label)) return s;
    char **names = realloc(c->setting, (c->n_settings + 1) * sizeof *names);
    if (!names) return SIZE_MAX;
    c->setting = names;
    double *cost = realloc(c->cost, (c->n_settings + 1) * cap_problems * sizeof *cost);
    if (!cost) return SIZE_MAX;
    c->cost = cost;
    for (size_t p = 0; p < cap_problems; p++) c->cost[c->n_settings * cap_problems + p] = INFINITY;
    if (!(c->setting[c->n_settings] = strdup(label))) return SIZE_MAX;
    return c->n_settings++;
}

/* One file's settings and their costs into column p. */
static err_code_t read_problem(compare_t *c, const char *path, size_t p, size_t cap, err_t *err)
{
    results_t r;
    /* neither given: analytic losses get the report's tolerance (training
     * files are an error below) */
    bool neither = isnan(c->tol) && isnan(c->target_acc);
    err_code_t rc = results_read_target(path, neither ? REPORT_DEFAULT_TOL : c->tol, c->target_acc, &r, err);
    if (rc) {
        results_free(&r); /* what it read before the error */
        return rc;
    }
    if (p == 0) c->training = r.training;
    if (r.training != c->training)
        rc = err_set(err, ERR_USAGE, (mark_t){0}, "%s holds %s cells, %s %s ones: compare problems of one kind", path,
                     r.training ? "training" : "analytic", c->problem[0], c->training ? "training" : "analytic");
    if (!rc && r.training && neither)
        rc = err_set(err, ERR_USAGE, (mark_t){0},
                     "%s: training files are compared by the epochs to a target: give --target-accuracy A (test "
                     "accuracy) or --tol T (training loss)", path);
    if (!rc && r.has_phases) rc = results_keep_phase(&r, "final", err); /* a study's result (select:) */
    char *title = NULL;
    if (!rc && !(title = strdup(r.title))) rc = nomem(err);
    for (size_t q = 0; !rc && q < p; q++) /* the same config twice: tell the columns apart */
        if (!strcmp(c->problem[q], title)) {
            char *longer = NULL;
            if (asprintf(&longer, "%s#%zu", r.title, p + 1) < 0) longer = NULL;
            free(title);
            if (!(title = longer)) rc = nomem(err);
            break;
        }
    if (!rc) c->problem[p] = title;
    /* each setting: the mean over its cells, if every one is ok and gets there */
    size_t first = 0;
    for (size_t i = 0; !rc && r.n_cells && i <= r.n_cells; i++) {
        if (i < r.n_cells && (i == 0 || r.setting[i] == r.setting[i - 1])) continue;
        char label[1024];
        results_cell_label(&r, first, -1, true, label, sizeof label);
        size_t s = setting_index(c, *label ? label : r.title, cap);
        if (s == SIZE_MAX) {
            rc = nomem(err);
            break;
        }
        double sum = 0;
        bool solved = true;
        for (size_t k = first; k < i; k++) {
            int32_t at = c->training && !isnan(c->target_acc) ? r.cells[k].reach_acc : r.cells[k].reach;
            solved &= r.cells[k].status == STATUS_OK && at >= 0;
            sum += at;
        }
        c->cost[s * cap + p] = solved ? sum / (double)(i - first) : INFINITY;
        first = i;
    }
    results_free(&r);
    return rc;
}

err_code_t compare_read(const char *const *paths, size_t n, double tol, double target_acc, compare_t *c, err_t *err)
{
    memset(c, 0, sizeof *c);
    c->tol = tol, c->target_acc = target_acc;
    bool neither = isnan(tol) && isnan(target_acc);
    if (!(c->problem = calloc(n + 1, sizeof *c->problem))) return nomem(err);
    c->n_problems = n;
    for (size_t p = 0; p < n; p++) {
        err_code_t rc = read_problem(c, paths[p], p, n, err);
        if (rc) {
            compare_free(c);
            return rc;
        }
    }
    if (neither) c->tol = REPORT_DEFAULT_TOL; /* what the analytic costs were counted with */
    /* each problem's least cost, once: every ratio divides by it */
    if (!(c->best = malloc((n + 1) * sizeof *c->best))) {
        compare_free(c);
        return nomem(err);
    }
    for (size_t p = 0; p < n; p++) {
        c->best[p] = INFINITY;
        for (size_t s = 0; s < c->n_settings; s++) c->best[p] = fmin(c->best[p], c->cost[s * n + p]);
    }
    return ERR_OK;
}

double compare_ratio(const compare_t *c, size_t s, size_t p)
{
    double mine = c->cost[s * c->n_problems + p];
    if (isinf(mine)) return INFINITY;
    return fmax(mine, 1) / fmax(c->best[p], 1);
}

double compare_rho(const compare_t *c, size_t s, double tau)
{
    size_t within = 0;
    for (size_t p = 0; p < c->n_problems; p++) within += compare_ratio(c, s, p) <= tau;
    return c->n_problems ? (double)within / (double)c->n_problems : NAN;
}

double compare_area(const compare_t *c, size_t s, double tau_max)
{
    if (tau_max <= 1) return compare_rho(c, s, 1);
    double sum = 0;
    for (size_t p = 0; p < c->n_problems; p++) {
        double r = compare_ratio(c, s, p);
        if (r <= tau_max) sum += (tau_max - r) / (tau_max - 1);
    }
    return c->n_problems ? sum / (double)c->n_problems : NAN;
}

static void tau_text(char *buf, size_t len, double tau)
{
    format_double(buf, len, tau);
}

void compare_print(FILE *out, const compare_t *c, const double *taus, size_t n_taus, bool csv)
{
    double tau_max = n_taus ? taus[n_taus - 1] : 1;
    char t[40];
    if (csv) {
        fputs("setting,solved", out);
        for (size_t i = 0; i < n_taus; i++) tau_text(t, sizeof t, taus[i]), fprintf(out, ",rho_%s", t);
        fputs(",area", out);
        for (size_t p = 0; p < c->n_problems; p++) fprintf(out, ",cost_%s", c->problem[p]);
        fputc('\n', out);
        for (size_t s = 0; s < c->n_settings; s++) {
            size_t solved = 0;
            for (size_t p = 0; p < c->n_problems; p++) solved += !isinf(c->cost[s * c->n_problems + p]);
            /* a label with a comma or quote is quoted, as report's CSV does */
            if (strpbrk(c->setting[s], ",\"")) {
                fputc('"', out);
                for (const char *q = c->setting[s]; *q; q++) fprintf(out, *q == '"' ? "\"\"" : "%c", *q);
                fputc('"', out);
            } else {
                fputs(c->setting[s], out);
            }
            fprintf(out, ",%zu", solved);
            for (size_t i = 0; i < n_taus; i++) fprintf(out, ",%.9g", compare_rho(c, s, taus[i]));
            fprintf(out, ",%.9g", compare_area(c, s, tau_max));
            for (size_t p = 0; p < c->n_problems; p++) {
                double v = c->cost[s * c->n_problems + p];
                if (isinf(v)) fputc(',', out);
                else fprintf(out, ",%.9g", v);
            }
            fputc('\n', out);
        }
        return;
    }
    fprintf(out, "%zu problem%s, %zu setting%s; cost: %s until %s", c->n_problems, c->n_problems == 1 ? "" : "s",
            c->n_settings, c->n_settings == 1 ? "" : "s", c->training ? "epochs" : "steps",
            c->training && !isnan(c->target_acc) ? "the test accuracy is at least" : "the loss is at most");
    fprintf(out, " %g (mean over seeds; solved: every seed got there)\n\n", !isnan(c->target_acc) && c->training ? c->target_acc : c->tol);
    /* columns: setting, solved, each problem's cost, each rho, area */
    size_t w = strlen("setting");
    for (size_t s = 0; s < c->n_settings; s++)
        if (strlen(c->setting[s]) > w) w = strlen(c->setting[s]);
    fprintf(out, "%-*s  solved", (int)w, "setting");
    for (size_t p = 0; p < c->n_problems; p++) fprintf(out, "  %10s", c->problem[p]);
    for (size_t i = 0; i < n_taus; i++) {
        char head[48];
        tau_text(t, sizeof t, taus[i]);
        snprintf(head, sizeof head, "rho(%s)", t);
        fprintf(out, "  %7s", head);
    }
    fprintf(out, "  area\n");
    for (size_t s = 0; s < c->n_settings; s++) {
        size_t solved = 0;
        for (size_t p = 0; p < c->n_problems; p++) solved += !isinf(c->cost[s * c->n_problems + p]);
        char frac[32];
        snprintf(frac, sizeof frac, "%zu/%zu", solved, c->n_problems);
        fprintf(out, "%-*s  %6s", (int)w, c->setting[s], frac);
        for (size_t p = 0; p < c->n_problems; p++) {
            double v = c->cost[s * c->n_problems + p];
            if (isinf(v)) fprintf(out, "  %10s", "-");
            else fprintf(out, "  %10.4g", v);
        }
        for (size_t i = 0; i < n_taus; i++) fprintf(out, "  %7.3f", compare_rho(c, s, taus[i]));
        fprintf(out, "  %.3f\n", compare_area(c, s, tau_max));
    }
    tau_text(t, sizeof t, tau_max);
    fprintf(out, "\nrho(tau): the fraction of problems a setting solves within tau times the fastest setting's cost; "
                 "area: of rho over [1, %s], divided by %s - 1\n", t, t);
}
