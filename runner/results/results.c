/* results.c: read a results file back into per-cell numbers. */
#include "results/results.h"

#include <hdf5.h>
#include <hdf5_hl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/number_text.h"
#include "base/size_math.h"
#include "results/format.h"
#include "results/h5util.h"

/* Floats read per slab of cells: bounds the reader's memory (128 MiB). */
/* What no file of ours exceeds (the experiment's cell limit is 10^7 by
 * default, a cell records at most 2^31 steps): larger is damage. */
#define RESULTS_MAX_CELLS ((size_t)1 << 40)
#define RESULTS_MAX_SERIES (((hsize_t)1 << 31) + 1)
#define SLAB_FLOATS ((size_t)32 << 20)

static err_code_t bad_file(err_t *err, const char *path, const char *what)
{
    return err_set(err, ERR_IO, (mark_t){path, 0, 0}, "not a runner results file: %s", what);
}

static err_code_t nomem(err_t *err)
{
    return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
}

/* The shortest text that reads back as exactly v; a whole number as
 * digits (10, not the equally short and exact 1e+01). */
static char *number_label(double v)
{
    char buf[32];
    if (v == floor(v) && fabs(v) < 1e15) snprintf(buf, sizeof buf, "%.0f", v);
    else format_double(buf, sizeof buf, v);
    return strdup(buf);
}

