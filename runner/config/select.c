/* select.c: the tuning phase's groups, the final phase's cells, and the choice (select.h). */
#include "config/select.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/text_safety.h"
#include "cells/kind.h"
#include "results/layout.h"

static err_code_t nomem(err_t *err) { return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory"); }

/* ---- metrics ------------------------------------------------------------ */

typedef struct {
    const char *name;
    const char *analytic, *training; /* the variable each kind records it in (NULL: none) */
    metric_reduce_t reduce;
    bool maximize;
} metric_t;

static const metric_t metrics[] = {
    {"final_loss", "loss", "train_epoch_loss", METRIC_LAST, false},
    {"best_loss", "loss", "train_epoch_loss", METRIC_LOWEST, false},
    {"steps_to_tol", "loss", "train_epoch_loss", METRIC_REACH, false},
    {"train_loss", NULL, "train_epoch_loss", METRIC_LAST, false},
    {"test_accuracy", NULL, "test_accuracy", METRIC_LAST, true},
    {"validation_accuracy", NULL, "validation_accuracy", METRIC_LAST, true},
    {"validation_loss", NULL, "validation_loss", METRIC_LAST, false},
};
#define N_METRICS (sizeof metrics / sizeof metrics[0])

static const char *const select_keys[] = {"metric", "goal", "by", "tol", "rerun"};

static err_code_t read_metric(const experiment_t *exp, const node_t *sel, select_spec_t *s, err_t *err)
{
    const node_t *m = node_get(sel, "metric");
    if (!m) return err_set(err, ERR_CONFIG, sel->mark, "select needs a metric, like select: {metric: validation_accuracy, "
                           "rerun: {repeat: 5}}");
    err_code_t rc = node_to_string(m, "select.metric", &s->metric, err);
    if (rc) return rc;
    const metric_t *mt = NULL;
    const char *names[N_METRICS];
    for (size_t i = 0; i < N_METRICS; i++) {
        names[i] = metrics[i].name;
        if (!strcmp(s->metric, metrics[i].name)) mt = &metrics[i];
    }
    if (!mt) {
        const char *near = closest_match(s->metric, names, N_METRICS);
        return err_set(err, ERR_CONFIG, m->mark,
                       "unknown select.metric '%s'%s%s%s (final_loss, best_loss, steps_to_tol, train_loss, "
                       "test_accuracy, validation_accuracy, validation_loss)",
                       s->metric, near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
    }
    bool training = !strcmp(exp->kind->name, "training");
    s->variable = training ? mt->training : mt->analytic;
    s->reduce = mt->reduce;
    s->maximize = mt->maximize;
    if (!s->variable)
        return err_set(err, ERR_CONFIG, m->mark, "select.metric '%s' is for training cells; these cells %s (use "
                       "final_loss, best_loss or steps_to_tol)", s->metric, exp->kind->does);
    /* the cells must record it: validation needs a split */
    layout_t l;
    layout_of(exp, &l);
    bool recorded = false;
    for (size_t v = 0; v < l.n_vars; v++) recorded |= !strcmp(l.vars[v].name, s->variable);
    if (!recorded)
        return err_set(err, ERR_CONFIG, m->mark,
                       "select.metric '%s' needs '%s', which these cells do not record%s", s->metric, s->variable,
                       !strncmp(s->variable, "validation", 10) ? ": give data.validation (a count or fraction of the "
                                                                  "training samples to hold out)" : "");
    const node_t *goal = node_get(sel, "goal");
    if (goal) {
        const char *g;
        if ((rc = node_to_string(goal, "select.goal", &g, err))) return rc;
        if (strcmp(g, "max") && strcmp(g, "min"))
            return err_set(err, ERR_CONFIG, goal->mark, "select.goal is max or min, got '%s'", g);
        s->maximize = !strcmp(g, "max");
    }
    const node_t *tol = node_get(sel, "tol");
    if (s->reduce == METRIC_REACH && !tol)
        return err_set(err, ERR_CONFIG, m->mark, "select.metric steps_to_tol needs tol:, the loss to reach (like tol: 1.0e-6)");
    if (tol && s->reduce != METRIC_REACH)
        return err_set(err, ERR_CONFIG, tol->mark, "select.tol is for metric steps_to_tol");
    if (tol && (rc = node_to_double(tol, "select.tol", &s->tol, err))) return rc;
    return ERR_OK;
}

static err_code_t read_by(experiment_t *exp, const node_t *sel, select_spec_t *s, err_t *err)
{
    const node_t *by = node_get(sel, "by");
    size_t n = by ? (by->kind == NODE_SEQ ? by->n : 1) : 0;
    s->by = arena_alloc(&exp->arena, (n + 1) * sizeof *s->by);
    if (!s->by) return nomem(err);
    if (!by) { /* default: per run, when there are runs */
        if (exp->n_axes && exp->axes[0].kind == AXIS_RUN) s->by[s->n_by++] = 0;
        return ERR_OK;
    }
    if (by->kind == NODE_MAP) return err_set(err, ERR_CONFIG, by->mark, "select.by is an axis or a list of axes, like by: run");
    for (size_t i = 0; i < n; i++) {
        const node_t *item = by->kind == NODE_SEQ ? by->items[i] : by;
        const char *name;
        err_code_t rc = node_to_string(item, "select.by", &name, err);
        if (rc) return rc;
        size_t k = 0;
        while (k < exp->n_axes && strcmp(exp->axes[k].name, name)) k++;
        if (k == exp->n_axes || exp->axes[k].kind == AXIS_SEED) {
            char list[512] = "";
            const char *names[64];
            size_t m = 0;
            for (size_t j = 0; j < exp->n_axes && m < 64; j++)
                if (exp->axes[j].kind != AXIS_SEED) {
                    names[m++] = exp->axes[j].name;
                    size_t used = strlen(list);
                    snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "", exp->axes[j].name);
                }
            const char *near = closest_match(name, names, m);
            return err_set(err, ERR_CONFIG, item->mark, "select.by: %s; the study's axes are: %s%s%s%s",
                           k < exp->n_axes ? "seed is what the final phase averages over, not a group"
                                           : "no such axis",
                           m ? list : "(none)", near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
        }
        s->by[s->n_by++] = k;
    }
    return ERR_OK;
}

static err_code_t read_rerun(experiment_t *exp, const node_t *sel, select_spec_t *s, err_t *err)
{
    const node_t *rr = node_get(sel, "rerun");
    if (!rr || rr->kind != NODE_MAP || rr->n != 1)
        return err_set(err, ERR_CONFIG, rr ? rr->mark : sel->mark,
                       "select needs rerun: {seeds: [1, 2, 3]} or rerun: {repeat: N}: the seeds the chosen settings run with");
    const node_pair_t *p = &rr->pairs[0];
    err_code_t rc;
    if (!strcmp(p->key, "repeat")) {
        int64_t n;
        if ((rc = node_to_int64(p->value, "select.rerun.repeat", 1, 1000000, &n, err))) return rc;
        if (exp->seed > INT64_MAX - (n - 1))
            return err_set(err, ERR_CONFIG, p->value->mark, "seed + repeat overflows a 64-bit seed");
        s->n_seeds = (size_t)n;
        if (!(s->seeds = arena_alloc(&exp->arena, s->n_seeds * sizeof *s->seeds))) return nomem(err);
        for (size_t i = 0; i < s->n_seeds; i++) s->seeds[i] = exp->seed + (int64_t)i;
        return ERR_OK;
    }
    if (strcmp(p->key, "seeds"))
        return err_set(err, ERR_CONFIG, p->key_mark, "select.rerun has seeds: [...] or repeat: N, not '%s'", p->key);
    if (p->value->kind != NODE_SEQ || p->value->n == 0)
        return err_set(err, ERR_CONFIG, p->value->mark, "select.rerun.seeds is a non-empty list of integers");
    s->n_seeds = p->value->n;
    if (!(s->seeds = arena_alloc(&exp->arena, s->n_seeds * sizeof *s->seeds))) return nomem(err);
    for (size_t i = 0; i < s->n_seeds; i++) {
        if ((rc = node_to_int64(p->value->items[i], "a seed", INT64_MIN, INT64_MAX, &s->seeds[i], err))) return rc;
        for (size_t j = 0; j < i; j++)
            if (s->seeds[j] == s->seeds[i])
                return err_set(err, ERR_CONFIG, p->value->items[i]->mark, "seed %" PRId64 " is listed twice", s->seeds[i]);
    }
    return ERR_OK;
}

/* ---- groups -------------------------------------------------------------- */

typedef struct {
    const size_t *key; /* n_by values */
    size_t n_by, cell;
} keyed_t;

static int by_key_then_cell(const void *x, const void *y)
{
    const keyed_t *a = x, *b = y;
    for (size_t i = 0; i < a->n_by; i++)
        if (a->key[i] != b->key[i]) return a->key[i] < b->key[i] ? -1 : 1;
    return a->cell < b->cell ? -1 : a->cell > b->cell;
}

/* A group: its first cell, and its key's run [at, end) among the sorted cells. */
typedef struct {
    size_t first_cell, at, end;
} run_t;

static int by_first_cell(const void *x, const void *y)
{
    const run_t *a = x, *b = y;
    return a->first_cell < b->first_cell ? -1 : a->first_cell > b->first_cell;
}

/* Each tuning cell's group, groups numbered in order of their first cell. */
static err_code_t find_groups(experiment_t *exp, select_spec_t *s, err_t *err)
{
    size_t n = s->n_tune, nb = s->n_by;
    size_t *keys = malloc((n * nb + 1) * sizeof *keys), idx[64];
    keyed_t *v = malloc((n + 1) * sizeof *v);
    s->group_of = arena_alloc(&exp->arena, (n + 1) * sizeof *s->group_of);
    s->group_first = arena_alloc(&exp->arena, (n + 1) * sizeof *s->group_first);
    s->chosen = arena_alloc(&exp->arena, (n + 1) * sizeof *s->chosen);
    err_code_t rc = keys && v && s->group_of && s->group_first && s->chosen ? ERR_OK : nomem(err);
    for (size_t g = 0; !rc && g <= n; g++) s->chosen[g] = SIZE_MAX;
    for (size_t c = 0; !rc && c < n; c++) {
        experiment_cell_coords(exp, c, idx);
        for (size_t i = 0; i < nb; i++) keys[c * nb + i] = idx[s->by[i]];
        v[c] = (keyed_t){keys + c * nb, nb, c};
    }
    if (!rc) qsort(v, n, sizeof *v, by_key_then_cell);
    /* runs of one key are the groups, each led by its first cell; numbered in
     * the order of those first cells (a sort, not a scan per cell: `by` may
     * be an axis of many values) */
    run_t *runs = rc ? NULL : malloc((n + 1) * sizeof *runs);
    if (!rc && !runs) rc = nomem(err);
    size_t groups = 0;
    for (size_t i = 0; !rc && i < n; i++)
        if (i == 0 || by_key_then_cell(&(keyed_t){v[i].key, nb, 0}, &(keyed_t){v[i - 1].key, nb, 0})) {
            if (groups) runs[groups - 1].end = i;
            runs[groups++] = (run_t){v[i].cell, i, n};
        }
    if (!rc) qsort(runs, groups, sizeof *runs, by_first_cell);
    for (size_t g = 0; !rc && g < groups; g++) {
        s->group_first[g] = runs[g].first_cell;
        for (size_t i = runs[g].at; i < runs[g].end; i++) s->group_of[v[i].cell] = g;
    }
    s->n_groups = groups;
    free(runs);
    free(keys), free(v);
    return rc;
}

/* ---- the final cells ----------------------------------------------------- */

/* The seed column (made when the tuning cells have none) with the rerun
 * seeds appended; their indices from *first on. */
static err_code_t seed_column(experiment_t *exp, const select_spec_t *s, size_t *first, err_t *err)
{
    arena_t *a = &exp->arena;
    size_t k = exp->n_axes;
    bool have = k && exp->axes[k - 1].kind == AXIS_SEED;
    if (!have) { /* a new last column: every row gets one more entry */
        axis_t *axes = arena_alloc(a, (k + 1) * sizeof *axes);
        uint32_t *coords = arena_alloc(a, (exp->n_cells * (k + 1) + 1) * sizeof *coords);
        if (!axes || !coords) return nomem(err);
        memcpy(axes, exp->axes, k * sizeof *axes);
        for (size_t c = 0; c < exp->n_cells; c++) {
            memcpy(coords + c * (k + 1), exp->coords + c * k, k * sizeof *coords);
            coords[c * (k + 1) + k] = UINT32_MAX;
        }
        axes[k] = (axis_t){.kind = AXIS_SEED, .name = "seed", .numeric = true, .mark = (mark_t){exp->path, 1, 1}};
        exp->axes = axes, exp->coords = coords, exp->n_axes = ++k;
    }
    axis_t *ax = &exp->axes[k - 1];
    size_t n = ax->n + s->n_seeds;
    int64_t *seeds = arena_alloc(a, n * sizeof *seeds);
    double *numbers = arena_alloc(a, n * sizeof *numbers);
    const char **labels = arena_alloc(a, n * sizeof *labels);
    if (!seeds || !numbers || !labels) return nomem(err);
    if (ax->n) {
        memcpy(seeds, ax->seeds, ax->n * sizeof *seeds);
        memcpy(numbers, ax->numbers, ax->n * sizeof *numbers);
        memcpy(labels, ax->labels, ax->n * sizeof *labels);
    }
    for (size_t i = 0; i < s->n_seeds; i++) {
        seeds[ax->n + i] = s->seeds[i];
        numbers[ax->n + i] = (double)s->seeds[i];
        if (!(labels[ax->n + i] = arena_printf(a, "%" PRId64, s->seeds[i]))) return nomem(err);
    }
    *first = ax->n;
    ax->seeds = seeds, ax->numbers = numbers, ax->labels = labels, ax->n = n;
    ax->everywhere = false;
    return ERR_OK;
}

err_code_t select_expand(experiment_t *exp, const node_t *node, err_t *err)
{
    arena_t *a = &exp->arena;
    if (node->kind != NODE_MAP)
        return err_set(err, ERR_CONFIG, node->mark, "select is a mapping, like select: {metric: validation_accuracy, "
                       "rerun: {repeat: 5}}");
    for (size_t i = 0; i < node->n; i++) {
        size_t k = 0;
        while (k < sizeof select_keys / sizeof *select_keys && strcmp(node->pairs[i].key, select_keys[k])) k++;
        if (k == sizeof select_keys / sizeof *select_keys)
            return node_unknown_key(&node->pairs[i], " in select", select_keys, k, err);
    }
    select_spec_t *s = arena_alloc(a, sizeof *s);
    if (!s) return nomem(err);
    *s = (select_spec_t){.n_tune = exp->n_cells, .text = node_to_flow(a, node)};
    err_code_t rc;
    if ((rc = read_metric(exp, node, s, err)) || (rc = read_by(exp, node, s, err)) || (rc = read_rerun(exp, node, s, err)) ||
        (rc = find_groups(exp, s, err)))
        return rc;
    size_t n_final;
    if (__builtin_mul_overflow(s->n_groups, s->n_seeds, &n_final) || n_final > exp->max_cells - exp->n_cells)
        return err_set(err, ERR_CONFIG, node->mark,
                       "the final phase has %zu groups x %zu seeds, more cells than the limit of %" PRIu64
                       " (with the tuning cells); raise it with --max-cells N",
                       s->n_groups, s->n_seeds, exp->max_cells);
    size_t first_seed = 0;
    if ((rc = seed_column(exp, s, &first_seed, err))) return rc;
    /* the tuning settings' count: final cells' seeds are numbered after them */
    size_t k = exp->n_axes, settings = 0, idx[64], prev[64];
    for (size_t c = 0; c < s->n_tune; c++) {
        experiment_cell_coords(exp, c, idx);
        if (c == 0 || memcmp(idx, prev, (k - 1) * sizeof *idx)) settings++;
        memcpy(prev, idx, k * sizeof *idx);
    }
    size_t n = s->n_tune + n_final;
    cell_t *cells = arena_alloc(a, (n + 1) * sizeof *cells);
    uint32_t *coords = arena_alloc(a, (n * k + 1) * sizeof *coords);
    if (!cells || !coords) return nomem(err);
    memcpy(cells, exp->cells, s->n_tune * sizeof *cells);
    memcpy(coords, exp->coords, s->n_tune * k * sizeof *coords);
    for (size_t g = 0; g < s->n_groups; g++)
        for (size_t j = 0; j < s->n_seeds; j++) {
            size_t f = s->n_tune + g * s->n_seeds + j;
            cells[f] = exp->cells[s->group_first[g]];
            cells[f].seed_value = s->seeds[j];
            cells[f].seed = derive_cell_seed(s->seeds[j], settings + g);
            uint32_t *row = coords + f * k;
            const uint32_t *first = exp->coords + s->group_first[g] * k;
            for (size_t q = 0; q < k; q++) row[q] = UINT32_MAX;
            for (size_t i = 0; i < s->n_by; i++) row[s->by[i]] = first[s->by[i]];
            row[k - 1] = (uint32_t)(first_seed + j);
        }
    exp->cells = cells, exp->coords = coords, exp->n_cells = n;
    exp->select = s;
    return ERR_OK;
}

/* ---- the choice ---------------------------------------------------------- */

double select_score(const select_spec_t *s, const float *v, size_t n)
{
    double last = NAN, lowest = NAN;
    for (size_t i = 0; i < n; i++) {
        double x = v[i];
        if (isnan(x)) continue;
        if (s->reduce == METRIC_REACH && x <= s->tol) return (double)i;
        last = x;
        if (!(x >= lowest)) lowest = x;
    }
    return s->reduce == METRIC_REACH ? INFINITY : s->reduce == METRIC_LOWEST ? lowest : last;
}

void select_choose(const experiment_t *exp, const double *score, const int8_t *status, size_t *chosen)
{
    const select_spec_t *s = exp->select;
    size_t k = exp->n_axes, idx[64], prev[64];
    double *best = malloc((s->n_groups + 1) * sizeof *best);
    for (size_t g = 0; g < s->n_groups; g++) chosen[g] = SIZE_MAX;
    /* settings are consecutive cells (seed fastest): score each as it ends */
    size_t first = 0;
    double sum = 0;
    bool all_ok = true;
    for (size_t c = 0; c <= s->n_tune; c++) {
        bool ends = c == s->n_tune;
        if (!ends) {
            experiment_cell_coords(exp, c, idx);
            ends = c > 0 && memcmp(idx, prev, (k - 1) * sizeof *idx);
            memcpy(prev, idx, k * sizeof *idx);
        }
        if (ends && c > 0) {
            size_t g = s->group_of[first];
            double mean = sum / (double)(c - first);
            bool better = chosen[g] == SIZE_MAX || (s->maximize ? mean > best[g] : mean < best[g]);
            if (all_ok && !isnan(mean) && better && best) best[g] = mean, chosen[g] = first;
            first = c, sum = 0, all_ok = true;
        }
        if (c < s->n_tune) {
            all_ok &= status[c] == 1; /* STATUS_OK (results/format.h) */
            sum += score[c];
        }
    }
    free(best);
}

void select_apply(experiment_t *exp)
{
    const select_spec_t *s = exp->select;
    const size_t *chosen = s->chosen;
    size_t k = exp->n_axes;
    for (size_t g = 0; g < s->n_groups; g++)
        for (size_t j = 0; j < s->n_seeds; j++) {
            size_t f = s->n_tune + g * s->n_seeds + j;
            cell_t keep = exp->cells[f];
            size_t from = chosen[g] == SIZE_MAX ? s->group_first[g] : chosen[g];
            exp->cells[f] = exp->cells[from];
            exp->cells[f].seed = keep.seed, exp->cells[f].seed_value = keep.seed_value;
            uint32_t *row = exp->coords + f * k, seed = row[k - 1];
            memcpy(row, exp->coords + from * k, k * sizeof *row);
            row[k - 1] = seed;
        }
}
