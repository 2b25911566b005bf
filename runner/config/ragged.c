/* ragged.c: the columns and cells of a study with per-run axes or exclude: (ragged.h). */
#include "config/ragged.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static err_code_t nomem(err_t *err) { return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory"); }

/* One of a run's axes, in product order, and where its values sit in its column. */
typedef struct {
    const axis_t *ax;
    size_t col, first;
} placed_t;

typedef struct {
    placed_t *axes;
    size_t n;
    uint64_t cells; /* the product of the axes' sizes, before exclude: */
} run_plan_t;

/* ---- columns ---------------------------------------------------------- */

static size_t find_column(const axis_t *cols, size_t from, size_t to, const char *name)
{
    for (size_t k = from; k < to; k++)
        if (!strcmp(cols[k].name, name)) return k;
    return SIZE_MAX;
}

/* Append ax's values to column col (sized beforehand), returning where they start. */
static size_t append_values(axis_t *col, const axis_t *ax)
{
    size_t first = col->n;
    for (size_t i = 0; i < ax->n; i++) {
        if (col->values) col->values[first + i] = ax->values ? ax->values[i] : NULL;
        col->labels[first + i] = ax->labels[i];
        if (col->numbers) col->numbers[first + i] = ax->numeric || ax->kind == AXIS_SEED ? ax->numbers[i] : 0;
        if (col->seeds) col->seeds[first + i] = ax->seeds[i];
    }
    col->n += ax->n;
    col->numeric &= ax->numeric;
    return first;
}

/* The study's columns, with every run's axes placed in them. */
static err_code_t build_columns(experiment_t *exp, const axis_t *run_axis, const axis_t *sweep_grid, size_t n_sweep,
                                const axis_t *sweep_seed, const run_axes_t *own, size_t n_runs, run_plan_t *plans,
                                err_t *err)
{
    arena_t *a = &exp->arena;
    size_t max_cols = 2 + n_sweep;
    for (size_t r = 0; r < n_runs; r++) max_cols += own[r].n_grid;
    axis_t *cols = arena_alloc(a, max_cols * sizeof *cols);
    size_t *size = calloc(max_cols, sizeof *size), *present = calloc(max_cols, sizeof *present);
    err_code_t rc = ERR_OK;
    if (!cols || !size || !present) {
        rc = nomem(err);
        goto out;
    }
    size_t n = 0;
    if (run_axis) cols[n] = *run_axis, size[n++] = run_axis->n;
    size_t grid0 = n;
    for (size_t k = 0; k < n_sweep; k++) cols[n] = sweep_grid[k], size[n++] = sweep_grid[k].n;
    size_t own0 = n;
    /* the own axes' columns, sized: a name first seen makes one */
    for (size_t r = 0; r < n_runs; r++)
        for (size_t k = 0; k < own[r].n_grid; k++) {
            const axis_t *ax = &own[r].grid[k];
            if (find_column(cols, grid0, own0, ax->name) != SIZE_MAX) {
                rc = err_set(err, ERR_CONFIG, ax->mark,
                             "grid axis '%s' is sweep-wide already (the top-level grid:); a run cannot give it again: "
                             "keep it at the top, or move it into each run's own grid",
                             ax->name);
                goto out;
            }
            size_t col = find_column(cols, own0, n, ax->name);
            if (col == SIZE_MAX) col = n, cols[n] = *ax, size[n++] = 0;
            if (__builtin_add_overflow(size[col], ax->n, &size[col])) {
                rc = err_set(err, ERR_CONFIG, ax->mark, "grid axis '%s' has too many values", ax->name);
                goto out;
            }
            present[col]++;
        }
    size_t seed_col = SIZE_MAX;
    bool any_seed = sweep_seed != NULL;
    for (size_t r = 0; r < n_runs; r++) any_seed |= own[r].seed != NULL;
    if (any_seed) {
        seed_col = n;
        const axis_t *any = sweep_seed;
        for (size_t r = 0; r < n_runs && !any; r++) any = own[r].seed;
        cols[n] = *any;
        size[n] = sweep_seed ? sweep_seed->n : 0;
        for (size_t r = 0; r < n_runs; r++) {
            if (own[r].seed && __builtin_add_overflow(size[n], own[r].seed->n, &size[n])) {
                rc = err_set(err, ERR_CONFIG, own[r].seed->mark, "too many seeds");
                goto out;
            }
            present[n] += own[r].seed || sweep_seed;
        }
        n++;
    }
    /* value arrays for the columns that concatenate: the own ones and seed */
    for (size_t k = own0; k < n; k++) {
        axis_t *c = &cols[k];
        bool seeds = c->kind == AXIS_SEED;
        if (size[k] >= UINT32_MAX) {
            rc = err_set(err, ERR_CONFIG, c->mark, "axis '%s' has more than 2^32 values", c->name);
            goto out;
        }
        c->values = seeds ? NULL : arena_alloc(a, (size[k] + 1) * sizeof *c->values);
        c->labels = arena_alloc(a, (size[k] + 1) * sizeof *c->labels);
        c->numbers = arena_alloc(a, (size[k] + 1) * sizeof *c->numbers);
        c->seeds = seeds ? arena_alloc(a, (size[k] + 1) * sizeof *c->seeds) : NULL;
        if ((!seeds && !c->values) || !c->labels || !c->numbers || (seeds && !c->seeds)) {
            rc = nomem(err);
            goto out;
        }
        c->n = 0;
        c->numeric = true;
        c->everywhere = present[k] == n_runs;
    }
    for (size_t k = 0; k < own0; k++) cols[k].everywhere = true;
    size_t sweep_seed_first = sweep_seed ? append_values(&cols[seed_col], sweep_seed) : 0;
    /* each run's axes, in product order, placed in their columns */
    for (size_t r = 0; r < n_runs; r++) {
        run_plan_t *p = &plans[r];
        p->axes = arena_alloc(a, (n_sweep + own[r].n_grid + 1) * sizeof *p->axes);
        if (!p->axes) {
            rc = nomem(err);
            goto out;
        }
        p->n = 0;
        for (size_t k = 0; k < n_sweep; k++) p->axes[p->n++] = (placed_t){&sweep_grid[k], grid0 + k, 0};
        for (size_t k = 0; k < own[r].n_grid; k++) {
            const axis_t *ax = &own[r].grid[k];
            size_t col = find_column(cols, own0, n, ax->name);
            p->axes[p->n++] = (placed_t){ax, col, append_values(&cols[col], ax)};
        }
        if (own[r].seed) p->axes[p->n++] = (placed_t){own[r].seed, seed_col, append_values(&cols[seed_col], own[r].seed)};
        else if (sweep_seed) p->axes[p->n++] = (placed_t){sweep_seed, seed_col, sweep_seed_first};
    }
    exp->axes = cols;
    exp->n_axes = n;
out:
    free(size), free(present);
    return rc;
}

