/* h5out.c: create the results file and write cells into it. */
#include "h5out.h"

#include <errno.h>
#include <hdf5.h>
#include <hdf5_hl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "version.h"

#define MAX_RANK 40

struct h5out {
    hid_t file;
    hid_t params, loss, grad_norm, status, wall;
    size_t n_axes;
    hsize_t axis_dims[MAX_RANK];
    hsize_t steps, dim;
    char *path;
};

static err_code_t h5fail(err_t *err, const char *path, const char *what)
{
    return err_set(err, ERR_IO, (mark_t){path, 0, 0}, "HDF5 could not %s", what);
}

static hid_t string_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}

static herr_t attr_string(hid_t obj, const char *name, const char *value)
{
    hid_t t = string_type(), s = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = a < 0 ? -1 : H5Awrite(a, t, &value);
    if (a >= 0) H5Aclose(a);
    H5Sclose(s), H5Tclose(t);
    return rc;
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

static void iso_now(char *buf, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Select cells [c0, c1) (row-major over the cell axes), with `trailing`
 * further dimensions selected whole, as a union of a few hyperslabs. */
static herr_t select_cells(hid_t space, const h5out_t *o, size_t c0, size_t c1, const hsize_t *trailing, int n_trailing)
{
    int n = (int)o->n_axes;
    hsize_t start[MAX_RANK], count[MAX_RANK], span[MAX_RANK + 1];
    span[n] = 1; /* span[k] = product of dims k..n-1: span[k+1] cells per step of axis k */
    for (int k = n - 1; k >= 0; k--) span[k] = span[k + 1] * o->axis_dims[k];
    if (n == 0) return H5Sselect_all(space);
    H5Sselect_none(space);
    hsize_t a = c0;
    while (a < c1) {
        /* the coarsest axis j whose unit (cells per index step, span[j+1])
         * fits at a: aligned, and not past c1 */
        int j = n - 1;
        while (j > 0 && a % span[j] == 0 && a + span[j] <= c1) j--;
        hsize_t unit = span[j + 1];
        hsize_t coord = (a / unit) % o->axis_dims[j];
        hsize_t cnt = (c1 - a) / unit;
        if (cnt > o->axis_dims[j] - coord) cnt = o->axis_dims[j] - coord;
        for (int k = 0; k < n; k++) {
            start[k] = (a / span[k + 1]) % o->axis_dims[k];
            count[k] = k < j ? 1 : k == j ? cnt : o->axis_dims[k];
        }
        for (int t = 0; t < n_trailing; t++) start[n + t] = 0, count[n + t] = trailing[t];
        if (H5Sselect_hyperslab(space, H5S_SELECT_OR, start, NULL, count, NULL) < 0) return -1;
        a += cnt * unit;
    }
    return 0;
}

static herr_t write_cells(const h5out_t *o, hid_t ds, hid_t mem_type, size_t c0, size_t c1, const hsize_t *trailing,
                          int n_trailing, const void *buf)
{
    hsize_t per = 1;
    for (int t = 0; t < n_trailing; t++) per *= trailing[t];
    if (o->n_axes == 0) return H5Dwrite(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    hid_t fspace = H5Dget_space(ds);
    hsize_t total = (hsize_t)(c1 - c0) * per;
    hid_t mspace = H5Screate_simple(1, &total, NULL);
    herr_t rc = select_cells(fspace, o, c0, c1, trailing, n_trailing);
    if (rc >= 0) rc = H5Dwrite(ds, mem_type, mspace, fspace, H5P_DEFAULT, buf);
    H5Sclose(mspace), H5Sclose(fspace);
    return rc;
}

/* Per-cell strings and numbers known before any cell runs. */
static herr_t write_cell_records(h5out_t *o, const experiment_t *exp, const hid_t *scales)
{
    size_t n = exp->n_cells;
    const char **opt = malloc(n * sizeof *opt), **prob = malloc(n * sizeof *prob);
    uint64_t *seeds = malloc(n * sizeof *seeds);
    int32_t *steps = malloc(n * sizeof *steps);
    herr_t rc = (opt && prob && seeds && steps) ? 0 : -1;
    for (size_t c = 0; c < n && rc >= 0; c++) {
        opt[c] = exp->cells[c].opt->text;
        prob[c] = exp->cells[c].problem->label;
        seeds[c] = exp->cells[c].seed;
        steps[c] = (int32_t)exp->cells[c].steps;
    }
    hid_t st = string_type();
    int rank = (int)o->n_axes;
    struct {
        const char *name, *doc;
        hid_t ftype, mtype;
        const void *data;
    } recs[] = {
        {"optimizer_config", "optimizer and every hyperparameter, defaults included", st, st, opt},
        {"problem_config", "objective or expression", st, st, prob},
        {"cell_seed", "random seed of the cell, derived from the seed and the cell index", H5T_STD_U64LE,
         H5T_NATIVE_UINT64, seeds},
        {"cell_steps", "optimizer steps the cell was configured for", H5T_STD_I32LE, H5T_NATIVE_INT32, steps},
    };
    for (size_t i = 0; i < sizeof recs / sizeof recs[0] && rc >= 0; i++) {
        hid_t ds = create_dataset(o->file, recs[i].name, recs[i].ftype, rank, o->axis_dims, true);
        rc = ds < 0 ? -1 : H5Dwrite(ds, recs[i].mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, recs[i].data);
        if (rc >= 0) rc = attach(ds, scales, rank);
        if (rc >= 0) rc = attr_string(ds, "long_name", recs[i].doc);
        if (ds >= 0) H5Dclose(ds);
    }
    H5Tclose(st);
    free(opt), free(prob), free(seeds), free(steps);
    return rc;
}

static err_code_t create_contents(h5out_t *o, const experiment_t *exp, const char *command_line, err_t *err)
{
    hid_t f = o->file;
    int na = (int)exp->n_axes;
    hid_t scales[MAX_RANK];
    int n_scales = 0;
    hid_t st = string_type();
    herr_t rc = 0;
    /* coordinates, one per dimension */
    for (int k = 0; k < na && rc >= 0; k++) {
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
    int32_t *steps = malloc((exp->max_steps + 1) * sizeof *steps);
    for (size_t i = 0; steps && i <= exp->max_steps; i++) steps[i] = (int32_t)i;
    hid_t step_ds = rc < 0 || !steps ? -1 : coordinate(f, "step", H5T_STD_I32LE, H5T_NATIVE_INT32, exp->max_steps + 1, steps);
    free(steps);
    hid_t param_ds = step_ds < 0 ? -1 : coordinate(f, "param", st, st, exp->max_dim, exp->param_names);
    if (step_ds < 0 || param_ds < 0) rc = -1;
    else scales[n_scales++] = step_ds, scales[n_scales++] = param_ds;

    /* data variables */
    hsize_t dims[MAX_RANK];
    memcpy(dims, o->axis_dims, (size_t)na * sizeof *dims);
    dims[na] = o->steps, dims[na + 1] = o->dim;
    if (rc >= 0) {
        o->params = create_dataset(f, "params", H5T_IEEE_F32LE, na + 2, dims, false);
        o->loss = create_dataset(f, "loss", H5T_IEEE_F32LE, na + 1, dims, false);
        o->grad_norm = create_dataset(f, "grad_norm", H5T_IEEE_F32LE, na + 1, dims, false);
        o->status = create_dataset(f, "status", H5T_STD_I8LE, na, dims, true);
        o->wall = create_dataset(f, "wall_seconds", H5T_IEEE_F64LE, na, dims, true);
        if (o->params < 0 || o->loss < 0 || o->grad_norm < 0 || o->status < 0 || o->wall < 0) rc = -1;
    }
    /* every axis of every variable gets its scale: that is what names the dimensions */
    hid_t axis_scales[MAX_RANK];
    memcpy(axis_scales, scales, (size_t)na * sizeof *axis_scales);
    axis_scales[na] = step_ds, axis_scales[na + 1] = param_ds;
    if (rc >= 0) rc = attach(o->params, axis_scales, na + 2);
    if (rc >= 0) rc = attach(o->loss, axis_scales, na + 1);
    if (rc >= 0) rc = attach(o->grad_norm, axis_scales, na + 1);
    if (rc >= 0) rc = attach(o->status, axis_scales, na);
    if (rc >= 0) rc = attach(o->wall, axis_scales, na);
    if (rc >= 0) {
        attr_string(o->params, "long_name", "parameters at each step (step 0 is the start point)");
        attr_string(o->loss, "long_name", "objective value at each step");
        attr_string(o->grad_norm, "long_name", "L2 norm of the gradient at each step");
        attr_string(o->status, "long_name", "cell status");
        attr_string(o->status, "flag_meanings", "pending ok diverged failed");
        int8_t flags[] = {STATUS_PENDING, STATUS_OK, STATUS_DIVERGED, STATUS_FAILED};
        hsize_t nf = 4;
        hid_t s = H5Screate_simple(1, &nf, NULL);
        hid_t a = H5Acreate2(o->status, "flag_values", H5T_STD_I8LE, s, H5P_DEFAULT, H5P_DEFAULT);
        if (a < 0 || H5Awrite(a, H5T_NATIVE_INT8, flags) < 0) rc = -1;
        if (a >= 0) H5Aclose(a);
        H5Sclose(s);
        attr_string(o->wall, "long_name", "wall-clock time of the cell");
        attr_string(o->wall, "units", "s");
    }
    if (rc >= 0) rc = write_cell_records(o, exp, scales);
    /* the record of the run */
    if (rc >= 0) {
        char now[32], abi[32];
        iso_now(now, sizeof now);
        snprintf(abi, sizeof abi, "%d.%d", RUNNER_ABI_MAJOR, RUNNER_ABI_MINOR);
        char plugins[2048] = "";
        for (size_t i = 0; i < exp->n_optimizers_used; i++) {
            const plugin_entry_t *pe = exp->optimizers_used[i]->plugin;
            size_t len = strlen(plugins);
            snprintf(plugins + len, sizeof plugins - len, "%s%s %s (%s)", i ? "; " : "", pe->desc->name,
                     pe->desc->version, pe->file);
        }
        const char *attrs[][2] = {
            {"title", exp->name},
            {"config_file", exp->path},
            {"config_text", exp->text},
            {"resolved_config", exp->resolved_text},
            {"command_line", command_line},
            {"runner_version", RUNNER_VERSION},
            {"plugin_abi", abi},
            {"created", now},
            {"plugins", plugins},
        };
        for (size_t i = 0; i < sizeof attrs / sizeof attrs[0] && rc >= 0; i++)
            rc = attr_string(f, attrs[i][0], attrs[i][1]);
    }
    for (int i = 0; i < n_scales; i++) H5Dclose(scales[i]);
    H5Tclose(st);
    if (rc < 0) return h5fail(err, o->path, "create the datasets");
    if (H5Fflush(f, H5F_SCOPE_GLOBAL) < 0) return h5fail(err, o->path, "flush the new file");
    return ERR_OK;
}

static void close_all(h5out_t *o)
{
    hid_t ids[] = {o->params, o->loss, o->grad_norm, o->status, o->wall};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        if (ids[i] > 0) H5Dclose(ids[i]);
    if (o->file > 0) H5Fclose(o->file);
    free(o->path);
    free(o);
}

err_code_t h5out_create(const experiment_t *exp, const char *path, const char *command_line, h5out_t **out,
                        err_t *err)
{
    if (exp->n_axes + 2 > MAX_RANK) return err_set(err, ERR_CONFIG, (mark_t){0}, "too many axes");
    h5out_t *o = calloc(1, sizeof *o);
    if (!o) return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
    o->n_axes = exp->n_axes;
    for (size_t k = 0; k < exp->n_axes; k++) o->axis_dims[k] = exp->axes[k].n;
    o->steps = exp->max_steps + 1;
    o->dim = exp->max_dim;
    size_t plen = strlen(path) + 64;
    char *tmp = malloc(plen);
    o->path = strdup(path);
    if (!tmp || !o->path) {
        free(tmp);
        close_all(o);
        return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
    }
    /* A kill during creation must not leave a half-made file at `path`. */
    snprintf(tmp, plen, "%s.tmp-%ld", path, (long)getpid());
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* errors come back as values, reported by main */
    o->file = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    err_code_t rc;
    if (o->file < 0) {
        rc = err_set(err, ERR_IO, (mark_t){path, 0, 0}, "cannot create the output file (%s): check the directory is writable",
                     tmp);
    } else if ((rc = create_contents(o, exp, command_line, err)) == ERR_OK && rename(tmp, path) != 0) {
        rc = err_set(err, ERR_IO, (mark_t){path, 0, 0}, "cannot move %s into place: %s", tmp, strerror(errno));
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

err_code_t h5out_write_cells(h5out_t *o, size_t c0, size_t c1, const float *params, const float *loss,
                             const float *grad_norm, const int8_t *status, const double *wall, err_t *err)
{
    hsize_t sp[2] = {o->steps, o->dim};
    if (write_cells(o, o->params, H5T_NATIVE_FLOAT, c0, c1, sp, 2, params) < 0 ||
        write_cells(o, o->loss, H5T_NATIVE_FLOAT, c0, c1, sp, 1, loss) < 0 ||
        write_cells(o, o->grad_norm, H5T_NATIVE_FLOAT, c0, c1, sp, 1, grad_norm) < 0)
        return h5fail(err, o->path, "write cell data");
    /* the data must be in the file before a status says they are */
    if (H5Fflush(o->file, H5F_SCOPE_LOCAL) < 0) return h5fail(err, o->path, "flush");
    if (write_cells(o, o->wall, H5T_NATIVE_DOUBLE, c0, c1, NULL, 0, wall) < 0 ||
        write_cells(o, o->status, H5T_NATIVE_INT8, c0, c1, NULL, 0, status) < 0)
        return h5fail(err, o->path, "write cell status");
    if (H5Fflush(o->file, H5F_SCOPE_LOCAL) < 0) return h5fail(err, o->path, "flush");
    return ERR_OK;
}

err_code_t h5out_close(h5out_t *o, err_t *err)
{
    herr_t rc = H5Fflush(o->file, H5F_SCOPE_GLOBAL);
    char *path = strdup(o->path);
    close_all(o);
    err_code_t r = rc < 0 ? h5fail(err, path, "flush at close") : ERR_OK;
    free(path);
    return r;
}
