/* h5out.c: create the results file and write cells into it. */
#include "results/h5out.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <hdf5_hl.h>
#include <inttypes.h>
#include <linux/fs.h> /* RENAME_NOREPLACE */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cells/kind.h"
#include "config/select.h"
#include "results/h5util.h"
#include "results/writer_lock.h"
#include "version.h"

#define MAX_RANK H5UTIL_MAX_RANK

struct h5out {
    hid_t file;
    hid_t vars[LAYOUT_MAX_VARS]; /* the layout's per-cell variables */
    hid_t status, wall, failure, run_state;
    hid_t end_time; /* absent (0) in files of runner 0.3.0 and older */
    hid_t failure_type;
    int lock_fd; /* holds the busy mark (writer_lock.h); -1 when none */
    bool resumed; /* recomputed cells may hold an old failure message: always write them */
    bool fixed_text; /* per-cell text is fixed-length: a final phase rewrites it (config/select.h) */
    size_t n_axes;
    hsize_t axis_dims[MAX_RANK];
    layout_t layout;
    /* the caller's: error marks name it, and are printed after the writer
     * is closed, so it is borrowed (h5out.h), never a copy freed here */
    const char *path;
};

/* The full extent of variable v: the cell axes, then its own dimensions. */
static int var_dims(const h5out_t *o, const layout_var_t *v, hsize_t *dims)
{
    memcpy(dims, o->axis_dims, o->n_axes * sizeof *dims);
    for (int d = 0; d < v->n_dims; d++) dims[o->n_axes + (size_t)d] = o->layout.dims[v->dims[d]].n;
    return (int)o->n_axes + v->n_dims;
}

static err_code_t h5fail(err_t *err, const char *path, const char *what)
{
    return err_set(err, ERR_IO, (mark_t){path, 0, 0}, "HDF5 could not %s", what);
}

/* Failure messages: fixed length, so writing one changes no metadata. */
static hid_t failure_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, RUNNER_ERR_MAX);
    H5Tset_strpad(t, H5T_STR_NULLTERM);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}

static herr_t attr_string(hid_t obj, const char *name, const char *value)
{
    hid_t t = h5_string_type(), s = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = a < 0 ? -1 : H5Awrite(a, t, &value);
    if (a >= 0) H5Aclose(a);
    H5Sclose(s), H5Tclose(t);
    return rc;
}

/* How the writer opens its file: no sieve buffer. Every write is one run of
 * whole cells into space allocated at creation; through the 64 KB sieve
 * buffer, a batch's small status and wall-time writes cost a 64 KB read of
 * the file each (31 reads, ~30 ms in a 10,000-cell sweep). */
static hid_t writer_access(void)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_sieve_buf_size(fapl, 0);
    return fapl;
}

/* A dataset of full size, contiguous and allocated now: no metadata changes later. */
static hid_t create_dataset(hid_t file, const char *name, hid_t type, int rank, const hsize_t *dims, bool zero_fill)
{
    hid_t space = rank ? H5Screate_simple(rank, dims, NULL) : H5Screate(H5S_SCALAR);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_layout(dcpl, H5D_CONTIGUOUS);
    H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY);
    H5Pset_fill_time(dcpl, zero_fill ? H5D_FILL_TIME_ALLOC : H5D_FILL_TIME_NEVER);
    hid_t ds = H5Dcreate2(file, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    H5Pclose(dcpl);
    H5Sclose(space);
    return ds;
}