/* ---- exclude: ---------------------------------------------------------- */

/* The node at a dotted path (list items by index), or NULL. */
static const node_t *lookup(const node_t *n, const char *path)
{
    char part[256];
    while (n && *path) {
        size_t len = strcspn(path, ".");
        if (len >= sizeof part) return NULL;
        memcpy(part, path, len);
        part[len] = 0;
        path += len + (path[len] == '.');
        if (n->kind == NODE_MAP) {
            n = node_get(n, part);
        } else if (n->kind == NODE_SEQ) {
            char *end;
            unsigned long i = strtoul(part, &end, 10);
            n = *end || !len || i >= n->n ? NULL : n->items[i];
        } else {
            n = NULL;
        }
    }
    return n;
}

static bool is_number(const node_t *n, double *v)
{
    if (n->kind != NODE_SCALAR || n->quoted) return false;
    scalar_type_t t = scalar_type(n);
    if (t != SCALAR_INT && t != SCALAR_FLOAT) return false;
    err_t ignored;
    return node_to_double(n, "", v, &ignored) == ERR_OK;
}

/* Whether a cell's value v is the value an exclude entry names. */
static bool same_value(arena_t *scratch, const node_t *v, const node_t *want)
{
    if (!v) return false;
    double x, y;
    if (is_number(v, &x) && is_number(want, &y)) return x == y;
    if (v->kind == NODE_SCALAR && want->kind == NODE_SCALAR) return !strcmp(v->text, want->text);
    const char *a = node_to_flow(scratch, v), *b = node_to_flow(scratch, want);
    return a && b && !strcmp(a, b);
}

/* Where path's value comes from in a run: the last of its axes whose path
 * is path or holds it (its index in the plan, and the rest of the path),
 * or -1: the run's fixed tree. */
static int source_axis(const run_plan_t *p, const char *path, size_t *which, const char **rest)
{
    for (size_t i = p->n; i-- > 0;) {
        const axis_t *ax = p->axes[i].ax;
        if (ax->kind == AXIS_SEED) {
            if (!strcmp(path, "seed")) return *which = 0, *rest = "", (int)i;
            continue;
        }
        for (size_t q = 0; q < ax->n_paths; q++) {
            size_t len = strlen(ax->paths[q]);
            if (!strncmp(path, ax->paths[q], len) && (!path[len] || path[len] == '.'))
                return *which = q, *rest = path + len + (path[len] == '.'), (int)i;
        }
    }
    return -1;
}

