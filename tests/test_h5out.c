/* test_h5out.c: the results file: cells written in irregular batches land in
 * the right places of the N-D datasets, unwritten cells stay pending. */
#include <hdf5.h>
#include <math.h>
#include <dirent.h>
#include <unistd.h>

#include "results/h5out.h"
#include "results/writer_lock.h"
#include "results/h5util.h"
#include "helpers.h"

static registry_t reg;
static experiment_t ex;
static char path[256];

static void setup(void)
{
    load_build_plugins(&reg);
    err_t err;
    cr_assert_eq(load_text(&ex, &reg,
                           "steps: 2\nproblem: {objective: elliptic, start: [1, 2]}\noptimizer: {name: sgd, lr: 0.1}\n"
                           "grid: {optimizer.lr: [0.1, 0.2, 0.3], optimizer.momentum: [0, 0.3, 0.6, 0.9], "
                           "optimizer.dampening: [0, 0.1, 0.2, 0.3, 0.4]}\n",
                           &err),
                 ERR_OK, "%s", err.msg);
    snprintf(path, sizeof path, "/tmp/runner_test_h5out_%d.h5", (int)getpid());
}
static void teardown(void)
{
    experiment_free(&ex);
    registry_free(&reg);
    unlink(path);
}
TestSuite(h5out, .init = setup, .fini = teardown);

#define S 3 /* steps + 1 */
#define P 2

/* Cell c gets params c*100 + t*10 + i and loss c*10 + t; cells divisible
 * by `fail_every` (when nonzero) fail with a message naming them. */
static void write_range_failing(h5out_t *o, size_t c0, size_t c1, size_t fail_every)
{
    size_t n = c1 - c0;
    float *params = malloc(n * S * P * sizeof *params), *loss = malloc(n * S * sizeof *loss);
    int8_t *status = malloc(n);
    double *wall = malloc(n * sizeof *wall);
    char(*failure)[RUNNER_ERR_MAX] = calloc(n, sizeof *failure);
    for (size_t k = 0; k < n; k++) {
        size_t c = c0 + k;
        for (size_t t = 0; t < S; t++) {
            loss[k * S + t] = (float)(c * 10 + t);
            for (size_t i = 0; i < P; i++) params[(k * S + t) * P + i] = (float)(c * 100 + t * 10 + i);
        }
        status[k] = STATUS_OK;
        if (fail_every && c % fail_every == 0) {
            status[k] = STATUS_FAILED;
            snprintf(failure[k], RUNNER_ERR_MAX, "cell %zu failed", c);
        }
        wall[k] = (double)c;
    }
    err_t err;
    const float *vars[] = {params, loss, loss};
    cr_assert_eq(h5out_write_cells(o, c0, c1, vars, status, wall, failure, &err), ERR_OK, "%s", err.msg);
    free(params), free(loss), free(status), free(wall), free(failure);
}

static void write_range(h5out_t *o, size_t c0, size_t c1)
{
    write_range_failing(o, c0, c1, 0);
}

Test(h5out, irregular_batches_land_in_place)
{
    h5out_t *o;
    err_t err;
    cr_assert_eq(ex.n_cells, 60);
    cr_assert_eq(h5out_create(&ex, path, true, &(h5out_record_t){"test", "fp-1", NULL}, &o, &err), ERR_OK, "%s", err.msg);
    /* boundaries that cut through every axis; cells 41..44 never written */
    size_t cuts[][2] = {{0, 7}, {7, 8}, {8, 29}, {29, 41}, {45, 60}};
    for (size_t i = 0; i < 5; i++) write_range(o, cuts[i][0], cuts[i][1]);
    cr_assert_eq(h5out_close(o, &err), ERR_OK);

    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    cr_assert_geq(f, 0);
    float params[60 * S * P];
    int8_t status[60];
    hid_t d = H5Dopen2(f, "params", H5P_DEFAULT);
    hid_t space = H5Dget_space(d);
    hsize_t dims[5];
    cr_assert_eq(H5Sget_simple_extent_ndims(space), 5);
    H5Sget_simple_extent_dims(space, dims, NULL);
    cr_expect(dims[0] == 3 && dims[1] == 4 && dims[2] == 5 && dims[3] == S && dims[4] == P);
    H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, params);
    H5Sclose(space), H5Dclose(d);
    d = H5Dopen2(f, "status", H5P_DEFAULT);
    H5Dread(d, H5T_NATIVE_INT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, status);
    H5Dclose(d);
    for (size_t c = 0; c < 60; c++) {
        bool written = c < 41 || c >= 45;
        cr_expect_eq(status[c], written ? STATUS_OK : STATUS_PENDING, "cell %zu status %d", c, status[c]);
        if (!written) continue;
        for (size_t t = 0; t < S; t++)
            for (size_t i = 0; i < P; i++)
                cr_expect_eq(params[(c * S + t) * P + i], (float)(c * 100 + t * 10 + i), "cell %zu step %zu", c, t);
    }
    /* the record attributes are there */
    cr_expect(H5Aexists(f, "config_text") > 0);
    cr_expect(H5Aexists(f, "resolved_config") > 0);
    cr_expect(H5Lexists(f, "optimizer.dampening", H5P_DEFAULT) > 0);
    H5Fclose(f);
}

