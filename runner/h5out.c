/* h5out.c: create the results file and write cells into it. */
#include "h5out.h"

#include <dirent.h>
#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <hdf5_hl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <signal.h>
#include <unistd.h>

#include "version.h"

#define MAX_RANK 40

struct h5out {
    hid_t file;
    hid_t params, loss, grad_norm, status, wall, failure, run_state;
    hid_t failure_type;
    bool resumed; /* recomputed cells may hold an old failure message: always write them */
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

static err_code_t create_contents(h5out_t *o, const experiment_t *exp, const char *command_line,
                                  const char *fingerprint, err_t *err)
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
        /* no fill: unwritten bytes of a new file read as zeros, the empty string */
        o->failure = create_dataset(f, "failure", o->failure_type, na, dims, false);
        o->run_state = create_dataset(f, "run_state", H5T_STD_I8LE, 0, dims, true);
        if (o->params < 0 || o->loss < 0 || o->grad_norm < 0 || o->status < 0 || o->wall < 0 || o->failure < 0 ||
            o->run_state < 0)
            rc = -1;
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
    if (rc >= 0) rc = attach(o->failure, axis_scales, na);
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
        attr_string(o->failure, "long_name", "why the cell failed (empty unless status is failed)");
        attr_string(o->run_state, "long_name", "how the run ended");
        attr_string(o->run_state, "flag_meanings", "running complete interrupted stopped");
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
            {"config_fingerprint", fingerprint},
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
    hid_t ids[] = {o->params, o->loss, o->grad_norm, o->status, o->wall, o->failure, o->run_state};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        if (ids[i] > 0) H5Dclose(ids[i]);
    if (o->failure_type > 0) H5Tclose(o->failure_type);
    if (o->file > 0) H5Fclose(o->file);
    free(o->path);
    free(o);
}

/* Temporary files of creations killed before their rename: "NAME.tmp-PID"
 * beside path, whose process is gone. */
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
        if (*end || pid <= 0) continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue; /* its runner is alive (or not ours) */
        char full[8192];
        snprintf(full, sizeof full, "%s/%s", dir, e->d_name);
        unlink(full);
    }
    closedir(d);
}

static h5out_t *h5out_new(const experiment_t *exp, const char *path)
{
    h5out_t *o = calloc(1, sizeof *o);
    if (!o) return NULL;
    o->n_axes = exp->n_axes;
    for (size_t k = 0; k < exp->n_axes; k++) o->axis_dims[k] = exp->axes[k].n;
    o->steps = exp->max_steps + 1;
    o->dim = exp->max_dim;
    o->path = strdup(path);
    o->failure_type = failure_type();
    if (!o->path || o->failure_type < 0) {
        close_all(o);
        return NULL;
    }
    return o;
}