/* A coordinate variable's values as text. */
static herr_t read_labels(hid_t file, results_axis_t *ax)
{
    hid_t ds = H5Dopen2(file, ax->name, H5P_DEFAULT);
    if (ds < 0) return -1;
    /* one value per index of the dimension, or reading it overflows the
     * buffer (a damaged file: a longer or 2-D coordinate, a label naming
     * another variable) */
    hid_t space = H5Dget_space(ds);
    bool shaped = space >= 0 && H5Sget_simple_extent_ndims(space) == 1 &&
                  H5Sget_simple_extent_npoints(space) == (hssize_t)ax->n;
    if (space >= 0) H5Sclose(space);
    if (!shaped) {
        H5Dclose(ds);
        return -2;
    }
    hid_t ft = H5Dget_type(ds);
    H5T_class_t cls = H5Tget_class(ft);
    herr_t rc = (ax->labels = calloc(ax->n ? ax->n : 1, sizeof *ax->labels)) ? 0 : -1;
    if (rc >= 0 && cls == H5T_STRING) {
        hid_t st = h5_string_type();
        char **v = calloc(ax->n ? ax->n : 1, sizeof *v);
        rc = v && H5Dread(ds, st, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0 ? 0 : -1;
        for (size_t i = 0; rc >= 0 && i < ax->n; i++)
            if (!(ax->labels[i] = strdup(v[i] ? v[i] : ""))) rc = -1;
        if (v) {
            hid_t sp = H5Dget_space(ds);
            if (rc >= 0) H5Dvlen_reclaim(st, sp, H5P_DEFAULT, v);
            H5Sclose(sp);
        }
        free(v);
        H5Tclose(st);
    } else if (rc >= 0 && (cls == H5T_FLOAT || cls == H5T_INTEGER)) {
        ax->is_seed = cls == H5T_INTEGER && !strcmp(ax->name, "seed");
        double *v = malloc((ax->n ? ax->n : 1) * sizeof *v);
        rc = v && H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0 ? 0 : -1;
        for (size_t i = 0; rc >= 0 && i < ax->n; i++)
            if (!(ax->labels[i] = number_label(v[i]))) rc = -1;
        free(v);
    } else {
        rc = -1;
    }
    H5Tclose(ft), H5Dclose(ds);
    return rc;
}

typedef struct {
    const char *label;
    size_t cell;
} labelled_t;

static int by_label_then_cell(const void *x, const void *y)
{
    const labelled_t *a = x, *b = y;
    int c = strcmp(a->label, b->label);
    return c ? c : a->cell < b->cell ? -1 : a->cell > b->cell;
}

static int by_cell(const void *x, const void *y)
{
    const labelled_t *a = x, *b = y;
    return a->cell < b->cell ? -1 : a->cell > b->cell;
}

/* A ragged file's column k: its distinct values as the axis' labels (in
 * order of first appearance) and each cell's index among them. */
static herr_t read_column(hid_t file, results_t *r, size_t k)
{
    results_axis_t *ax = &r->axes[k];
    size_t n = r->n_cells;
    hid_t ds = H5Dopen2(file, ax->name, H5P_DEFAULT);
    if (ds < 0) return -1;
    hid_t space = H5Dget_space(ds), ft = H5Dget_type(ds);
    bool shaped = space >= 0 && H5Sget_simple_extent_ndims(space) == 1 && H5Sget_simple_extent_npoints(space) == (hssize_t)n;
    H5T_class_t cls = ft >= 0 ? H5Tget_class(ft) : H5T_NO_CLASS;
    char **text = calloc(n ? n : 1, sizeof *text);
    labelled_t *v = malloc((n ? n : 1) * sizeof *v);
    herr_t rc = shaped && text && v ? 0 : shaped ? -1 : -2;
    if (rc >= 0 && cls == H5T_STRING) { /* variable or fixed length (config/select.h) */
        char **raw = h5_read_texts(ds, n);
        rc = raw ? 0 : -1;
        for (size_t c = 0; rc >= 0 && c < n; c++)
            if (!(text[c] = strdup(*raw[c] ? raw[c] : "-"))) rc = -1;
        for (size_t c = 0; raw && c < n; c++) free(raw[c]);
        free(raw);
    } else if (rc >= 0 && (cls == H5T_FLOAT || cls == H5T_INTEGER)) {
        ax->is_seed = cls == H5T_INTEGER && !strcmp(ax->name, "seed");
        double *x = malloc((n ? n : 1) * sizeof *x);
        rc = x && H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, x) >= 0 ? 0 : -1;
        for (size_t c = 0; rc >= 0 && c < n; c++)
            if (!(text[c] = isnan(x[c]) ? strdup("-") : number_label(x[c]))) rc = -1;
        free(x);
    } else if (rc >= 0) {
        rc = -1;
    }
    /* distinct values: sorted by text, each group numbered by its first cell */
    for (size_t c = 0; rc >= 0 && c < n; c++) v[c] = (labelled_t){text[c], c};
    if (rc >= 0) qsort(v, n, sizeof *v, by_label_then_cell);
    size_t groups = 0;
    for (size_t i = 0; rc >= 0 && i < n; i++)
        if (i == 0 || strcmp(v[i].label, v[i - 1].label)) v[groups++] = v[i];
    if (rc >= 0) qsort(v, groups, sizeof *v, by_cell); /* the groups' first cells, in order */
    ax->n = groups;
    if (rc >= 0 && !(ax->labels = calloc(groups ? groups : 1, sizeof *ax->labels))) rc = -1;
    for (size_t g = 0; rc >= 0 && g < groups; g++)
        if (!(ax->labels[g] = strdup(v[g].label))) rc = -1;
    /* each cell's group: a search among the sorted labels */
    if (rc >= 0) {
        labelled_t *sorted = malloc((groups ? groups : 1) * sizeof *sorted);
        if (!sorted) rc = -1;
        for (size_t g = 0; rc >= 0 && g < groups; g++) sorted[g] = (labelled_t){ax->labels[g], g};
        if (rc >= 0) qsort(sorted, groups, sizeof *sorted, by_label_then_cell);
        for (size_t c = 0; rc >= 0 && c < n; c++) {
            size_t lo = 0, hi = groups;
            while (hi - lo > 1) {
                size_t mid = (lo + hi) / 2;
                if (strcmp(sorted[mid].label, text[c]) <= 0) lo = mid;
                else hi = mid;
            }
            r->coords[c * r->n_axes + k] = (uint32_t)sorted[lo].cell;
        }
        free(sorted);
    }
    for (size_t c = 0; text && c < n; c++) free(text[c]);
    free(text), free(v);
    if (ft >= 0) H5Tclose(ft);
    if (space >= 0) H5Sclose(space);
    H5Dclose(ds);
    return rc;
}

