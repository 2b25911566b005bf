/*
 * fuzz_results.c: libFuzzer target for the results-file reader (what
 * `runner report` and the end-of-run summary read), issue 18 item 8.
 *
 * Structure-aware: the bytes choose a file's shapes, not its bytes. Each
 * input is turned into a well-formed HDF5 file whose contents are
 * inconsistent in the ways a damaged or hand-edited file can be: axes of
 * any size, coordinates longer, shorter or 2-D, dimension labels naming
 * other variables or nothing, status of the wrong rank or out-of-range
 * values, variables that do not span the axes, missing attributes, odd
 * failure strings. Mutating HDF5's own bytes would fuzz the HDF5 library
 * (outside this project); this fuzzes our trust in what a file says. The
 * reader must give results or an error with a message, never a crash, a
 * sanitizer report or a runaway allocation; report then prints them.
 */
#include <hdf5.h>
#include <hdf5_hl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "results/report.h"
#include "results/results.h"

typedef struct {
    const uint8_t *p;
    size_t n, at;
} bytes_t;

static unsigned next(bytes_t *b) { return b->at < b->n ? b->p[b->at++] : 0; }

static void attr_text(hid_t obj, const char *name, const char *value)
{
    hid_t t = H5Tcopy(H5T_C_S1), s = H5Screate(H5S_SCALAR);
    H5Tset_size(t, H5T_VARIABLE);
    hid_t a = H5Acreate2(obj, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
    if (a >= 0) H5Awrite(a, t, &value), H5Aclose(a);
    H5Sclose(s), H5Tclose(t);
}

/* A variable of float32 values from the bytes (NaN, infinities and
 * extremes among them) over dims. */
static hid_t float_var(hid_t f, const char *name, int rank, const hsize_t *dims, bytes_t *b)
{
    hssize_t n = 1;
    for (int i = 0; i < rank; i++) n *= (hssize_t)dims[i];
    static const float special[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 1e-30f, 3.4e38f, 1.0f};
    float *v = malloc((size_t)(n ? n : 1) * sizeof *v);
    for (hssize_t i = 0; i < n; i++) {
        unsigned x = next(b);
        v[i] = x < 8 ? special[x] : (float)x / 16.0f - 4.0f;
    }
    hid_t sp = rank ? H5Screate_simple(rank, dims, NULL) : H5Screate(H5S_SCALAR);
    hid_t ds = H5Dcreate2(f, name, H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (ds >= 0) H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    H5Sclose(sp);
    free(v);
    return ds;
}

static void build(const char *path, bytes_t *b)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) return;
    unsigned flags = next(b);
    if (!(flags & 1)) attr_text(f, "title", "fuzz");
    attr_text(f, "cell_kind", flags & 2 ? "training" : flags & 4 ? "nonsense" : "analytic");
    int n_axes = (int)(next(b) % 4);
    hsize_t dims[8];
    hid_t coords[4];
    for (int k = 0; k < n_axes; k++) {
        dims[k] = 1 + next(b) % 4;
        char name[8];
        snprintf(name, sizeof name, "a%d", k);
        unsigned how = next(b);
        hsize_t len[2] = {(hsize_t)((int)dims[k] + (int)(how % 3) - 1), 1 + how / 64};
        if (len[0] == 0) len[0] = 1;
        int rank = how % 5 == 4 ? 2 : 1;
        hid_t sp = H5Screate_simple(rank, len, NULL);
        hid_t type = (how / 3) % 3 == 0 ? H5T_IEEE_F64LE : (how / 3) % 3 == 1 ? H5T_STD_I64LE : H5T_NATIVE_INT8;
        if ((how / 3) % 3 == 2) { /* strings */
            type = H5Tcopy(H5T_C_S1);
            H5Tset_size(type, H5T_VARIABLE);
        }
        coords[k] = H5Dcreate2(f, name, type, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (coords[k] >= 0 && (how / 3) % 3 == 2) {
            hsize_t n = len[0] * (rank == 2 ? len[1] : 1);
            const char **v = malloc(n * sizeof *v);
            for (hsize_t i = 0; i < n; i++) v[i] = i % 2 ? "x" : "";
            H5Dwrite(coords[k], type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
            free(v);
        } else if (coords[k] >= 0) {
            hsize_t n = len[0] * (rank == 2 ? len[1] : 1);
            double *v = malloc(n * sizeof *v);
            for (hsize_t i = 0; i < n; i++) v[i] = (double)next(b) - 100.0;
            H5Dwrite(coords[k], H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
            free(v);
        }
        if ((how / 3) % 3 == 2) H5Tclose(type);
        H5Sclose(sp);
        if (coords[k] >= 0) H5DSset_scale(coords[k], name);
    }
    /* status: sometimes of another rank than the axes */
    unsigned shape = next(b);
    int st_rank = shape % 7 == 6 ? n_axes + 1 : n_axes;
    if (st_rank > n_axes) dims[n_axes] = 2;
    hssize_t cells = 1;
    for (int k = 0; k < st_rank; k++) cells *= (hssize_t)dims[k];
    int8_t *status = malloc((size_t)cells);
    for (hssize_t c = 0; c < cells; c++) status[c] = (int8_t)(next(b) % 6);
    hid_t sp = st_rank ? H5Screate_simple(st_rank, dims, NULL) : H5Screate(H5S_SCALAR);
    hid_t st = H5Dcreate2(f, "status", H5T_STD_I8LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (st >= 0) H5Dwrite(st, H5T_NATIVE_INT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, status);
    free(status);
    H5Sclose(sp);
    for (int k = 0; k < n_axes && st >= 0; k++) {
        unsigned label = next(b) % 6;
        if (coords[k] >= 0 && label != 5) H5DSattach_scale(st, coords[k], (unsigned)k);
        char name[8];
        snprintf(name, sizeof name, "a%d", k);
        const char *labels[] = {name, name, name, "loss", "status", NULL};
        if (labels[label]) H5DSset_label(st, (unsigned)k, labels[label]);
    }
    /* the series: loss (and test_accuracy for training), maybe misshapen */
    const char *series[] = {"loss", "test_accuracy"};
    for (int v = 0; v < (flags & 2 ? 2 : 1); v++) {
        unsigned how = next(b);
        hsize_t vd[9];
        memcpy(vd, dims, sizeof(hsize_t) * (size_t)n_axes);
        int rank = n_axes + 1;
        vd[n_axes] = how % 6;
        if (how % 11 == 10 && n_axes) vd[0] += 1; /* does not span the axes */
        if (how % 13 == 12) rank = n_axes;
        hid_t ds = float_var(f, series[v], rank, vd, b);
        if (ds >= 0) H5Dclose(ds);
    }
    unsigned fail = next(b);
    if (fail % 3) { /* failure: fixed-length text, of the axes' shape or not */
        hid_t t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, fail % 3 == 1 ? 256 : 1 + fail % 17);
        hsize_t fd[8];
        memcpy(fd, dims, sizeof(hsize_t) * (size_t)n_axes);
        int rank = n_axes;
        if (fail % 5 == 4) fd[0 < n_axes ? 0 : 0] = 7, rank = n_axes ? n_axes : 1;
        hid_t fsp = rank ? H5Screate_simple(rank, fd, NULL) : H5Screate(H5S_SCALAR);
        hid_t ds = H5Dcreate2(f, "failure", t, fsp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (ds >= 0) H5Dclose(ds);
        H5Sclose(fsp), H5Tclose(t);
    }
    if (fail & 8) {
        hid_t rsp = H5Screate(H5S_SCALAR);
        hid_t rs = H5Dcreate2(f, "run_state", H5T_STD_I8LE, rsp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        int8_t v = (int8_t)(next(b) % 7) - 1;
        if (rs >= 0) H5Dwrite(rs, H5T_NATIVE_INT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v), H5Dclose(rs);
        H5Sclose(rsp);
    }
    if (st >= 0) H5Dclose(st);
    for (int k = 0; k < n_axes; k++)
        if (coords[k] >= 0) H5Dclose(coords[k]);
    H5Fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    if (!path[0]) snprintf(path, sizeof path, "/tmp/runner_fuzz_results_%d.h5", (int)getpid());
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    bytes_t b = {data, size, 0};
    build(path, &b);
    results_t r;
    err_t err = {0};
    if (results_read(path, 1e-6, &r, &err) == ERR_OK) {
        FILE *out = fopen("/dev/null", "w");
        report_opts_t o = {.by = -1, .csv = (size & 1) != 0};
        if (report_print(out, &r, &o, &err) != ERR_OK && !err.msg[0]) abort();
        if (r.n_axes > 0) {
            o.by = (int)(size % r.n_axes);
            report_print(out, &r, &o, &err);
        }
        report_summary(out, &r, 12, &err);
        fclose(out);
    } else if (!err.msg[0]) {
        abort();
    }
    results_free(&r);
    H5garbage_collect(); /* HDF5's free lists are not leaks */
    return 0;
}
