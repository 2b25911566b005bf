/* report.c: group cells, aggregate over seeds, print a table or CSV. */
#define _GNU_SOURCE /* vasprintf */
#include "results/report.h"

#include <math.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "results/format.h"
#include "results/h5util.h"
#include "results/stats.h"

/* ---- aggregation ---- */

/* Running mean and variance (Welford), over ok cells. */
typedef struct {
    size_t n;
    double mean, m2;
} moments_t;

static void moments_add(moments_t *m, double x)
{
    if (isnan(x)) return;
    m->n++;
    double d = x - m->mean;
    m->mean += d / (double)m->n;
    m->m2 += d * (x - m->mean);
}

static double moments_std(const moments_t *m)
{
    return m->n > 1 ? sqrt(m->m2 / (double)(m->n - 1)) : NAN;
}

typedef struct {
    size_t cells, ok, diverged, failed, pending;
    moments_t final_loss, best_loss, final_train_acc, final_acc, best_acc, reach, evals, reach_evals;
    moments_t final_val_acc, best_val_acc, final_val_loss, best_val_loss;
} agg_t;

/* What "best" can rank by: --metric NAME (the CSV column's name). */
typedef enum { RANK_ANALYTIC = 1, RANK_TRAINING = 2, RANK_VALIDATION = 4 } rank_needs_t;
static const struct {
    const char *name, *text;
    size_t offset;    /* of its moments in agg_t */
    bool higher;      /* higher is better */
    unsigned needs;   /* rank_needs_t: where it exists */
} metrics[] = {
    {"final_loss", "final loss", offsetof(agg_t, final_loss), false, RANK_ANALYTIC},
    {"best_loss", "best loss", offsetof(agg_t, best_loss), false, RANK_ANALYTIC},
    {"final_train_loss", "final train loss", offsetof(agg_t, final_loss), false, RANK_TRAINING},
    {"best_train_loss", "best train loss", offsetof(agg_t, best_loss), false, RANK_TRAINING},
    {"final_train_accuracy", "final train accuracy", offsetof(agg_t, final_train_acc), true, RANK_TRAINING},
    {"final_test_accuracy", "final test accuracy", offsetof(agg_t, final_acc), true, RANK_TRAINING},
    {"best_test_accuracy", "best test accuracy", offsetof(agg_t, best_acc), true, RANK_TRAINING},
    {"final_validation_accuracy", "final validation accuracy", offsetof(agg_t, final_val_acc), true,
     RANK_TRAINING | RANK_VALIDATION},
    {"best_validation_accuracy", "best validation accuracy", offsetof(agg_t, best_val_acc), true,
     RANK_TRAINING | RANK_VALIDATION},
    {"final_validation_loss", "final validation loss", offsetof(agg_t, final_val_loss), false,
     RANK_TRAINING | RANK_VALIDATION},
    {"best_validation_loss", "best validation loss", offsetof(agg_t, best_val_loss), false,
     RANK_TRAINING | RANK_VALIDATION},
};
#define N_METRICS (sizeof metrics / sizeof metrics[0])

/* The metric in force: the file's choice, else validation accuracy when
 * there is a validation split (choose on held-out data, never on the
 * test set), else test accuracy (training) or the final loss. */
static size_t rank_metric(const results_t *r)
{
    if (r->rank_metric >= 0) return (size_t)r->rank_metric;
    return !r->training ? 0 : r->has_validation ? 7 : 5; /* final_validation_accuracy, final_test_accuracy */
}