Test(h5out, unwritable_directory_is_an_error_and_leaves_nothing)
{
    h5out_t *o;
    err_t err;
    cr_expect_eq(h5out_create(&ex, "/nonexistent-dir/x.h5", false, &(h5out_record_t){"test", "fp-1", NULL}, &o, &err), ERR_IO);
    cr_expect(strstr(err.msg, "cannot create the output file"), "%s", err.msg);
}

static void write_text(const char *file, const char *text)
{
    FILE *f = fopen(file, "w");
    cr_assert(f);
    fputs(text, f);
    fclose(f);
}

static bool has_text(const char *file, const char *text)
{
    char buf[256] = "";
    FILE *f = fopen(file, "r");
    if (!f) return false;
    buf[fread(buf, 1, sizeof buf - 1, f)] = 0;
    fclose(f);
    return !strcmp(buf, text);
}

/* Issue 18, item 1: the last step of a creation never replaces a file. A
 * file that appeared at the output (another run's, finished first) is
 * kept, and the creation is an error; --force (replace) replaces. */
Test(h5out, creation_never_replaces_a_file_that_appeared)
{
    write_text(path, "another run's results\n");
    h5out_t *o;
    err_t err = {0};
    cr_expect_eq(h5out_create(&ex, path, false, &(h5out_record_t){"test", "fp-1", NULL}, &o, &err), ERR_IO);
    cr_expect(strstr(err.msg, "nothing was replaced"), "%s", err.msg);
    cr_expect(has_text(path, "another run's results\n"), "the other run's file was replaced");
    cr_assert_eq(h5out_create(&ex, path, true, &(h5out_record_t){"test", "fp-1", NULL}, &o, &err), ERR_OK, "%s", err.msg);
    cr_expect_eq(h5out_close(o, &err), ERR_OK);
    cr_expect(H5Fis_hdf5(path) > 0, "with replace, the new file is there");
}

/* Issue 18, item 5: the temporary name cannot be guessed and is created
 * exclusively. A symlink planted at the name older runners used (OUT.tmp-PID)
 * is neither followed nor touched, and no temporary file is left behind. */
Test(h5out, the_temporary_file_is_not_a_planted_symlink)
{
    char victim[300], planted[300];
    snprintf(victim, sizeof victim, "%s.victim", path);
    snprintf(planted, sizeof planted, "%s.tmp-%ld", path, (long)getpid());
    write_text(victim, "precious\n");
    cr_assert_eq(symlink(victim, planted), 0);
    h5out_t *o;
    err_t err = {0};
    cr_assert_eq(h5out_create(&ex, path, false, &(h5out_record_t){"test", "fp-1", NULL}, &o, &err), ERR_OK, "%s", err.msg);
    cr_expect_eq(h5out_close(o, &err), ERR_OK);
    cr_expect(has_text(victim, "precious\n"), "the symlink's target was written");
    char dir[300], *slash;
    snprintf(dir, sizeof dir, "%s", path);
    slash = strrchr(dir, '/');
    *slash = 0;
    size_t left = 0, blen = strlen(slash + 1);
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));)
        left += !strncmp(e->d_name, slash + 1, blen) && strstr(e->d_name + blen, ".tmp-") == e->d_name + blen &&
                strcmp(e->d_name, strrchr(planted, '/') + 1);
    if (d) closedir(d);
    cr_expect_eq(left, 0, "a temporary file was left next to the output");
    unlink(planted), unlink(victim);
}

/* A file left half written is reopened: the status of every cell and the
 * final loss of the ok ones come back, and writing the rest completes it. */