err_code_t h5out_create(const experiment_t *exp, const char *path, const char *command_line, const char *fingerprint,
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
    /* A kill during creation must not leave a half-made file at `path`. */
    snprintf(tmp, plen, "%s.tmp-%ld", path, (long)getpid());
    o->file = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    err_code_t rc;
    if (o->file < 0) {
        rc = err_set(err, ERR_IO, (mark_t){path, 0, 0}, "cannot create the output file (%s): check the directory is writable",
                     tmp);
    } else if ((rc = create_contents(o, exp, command_line, fingerprint, err)) == ERR_OK && rename(tmp, path) != 0) {
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

static herr_t read_attr_string(hid_t obj, const char *name, char *buf, size_t len)
{
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) return -1;
    hid_t ft = H5Aget_type(a), st = string_type();
    char *value = NULL;
    herr_t rc = H5Tget_class(ft) == H5T_STRING && H5Tis_variable_str(ft) > 0 ? H5Aread(a, st, &value) : -1;
    if (rc >= 0) snprintf(buf, len, "%s", value ? value : "");
    if (value) H5free_memory(value);
    H5Tclose(st), H5Tclose(ft), H5Aclose(a);
    return rc;
}

err_code_t h5out_read_fingerprint(const char *path, char *buf, size_t len, err_t *err)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (H5Fis_hdf5(path) <= 0)
        return err_set(err, ERR_IO, (mark_t){path, 0, 0}, "not an HDF5 file (or unreadable), so it cannot be resumed");
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return err_set(err, ERR_IO, (mark_t){path, 0, 0}, "HDF5 cannot open the file to resume it");
    herr_t rc = read_attr_string(f, "config_fingerprint", buf, len);
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

/* Each ok cell's loss at its last step, by element selection. */
static herr_t read_final_losses(const h5out_t *o, const experiment_t *exp, const int8_t *status, float *final)
{
    size_t n = exp->n_cells, rank = o->n_axes + 1, n_ok = 0;
    for (size_t c = 0; c < n; c++) final[c] = NAN, n_ok += status[c] == STATUS_OK;
    if (n_ok == 0) return 0;
    hsize_t *coords = malloc(n_ok * rank * sizeof *coords);
    float *vals = malloc(n_ok * sizeof *vals);
    herr_t rc = coords && vals ? 0 : -1;
    size_t idx[MAX_RANK], j = 0;
    for (size_t c = 0; c < n && rc >= 0; c++) {
        if (status[c] != STATUS_OK) continue;
        experiment_cell_coords(exp, c, idx);
        for (size_t k = 0; k < o->n_axes; k++) coords[j * rank + k] = idx[k];
        coords[j * rank + o->n_axes] = exp->cells[c].steps;
        j++;
    }
    hid_t fs = rc < 0 ? -1 : H5Dget_space(o->loss);
    hsize_t m = n_ok;
    hid_t ms = H5Screate_simple(1, &m, NULL);
    if (fs < 0 || H5Sselect_elements(fs, H5S_SELECT_SET, n_ok, coords) < 0 ||
        H5Dread(o->loss, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, vals) < 0)
        rc = -1;
    for (size_t c = 0, i = 0; c < n && rc >= 0; c++)
        if (status[c] == STATUS_OK) final[c] = vals[i++];
    if (fs >= 0) H5Sclose(fs);
    H5Sclose(ms);
    free(coords), free(vals);
    return rc;
}

err_code_t h5out_open(const experiment_t *exp, const char *path, h5out_t **out, int8_t *status, float *final_loss,
                      err_t *err)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    h5out_t *o = h5out_new(exp, path);
    if (!o) return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
    o->resumed = true;
    o->file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    if (o->file < 0) {
        close_all(o);
        return err_set(err, ERR_IO, (mark_t){path, 0, 0},
                       "HDF5 cannot open the file for writing (read-only, or another runner is writing it?)");
    }
    struct {
        hid_t *id;
        const char *name;
        int rank;
    } sets[] = {
        {&o->params, "params", (int)o->n_axes + 2}, {&o->loss, "loss", (int)o->n_axes + 1},
        {&o->grad_norm, "grad_norm", (int)o->n_axes + 1}, {&o->status, "status", (int)o->n_axes},
        {&o->wall, "wall_seconds", (int)o->n_axes}, {&o->failure, "failure", (int)o->n_axes},
        {&o->run_state, "run_state", 0},
    };
    hsize_t dims[MAX_RANK];
    memcpy(dims, o->axis_dims, o->n_axes * sizeof *dims);
    dims[o->n_axes] = o->steps, dims[o->n_axes + 1] = o->dim;
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) {
        *sets[i].id = H5Dopen2(o->file, sets[i].name, H5P_DEFAULT);
        if (*sets[i].id < 0 || !extent_is(*sets[i].id, dims, sets[i].rank)) {
            close_all(o);
            return err_set(err, ERR_IO, (mark_t){path, 0, 0},
                           "dataset '%s' is missing or not shaped for this config, so the file cannot be resumed",
                           sets[i].name);
        }
    }
    if (H5Dread(o->status, H5T_NATIVE_INT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, status) < 0 ||
        read_final_losses(o, exp, status, final_loss) < 0) {
        close_all(o);
        return h5fail(err, path, "read the status of the cells to resume");
    }
    *out = o;
    return ERR_OK;
}

err_code_t h5out_write_cells(h5out_t *o, size_t c0, size_t c1, const float *params, const float *loss,
                             const float *grad_norm, const int8_t *status, const double *wall,
                             const char (*failure)[RUNNER_ERR_MAX], err_t *err)
{
    hsize_t sp[2] = {o->steps, o->dim};
    /* a new file reads "" where nothing was written; a resumed one may hold
     * the message of an earlier attempt at a recomputed cell */
    bool any_failed = o->resumed;
    for (size_t c = c0; c < c1 && !any_failed; c++) any_failed = status[c - c0] == STATUS_FAILED;
    if (write_cells(o, o->params, H5T_NATIVE_FLOAT, c0, c1, sp, 2, params) < 0 ||
        write_cells(o, o->loss, H5T_NATIVE_FLOAT, c0, c1, sp, 1, loss) < 0 ||
        write_cells(o, o->grad_norm, H5T_NATIVE_FLOAT, c0, c1, sp, 1, grad_norm) < 0 ||
        (any_failed && write_cells(o, o->failure, o->failure_type, c0, c1, NULL, 0, failure) < 0))
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
    uint64_t per_cell = (uint64_t)(exp->max_steps + 1) * (exp->max_dim + 2) * sizeof(float) +
                        sizeof(int8_t) + sizeof(double) + sizeof(uint64_t) + sizeof(int32_t) + RUNNER_ERR_MAX;
    uint64_t total = todo ? 0 : 1u << 20; /* a new file: coordinates, attributes, metadata */
    for (size_t c = 0; c < exp->n_cells; c++) {
        if (todo && !todo[c]) continue;
        /* the two per-cell strings live in the global heap, ~16 bytes of overhead each */
        total += per_cell + (todo ? 0 : strlen(exp->cells[c].opt->text) + strlen(exp->cells[c].problem->label) + 32);
    }
    return total;
}

err_code_t h5out_set_state(h5out_t *o, run_state_t state, err_t *err)
{
    int8_t v = (int8_t)state;
    if (H5Dwrite(o->run_state, H5T_NATIVE_INT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v) < 0 ||
        H5Fflush(o->file, H5F_SCOPE_LOCAL) < 0)
        return h5fail(err, o->path, "record the run state");
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