err_code_t report_set_metric(results_t *r, const char *name, err_t *err)
{
    const char *names[N_METRICS];
    unsigned have = r->training ? RANK_TRAINING | (r->has_validation ? RANK_VALIDATION : 0u) : RANK_ANALYTIC;
    for (size_t i = 0; i < N_METRICS; i++) {
        names[i] = metrics[i].name;
        if (strcmp(name, names[i])) continue;
        if ((metrics[i].needs & have) != metrics[i].needs)
            return err_set(err, ERR_USAGE, (mark_t){0}, "--metric %s: %s has %s", name, r->path,
                           (metrics[i].needs & RANK_VALIDATION) && r->training
                               ? "no validation results (data.validation holds none out)"
                               : r->training ? "training cells: their losses are train losses (final_train_loss)"
                                             : "analytic cells: no accuracy");
        r->rank_metric = (int)i;
        return ERR_OK;
    }
    const char *near = closest_match(name, names, N_METRICS);
    return err_set(err, ERR_USAGE, (mark_t){0},
                   "--metric %s: no such metric%s%s%s; the metrics are the report's CSV columns: final_loss, "
                   "best_loss (analytic), final_train_loss, best_train_loss, final_train_accuracy, final_test_accuracy, "
                   "best_test_accuracy, final_validation_accuracy, best_validation_accuracy, final_validation_loss, "
                   "best_validation_loss (training)",
                   name, near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
}

static void agg_add(agg_t *a, const results_cell_t *c)
{
    a->cells++;
    switch (c->status) {
    case STATUS_OK:
        a->ok++;
        moments_add(&a->final_loss, c->final_loss);
        moments_add(&a->best_loss, c->best_loss);
        moments_add(&a->final_train_acc, c->final_train_acc);
        moments_add(&a->final_acc, c->final_acc);
        moments_add(&a->best_acc, c->best_acc);
        moments_add(&a->final_val_acc, c->final_val_acc);
        moments_add(&a->best_val_acc, c->best_val_acc);
        moments_add(&a->final_val_loss, c->final_val_loss);
        moments_add(&a->best_val_loss, c->best_val_loss);
        if (c->reach >= 0) moments_add(&a->reach, c->reach);
        moments_add(&a->evals, c->final_evals);
        moments_add(&a->reach_evals, c->reach_evals);
        break;
    case STATUS_DIVERGED: a->diverged++; break;
    case STATUS_FAILED: a->failed++; break;
    default: a->pending++;
    }
}

/* The number a group is ranked by; NaN when it has no ok cell. */
static double agg_metric(const results_t *r, const agg_t *a)
{
    const moments_t *m = (const moments_t *)((const char *)a + metrics[rank_metric(r)].offset);
    return m->n ? m->mean : NAN;
}

/* The 95% t interval of a group's ranking metric (stats.h); NaN without 2 ok cells. */
static void ci95(const results_t *r, const agg_t *a, double *lo, double *hi)
{
    const moments_t *m = (const moments_t *)((const char *)a + metrics[rank_metric(r)].offset);
    double half = m->n > 1 ? stats_t975(m->n - 1) * sqrt(m->m2 / (double)(m->n - 1)) / sqrt((double)m->n) : NAN;
    *lo = m->mean - half, *hi = m->mean + half;
}

/* a better than b (NaN is never better). */
static bool better(const results_t *r, double a, double b)
{
    if (isnan(a)) return false;
    if (isnan(b)) return true;
    return metrics[rank_metric(r)].higher ? a > b : a < b;
}

/* Unit u should replace the best so far (SIZE_MAX: none yet). */
static bool improves(const results_t *r, const agg_t *units, size_t u, size_t best)
{
    double m = agg_metric(r, &units[u]);
    return best == SIZE_MAX ? !isnan(m) : better(r, m, agg_metric(r, &units[best]));
}

/* The grouping: units are settings of the non-seed axes (cells when the
 * grouping axis is the seed itself, or there is no seed axis); rows are
 * settings (by = -1) or the values of axis `by`. */
typedef struct {
    int seed;           /* index of the seed axis, -1 when none */
    size_t n_units;
    agg_t *units;
    size_t *unit_cell;  /* the first cell of each unit, for its label */
    size_t n_rows;
    agg_t *rows;
    size_t *row_unit;   /* a unit of each row, for the row's key columns */
    size_t *row_best;   /* the best unit of each row (SIZE_MAX: none) */
    bool units_are_cells;
} grouping_t;

/* The unit and the row of a cell, from its coordinates. */
static void place(const results_t *r, const grouping_t *g, int by, size_t cell, size_t *unit, size_t *row)
{
    size_t idx[H5UTIL_MAX_RANK];
    results_cell_coords(r, cell, idx);
    *unit = g->units_are_cells ? cell : r->setting[cell];
    *row = by < 0 ? *unit : idx[by];
}

static void grouping_free(grouping_t *g)
{
    free(g->units), free(g->unit_cell), free(g->rows), free(g->row_unit), free(g->row_best);
}

static err_code_t grouping_build(const results_t *r, int by, grouping_t *g, err_t *err)
{
    memset(g, 0, sizeof *g);
    g->seed = -1;
    for (size_t k = 0; k < r->n_axes; k++)
        if (r->axes[k].is_seed) g->seed = (int)k;
    g->units_are_cells = g->seed < 0 || by == g->seed;
    g->n_units = g->units_are_cells ? r->n_cells : r->n_settings;
    g->n_rows = by < 0 ? g->n_units : r->axes[by].n;
    size_t nu = g->n_units ? g->n_units : 1, nr = g->n_rows ? g->n_rows : 1;
    g->units = calloc(nu, sizeof *g->units);
    g->unit_cell = calloc(nu, sizeof *g->unit_cell);
    g->rows = calloc(nr, sizeof *g->rows);
    g->row_unit = calloc(nr, sizeof *g->row_unit);
    g->row_best = malloc(nr * sizeof *g->row_best);
    if (!g->units || !g->unit_cell || !g->rows || !g->row_unit || !g->row_best) {
        grouping_free(g);
        return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
    }
    for (size_t i = 0; i < g->n_rows; i++) g->row_best[i] = SIZE_MAX;
    for (size_t c = r->n_cells; c-- > 0;) { /* backwards, so the first cell of each unit/row is kept */
        size_t u, row;
        place(r, g, by, c, &u, &row);
        agg_add(&g->units[u], &r->cells[c]);
        agg_add(&g->rows[row], &r->cells[c]);
        g->unit_cell[u] = c;
        g->row_unit[row] = u;
    }
    for (size_t u = 0; u < g->n_units; u++) { /* in order: the lowest unit wins a tie */
        size_t unit, row;
        place(r, g, by, g->unit_cell[u], &unit, &row);
        if (improves(r, g->units, u, g->row_best[row])) g->row_best[row] = u;
    }
    return ERR_OK;
}

/* The best unit overall, SIZE_MAX when no cell is ok. */
static size_t best_unit(const results_t *r, const grouping_t *g)
{
    size_t best = SIZE_MAX;
    for (size_t u = 0; u < g->n_units; u++)
        if (improves(r, g->units, u, best)) best = u;
    return best;
}

/* ---- tables of strings ---- */

#define MAX_COLS (H5UTIL_MAX_RANK + 16)

typedef struct {
    size_t n_cols, n_rows;
    const char *head[MAX_COLS];
    char **cell; /* n_rows x n_cols, owned */
    char reach_head[64], evals_head[64];
} table_t;

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    char *s = NULL;
    if (vasprintf(&s, f, ap) < 0) s = NULL;
    va_end(ap);
    return s;
}