Test(h5out, reopen_reports_cells_and_completes)
{
    h5out_t *o;
    err_t err;
    cr_assert_eq(h5out_create(&ex, path, true, &(h5out_record_t){"test", "fp-1", NULL}, &o, &err), ERR_OK, "%s", err.msg);
    write_range_failing(o, 0, 20, 7); /* cells 0, 7, 14 fail */
    write_range(o, 50, 60);
    cr_assert_eq(h5out_set_state(o, RUN_INTERRUPTED, &err), ERR_OK);
    cr_assert_eq(h5out_close(o, &err), ERR_OK);

    char fp[64];
    cr_assert_eq(h5out_read_fingerprint(path, fp, sizeof fp, &err), ERR_OK, "%s", err.msg);
    cr_expect_str_eq(fp, "fp-1");
    int8_t status[60];
    cr_assert_eq(h5out_open(&ex, path, &o, status, &err), ERR_OK, "%s", err.msg);
    for (size_t c = 0; c < 60; c++) {
        int want = c < 20 ? (c % 7 == 0 ? STATUS_FAILED : STATUS_OK) : c >= 50 ? STATUS_OK : STATUS_PENDING;
        cr_expect_eq(status[c], want, "cell %zu", c);
    }
    write_range(o, 0, 50); /* the failed cells succeed this time: their messages must go */
    cr_assert_eq(h5out_set_state(o, RUN_COMPLETE, &err), ERR_OK);
    cr_assert_eq(h5out_close(o, &err), ERR_OK);

    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    char msgs[60][RUNNER_ERR_MAX];
    hid_t d = H5Dopen2(f, "failure", H5P_DEFAULT), t = H5Dget_type(d);
    cr_assert_eq(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, msgs), 0);
    for (size_t c = 0; c < 60; c++) cr_expect_str_empty(msgs[c], "cell %zu: %s", c, msgs[c]);
    H5Tclose(t), H5Dclose(d);
    int8_t state;
    d = H5Dopen2(f, "run_state", H5P_DEFAULT);
    H5Dread(d, H5T_NATIVE_INT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, &state);
    cr_expect_eq(state, RUN_COMPLETE);
    H5Dclose(d), H5Fclose(f);
}

Test(h5out, failure_messages_are_stored)
{
    h5out_t *o;
    err_t err;
    cr_assert_eq(h5out_create(&ex, path, true, &(h5out_record_t){"test", "fp-1", NULL}, &o, &err), ERR_OK, "%s", err.msg);
    write_range_failing(o, 0, 60, 25);
    cr_assert_eq(h5out_close(o, &err), ERR_OK);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    char msgs[60][RUNNER_ERR_MAX];
    hid_t d = H5Dopen2(f, "failure", H5P_DEFAULT), t = H5Dget_type(d);
    cr_assert_eq(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, msgs), 0);
    cr_expect_str_eq(msgs[25], "cell 25 failed");
    cr_expect_str_eq(msgs[50], "cell 50 failed");
    cr_expect_str_empty(msgs[26]);
    H5Tclose(t), H5Dclose(d), H5Fclose(f);
}

Test(h5out, files_that_cannot_be_resumed)
{
    err_t err;
    char fp[64];
    FILE *f = fopen(path, "w");
    fputs("not hdf5", f);
    fclose(f);
    cr_expect_eq(h5out_read_fingerprint(path, fp, sizeof fp, &err), ERR_IO);
    cr_expect(strstr(err.msg, "not an HDF5 file"), "%s", err.msg);
    hid_t h = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    H5Fclose(h);
    cr_expect_eq(h5out_read_fingerprint(path, fp, sizeof fp, &err), ERR_IO);
    cr_expect(strstr(err.msg, "no config_fingerprint"), "%s", err.msg);
}

/* Same fingerprint is not enough: the layout must fit the experiment. */
Test(h5out, reopen_refuses_a_differently_shaped_file)
{
    h5out_t *o;
    err_t err;
    experiment_t other;
    cr_assert_eq(load_text(&other, &reg,
                           "steps: 5\nproblem: {objective: elliptic, start: [1, 2]}\noptimizer: {name: sgd, lr: 0.1}\n",
                           &err),
                 ERR_OK, "%s", err.msg);
    cr_assert_eq(h5out_create(&other, path, true, &(h5out_record_t){"test", "fp-1", NULL}, &o, &err), ERR_OK, "%s", err.msg);
    cr_assert_eq(h5out_close(o, &err), ERR_OK);
    int8_t status[60];
    cr_expect_eq(h5out_open(&ex, path, &o, status, &err), ERR_IO);
    cr_expect(strstr(err.msg, "not shaped for this config"), "%s", err.msg);
    experiment_free(&other);
}