/* A ragged file (format.h): `status` spans `cell` alone and names the axes'
 * coordinate variables. */
static err_code_t read_ragged_axes(hid_t file, hid_t status, results_t *r, err_t *err)
{
    char *list = h5_read_attr_text(status, FORMAT_COORDINATES);
    if (!list) return bad_file(err, r->mark_path, "status spans `cell` but names no coordinates");
    size_t n = 0; /* the names, counted before strtok cuts the list */
    for (const char *c = list; *c; c++) n += *c != ' ' && (c == list || c[-1] == ' ');
    err_code_t rc = ERR_OK;
    if (n > H5UTIL_MAX_RANK - 2) rc = bad_file(err, r->mark_path, "more coordinates than any study has");
    if (!rc && (!(r->axes = calloc(n + 1, sizeof *r->axes)) ||
                !(r->coords = malloc((r->n_cells * n + 1) * sizeof *r->coords))))
        rc = nomem(err);
    r->n_axes = rc ? 0 : n; /* before any column: coords is n_cells x n_axes */
    size_t k = 0;
    for (char *t = rc ? NULL : strtok(list, " "); t && !rc; t = strtok(NULL, " "), k++) {
        herr_t lr;
        if (!(r->axes[k].name = strdup(t))) rc = nomem(err);
        else if ((lr = read_column(file, r, k)) == -2)
            rc = err_set(err, ERR_IO, (mark_t){r->mark_path, 0, 0},
                         "damaged: the coordinate variable '%s' is not one value per cell", t);
        else if (lr < 0)
            rc = err_set(err, ERR_IO, (mark_t){r->mark_path, 0, 0}, "cannot read the coordinate variable '%s'", t);
    }
    free(list);
    return rc;
}

/* Each cell's setting (results.h). */
static err_code_t number_settings(results_t *r, err_t *err)
{
    if (!(r->setting = malloc((r->n_cells ? r->n_cells : 1) * sizeof *r->setting))) return nomem(err);
    size_t idx[H5UTIL_MAX_RANK], prev[H5UTIL_MAX_RANK], seed_n = 1;
    for (size_t k = 0; k < r->n_axes; k++)
        if (r->axes[k].is_seed) seed_n = r->axes[k].n;
    r->n_settings = 0;
    for (size_t k = 0; k < r->n_axes; k++) r->has_phases |= r->coords && !strcmp(r->axes[k].name, FORMAT_PHASE);
    for (size_t c = 0; c < r->n_cells; c++) {
        if (!r->coords) { /* the seed axis is last: cells of a setting are adjacent */
            r->setting[c] = c / seed_n;
            r->n_settings = r->setting[c] + 1;
            continue;
        }
        results_cell_coords(r, c, idx);
        bool same = c > 0;
        for (size_t k = 0; k < r->n_axes && same; k++) same = r->axes[k].is_seed || idx[k] == prev[k];
        if (!same) r->n_settings++;
        r->setting[c] = r->n_settings - 1;
        memcpy(prev, idx, r->n_axes * sizeof *idx);
    }
    return ERR_OK;
}