/* "mean" or "mean ± std" as text; "-" when there is nothing. */
static char *moments_text(const moments_t *m, bool accuracy)
{
    if (!m->n) return strdup("-");
    const char *f = accuracy ? "%.4f" : "%.4g";
    char mean[48], sd[48];
    snprintf(mean, sizeof mean, f, m->mean);
    if (m->n < 2) return strdup(mean);
    snprintf(sd, sizeof sd, accuracy ? "%.4f" : "%.2g", moments_std(m));
    return fmt("%s ± %s", mean, sd);
}

static char *reach_text(const agg_t *a)
{
    if (!a->reach.n) return strdup("-");
    char mean[48];
    snprintf(mean, sizeof mean, a->reach.n > 1 ? "%.1f" : "%.0f", a->reach.mean);
    return a->reach.n < a->ok ? fmt("%s (%zu/%zu)", mean, a->reach.n, a->ok) : strdup(mean);
}

/* CSV number: unrounded, empty when missing. */
static char *num(double v)
{
    return isnan(v) ? strdup("") : fmt("%.9g", v);
}

typedef struct {
    const results_t *r;
    const grouping_t *g;
    const report_opts_t *o;
    bool show_pending, show_reach, show_count;
    bool show_ci; /* some row has 2 or more ok cells: a 95% t interval of the ranking metric */
    char ci_head[2][96];
} columns_t;