static hid_t coordinate(hid_t file, const char *name, hid_t file_type, hid_t mem_type, hsize_t n, const void *data)
{
    hid_t ds = create_dataset(file, name, file_type, 1, &n, true);
    if (ds < 0) return ds;
    if (H5Dwrite(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0 || H5DSset_scale(ds, name) < 0) {
        H5Dclose(ds);
        return -1;
    }
    return ds;
}

/* Attach a scale to every axis (what names dimensions for netCDF and
 * xarray) and label the axis too (what h5py shows as dims[i].label). */
static herr_t attach(hid_t var, const hid_t *scales, int rank)
{
    for (int i = 0; i < rank; i++) {
        char name[256];
        if (H5DSattach_scale(var, scales[i], (unsigned)i) < 0) return -1;
        if (H5DSget_scale_name(scales[i], name, sizeof name) < 0 || H5DSset_label(var, (unsigned)i, name) < 0)
            return -1;
    }
    return 0;
}

/* CF flag_values 0..n-1, the values flag_meanings names in order. */
static herr_t attr_flag_values(hid_t ds, int n)
{
    int8_t flags[16];
    for (int i = 0; i < n; i++) flags[i] = (int8_t)i;
    hsize_t nf = (hsize_t)n;
    hid_t s = H5Screate_simple(1, &nf, NULL);
    hid_t a = s < 0 ? -1 : H5Acreate2(ds, FORMAT_FLAG_VALUES, H5T_STD_I8LE, s, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = a < 0 || H5Awrite(a, H5T_NATIVE_INT8, flags) < 0 ? -1 : 0;
    if (a >= 0) H5Aclose(a);
    if (s >= 0) H5Sclose(s);
    return rc;
}

static void iso_now(char *buf, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static herr_t write_cells(const h5out_t *o, hid_t ds, hid_t mem_type, size_t c0, size_t c1, const hsize_t *trailing,
                          int n_trailing, const void *buf)
{
    return h5_write_cells(ds, mem_type, o->n_axes, o->axis_dims, c0, c1, trailing, n_trailing, buf);
}

static herr_t write_record(h5out_t *o, const hid_t *scales, const char *name, const char *doc, hid_t ftype,
                           hid_t mtype, const void *data)
{
    int rank = (int)o->n_axes;
    hid_t ds = create_dataset(o->file, name, ftype, rank, o->axis_dims, true);
    herr_t rc = ds < 0 ? -1 : H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    if (rc >= 0) rc = attach(ds, scales, rank);
    if (rc >= 0) rc = attr_string(ds, FORMAT_LONG_NAME, doc);
    if (ds >= 0) H5Dclose(ds);
    return rc;
}

/* Cells [c0, c1) of a per-cell text variable: variable-length, or fixed
 * (its type's size, each text cut to fit: sized at creation for the
 * longest). */
static herr_t write_texts(const h5out_t *o, hid_t ds, const char *const *text, size_t c0, size_t c1)
{
    hid_t ft = H5Dget_type(ds);
    if (ft < 0) return -1;
    herr_t rc;
    if (H5Tis_variable_str(ft) > 0) {
        rc = write_cells(o, ds, ft, c0, c1, NULL, 0, text);
    } else {
        size_t size = H5Tget_size(ft);
        char *flat = calloc((c1 - c0) * size + 1, 1);
        for (size_t c = c0; flat && c < c1; c++) snprintf(flat + (c - c0) * size, size, "%s", text[c - c0]);
        rc = flat ? write_cells(o, ds, ft, c0, c1, NULL, 0, flat) : -1;
        free(flat);
    }
    H5Tclose(ft);
    return rc;
}

/* A per-cell text variable, made and written whole. */
static herr_t text_record(h5out_t *o, const hid_t *scales, const char *name, const char *doc, const char *const *text,
                          size_t n)
{
    size_t longest = 0;
    for (size_t c = 0; o->fixed_text && c < n; c++)
        if (strlen(text[c]) > longest) longest = strlen(text[c]);
    hid_t ft = o->fixed_text ? h5_fixed_string_type(longest + 1) : h5_string_type();
    int rank = (int)o->n_axes;
    hid_t ds = ft < 0 ? -1 : create_dataset(o->file, name, ft, rank, o->axis_dims, true);
    herr_t rc = ds < 0 ? -1 : write_texts(o, ds, text, 0, n);
    if (rc >= 0) rc = attach(ds, scales, rank);
    if (rc >= 0) rc = attr_string(ds, FORMAT_LONG_NAME, doc);
    if (rc >= 0 && o->fixed_text) rc = attr_string(ds, "_Encoding", "utf-8"); /* xarray decodes it to str */
    if (ds >= 0) H5Dclose(ds);
    if (ft >= 0) H5Tclose(ft);
    return rc;
}

/* Per-cell strings and numbers known before any cell runs: optimizer_config,
 * cell_seed, cell_steps, then the kind's records. */
static herr_t write_cell_records(h5out_t *o, const experiment_t *exp, const hid_t *scales)
{
    size_t n = exp->n_cells;
    const cell_kind_t *kind = exp->kind;
    const char **text = malloc(n * sizeof *text);
    uint64_t *seeds = malloc(n * sizeof *seeds);
    int32_t *steps = malloc(n * sizeof *steps);
    herr_t rc = (text && seeds && steps) ? 0 : -1;
    for (size_t c = 0; c < n && rc >= 0; c++) {
        text[c] = exp->cells[c].opt->text;
        seeds[c] = exp->cells[c].seed;
        steps[c] = (int32_t)exp->cells[c].steps;
    }
    if (rc >= 0)
        rc = text_record(o, scales, FORMAT_OPTIMIZER_CONFIG, "optimizer and every hyperparameter, defaults included",
                         text, n);
    if (rc >= 0)
        rc = write_record(o, scales, FORMAT_CELL_SEED, "random seed of the cell, derived from the seed and the cell index",
                          H5T_STD_U64LE, H5T_NATIVE_UINT64, seeds);
    if (rc >= 0)
        rc = write_record(o, scales, FORMAT_CELL_STEPS, "optimizer steps the cell was configured for", H5T_STD_I32LE,
                          H5T_NATIVE_INT32, steps);
    for (size_t i = 0; i < kind->n_records && rc >= 0; i++) {
        for (size_t c = 0; c < n; c++) text[c] = kind->record(&exp->cells[c], i);
        rc = text_record(o, scales, kind->records[i].name, kind->records[i].long_name, text, n);
    }
    free(text), free(seeds), free(steps);
    return rc;
}

/* "HEX  PATH" lines, sha256sum's format: `sha256sum -c` checks the files against it. */
static char *hash_lines(const input_file_t *files, size_t n)
{
    size_t len = 1;
    for (size_t i = 0; i < n; i++) len += SHA256_HEX_LEN + 3 + strlen(files[i].path);
    char *text = malloc(len), *p = text;
    if (!text) return NULL;
    *p = 0;
    for (size_t i = 0; i < n; i++) {
        char hex[SHA256_HEX_LEN];
        sha256_hex(files[i].sha256, hex);
        p += sprintf(p, "%s  %s\n", hex, files[i].path);
    }
    return text;
}

static herr_t attr_int64(hid_t obj, const char *name, int64_t v)
{
    hid_t s = H5Screate(H5S_SCALAR);
    hid_t a = s < 0 ? -1 : H5Acreate2(obj, name, H5T_STD_I64LE, s, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = a < 0 || H5Awrite(a, H5T_NATIVE_INT64, &v) < 0 ? -1 : 0;
    if (a >= 0) H5Aclose(a);
    if (s >= 0) H5Sclose(s);
    return rc;
}

/* The root attributes that say where the file came from (README "HDF5 output"). */
static herr_t write_provenance(hid_t f, const experiment_t *exp, const h5out_record_t *rec)
{
    char *plugin_files = hash_lines(exp->plugin_files, exp->n_plugins_used);
    char *data_files = hash_lines(exp->inputs, exp->n_inputs);
    herr_t rc = plugin_files && data_files ? 0 : -1;
    if (rc >= 0) rc = attr_string(f, FORMAT_PLUGIN_FILES, plugin_files);
    if (rc >= 0) rc = attr_string(f, FORMAT_DATA_FILES, data_files);
    free(plugin_files), free(data_files);
    const provenance_t *p = rec->provenance;
    for (size_t i = 0; p && i < p->n && rc >= 0; i++)
        rc = p->items[i].is_number ? attr_int64(f, p->items[i].name, p->items[i].number)
                                   : attr_string(f, p->items[i].name, p->items[i].text);
    return rc;
}

/* Whether a ragged study's axis k is text in the file (else numbers). */
static bool column_is_text(const axis_t *ax) { return ax->kind == AXIS_RUN || (ax->kind == AXIS_GRID && !ax->numeric); }

/* Cells [c0, c1) of a ragged study's axis k as written: text, float64
 * (NaN: absent) or the seed used (int64). */
static herr_t write_column(const h5out_t *o, const experiment_t *exp, size_t k, hid_t ds, size_t c0, size_t c1)
{
    const axis_t *ax = &exp->axes[k];
    bool text = column_is_text(ax);
    void *values = malloc((c1 - c0 + 1) * (text ? sizeof(char *) : 8));
    size_t idx[64];
    for (size_t c = c0; values && c < c1; c++) {
        experiment_cell_coords(exp, c, idx);
        bool absent = idx[k] == AXIS_ABSENT;
        if (text) ((const char **)values)[c - c0] = absent ? "" : ax->labels[idx[k]];
        else if (ax->kind == AXIS_SEED) ((int64_t *)values)[c - c0] = exp->cells[c].seed_value;
        else ((double *)values)[c - c0] = absent ? NAN : ax->numbers[idx[k]];
    }
    herr_t rc = !values ? -1
                : text  ? write_texts(o, ds, values, c0, c1)
                        : write_cells(o, ds, ax->kind == AXIS_SEED ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE, c0, c1, NULL, 0,
                                      values);
    free(values);
    return rc;
}

/* A ragged study's axis k as a coordinate variable over `cell` (format.h). */
static hid_t ragged_column(h5out_t *o, const experiment_t *exp, size_t k, hid_t cell_scale)
{
    const axis_t *ax = &exp->axes[k];
    hsize_t dim = exp->n_cells;
    bool text = column_is_text(ax);
    size_t longest = 0;
    for (size_t i = 0; text && i < ax->n; i++)
        if (strlen(ax->labels[i]) > longest) longest = strlen(ax->labels[i]);
    hid_t ftype = !text ? -1 : o->fixed_text ? h5_fixed_string_type(longest + 1) : h5_string_type();
    hid_t ds = create_dataset(o->file, ax->name, text ? ftype : ax->kind == AXIS_SEED ? H5T_STD_I64LE : H5T_IEEE_F64LE, 1,
                              &dim, true);
    if (ftype >= 0) H5Tclose(ftype);
    const char *doc = ax->kind == AXIS_RUN    ? "the run of the cell (its label)"
                      : ax->kind == AXIS_SEED ? "the seed of the cell (its seeds: value, or the config's seed)"
                      : text                  ? "the cell's value of this axis (empty: not an axis of its run)"
                                              : "the cell's value of this axis (NaN: not an axis of its run)";
    if (ds >= 0 && (write_column(o, exp, k, ds, 0, exp->n_cells) < 0 || attach(ds, &cell_scale, 1) < 0 ||
                    attr_string(ds, FORMAT_LONG_NAME, doc) < 0 ||
                    (text && o->fixed_text && attr_string(ds, "_Encoding", "utf-8") < 0))) {
        H5Dclose(ds);
        ds = -1;
    }
    return ds;
}

/* A study with a final phase (config/select.h): `phase` (a coordinate,
 * "tune" or "final") and `selected_cell` (the tuning cell each final cell
 * reruns; -1 for tuning cells, and for final ones until the choice). */
static herr_t phase_variables(h5out_t *o, const experiment_t *exp, hid_t cell_scale)
{
    const select_spec_t *s = exp->select;
    size_t n = exp->n_cells;
    hsize_t dim = n;
    const char **text = malloc((n + 1) * sizeof *text);
    int64_t *none = malloc((n + 1) * sizeof *none);
    for (size_t c = 0; text && none && c < n; c++) text[c] = c < s->n_tune ? "tune" : "final", none[c] = -1;
    hid_t ft = h5_fixed_string_type(sizeof "final");
    hid_t ph = text && none ? create_dataset(o->file, FORMAT_PHASE, ft, 1, &dim, true) : -1;
    hid_t sel = ph >= 0 ? create_dataset(o->file, FORMAT_SELECTED_CELL, H5T_STD_I64LE, 1, &dim, true) : -1;
    herr_t rc = ph < 0 || sel < 0 ? -1 : 0;
    if (rc >= 0) rc = write_texts(o, ph, text, 0, n);
    if (rc >= 0) rc = H5Dwrite(sel, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, none);
    if (rc >= 0) rc = attach(ph, &cell_scale, 1);
    if (rc >= 0) rc = attach(sel, &cell_scale, 1);
    if (rc >= 0) rc = attr_string(ph, FORMAT_LONG_NAME, "tune: the study's cells; final: each group's chosen setting rerun with the rerun seeds");
    if (rc >= 0) rc = attr_string(ph, "_Encoding", "utf-8");
    if (rc >= 0) rc = attr_string(sel, FORMAT_LONG_NAME, "the tuning cell whose setting this final cell reruns (-1: a tuning cell, or not chosen yet)");
    if (ph >= 0) H5Dclose(ph);
    if (sel >= 0) H5Dclose(sel);
    H5Tclose(ft);
    free(text), free(none);
    return rc;
}

/* A ragged study: every variable over `cell` names the axes' coordinate
 * variables (CF `coordinates`, which xarray reads). */
static herr_t name_coordinates(hid_t f, const experiment_t *exp, const layout_t *l)
{
    size_t len = 1;
    for (size_t k = 0; k < exp->n_axes; k++) len += strlen(exp->axes[k].name) + 1;
    len += sizeof " " FORMAT_PHASE;
    char *list = malloc(len);
    if (!list) return -1;
    list[0] = 0;
    for (size_t k = 0; k < exp->n_axes; k++) strcat(strcat(list, k ? " " : ""), exp->axes[k].name);
    if (exp->select) strcat(list, " " FORMAT_PHASE);
    const char *fixed[] = {FORMAT_STATUS,    FORMAT_WALL_SECONDS, FORMAT_FAILURE,       FORMAT_OPTIMIZER_CONFIG,
                           FORMAT_CELL_SEED, FORMAT_CELL_STEPS,   FORMAT_SELECTED_CELL};
    size_t n_fixed = sizeof fixed / sizeof fixed[0] - !exp->select;
    herr_t rc = 0;
    for (size_t i = 0; i < n_fixed + l->n_vars + exp->kind->n_records && rc >= 0; i++) {
        const char *name = i < n_fixed ? fixed[i]
                           : i < n_fixed + l->n_vars ? l->vars[i - n_fixed].name
                                                     : exp->kind->records[i - n_fixed - l->n_vars].name;
        hid_t ds = H5Dopen2(f, name, H5P_DEFAULT);
        rc = ds < 0 ? -1 : attr_string(ds, FORMAT_COORDINATES, list);
        if (ds >= 0) H5Dclose(ds);
    }
    free(list);
    return rc;
}

static err_code_t create_contents(h5out_t *o, const experiment_t *exp, const h5out_record_t *rec, err_t *err)
{
    hid_t f = o->file;
    int na = (int)o->n_axes; /* the cell dimensions (h5out_new) */
    hid_t scales[MAX_RANK];
    int n_scales = 0;
    hid_t st = h5_string_type();
    herr_t rc = 0;
    /* coordinates, one per dimension; a ragged study's one dimension is
     * `cell`, its axes coordinate variables over it */
    if (exp->coords) {
        int64_t *ids = malloc((exp->n_cells ? exp->n_cells : 1) * sizeof *ids);
        for (size_t c = 0; ids && c < exp->n_cells; c++) ids[c] = (int64_t)c;
        hid_t ds = ids ? coordinate(f, FORMAT_CELL_DIM, H5T_STD_I64LE, H5T_NATIVE_INT64, exp->n_cells, ids) : -1;
        free(ids);
        if (ds < 0 || attr_string(ds, FORMAT_LONG_NAME, "the cell's index (its row in cells of the config's order)") < 0)
            rc = -1;
        if (ds >= 0) scales[n_scales++] = ds;
        for (size_t k = 0; k < exp->n_axes && rc >= 0; k++) {
            hid_t col = ragged_column(o, exp, k, ds);
            if (col < 0) rc = -1;
            else H5Dclose(col);
        }
        if (rc >= 0 && exp->select) rc = phase_variables(o, exp, ds);
    }
    for (int k = 0; k < na && rc >= 0 && !exp->coords; k++) {
        const axis_t *ax = &exp->axes[k];
        hid_t ds;
        if (ax->kind == AXIS_SEED)
            ds = coordinate(f, ax->name, H5T_STD_I64LE, H5T_NATIVE_INT64, ax->n, ax->seeds);
        else if (ax->numeric)
            ds = coordinate(f, ax->name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, ax->n, ax->numbers);
        else
            ds = coordinate(f, ax->name, st, st, ax->n, ax->labels);
        if (ds < 0) rc = -1;
        else scales[n_scales++] = ds;
    }
    /* the trailing dimensions of the cell kind's variables */
    const layout_t *l = &o->layout;
    hid_t trailing[LAYOUT_MAX_DIMS];
    for (size_t d = 0; d < l->n_dims; d++) {
        const layout_dim_t *ld = &l->dims[d];
        trailing[d] = -1;
        if (rc < 0) continue;
        if (ld->labels) {
            trailing[d] = coordinate(f, ld->name, st, st, ld->n, ld->labels);
        } else {
            int32_t *v = malloc((ld->n ? ld->n : 1) * sizeof *v);
            for (size_t i = 0; v && i < ld->n; i++) v[i] = ld->first + (int32_t)i;
            trailing[d] = v ? coordinate(f, ld->name, H5T_STD_I32LE, H5T_NATIVE_INT32, ld->n, v) : -1;
            free(v);
        }
        if (trailing[d] < 0) rc = -1;
        else scales[n_scales++] = trailing[d];
        if (rc >= 0) rc = attr_string(trailing[d], FORMAT_LONG_NAME, ld->long_name);
    }

    /* data variables */
    hsize_t dims[MAX_RANK];
    memcpy(dims, o->axis_dims, (size_t)na * sizeof *dims);
    for (size_t v = 0; v < l->n_vars && rc >= 0; v++) {
        const layout_var_t *lv = &l->vars[v];
        hsize_t vd[MAX_RANK];
        hid_t vs[MAX_RANK];
        int rank = var_dims(o, lv, vd);
        memcpy(vs, scales, (size_t)na * sizeof *vs);
        for (int d = 0; d < lv->n_dims; d++) vs[na + d] = trailing[lv->dims[d]];
        o->vars[v] = create_dataset(f, lv->name, H5T_IEEE_F32LE, rank, vd, false);
        if (o->vars[v] < 0 || attach(o->vars[v], vs, rank) < 0 || attr_string(o->vars[v], FORMAT_LONG_NAME, lv->long_name) < 0)
            rc = -1;
    }
    if (rc >= 0) {
        o->status = create_dataset(f, FORMAT_STATUS, H5T_STD_I8LE, na, dims, true);
        o->wall = create_dataset(f, FORMAT_WALL_SECONDS, H5T_IEEE_F64LE, na, dims, true);
        /* no fill: unwritten bytes of a new file read as zeros, the empty string */
        o->failure = create_dataset(f, FORMAT_FAILURE, o->failure_type, na, dims, false);
        o->run_state = create_dataset(f, FORMAT_RUN_STATE, H5T_STD_I8LE, 0, dims, true);
        o->end_time = create_dataset(f, FORMAT_END_TIME, H5T_IEEE_F64LE, 0, dims, false);
        if (o->status < 0 || o->wall < 0 || o->failure < 0 || o->run_state < 0 || o->end_time < 0) rc = -1;
        double not_yet = NAN;
        if (rc >= 0 && H5Dwrite(o->end_time, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &not_yet) < 0) rc = -1;
    }
    if (rc >= 0) rc = attach(o->status, scales, na);
    if (rc >= 0) rc = attach(o->wall, scales, na);
    if (rc >= 0) rc = attach(o->failure, scales, na);
    if (rc >= 0) {
        attr_string(o->status, FORMAT_LONG_NAME, "cell status");
        attr_string(o->status, FORMAT_FLAG_MEANINGS, FORMAT_STATUS_MEANINGS);
        if (attr_flag_values(o->status, STATUS__COUNT) < 0) rc = -1;
        attr_string(o->wall, FORMAT_LONG_NAME, "wall-clock time of the cell");
        attr_string(o->wall, FORMAT_UNITS, "s");
        attr_string(o->failure, FORMAT_LONG_NAME, "why the cell failed (empty unless status is failed)");
        attr_string(o->run_state, FORMAT_LONG_NAME, "how the run ended");
        attr_string(o->run_state, FORMAT_FLAG_MEANINGS, FORMAT_RUN_STATE_MEANINGS);
        if (attr_flag_values(o->run_state, RUN__COUNT) < 0) rc = -1;
        attr_string(o->end_time, FORMAT_LONG_NAME, "when the run last ended (NaN while it runs)");
        attr_string(o->end_time, FORMAT_UNITS, "seconds since 1970-01-01 00:00:00 UTC");
    }
    if (rc >= 0) rc = write_cell_records(o, exp, scales);
    if (rc >= 0 && exp->coords) rc = name_coordinates(f, exp, l);
    /* the record of the run */
    if (rc >= 0) {
        char now[32], abi[32];
        iso_now(now, sizeof now);
        snprintf(abi, sizeof abi, "%d.%d", RUNNER_ABI_MAJOR, RUNNER_ABI_MINOR);
        char plugins[2048] = "";
        for (size_t i = 0; i < exp->n_plugins_used; i++) {
            const plugin_entry_t *pe = exp->plugins_used[i];
            size_t len = strlen(plugins);
            snprintf(plugins + len, sizeof plugins - len, "%s%s %s (%s)", i ? "; " : "", pe->desc->name,
                     pe->desc->version, pe->file);
        }
        const char *attrs[][2] = {
            {FORMAT_TITLE, exp->name},
            {FORMAT_CELL_KIND, exp->kind->name},
            {FORMAT_CONFIG_FILE, exp->path},
            {FORMAT_CONFIG_TEXT, exp->text},
            {FORMAT_RESOLVED_CONFIG, exp->resolved_text},
            {FORMAT_COMMAND_LINE, rec->command_line},
            {FORMAT_RUNNER_VERSION, RUNNER_VERSION},
            {FORMAT_PLUGIN_ABI, abi},
            {FORMAT_CREATED, now},
            {FORMAT_PLUGINS, plugins},
            {FORMAT_CONFIG_FINGERPRINT, rec->fingerprint},
        };
        for (size_t i = 0; i < sizeof attrs / sizeof attrs[0] && rc >= 0; i++)
            rc = attr_string(f, attrs[i][0], attrs[i][1]);
        if (rc >= 0 && exp->select) rc = attr_string(f, FORMAT_SELECT, exp->select->text);
        if (rc >= 0) rc = write_provenance(f, exp, rec);
    }
    for (int i = 0; i < n_scales; i++) H5Dclose(scales[i]);
    H5Tclose(st);
    if (rc < 0) return h5fail(err, o->path, "create the datasets");
    if (H5Fflush(f, H5F_SCOPE_GLOBAL) < 0) return h5fail(err, o->path, "flush the new file");
    return ERR_OK;
}

static void close_all(h5out_t *o)
{
    hid_t ids[] = {o->status, o->wall, o->failure, o->run_state, o->end_time};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        if (ids[i] > 0) H5Dclose(ids[i]);
    for (size_t v = 0; v < o->layout.n_vars; v++)
        if (o->vars[v] > 0) H5Dclose(o->vars[v]);
    if (o->failure_type > 0) H5Tclose(o->failure_type);
    if (o->file > 0) H5Fclose(o->file);
    if (o->lock_fd >= 0) close(o->lock_fd); /* after the last write: the mark covers them all */
    free(o);
}

/* Temporary files of creations killed before their rename:
 * "NAME.tmp-PID-RANDOM" (or "NAME.tmp-PID", before the random part) beside
 * path, whose process is gone. */
static void remove_stale_temporaries(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    char dir[4096];
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == path) snprintf(dir, sizeof dir, "/");
    else snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    size_t blen = strlen(base);
    DIR *d = opendir(dir);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d));) {
        if (strncmp(e->d_name, base, blen) || strncmp(e->d_name + blen, ".tmp-", 5)) continue;
        char *end;
        long pid = strtol(e->d_name + blen + 5, &end, 10);
        if (*end == '-') /* the random part: hex digits */
            for (end++; isxdigit((unsigned char)*end); end++) {
            }
        if (*end || pid <= 0) continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue; /* its runner is alive (or not ours) */
        char full[8192];
        snprintf(full, sizeof full, "%s/%s", dir, e->d_name);
        unlink(full);
    }
    closedir(d);
}