/* One condition of an exclude entry in one run: fixed (holds or not for
 * every cell of the run) or, per value of one of the run's axes, ok[v]. */
typedef struct {
    int axis;
    bool fixed;
    bool *ok;
} cond_t;

typedef struct {
    const node_t *list;
    size_t n_conds;   /* over all entries */
    size_t *first;    /* entry e's conditions: first[e]..first[e+1]-1 */
    cond_t *conds;    /* for the run being expanded */
    bool *matched;    /* entry e left some cell out */
} exclude_t;

static err_code_t exclude_parse(const node_t *list, exclude_t *x, err_t *err)
{
    if (list->kind != NODE_SEQ || list->n == 0)
        return err_set(err, ERR_CONFIG, list->mark,
                       "exclude: is a list of partial assignments, like - {optimizer.name: adam, optimizer.momentum: 0.9}; "
                       "got %s",
                       list->kind == NODE_SEQ ? "an empty list" : node_kind_name(list));
    x->list = list;
    x->first = malloc((list->n + 1) * sizeof *x->first);
    x->matched = calloc(list->n, sizeof *x->matched);
    if (!x->first || !x->matched) return nomem(err);
    for (size_t e = 0; e < list->n; e++) {
        const node_t *m = list->items[e];
        if (m->kind != NODE_MAP || m->n == 0)
            return err_set(err, ERR_CONFIG, m->mark,
                           "each exclude entry is a mapping of paths to values, like {optimizer.name: adam, "
                           "optimizer.momentum: 0.9}; got %s",
                           m->kind == NODE_MAP ? "an empty mapping" : node_kind_name(m));
        x->first[e] = x->n_conds;
        x->n_conds += m->n;
    }
    x->first[list->n] = x->n_conds;
    x->conds = calloc(x->n_conds ? x->n_conds : 1, sizeof *x->conds);
    return x->conds ? ERR_OK : nomem(err);
}

static void exclude_free(exclude_t *x)
{
    for (size_t i = 0; x->conds && i < x->n_conds; i++) free(x->conds[i].ok);
    free(x->first), free(x->matched), free(x->conds);
}

/* The conditions for run r, whose label is label and fixed tree is tree. */
static err_code_t exclude_prepare(exclude_t *x, const run_plan_t *p, const char *label, const node_t *tree,
                                  arena_t *scratch, err_t *err)
{
    for (size_t e = 0; e < x->list->n; e++) {
        const node_t *m = x->list->items[e];
        for (size_t j = 0; j < m->n; j++) {
            cond_t *c = &x->conds[x->first[e] + j];
            const char *path = m->pairs[j].key, *rest;
            const node_t *want = m->pairs[j].value;
            size_t q;
            free(c->ok);
            *c = (cond_t){-1, false, NULL};
            int i = !strcmp(path, "run") ? -1 : source_axis(p, path, &q, &rest);
            if (!strcmp(path, "run")) {
                c->fixed = label && want->kind == NODE_SCALAR && !strcmp(label, want->text);
            } else if (i < 0) {
                c->fixed = same_value(scratch, lookup(tree, path), want);
            } else {
                const axis_t *ax = p->axes[i].ax;
                if (!(c->ok = malloc(ax->n * sizeof *c->ok))) return nomem(err);
                c->axis = i;
                for (size_t v = 0; v < ax->n; v++) {
                    if (ax->kind == AXIS_SEED) {
                        double w;
                        c->ok[v] = is_number(want, &w) && w == (double)ax->seeds[v];
                        continue;
                    }
                    const node_t *val = ax->n_paths == 1 ? ax->values[v] : ax->values[v]->items[q];
                    c->ok[v] = same_value(scratch, lookup(val, rest), want);
                }
            }
        }
    }
    return ERR_OK;
}

/* Whether the cell at idx (per axis of the run) is left out; notes the entry that did it. */
static bool excluded(exclude_t *x, const size_t *idx)
{
    for (size_t e = 0; e < x->list->n; e++) {
        bool all = true;
        for (size_t j = x->first[e]; j < x->first[e + 1] && all; j++) {
            const cond_t *c = &x->conds[j];
            all = c->axis < 0 ? c->fixed : c->ok[idx[c->axis]];
        }
        if (all) return x->matched[e] = true;
    }
    return false;
}

/* ---- cells ------------------------------------------------------------- */