err_code_t results_keep_phase(results_t *r, const char *phase, err_t *err)
{
    size_t p = 0;
    while (p < r->n_axes && strcmp(r->axes[p].name, FORMAT_PHASE)) p++;
    if (!r->coords || p == r->n_axes)
        return err_set(err, ERR_USAGE, (mark_t){0}, "%s has no phases (its study has no select:), so there is no phase '%s'",
                       r->mark_path, phase);
    size_t want = 0;
    while (want < r->axes[p].n && strcmp(r->axes[p].labels[want], phase)) want++;
    if (want == r->axes[p].n)
        return err_set(err, ERR_USAGE, (mark_t){0}, "%s has no phase '%s' (its phases: tune, final)", r->mark_path, phase);
    size_t na = r->n_axes, kept = 0, first_failed = SIZE_MAX;
    /* the kept cells, their coordinates without the phase column */
    for (size_t c = 0; c < r->n_cells; c++) {
        const uint32_t *row = r->coords + c * na;
        if (row[p] != want) continue;
        if (kept == 0) r->cell_offset = c; /* a phase's cells are consecutive (config/select.h) */
        if (r->first_failure && c == r->first_failed) first_failed = kept;
        r->cells[kept] = r->cells[c];
        for (size_t k = 0, j = 0; k < na; k++)
            if (k != p) r->coords[kept * (na - 1) + j++] = row[k];
        kept++;
    }
    free(r->axes[p].name);
    for (size_t i = 0; i < r->axes[p].n; i++) free(r->axes[p].labels[i]);
    free(r->axes[p].labels);
    memmove(&r->axes[p], &r->axes[p + 1], (na - p - 1) * sizeof *r->axes);
    r->n_axes = na - 1, r->n_cells = kept;
    if (first_failed == SIZE_MAX) free(r->first_failure), r->first_failure = NULL;
    else r->first_failed = first_failed;
    /* each axis keeps the values its kept cells have, in their order */
    for (size_t k = 0; k < r->n_axes; k++) {
        results_axis_t *ax = &r->axes[k];
        size_t *to = malloc((ax->n + 1) * sizeof *to), n = 0;
        if (!to) return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
        for (size_t i = 0; i < ax->n; i++) to[i] = SIZE_MAX;
        for (size_t c = 0; c < kept; c++) to[r->coords[c * r->n_axes + k]] = 0;
        for (size_t i = 0; i < ax->n; i++) {
            if (to[i] == SIZE_MAX) {
                free(ax->labels[i]);
                continue;
            }
            ax->labels[n] = ax->labels[i];
            to[i] = n++;
        }
        for (size_t c = 0; c < kept; c++) r->coords[c * r->n_axes + k] = (uint32_t)to[r->coords[c * r->n_axes + k]];
        ax->n = n;
        free(to);
    }
    r->has_phases = false;
    free(r->setting);
    r->setting = NULL;
    return number_settings(r, err);
}