Test(h5out, stale_temporaries_are_removed)
{
    char stale[300], live[300];
    snprintf(stale, sizeof stale, "%s.tmp-999999999", path); /* no such process */
    snprintf(live, sizeof live, "%s.tmp-%d", path, (int)getppid());
    fclose(fopen(stale, "w"));
    fclose(fopen(live, "w"));
    h5out_t *o;
    err_t err;
    cr_assert_eq(h5out_create(&ex, path, true, &(h5out_record_t){"test", "fp-1", NULL}, &o, &err), ERR_OK, "%s", err.msg);
    cr_assert_eq(h5out_close(o, &err), ERR_OK);
    cr_expect_neq(access(stale, F_OK), 0, "stale temporary kept");
    cr_expect_eq(access(live, F_OK), 0, "a live runner's temporary was removed");
    unlink(live);
}

/* The writer issues one H5Dwrite per block: every range of cells must come
 * out as at most 2n-1 regular blocks that, in order, cover exactly the
 * range, each block's cells consecutive in row-major order. */
Test(h5out, cell_ranges_split_into_regular_blocks)
{
    const hsize_t dims[3] = {3, 4, 5};
    const size_t n = 60;
    for (size_t c0 = 0; c0 < n; c0++)
        for (size_t c1 = c0 + 1; c1 <= n; c1++) {
            h5_cell_block_t b[H5_CELL_BLOCKS_MAX];
            size_t nb = h5_cell_blocks(3, dims, c0, c1, b), next = c0;
            cr_assert_leq(nb, 5, "[%zu, %zu): %zu blocks", c0, c1, nb);
            for (size_t k = 0; k < nb; k++) {
                cr_assert_eq(b[k].c0, next, "[%zu, %zu) block %zu starts at %llu", c0, c1, k,
                             (unsigned long long)b[k].c0);
                /* walk the block's cells row-major: they must be next, next+1, ... */
                size_t cells = 0;
                for (hsize_t i = 0; i < b[k].count[0]; i++)
                    for (hsize_t j = 0; j < b[k].count[1]; j++)
                        for (hsize_t l = 0; l < b[k].count[2]; l++) {
                            hsize_t c = ((b[k].start[0] + i) * dims[1] + b[k].start[1] + j) * dims[2] + b[k].start[2] + l;
                            cr_assert_eq(c, next + cells, "[%zu, %zu) block %zu cell %zu", c0, c1, k, cells);
                            cells++;
                        }
                cr_assert_eq(cells, b[k].cells);
                next += cells;
            }
            cr_assert_eq(next, c1, "[%zu, %zu) covered up to %zu", c0, c1, next);
        }
}

/* Issue 18, item 2: a file a writer holds is neither replaced nor resumed
 * by another (the mark is per open file: a second writer in this process
 * is refused as another process would be); closing releases it. */
Test(h5out, a_file_being_written_is_not_replaced_or_resumed)
{
    h5out_t *o, *other = NULL;
    err_t err;
    cr_assert_eq(h5out_create(&ex, path, true, &(h5out_record_t){"test", "fp-1", NULL}, &o, &err), ERR_OK, "%s", err.msg);
    cr_expect(writer_lock_busy(path));
    cr_expect_eq(h5out_create(&ex, path, true, &(h5out_record_t){"test", "fp-2", NULL}, &other, &err), ERR_CONFIG);
    cr_expect(strstr(err.msg, "another runner is writing this file right now, so it cannot be replaced") &&
                  !strstr(err.msg, "--force"),
              "%s", err.msg);
    int8_t status[60];
    cr_expect_eq(h5out_open(&ex, path, &other, status, &err), ERR_CONFIG);
    cr_expect(strstr(err.msg, "so it cannot be resumed"), "%s", err.msg);
    char fp[64];
    cr_assert_eq(h5out_read_fingerprint(path, fp, sizeof fp, &err), ERR_OK, "readers take no lock: %s", err.msg);
    cr_expect_str_eq(fp, "fp-1", "the refused replacement left the file alone");
    cr_assert_eq(h5out_close(o, &err), ERR_OK);
    cr_expect_not(writer_lock_busy(path));
    cr_assert_eq(h5out_open(&ex, path, &o, status, &err), ERR_OK, "%s", err.msg);
    cr_assert_eq(h5out_close(o, &err), ERR_OK);
}