err_code_t h5out_busy_error(err_t *err, const char *path, const char *what)
{
    return err_set(err, ERR_CONFIG, (mark_t){path, 0, 0},
                   "another runner is writing this file right now, so it cannot be %s; wait for that run to end (or "
                   "stop it: its finished cells are kept) and resume then, or write elsewhere with -o",
                   what);
}

static h5out_t *h5out_new(const experiment_t *exp, const char *path)
{
    h5out_t *o = calloc(1, sizeof *o);
    if (!o) return NULL;
    /* the cell dimensions: one per axis, or a ragged study's one, `cell` */
    o->n_axes = exp->coords ? 1 : exp->n_axes;
    o->fixed_text = exp->select != NULL;
    for (size_t k = 0; k < exp->n_axes; k++) o->axis_dims[k] = exp->axes[k].n;
    if (exp->coords) o->axis_dims[0] = exp->n_cells;
    layout_of(exp, &o->layout);
    o->path = path;
    o->lock_fd = -1;
    o->failure_type = failure_type();
    if (o->failure_type < 0) {
        close_all(o);
        return NULL;
    }
    return o;
}

/* Move the finished temporary file to path without ever replacing what is
 * there (two runs with one output: the second gets an error, not the
 * first's file lost). renameat2's RENAME_NOREPLACE; where the file system
 * lacks it, link (which fails on an existing name) and unlink. */