/* The cell axes: the dimensions of `status`, named by their labels. */
static err_code_t read_axes(hid_t file, results_t *r, hsize_t *dims, err_t *err)
{
    hid_t st = H5Dopen2(file, FORMAT_STATUS, H5P_DEFAULT);
    if (st < 0) return bad_file(err, r->mark_path, "no status variable");
    hid_t sp = H5Dget_space(st);
    int rank = H5Sget_simple_extent_ndims(sp);
    err_code_t rc = ERR_OK;
    if (rank < 0 || rank > H5UTIL_MAX_RANK - 2 || H5Sget_simple_extent_dims(sp, dims, NULL) != rank)
        rc = bad_file(err, r->mark_path, "status has an unreadable shape");
    r->n_axes = rank > 0 ? (size_t)rank : 0;
    r->n_dims = r->n_axes;
    r->n_cells = 1;
    char first_label[256] = "";
    if (rc == ERR_OK && rank == 1 && H5DSget_label(st, 0, first_label, sizeof first_label) > 0 &&
        !strcmp(first_label, FORMAT_CELL_DIM) && H5Aexists(st, FORMAT_COORDINATES) > 0) {
        r->n_cells = dims[0];
        if (r->n_cells > RESULTS_MAX_CELLS) rc = bad_file(err, r->mark_path, "status declares more cells than any sweep has");
        else rc = read_ragged_axes(file, st, r, err);
        r->n_axes = rc == ERR_OK ? r->n_axes : 0;
    }
    if (r->coords) goto status;
    if (rc == ERR_OK && !(r->axes = calloc(r->n_axes ? r->n_axes : 1, sizeof *r->axes))) rc = nomem(err);
    for (size_t k = 0; rc == ERR_OK && k < r->n_axes; k++) {
        char name[256];
        results_axis_t *ax = &r->axes[k];
        ax->n = dims[k];
        r->n_cells = size_mul(r->n_cells, dims[k]);
        herr_t lr;
        if (r->n_cells > RESULTS_MAX_CELLS)
            rc = bad_file(err, r->mark_path, "status declares more cells than any sweep has");
        else if (H5DSget_label(st, (unsigned)k, name, sizeof name) <= 0)
            rc = bad_file(err, r->mark_path, "a dimension of status has no label");
        else if (!(ax->name = strdup(name)))
            rc = nomem(err);
        else if ((lr = read_labels(file, ax)) == -2)
            rc = err_set(err, ERR_IO, (mark_t){r->mark_path, 0, 0},
                         "damaged: the coordinate variable '%s' is not one value per index of status' dimension %zu "
                         "(%zu long)",
                         name, k, ax->n);
        else if (lr < 0)
            rc = err_set(err, ERR_IO, (mark_t){r->mark_path, 0, 0}, "cannot read the coordinate variable '%s'", name);
    }
status:;
    int8_t *status = rc == ERR_OK ? malloc(r->n_cells ? r->n_cells : 1) : NULL;
    if (rc == ERR_OK && !status) rc = nomem(err);
    if (rc == ERR_OK && H5Dread(st, H5T_NATIVE_INT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, status) < 0)
        rc = bad_file(err, r->mark_path, "cannot read status");
    if (rc == ERR_OK && !(r->cells = malloc((r->n_cells ? r->n_cells : 1) * sizeof *r->cells))) rc = nomem(err);
    for (size_t c = 0; rc == ERR_OK && c < r->n_cells; c++)
        r->cells[c] = (results_cell_t){.status = status[c], .final_loss = NAN, .best_loss = NAN, .reach = -1, .reach_acc = -1,
                                       .final_acc = NAN, .best_acc = NAN, .final_train_acc = NAN,
                                       .final_evals = NAN, .reach_evals = NAN};
    free(status);
    H5Sclose(sp), H5Dclose(st);
    return rc == ERR_OK ? number_settings(r, err) : rc;
}

/* What one variable contributes to a cell: its last and extreme recorded
 * values (NaN padding and a diverged cell's tail are not recorded values),
 * and the first index at or below tol. */
typedef struct {
    double last, lowest, highest;
    int32_t reach, reach_up; /* first index at or below tol; at or above up */
} series_stats_t;

static series_stats_t series_stats(const float *v, size_t n, double tol, double up)
{
    series_stats_t s = {NAN, NAN, NAN, -1, -1};
    for (size_t i = 0; i < n; i++) {
        double x = v[i];
        if (isnan(x)) continue;
        s.last = x;
        if (!(x >= s.lowest)) s.lowest = x;
        if (!(x <= s.highest)) s.highest = x;
        if (s.reach < 0 && x <= tol) s.reach = (int32_t)i;
        if (s.reach_up < 0 && x >= up) s.reach_up = (int32_t)i;
    }
    return s;
}

typedef enum { USE_LOSS, USE_ACCURACY, USE_TRAIN_ACCURACY, USE_VAL_ACCURACY, USE_VAL_LOSS, USE_EVALUATIONS } series_use_t;