static void add_head(table_t *t, const char *h)
{
    if (t->n_cols < MAX_COLS) t->head[t->n_cols++] = h;
}

static void heads(table_t *t, const columns_t *c)
{
    const results_t *r = c->r;
    for (size_t k = 0; k < r->n_axes; k++)
        if (c->o->by < 0 ? (int)k != c->g->seed : (int)k == c->o->by) add_head(t, r->axes[k].name);
    if (c->o->by < 0 && t->n_cols == 0) add_head(t, "cells");
    if (c->show_count && !(c->o->by < 0 && t->n_cols == 1 && !strcmp(t->head[0], "cells"))) add_head(t, "n");
    add_head(t, "ok"), add_head(t, "diverged"), add_head(t, "failed");
    if (c->show_pending) add_head(t, "pending");
    if (c->o->csv) {
        add_head(t, r->training ? "final_train_loss" : "final_loss");
        add_head(t, r->training ? "final_train_loss_std" : "final_loss_std");
        add_head(t, r->training ? "best_train_loss" : "best_loss");
        add_head(t, r->training ? "best_train_loss_std" : "best_loss_std");
        if (r->training) {
            add_head(t, "final_train_accuracy"), add_head(t, "final_train_accuracy_std");
            add_head(t, "final_test_accuracy"), add_head(t, "final_test_accuracy_std");
            add_head(t, "best_test_accuracy"), add_head(t, "best_test_accuracy_std");
        }
        if (r->has_validation) {
            add_head(t, "final_validation_accuracy"), add_head(t, "final_validation_accuracy_std");
            add_head(t, "best_validation_accuracy"), add_head(t, "best_validation_accuracy_std");
            add_head(t, "final_validation_loss"), add_head(t, "final_validation_loss_std");
            add_head(t, "best_validation_loss"), add_head(t, "best_validation_loss_std");
        }
        if (c->show_ci) add_head(t, c->ci_head[0]), add_head(t, c->ci_head[1]);
        if (c->show_reach) add_head(t, r->training ? "epochs_to_tol" : "steps_to_tol"), add_head(t, "reached");
        if (r->has_evaluations) {
            add_head(t, "evaluations"), add_head(t, "evaluations_std");
            if (c->show_reach) add_head(t, "evaluations_to_tol");
        }
    } else {
        add_head(t, r->training ? "final train loss" : "final loss");
        add_head(t, r->training ? "best train loss" : "best loss");
        if (r->training) add_head(t, "final train acc"), add_head(t, "final test acc"), add_head(t, "best test acc");
        if (r->has_validation)
            add_head(t, "final val acc"), add_head(t, "best val acc"), add_head(t, "final val loss");
        if (c->show_ci) add_head(t, c->ci_head[0]);
        if (c->show_reach) {
            snprintf(t->reach_head, sizeof t->reach_head, "%s to %g", r->training ? "epochs" : "steps", r->tol);
            add_head(t, t->reach_head);
        }
        if (r->has_evaluations) {
            add_head(t, "evaluations");
            if (c->show_reach) {
                snprintf(t->evals_head, sizeof t->evals_head, "evaluations to %g", r->tol);
                add_head(t, t->evals_head);
            }
        }
    }
    if (c->o->by >= 0) add_head(t, c->o->csv ? "best_setting" : "best setting");
}