static int move_no_replace(const char *tmp, const char *path)
{
    if (syscall(SYS_renameat2, AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0) return 0;
    if (errno != EINVAL && errno != ENOSYS) return -1;
    if (link(tmp, path) != 0) return -1;
    unlink(tmp);
    return 0;
}

/* 64 unpredictable bits for the temporary name (getrandom; the clock and
 * the pid if even that fails). */
static uint64_t name_nonce(void)
{
    uint64_t r;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) == (ssize_t)sizeof r) return r;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15ull ^ (uint64_t)getpid() << 32 ^ (uint64_t)ts.tv_sec;
}

err_code_t h5out_create(const experiment_t *exp, const char *path, bool replace, const h5out_record_t *record,
                        h5out_t **out, err_t *err)
{
    if (exp->n_axes + 2 > MAX_RANK) return err_set(err, ERR_CONFIG, (mark_t){0}, "too many axes");
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* errors come back as values, reported by main */
    h5out_t *o = h5out_new(exp, path);
    size_t plen = strlen(path) + 64;
    char *tmp = malloc(plen);
    if (!tmp || !o) {
        free(tmp);
        if (o) close_all(o);
        return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
    }
    remove_stale_temporaries(path);
    /* A kill during creation must not leave a half-made file at `path`. The
     * name cannot be guessed, and H5F_ACC_EXCL opens it O_CREAT|O_EXCL: a
     * file or symlink planted there makes the creation fail, never followed. */
    snprintf(tmp, plen, "%s.tmp-%ld-%016" PRIx64, path, (long)getpid(), name_nonce());
    hid_t fapl = writer_access();
    o->file = H5Fcreate(tmp, H5F_ACC_EXCL, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    err_code_t rc;
    if (o->file < 0) {
        rc = err_set(err, ERR_IO, (mark_t){path, 0, 0}, "cannot create the output file (%s): check the directory is writable",
                     tmp);
    } else if ((o->lock_fd = writer_lock_take(tmp)) < 0) {
        rc = err_set(err, ERR_IO, (mark_t){path, 0, 0}, "cannot mark the new file %s as being written: %s", tmp,
                     strerror(errno));
    } else if ((rc = create_contents(o, exp, record, err)) == ERR_OK) {
        if (replace && writer_lock_busy(path))
            rc = h5out_busy_error(err, path, "replaced");
        else if (replace && unlink(path) != 0 && errno != ENOENT)
            rc = err_set(err, ERR_IO, (mark_t){path, 0, 0}, "cannot remove the old file to replace it: %s", strerror(errno));
        else if (move_no_replace(tmp, path) != 0)
            rc = err_set(err, ERR_IO, (mark_t){path, 0, 0},
                         errno == EEXIST ? "another process created this file while the sweep was being set up; "
                                           "nothing was replaced (use -o to write elsewhere)"
                                         : "cannot move %s into place: %s",
                         tmp, strerror(errno));
    }
    if (rc) {
        close_all(o);
        unlink(tmp);
    } else {
        *out = o;
    }
    free(tmp);
    return rc;
}

err_code_t h5out_read_fingerprint(const char *path, char *buf, size_t len, err_t *err)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (H5Fis_hdf5(path) <= 0)
        return err_set(err, ERR_IO, (mark_t){path, 0, 0}, "not an HDF5 file (or unreadable), so it cannot be resumed");
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return err_set(err, ERR_IO, (mark_t){path, 0, 0}, "HDF5 cannot open the file to resume it");
    herr_t rc = h5_read_attr_string(f, FORMAT_CONFIG_FINGERPRINT, buf, len);
    H5Fclose(f);
    if (rc < 0)
        return err_set(err, ERR_IO, (mark_t){path, 0, 0},
                       "not a runner results file that can be resumed (no config_fingerprint attribute)");
    return ERR_OK;
}