/* Read variable `name` [axes..., n] slab by slab into the cells' numbers. */
static err_code_t read_series(hid_t file, results_t *r, const hsize_t *dims, const char *name, series_use_t use,
                              err_t *err)
{
    hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
    if (ds < 0) return err_set(err, ERR_IO, (mark_t){r->mark_path, 0, 0}, "no variable '%s'", name);
    hid_t fs = H5Dget_space(ds);
    hsize_t shape[H5UTIL_MAX_RANK];
    int rank = H5Sget_simple_extent_ndims(fs);
    bool ok = rank == (int)r->n_dims + 1 && H5Sget_simple_extent_dims(fs, shape, NULL) == rank;
    for (size_t k = 0; ok && k < r->n_dims; k++) ok = shape[k] == dims[k];
    err_code_t rc = ok ? ERR_OK : err_set(err, ERR_IO, (mark_t){r->mark_path, 0, 0}, "'%s' does not span the cell axes", name);
    hsize_t n = ok ? shape[r->n_dims] : 0;
    if (rc == ERR_OK && n > RESULTS_MAX_SERIES)
        rc = err_set(err, ERR_IO, (mark_t){r->mark_path, 0, 0}, "damaged: '%s' has %llu values a cell, more than any run records",
                     name, (unsigned long long)n);
    size_t per_slab = n ? SLAB_FLOATS / n : r->n_cells;
    if (per_slab == 0) per_slab = 1;
    float *buf = rc == ERR_OK ? malloc((per_slab < r->n_cells ? per_slab : r->n_cells) * n * sizeof *buf + 1) : NULL;
    if (rc == ERR_OK && !buf) rc = nomem(err);
    double tol = use == USE_LOSS ? r->tol : NAN, up = use == USE_ACCURACY ? r->target_acc : NAN;
    for (size_t c0 = 0; rc == ERR_OK && c0 < r->n_cells; c0 += per_slab) {
        size_t c1 = c0 + per_slab < r->n_cells ? c0 + per_slab : r->n_cells;
        hsize_t count = (hsize_t)(c1 - c0) * n;
        hid_t ms = H5Screate_simple(1, &count, NULL);
        if (h5_select_cells(fs, r->n_dims, dims, c0, c1, &n, 1) < 0 ||
            H5Dread(ds, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, buf) < 0)
            rc = err_set(err, ERR_IO, (mark_t){r->mark_path, 0, 0}, "cannot read '%s'", name);
        H5Sclose(ms);
        for (size_t c = c0; rc == ERR_OK && c < c1; c++) {
            series_stats_t s = series_stats(buf + (c - c0) * n, n, tol, up);
            results_cell_t *cell = &r->cells[c];
            if (use == USE_EVALUATIONS) { /* after the loss: the count at the step that reached tol */
                cell->final_evals = s.last;
                cell->reach_evals = cell->reach >= 0 && (hsize_t)cell->reach < n ? buf[(c - c0) * n + cell->reach] : NAN;
                continue;
            }
            if (use == USE_LOSS) cell->final_loss = s.last, cell->best_loss = s.lowest, cell->reach = s.reach;
            else if (use == USE_ACCURACY) cell->final_acc = s.last, cell->best_acc = s.highest, cell->reach_acc = s.reach_up;
            else if (use == USE_TRAIN_ACCURACY) cell->final_train_acc = s.last;
            else if (use == USE_VAL_ACCURACY) cell->final_val_acc = s.last, cell->best_val_acc = s.highest;
            else cell->final_val_loss = s.last, cell->best_val_loss = s.lowest;
        }
    }
    free(buf);
    H5Sclose(fs), H5Dclose(ds);
    return rc;
}

/* The message of the first failed cell, by element selection (the failure
 * variable is 256 bytes a cell: not read whole). */