/* One row's cells, in the order of heads(). */
static size_t row_cells(char **out, const columns_t *c, size_t row)
{
    const results_t *r = c->r;
    const grouping_t *g = c->g;
    const agg_t *a = &g->rows[row];
    size_t n = 0, idx[H5UTIL_MAX_RANK];
    results_cell_coords(r, g->unit_cell[g->row_unit[row]], idx);
    bool any_key = false;
    for (size_t k = 0; k < r->n_axes; k++)
        if (c->o->by < 0 ? (int)k != g->seed : (int)k == c->o->by)
            out[n++] = strdup(r->axes[k].labels[idx[k]]), any_key = true;
    if (c->o->by < 0 && !any_key) out[n++] = fmt("%zu", a->cells);
    else if (c->show_count) out[n++] = fmt("%zu", a->cells);
    out[n++] = fmt("%zu", a->ok), out[n++] = fmt("%zu", a->diverged), out[n++] = fmt("%zu", a->failed);
    if (c->show_pending) out[n++] = fmt("%zu", a->pending);
    /* the text table shows three of the four validation numbers; CSV all */
    const moments_t *ms[9] = {&a->final_loss,    &a->best_loss,    &a->final_train_acc, &a->final_acc,     &a->best_acc,
                              &a->final_val_acc, &a->best_val_acc, &a->final_val_loss,  &a->best_val_loss};
    size_t n_ms = r->has_validation ? (c->o->csv ? 9 : 8) : r->training ? 5 : 2;
    for (size_t i = 0; i < n_ms; i++) {
        if (c->o->csv) out[n++] = num(ms[i]->n ? ms[i]->mean : NAN), out[n++] = num(moments_std(ms[i]));
        else out[n++] = moments_text(ms[i], i >= 2 && i < 7);
    }
    if (c->show_ci) {
        double lo, hi;
        ci95(r, a, &lo, &hi);
        bool acc = metrics[rank_metric(r)].higher;
        if (c->o->csv) out[n++] = num(lo), out[n++] = num(hi);
        else out[n++] = isnan(lo) ? strdup("-") : acc ? fmt("[%.4f, %.4f]", lo, hi) : fmt("[%.4g, %.4g]", lo, hi);
    }
    if (c->show_reach) {
        if (c->o->csv) out[n++] = num(a->reach.n ? a->reach.mean : NAN), out[n++] = fmt("%zu", a->reach.n);
        else out[n++] = reach_text(a);
    }
    if (r->has_evaluations) { /* the cost of a step differs between optimizers (L-BFGS: several evaluations) */
        if (c->o->csv) out[n++] = num(a->evals.n ? a->evals.mean : NAN), out[n++] = num(moments_std(&a->evals));
        else out[n++] = moments_text(&a->evals, false);
        if (c->show_reach) {
            if (c->o->csv) out[n++] = num(a->reach_evals.n ? a->reach_evals.mean : NAN);
            else out[n++] = a->reach_evals.n ? fmt(a->reach_evals.n > 1 ? "%.1f" : "%.0f", a->reach_evals.mean) : strdup("-");
        }
    }
    if (c->o->by >= 0) {
        char label[1024] = "-";
        size_t b = g->row_best[row];
        if (b != SIZE_MAX) {
            results_cell_label(r, g->unit_cell[b], c->o->by, true, label, sizeof label);
            if (!*label) snprintf(label, sizeof label, "%s", "-");
        }
        out[n++] = strdup(label);
    }
    return n;
}