/* The dataset's extent equals the first `rank` of dims. */
static bool extent_is(hid_t ds, const hsize_t *dims, int rank)
{
    hid_t sp = H5Dget_space(ds);
    hsize_t got[MAX_RANK];
    int r = sp < 0 ? -1 : H5Sget_simple_extent_ndims(sp);
    bool same = r == rank && H5Sget_simple_extent_dims(sp, got, NULL) == r;
    for (int k = 0; same && k < rank; k++) same = got[k] == dims[k];
    if (sp >= 0) H5Sclose(sp);
    return same;
}

/* Open dataset `name`, which must have exactly these dimensions. */
static hid_t open_shaped(hid_t file, const char *name, const hsize_t *dims, int rank)
{
    hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
    if (ds >= 0 && !extent_is(ds, dims, rank)) {
        H5Dclose(ds);
        return -1;
    }
    return ds;
}

err_code_t h5out_open(const experiment_t *exp, const char *path, h5out_t **out, int8_t *status, err_t *err)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    h5out_t *o = h5out_new(exp, path);
    if (!o) return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
    o->resumed = true;
    if ((o->lock_fd = writer_lock_take(path)) < 0) {
        int e = errno;
        close_all(o);
        if (e == EAGAIN) return h5out_busy_error(err, path, "resumed");
        return err_set(err, ERR_IO, (mark_t){path, 0, 0}, "cannot open the file to resume it: %s", strerror(e));
    }
    hid_t fapl = writer_access();
    o->file = H5Fopen(path, H5F_ACC_RDWR, fapl);
    H5Pclose(fapl);
    if (o->file < 0) {
        close_all(o);
        return err_set(err, ERR_IO, (mark_t){path, 0, 0},
                       "HDF5 cannot open the file for writing (read-only, or another runner is writing it?)");
    }
    const char *bad = NULL;
    for (size_t v = 0; v < o->layout.n_vars && !bad; v++) {
        hsize_t dims[MAX_RANK];
        int rank = var_dims(o, &o->layout.vars[v], dims);
        if ((o->vars[v] = open_shaped(o->file, o->layout.vars[v].name, dims, rank)) < 0) bad = o->layout.vars[v].name;
    }
    struct {
        hid_t *id;
        const char *name;
        int rank;
    } sets[] = {
        {&o->status, FORMAT_STATUS, (int)o->n_axes}, {&o->wall, FORMAT_WALL_SECONDS, (int)o->n_axes},
        {&o->failure, FORMAT_FAILURE, (int)o->n_axes}, {&o->run_state, FORMAT_RUN_STATE, 0},
    };
    for (size_t i = 0; i < sizeof sets / sizeof sets[0] && !bad; i++)
        if ((*sets[i].id = open_shaped(o->file, sets[i].name, o->axis_dims, sets[i].rank)) < 0) bad = sets[i].name;
    /* the coordinates too: readers trust them to match (issue 18, item 8) */
    hsize_t n_cells = exp->n_cells;
    const char *per_cell[] = {FORMAT_CELL_DIM, FORMAT_PHASE, FORMAT_SELECTED_CELL};
    for (size_t i = 0; exp->coords && !bad && i < (exp->select ? 3u : 1u); i++) {
        hid_t c = open_shaped(o->file, per_cell[i], &n_cells, 1);
        if (c < 0) bad = per_cell[i];
        else H5Dclose(c);
    }
    for (size_t k = 0; k < exp->n_axes && !bad; k++) {
        hid_t c = open_shaped(o->file, exp->axes[k].name, exp->coords ? &n_cells : &o->axis_dims[k], 1);
        if (c < 0) bad = exp->axes[k].name;
        else H5Dclose(c);
    }
    if (bad) {
        close_all(o);
        return err_set(err, ERR_IO, (mark_t){path, 0, 0},
                       "dataset '%s' is missing or not shaped for this config, so the file cannot be resumed", bad);
    }
    if (H5Lexists(o->file, FORMAT_END_TIME, H5P_DEFAULT) > 0 && (o->end_time = open_shaped(o->file, FORMAT_END_TIME, NULL, 0)) < 0)
        o->end_time = 0; /* a damaged end_time costs the record of when, not the resume */
    if (H5Dread(o->status, H5T_NATIVE_INT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, status) < 0) {
        close_all(o);
        return h5fail(err, path, "read the status of the cells to resume");
    }
    *out = o;
    return ERR_OK;
}