static err_code_t read_first_failure(hid_t file, results_t *r, err_t *err)
{
    size_t c = 0;
    while (c < r->n_cells && r->cells[c].status != STATUS_FAILED) c++;
    if (c == r->n_cells) return ERR_OK;
    r->first_failed = c;
    hid_t ds = H5Dopen2(file, FORMAT_FAILURE, H5P_DEFAULT);
    hid_t ft = ds < 0 ? -1 : H5Dget_type(ds);
    size_t size = ft < 0 ? 0 : H5Tget_size(ft);
    hid_t fs = ds < 0 ? -1 : H5Dget_space(ds);
    size_t idx[H5UTIL_MAX_RANK];
    hsize_t coords[H5UTIL_MAX_RANK], one = 1;
    results_cell_coords(r, c, idx);
    for (size_t k = 0; k < r->n_axes; k++) coords[k] = idx[k];
    if (r->coords) coords[0] = c; /* a ragged file's one dimension */
    hid_t ms = H5Screate_simple(1, &one, NULL);
    hsize_t shape[H5UTIL_MAX_RANK];
    bool shaped = fs >= 0 && H5Sget_simple_extent_ndims(fs) == (int)r->n_dims &&
                  H5Sget_simple_extent_dims(fs, shape, NULL) == (int)r->n_dims;
    for (size_t k = 0; shaped && k < r->n_dims; k++) shaped = shape[k] == (r->coords ? r->n_cells : r->axes[k].n);
    r->first_failure = size && size <= (size_t)1 << 20 && shaped ? calloc(1, size + 1) : NULL;
    bool ok = r->first_failure && fs >= 0 && H5Tget_class(ft) == H5T_STRING && !H5Tis_variable_str(ft) &&
              (r->n_dims == 0 ? H5Sselect_all(fs) : H5Sselect_elements(fs, H5S_SELECT_SET, 1, coords)) >= 0 &&
              H5Dread(ds, ft, ms, fs, H5P_DEFAULT, r->first_failure) >= 0;
    H5Sclose(ms);
    if (fs >= 0) H5Sclose(fs);
    if (ft >= 0) H5Tclose(ft);
    if (ds >= 0) H5Dclose(ds);
    return ok ? ERR_OK : err_set(err, ERR_IO, (mark_t){r->mark_path, 0, 0}, "cannot read the failure message of cell %zu", c);
}

err_code_t results_read(const char *path, double tol, results_t *r, err_t *err)
{
    return results_read_target(path, tol, NAN, r, err);
}

err_code_t results_read_target(const char *path, double tol, double target_acc, results_t *r, err_t *err)
{
    memset(r, 0, sizeof *r);
    r->tol = tol;
    r->target_acc = target_acc;
    r->run_state = -1;
    r->rank_metric = -1;
    r->mark_path = path;
    if (!(r->path = strdup(path))) return nomem(err);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (H5Fis_hdf5(path) <= 0) return err_set(err, ERR_IO, (mark_t){path, 0, 0}, "not an HDF5 file, or unreadable");
    hid_t f = h5_open_read(path);
    if (f < 0) return err_set(err, ERR_IO, (mark_t){path, 0, 0}, "HDF5 cannot open the file");
    char title[512];
    err_code_t rc = ERR_OK;
    if (h5_read_attr_string(f, FORMAT_TITLE, title, sizeof title) < 0) rc = bad_file(err, path, "no title attribute");
    else if (!(r->title = strdup(title))) rc = nomem(err);
    hsize_t dims[H5UTIL_MAX_RANK];
    if (rc == ERR_OK) rc = read_axes(f, r, dims, err);
    char kind[64];
    if (rc == ERR_OK && h5_read_attr_string(f, FORMAT_CELL_KIND, kind, sizeof kind) >= 0) {
        /* the file names its kind (written since December 2026) */
        r->training = !strcmp(kind, "training");
        if (!r->training && strcmp(kind, "analytic"))
            rc = bad_file(err, path, "cells of a kind this runner does not know (a newer runner wrote it?)");
    } else if (rc == ERR_OK) {
        /* older files: the kind from its variables */
        r->training = H5Lexists(f, "test_accuracy", H5P_DEFAULT) > 0;
        if (!r->training && H5Lexists(f, "loss", H5P_DEFAULT) <= 0)
            rc = bad_file(err, path, "neither a loss (analytic) nor a test_accuracy (training) variable");
    }
    if (rc == ERR_OK) rc = read_series(f, r, dims, r->training ? "train_epoch_loss" : "loss", USE_LOSS, err);
    if (rc == ERR_OK && !r->training && H5Lexists(f, "evaluations", H5P_DEFAULT) > 0) {
        r->has_evaluations = true;
        rc = read_series(f, r, dims, "evaluations", USE_EVALUATIONS, err);
    }
    if (rc == ERR_OK && r->training) rc = read_series(f, r, dims, "test_accuracy", USE_ACCURACY, err);
    if (rc == ERR_OK && r->training && H5Lexists(f, "train_accuracy", H5P_DEFAULT) > 0)
        rc = read_series(f, r, dims, "train_accuracy", USE_TRAIN_ACCURACY, err);
    r->has_validation = rc == ERR_OK && r->training && H5Lexists(f, "validation_accuracy", H5P_DEFAULT) > 0 &&
                        H5Lexists(f, "validation_loss", H5P_DEFAULT) > 0;
    if (r->has_validation) rc = read_series(f, r, dims, "validation_accuracy", USE_VAL_ACCURACY, err);
    if (r->has_validation && rc == ERR_OK) rc = read_series(f, r, dims, "validation_loss", USE_VAL_LOSS, err);
    if (rc == ERR_OK) rc = read_first_failure(f, r, err);
    hid_t rs = rc == ERR_OK ? H5Dopen2(f, FORMAT_RUN_STATE, H5P_DEFAULT) : -1;
    int8_t state;
    if (rs >= 0 && H5Dread(rs, H5T_NATIVE_INT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, &state) >= 0) r->run_state = state;
    if (rs >= 0) H5Dclose(rs);
    H5Fclose(f);
    return rc;
}