err_code_t ragged_expand(experiment_t *exp, const axis_t *run_axis, const axis_t *sweep_grid, size_t n_sweep_grid,
                         const axis_t *sweep_seed, const run_axes_t *own, const node_t *exclude, err_t *err)
{
    arena_t *a = &exp->arena, scratch;
    size_t n_runs = run_axis ? run_axis->n : 1;
    run_plan_t *plans = arena_alloc(a, n_runs * sizeof *plans);
    if (!plans) return nomem(err);
    err_code_t rc = build_columns(exp, run_axis, sweep_grid, n_sweep_grid, sweep_seed, own, n_runs, plans, err);
    if (rc) return rc;
    /* the size, before anything per cell is allocated */
    uint64_t total = 0;
    for (size_t r = 0; r < n_runs; r++) {
        plans[r].cells = 1;
        for (size_t k = 0; k < plans[r].n; k++)
            if (__builtin_mul_overflow(plans[r].cells, (uint64_t)plans[r].axes[k].ax->n, &plans[r].cells))
                plans[r].cells = UINT64_MAX;
        if (__builtin_add_overflow(total, plans[r].cells, &total)) total = UINT64_MAX;
    }
    if (total > exp->max_cells) {
        char count[32];
        if (total == UINT64_MAX) snprintf(count, sizeof count, "more than 1.8e19");
        else snprintf(count, sizeof count, "%" PRIu64, total);
        return err_set(err, ERR_CONFIG, run_axis ? run_axis->mark : (mark_t){exp->path, 1, 1},
                       "the study has %s cells (its runs' own axes added up), more than the limit of %" PRIu64
                       " cells; use fewer values or split the study, or raise the limit with --max-cells N",
                       count, exp->max_cells);
    }
    size_t n_cols = exp->n_axes;
    uint32_t *coords = malloc(((size_t)total * n_cols + 1) * sizeof *coords); /* total x n_cols <= 1e7 x 35 */
    size_t *idx = calloc(n_cols + 1, sizeof *idx);
    exclude_t x = {0};
    arena_init(&scratch);
    if (!coords || !idx) rc = nomem(err);
    if (!rc && exclude) rc = exclude_parse(exclude, &x, err);
    size_t n = 0;
    for (size_t r = 0; r < n_runs && !rc; r++) {
        const run_plan_t *p = &plans[r];
        if (exclude) {
            arena_reset(&scratch);
            node_t *tree = run_axis ? node_merge(&scratch, exp->base, run_axis->values[r]) : exp->base;
            if (!tree) rc = nomem(err);
            else rc = exclude_prepare(&x, p, run_axis ? run_axis->labels[r] : NULL, tree, &scratch, err);
        }
        memset(idx, 0, (p->n + 1) * sizeof *idx);
        for (uint64_t c = 0; c < p->cells && !rc; c++) {
            if (!exclude || !excluded(&x, idx)) {
                uint32_t *row = coords + n * n_cols;
                for (size_t k = 0; k < n_cols; k++) row[k] = UINT32_MAX;
                if (run_axis) row[0] = (uint32_t)r;
                for (size_t k = 0; k < p->n; k++) row[p->axes[k].col] = (uint32_t)(p->axes[k].first + idx[k]);
                n++;
            }
            for (size_t k = p->n; k-- > 0;) /* row-major: the last axis fastest */
                if (++idx[k] < p->axes[k].ax->n) break;
                else idx[k] = 0;
        }
    }
    for (size_t e = 0; exclude && !rc && e < exclude->n; e++) {
        if (x.matched[e]) continue;
        const char **w = arena_alloc(a, (exp->n_warnings + 1) * sizeof *w);
        mark_t m = exclude->items[e]->mark;
        if (!w) {
            rc = nomem(err);
            break;
        }
        if (exp->n_warnings) memcpy(w, exp->warnings, exp->n_warnings * sizeof *w);
        w[exp->n_warnings] = arena_printf(a, "%s:%d:%d: warning: this exclude entry matches no cell; check its paths "
                                          "(run, an axis path, or a setting) and values",
                                          m.file ? m.file : exp->path, m.line, m.col);
        exp->warnings = w;
        exp->n_warnings++;
    }
    if (!rc && n == 0)
        rc = err_set(err, ERR_CONFIG, exclude ? exclude->mark : (mark_t){exp->path, 1, 1},
                     "exclude: leaves no cell to run");
    exclude_free(&x);
    arena_free(&scratch);
    free(idx);
    if (rc) {
        free(coords);
        return rc;
    }
    /* kept in the arena with the rest of the experiment */
    exp->coords = arena_alloc(a, (n * n_cols + 1) * sizeof *exp->coords);
    if (!exp->coords) {
        free(coords);
        return nomem(err);
    }
    memcpy(exp->coords, coords, n * n_cols * sizeof *coords);
    free(coords);
    exp->n_cells = n;
    return ERR_OK;
}