err_code_t h5out_write_cells(h5out_t *o, size_t c0, size_t c1, const float *const *vars, const int8_t *status,
                             const double *wall, const char (*failure)[RUNNER_ERR_MAX], err_t *err)
{
    /* the writer thread's own error stack (a thread-safe HDF5 keeps one per
     * thread, printing by default): a write error is a value we report, not
     * ~60 lines of HDF5-DIAG */
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    /* a new file reads "" where nothing was written; a resumed one may hold
     * the message of an earlier attempt at a recomputed cell */
    bool any_failed = o->resumed;
    for (size_t c = c0; c < c1 && !any_failed; c++) any_failed = status[c - c0] == STATUS_FAILED;
    for (size_t v = 0; v < o->layout.n_vars; v++) {
        const layout_var_t *lv = &o->layout.vars[v];
        hsize_t trailing[3];
        for (int d = 0; d < lv->n_dims; d++) trailing[d] = o->layout.dims[lv->dims[d]].n;
        if (write_cells(o, o->vars[v], H5T_NATIVE_FLOAT, c0, c1, trailing, lv->n_dims, vars[v]) < 0)
            return h5fail(err, o->path, "write cell data");
    }
    if (any_failed && write_cells(o, o->failure, o->failure_type, c0, c1, NULL, 0, failure) < 0)
        return h5fail(err, o->path, "write cell data");
    /* the data must be in the file before a status says they are */
    if (H5Fflush(o->file, H5F_SCOPE_LOCAL) < 0) return h5fail(err, o->path, "flush");
    if (write_cells(o, o->wall, H5T_NATIVE_DOUBLE, c0, c1, NULL, 0, wall) < 0 ||
        write_cells(o, o->status, H5T_NATIVE_INT8, c0, c1, NULL, 0, status) < 0)
        return h5fail(err, o->path, "write cell status");
    if (H5Fflush(o->file, H5F_SCOPE_LOCAL) < 0) return h5fail(err, o->path, "flush");
    return ERR_OK;
}