void results_free(results_t *r)
{
    for (size_t k = 0; r->axes && k < r->n_axes; k++) {
        for (size_t i = 0; r->axes[k].labels && i < r->axes[k].n; i++) free(r->axes[k].labels[i]);
        free(r->axes[k].labels);
        free(r->axes[k].name);
    }
    free(r->axes), free(r->cells), free(r->path), free(r->title), free(r->first_failure);
    free(r->coords), free(r->setting);
    memset(r, 0, sizeof *r);
}

void results_cell_coords(const results_t *r, size_t cell, size_t *idx)
{
    if (r->coords) {
        for (size_t k = 0; k < r->n_axes; k++) idx[k] = r->coords[cell * r->n_axes + k];
        return;
    }
    for (size_t k = r->n_axes; k-- > 0;) {
        idx[k] = cell % r->axes[k].n;
        cell /= r->axes[k].n;
    }
}

void results_cell_label(const results_t *r, size_t cell, int skip, bool skip_seed, char *buf, size_t len)
{
    size_t idx[H5UTIL_MAX_RANK], used = 0;
    results_cell_coords(r, cell, idx);
    buf[0] = 0;
    for (size_t k = 0; k < r->n_axes && used < len; k++) {
        if ((int)k == skip || (skip_seed && r->axes[k].is_seed)) continue;
        if (r->coords && !strcmp(r->axes[k].labels[idx[k]], "-")) continue; /* not an axis of the cell's run */
        used += (size_t)snprintf(buf + used, len - used, "%s%s=%s", used ? " " : "", r->axes[k].name,
                                 r->axes[k].labels[idx[k]]);
    }
}

bool results_is_hdf5(const char *path)
{
    static const unsigned char signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    unsigned char head[8];
    struct stat st; /* a FIFO would block the read: only regular files (read_text_file refuses the rest) */
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) return false;
    FILE *f = fopen(path, "rb");
    bool is = f && fread(head, 1, sizeof head, f) == sizeof head && !memcmp(head, signature, sizeof head);
    if (f) fclose(f);
    return is;
}

err_code_t results_read_config(const char *path, char **text, err_t *err)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fis_hdf5(path) > 0 ? h5_open_read(path) : -1;
    if (f < 0) return err_set(err, ERR_IO, (mark_t){path, 0, 0}, "not an HDF5 file, or unreadable");
    *text = h5_read_attr_text(f, FORMAT_RESOLVED_CONFIG);
    H5Fclose(f);
    if (!*text) return err_set(err, ERR_IO, (mark_t){path, 0, 0}, "not a runner results file (no resolved_config)");
    return ERR_OK;
}