static err_code_t table_build(table_t *t, const columns_t *c, err_t *err)
{
    memset(t, 0, sizeof *t);
    heads(t, c);
    t->n_rows = c->g->n_rows;
    t->cell = calloc(t->n_rows * t->n_cols + 1, sizeof *t->cell);
    if (!t->cell) return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
    bool complete = true;
    for (size_t i = 0; i < t->n_rows; i++) {
        char **row = t->cell + i * t->n_cols;
        size_t got = row_cells(row, c, i); /* heads() and row_cells() list the same columns */
        for (size_t j = 0; j < got; j++) complete &= row[j] != NULL;
    }
    return complete ? ERR_OK : err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
}

static void table_free(table_t *t)
{
    for (size_t i = 0; t->cell && i < t->n_rows * t->n_cols; i++) free(t->cell[i]);
    free(t->cell);
}

/* Display width of UTF-8 text (the ± sign is one column). */
static size_t width(const char *s)
{
    size_t w = 0;
    for (; *s; s++) w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

static void print_padded(FILE *out, const char *s, size_t w, bool last)
{
    fputs(s, out);
    if (!last)
        for (size_t i = width(s); i < w + 2; i++) fputc(' ', out);
}

static void table_print_text(FILE *out, const table_t *t)
{
    size_t w[MAX_COLS];
    for (size_t j = 0; j < t->n_cols; j++) {
        w[j] = width(t->head[j]);
        for (size_t i = 0; i < t->n_rows; i++) {
            size_t x = width(t->cell[i * t->n_cols + j]);
            if (x > w[j]) w[j] = x;
        }
    }
    for (size_t j = 0; j < t->n_cols; j++) print_padded(out, t->head[j], w[j], j + 1 == t->n_cols);
    fputc('\n', out);
    for (size_t i = 0; i < t->n_rows; i++) {
        for (size_t j = 0; j < t->n_cols; j++) print_padded(out, t->cell[i * t->n_cols + j], w[j], j + 1 == t->n_cols);
        fputc('\n', out);
    }
}

static void csv_field(FILE *out, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"') fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static void table_print_csv(FILE *out, const table_t *t)
{
    for (size_t j = 0; j < t->n_cols; j++) fputs(j ? "," : "", out), csv_field(out, t->head[j]);
    fputc('\n', out);
    for (size_t i = 0; i < t->n_rows; i++) {
        for (size_t j = 0; j < t->n_cols; j++) fputs(j ? "," : "", out), csv_field(out, t->cell[i * t->n_cols + j]);
        fputc('\n', out);
    }
}

/* ---- the reports ---- */

static columns_t columns_for(const results_t *r, const grouping_t *g, const report_opts_t *o)
{
    columns_t c = {.r = r, .g = g, .o = o, .show_reach = !isnan(r->tol)};
    for (size_t i = 0; i < g->n_rows; i++) {
        c.show_pending |= g->rows[i].pending > 0;
        c.show_count |= g->rows[i].cells > 1;
        double lo, hi;
        ci95(r, &g->rows[i], &lo, &hi);
        c.show_ci |= !isnan(lo) && o->by < 0; /* rows are settings: over their seeds (not over an axis's settings) */
    }
    snprintf(c.ci_head[0], sizeof c.ci_head[0], o->csv ? "%s_ci95_low" : "95%% CI (t)", metrics[rank_metric(r)].name);
    snprintf(c.ci_head[1], sizeof c.ci_head[1], "%s_ci95_high", metrics[rank_metric(r)].name);
    return c;
}

static const char *metric_name(const results_t *r)
{
    return metrics[rank_metric(r)].text;
}

static void print_failure(FILE *out, const results_t *r)
{
    if (!r->first_failure) return;
    char label[1024];
    results_cell_label(r, r->first_failed, -1, false, label, sizeof label);
    fprintf(out, "first failure: cell %zu%s%s: %s\n", r->first_failed + r->cell_offset, *label ? " " : "", label, r->first_failure);
}

err_code_t report_find_axis(const results_t *r, const char *name, int *by, err_t *err)
{
    const char *names[H5UTIL_MAX_RANK];
    for (size_t k = 0; k < r->n_axes; k++) {
        names[k] = r->axes[k].name;
        if (!strcmp(name, names[k])) {
            *by = (int)k;
            return ERR_OK;
        }
    }
    char list[1024] = "";
    for (size_t k = 0, used = 0; k < r->n_axes && used < sizeof list; k++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", k ? ", " : "", names[k]);
    const char *near = closest_match(name, names, r->n_axes);
    return err_set(err, ERR_USAGE, (mark_t){0}, "--by %s: %s has no such axis; its axes are: %s%s%s%s", name,
                   r->path, r->n_axes ? list : "(none: one cell)", near ? " (did you mean '" : "", near ? near : "",
                   near ? "'?)" : "");
}

static void print_heading(FILE *out, const results_t *r, const grouping_t *g, int by, bool ci)
{
    static const char *const states[] = {"running or killed", "complete", "interrupted", "stopped"};
    agg_t all = {0};
    for (size_t c = 0; c < r->n_cells; c++) agg_add(&all, &r->cells[c]);
    fprintf(out, "%s: %s, %zu cell%s: %zu ok, %zu diverged, %zu failed", r->title, r->path, r->n_cells,
            r->n_cells == 1 ? "" : "s", all.ok, all.diverged, all.failed);
    if (all.pending) fprintf(out, ", %zu pending", all.pending);
    if (r->run_state >= 0 && r->run_state <= 3) fprintf(out, " (run %s)", states[r->run_state]);
    if (g->seed >= 0 && by != g->seed) fputs("; mean ± std over the seed axis", out);
    if (ci) fprintf(out, "; 95%% CI (t): Student's t interval of the mean %s", metrics[rank_metric(r)].text);
    fputs("\n\n", out);
}

/* One cell's number for the metric in force (an agg_t of that cell alone). */
static double cell_metric(const results_t *r, const results_cell_t *x)
{
    agg_t one = {0};
    agg_add(&one, x);
    return agg_metric(r, &one);
}

/* Where seeds exist: the best setting against each other one on the
 * ranking metric over their seeds (Mann-Whitney U, two-sided, Holm over
 * the comparisons; stats.h). Settings with fewer than 2 ok cells are left
 * out: one number is no sample. */
static err_code_t print_comparisons(FILE *out, const results_t *r, const grouping_t *g, err_t *err)
{
    size_t best = best_unit(r, g);
    if (g->units_are_cells || best == SIZE_MAX || g->units[best].ok < 2) return ERR_OK;
    size_t nu = g->n_units, *count = calloc(nu + 1, sizeof *count), *other = malloc((nu + 1) * sizeof *other);
    double **vals = calloc(nu + 1, sizeof *vals), *p = malloc((nu + 1) * sizeof *p), *u = malloc((nu + 1) * sizeof *u);
    err_code_t rc = count && other && vals && p && u ? ERR_OK : err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
    for (size_t k = 0; !rc && k < nu; k++)
        if (!(vals[k] = malloc((g->units[k].cells + 1) * sizeof **vals))) rc = err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
    for (size_t c = 0; !rc && c < r->n_cells; c++) {
        size_t k = r->setting[c];
        double v = r->cells[c].status == STATUS_OK ? cell_metric(r, &r->cells[c]) : NAN;
        if (!isnan(v)) vals[k][count[k]++] = v;
    }
    size_t m = 0;
    for (size_t k = 0; !rc && k < nu; k++) {
        if (k == best || count[k] < 2) continue;
        p[m] = stats_mann_whitney(vals[best], count[best], vals[k], count[k], &u[m]);
        other[m++] = k;
    }
    if (!rc && m) {
        stats_holm(p, m);
        char lb[512], lo[512];
        results_cell_label(r, g->unit_cell[best], -1, true, lb, sizeof lb);
        fprintf(out, "\n%s over seeds, %s against the others (Mann-Whitney U, two-sided, Holm-adjusted over %zu):\n",
                metric_name(r), *lb ? lb : "the best", m);
        for (size_t i = 0; i < m; i++) {
            results_cell_label(r, g->unit_cell[other[i]], -1, true, lo, sizeof lo);
            if (p[i] < 0.05) fprintf(out, "  %s better than %s, p = %.2g\n", lb, lo, p[i]);
            else fprintf(out, "  %s vs %s: no difference detected, p = %.2g\n", lb, lo, p[i]);
        }
    }
    for (size_t k = 0; vals && k < nu; k++) free(vals[k]);
    free(vals), free(count), free(other), free(p), free(u);
    return rc;
}

/* The best setting (seeds averaged) of the whole sweep. */
static void print_best_setting(FILE *out, const results_t *r, const grouping_t *g)
{
    size_t b = best_unit(r, g);
    if (b == SIZE_MAX) return;
    char label[1024];
    results_cell_label(r, g->unit_cell[b], -1, !g->units_are_cells, label, sizeof label);
    fprintf(out, "\nbest: %s, %s %.6g%s\n", *label ? label : "the only setting", metric_name(r),
            agg_metric(r, &g->units[b]), g->units[b].ok > 1 ? " (mean over seeds)" : "");
}


/* The best single cell, seeds included: one that can be rerun as it is. */
static void print_best_cell(FILE *out, const results_t *r)
{
    size_t best = SIZE_MAX;
    for (size_t c = 0; c < r->n_cells; c++) {
        const results_cell_t *x = &r->cells[c];
        double v = x->status != STATUS_OK ? NAN : cell_metric(r, x);
        double b = best == SIZE_MAX ? NAN : cell_metric(r, &r->cells[best]);
        if (better(r, v, b)) best = c;
    }
    if (best == SIZE_MAX) return;
    char label[1024];
    results_cell_label(r, best, -1, false, label, sizeof label);
    bool seeded = false;
    for (size_t k = 0; k < r->n_axes; k++) seeded |= r->axes[k].is_seed && r->axes[k].n > 1;
    /* with seeds, say which "best" this is: `runner report` ranks settings by their mean over seeds */
    fprintf(out, "best: cell %zu%s%s, %s %.6g%s\n", best + r->cell_offset, *label ? " " : "", label, metric_name(r),
            cell_metric(r, &r->cells[best]),
            seeded ? " (the best single cell; runner report ranks settings by their mean over seeds)" : "");
}

err_code_t report_print(FILE *out, const results_t *r, const report_opts_t *o, err_t *err)
{
    grouping_t g;
    err_code_t rc = grouping_build(r, o->by, &g, err);
    if (rc) return rc;
    columns_t cols = columns_for(r, &g, o);
    table_t t;
    if ((rc = table_build(&t, &cols, err)) == ERR_OK && o->csv) {
        table_print_csv(out, &t);
    } else if (rc == ERR_OK) {
        print_heading(out, r, &g, o->by, cols.show_ci);
        table_print_text(out, &t);
        print_best_setting(out, r, &g);
        if (o->by < 0 && (rc = print_comparisons(out, r, &g, err))) {
            table_free(&t);
            grouping_free(&g);
            return rc;
        }
        print_failure(out, r);
    }
    table_free(&t);
    grouping_free(&g);
    return rc;
}

err_code_t report_summary(FILE *out, const results_t *r, size_t max_rows, err_t *err)
{
    report_opts_t o = {.by = -1};
    grouping_t g;
    err_code_t rc = grouping_build(r, -1, &g, err);
    if (rc) return rc;
    if (g.n_rows >= 2 && g.n_rows <= max_rows) {
        columns_t cols = columns_for(r, &g, &o);
        table_t t;
        if ((rc = table_build(&t, &cols, err)) == ERR_OK) table_print_text(out, &t);
        table_free(&t);
    }
    grouping_free(&g);
    if (rc) return rc;
    print_best_cell(out, r);
    print_failure(out, r);
    return ERR_OK;
}