uint64_t h5out_bytes_needed(const experiment_t *exp, const unsigned char *todo)
{
    layout_t l;
    layout_of(exp, &l);
    const cell_kind_t *kind = exp->kind;
    uint64_t per_cell = (uint64_t)l.floats_per_cell * sizeof(float) + sizeof(int8_t) + sizeof(double) +
                        sizeof(uint64_t) + sizeof(int32_t) + RUNNER_ERR_MAX;
    uint64_t total = todo ? 0 : 1u << 20; /* a new file: coordinates, attributes, metadata */
    for (size_t c = 0; c < exp->n_cells; c++) {
        if (todo && !todo[c]) continue;
        /* the per-cell strings live in the global heap, ~16 bytes of overhead each */
        const cell_t *cell = &exp->cells[c];
        size_t strings = strlen(cell->opt->text) + 32;
        for (size_t i = 0; i < kind->n_records; i++) strings += strlen(kind->record(cell, i)) + 16;
        total += per_cell + (todo ? 0 : strings);
    }
    return total;
}

err_code_t h5out_set_state(h5out_t *o, run_state_t state, err_t *err)
{
    int8_t v = (int8_t)state;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    double when = state == RUN_RUNNING ? NAN : (double)now.tv_sec + 1e-9 * (double)now.tv_nsec;
    if (o->end_time > 0 && H5Dwrite(o->end_time, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &when) < 0)
        return h5fail(err, o->path, "record the end time");
    if (H5Dwrite(o->run_state, H5T_NATIVE_INT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v) < 0 ||
        H5Fflush(o->file, H5F_SCOPE_LOCAL) < 0)
        return h5fail(err, o->path, "record the run state");
    return ERR_OK;
}

err_code_t h5out_close(h5out_t *o, err_t *err)
{
    herr_t rc = H5Fflush(o->file, H5F_SCOPE_GLOBAL);
    const char *path = o->path;
    close_all(o);
    return rc < 0 ? h5fail(err, path, "flush at close") : ERR_OK;
}

err_code_t h5out_write_selection(h5out_t *o, const experiment_t *exp, err_t *err)
{
    const select_spec_t *s = exp->select;
    size_t c0 = s->n_tune, c1 = exp->n_cells, n = c1 - c0;
    const cell_kind_t *kind = exp->kind;
    const char **text = malloc((n + 1) * sizeof *text);
    int32_t *steps = malloc((n + 1) * sizeof *steps);
    int64_t *chosen = malloc((n + 1) * sizeof *chosen);
    herr_t rc = text && steps && chosen ? 0 : -1;
    for (size_t f = 0; rc >= 0 && f < n; f++) {
        size_t g = f / s->n_seeds;
        chosen[f] = s->chosen[g] == SIZE_MAX ? -1 : (int64_t)s->chosen[g];
        steps[f] = (int32_t)exp->cells[c0 + f].steps;
    }
    /* the axes' values, the records, the steps and the choice: all raw-data writes */
    for (size_t k = 0; rc >= 0 && k < exp->n_axes; k++) {
        hid_t ds = H5Dopen2(o->file, exp->axes[k].name, H5P_DEFAULT);
        rc = ds < 0 ? -1 : write_column(o, exp, k, ds, c0, c1);
        if (ds >= 0) H5Dclose(ds);
    }
    for (size_t r = 0; rc >= 0 && r <= kind->n_records; r++) {
        for (size_t f = 0; f < n; f++)
            text[f] = r == 0 ? exp->cells[c0 + f].opt->text : kind->record(&exp->cells[c0 + f], r - 1);
        hid_t ds = H5Dopen2(o->file, r == 0 ? FORMAT_OPTIMIZER_CONFIG : kind->records[r - 1].name, H5P_DEFAULT);
        rc = ds < 0 ? -1 : write_texts(o, ds, text, c0, c1);
        if (ds >= 0) H5Dclose(ds);
    }
    const char *names[] = {FORMAT_CELL_STEPS, FORMAT_SELECTED_CELL};
    const void *bufs[] = {steps, chosen};
    hid_t types[] = {H5T_NATIVE_INT32, H5T_NATIVE_INT64};
    for (size_t i = 0; rc >= 0 && i < 2; i++) {
        hid_t ds = H5Dopen2(o->file, names[i], H5P_DEFAULT);
        rc = ds < 0 ? -1 : write_cells(o, ds, types[i], c0, c1, NULL, 0, bufs[i]);
        if (ds >= 0) H5Dclose(ds);
    }
    free(text), free(steps), free(chosen);
    if (rc < 0 || H5Fflush(o->file, H5F_SCOPE_LOCAL) < 0) return h5fail(err, o->path, "write the final phase's settings");
    return ERR_OK;
}

err_code_t h5out_read_tuning(h5out_t *o, const experiment_t *exp, double *score, int8_t *status, err_t *err)
{
    const select_spec_t *s = exp->select;
    size_t n = s->n_tune, v = 0;
    while (v < o->layout.n_vars && strcmp(o->layout.vars[v].name, s->variable)) v++;
    if (v == o->layout.n_vars) return err_set(err, ERR_CONFIG, (mark_t){o->path, 0, 0}, "no variable '%s'", s->variable);
    size_t per = o->layout.vars[v].per_cell;
    /* a slab of cells at a time (4 MB): one read each, memory bounded */
    size_t slab = per ? ((size_t)4 << 20) / (per * sizeof(float)) : n;
    if (slab == 0) slab = 1;
    if (slab > n) slab = n;
    float *buf = malloc((slab * per + 1) * sizeof *buf);
    hid_t fs = H5Dget_space(o->vars[v]);
    herr_t rc = buf && fs >= 0 ? 0 : -1;
    hsize_t trailing[3];
    const layout_var_t *lv = &o->layout.vars[v];
    for (int d = 0; d < lv->n_dims; d++) trailing[d] = o->layout.dims[lv->dims[d]].n;
    for (size_t c0 = 0; rc >= 0 && c0 < n; c0 += slab) {
        size_t c1 = c0 + slab < n ? c0 + slab : n;
        hsize_t count = (hsize_t)(c1 - c0) * per;
        hid_t ms = H5Screate_simple(1, &count, NULL);
        rc = ms < 0 ? -1 : h5_select_cells(fs, o->n_axes, o->axis_dims, c0, c1, trailing, lv->n_dims);
        if (rc >= 0) rc = H5Dread(o->vars[v], H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, buf);
        for (size_t c = c0; rc >= 0 && c < c1; c++) score[c] = select_score(s, buf + (c - c0) * per, per);
        if (ms >= 0) H5Sclose(ms);
    }
    if (rc >= 0) {
        hid_t sfs = H5Dget_space(o->status);
        hid_t sms = H5Screate_simple(1, &(hsize_t){n}, NULL);
        rc = sfs < 0 || sms < 0 ? -1 : h5_select_cells(sfs, o->n_axes, o->axis_dims, 0, n, NULL, 0);
        if (rc >= 0) rc = H5Dread(o->status, H5T_NATIVE_INT8, sms, sfs, H5P_DEFAULT, status);
        if (sfs >= 0) H5Sclose(sfs);
        if (sms >= 0) H5Sclose(sms);
    }
    if (fs >= 0) H5Sclose(fs);
    free(buf);
    return rc < 0 ? h5fail(err, o->path, "read the tuning cells' results") : ERR_OK;
}
