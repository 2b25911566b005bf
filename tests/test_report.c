/* test_report.c: a results file read back (results.c) and tabulated
 * (report.c): per-cell numbers, grouping, mean +- std over seeds, counts,
 * CSV; then `runner report` end to end, with its errors. */
#include <hdf5.h>
#include <hdf5_hl.h>
#include <math.h>
#include <unistd.h>

#include "e2e_helpers.h"
#include "results/h5out.h"
#include "helpers.h"
#include "results/report.h"

static registry_t reg;
static experiment_t ex;
static char path[256];

/* 2 learning rates x 3 seeds = 6 cells, 2 steps (3 recorded values). */
static void setup(void)
{
    load_build_plugins(&reg);
    err_t err;
    cr_assert_eq(load_text(&ex, &reg,
                           "name: rep\nsteps: 2\nproblem: {objective: elliptic, start: [1, 2]}\n"
                           "optimizer: {name: sgd, lr: 0.1}\ngrid: {optimizer.lr: [0.1, 0.2]}\nseeds: [1, 2, 3]\n",
                           &err),
                 ERR_OK, "%s", err.msg);
    cr_assert_eq(ex.n_cells, 6);
    snprintf(path, sizeof path, "/tmp/runner_test_report_%d.h5", (int)getpid());
    e2e_make_dir("report");
}
static void teardown(void)
{
    experiment_free(&ex);
    registry_free(&reg);
    unlink(path);
    e2e_remove_dir();
}
TestSuite(report, .init = setup, .fini = teardown);

/* The losses of each cell (cell = lr index * 3 + seed index):
 *   lr 0.1: [4 2 1] [4 3 3] [4 1 2]           all ok
 *   lr 0.2: [4 .5 .25] ok, [4 inf nan] diverged, failed ("boom") */
static const float losses[6][3] = {{4, 2, 1}, {4, 3, 3}, {4, 1, 2}, {4, 0.5f, 0.25f}, {4, INFINITY, NAN}, {0, 0, 0}};
static const int8_t statuses[6] = {STATUS_OK, STATUS_OK, STATUS_OK, STATUS_OK, STATUS_DIVERGED, STATUS_FAILED};

/* Write cells [0, n) of the table above and close the file. */
static void write_file_with(size_t n)
{
    h5out_t *o;
    err_t err;
    cr_assert_eq(h5out_create(&ex, path, true, &(h5out_record_t){"test", "fp", NULL}, &o, &err), ERR_OK, "%s", err.msg);
    float params[6 * 3 * 2] = {0}, loss[6 * 3];
    double wall[6] = {0};
    char failure[6][RUNNER_ERR_MAX] = {{0}};
    snprintf(failure[5], RUNNER_ERR_MAX, "boom");
    memcpy(loss, losses, sizeof loss);
    const float *vars[] = {params, loss, loss};
    cr_assert_eq(h5out_write_cells(o, 0, n, vars, statuses, wall, failure, &err), ERR_OK, "%s", err.msg);
    cr_assert_eq(h5out_set_state(o, n == 6 ? RUN_COMPLETE : RUN_INTERRUPTED, &err), ERR_OK);
    cr_assert_eq(h5out_close(o, &err), ERR_OK);
}

/* What report_print writes, as a string (caller frees). */
static char *report_text(const results_t *r, int by, bool csv)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    err_t err;
    report_opts_t o = {.by = by, .csv = csv};
    cr_assert_eq(report_print(f, r, &o, &err), ERR_OK, "%s", err.msg);
    fclose(f);
    return buf;
}

Test(report, reads_cells_axes_and_failure)
{
    write_file_with(6);
    results_t r;
    err_t err;
    cr_assert_eq(results_read(path, 1.5, &r, &err), ERR_OK, "%s", err.msg);
    cr_expect_str_eq(r.title, "rep");
    cr_expect(!r.training);
    cr_expect_eq(r.run_state, RUN_COMPLETE);
    cr_assert_eq(r.n_axes, 2);
    cr_expect_str_eq(r.axes[0].name, "optimizer.lr");
    cr_expect_str_eq(r.axes[0].labels[1], "0.2");
    cr_expect(!r.axes[0].is_seed);
    cr_expect_str_eq(r.axes[1].name, "seed");
    cr_expect(r.axes[1].is_seed);
    cr_expect_str_eq(r.axes[1].labels[2], "3");
    cr_assert_eq(r.n_cells, 6);
    const double final[] = {1, 3, 2, 0.25}, best[] = {1, 3, 1, 0.25};
    const int reach[] = {2, -1, 1, 1};
    for (size_t c = 0; c < 4; c++) {
        cr_expect_eq(r.cells[c].status, STATUS_OK, "cell %zu", c);
        cr_expect_eq(r.cells[c].final_loss, final[c], "cell %zu: %g", c, r.cells[c].final_loss);
        cr_expect_eq(r.cells[c].best_loss, best[c], "cell %zu", c);
        cr_expect_eq(r.cells[c].reach, reach[c], "cell %zu: %d", c, r.cells[c].reach);
        cr_expect(isnan(r.cells[c].final_acc));
    }
    cr_expect_eq(r.cells[4].status, STATUS_DIVERGED);
    cr_expect_eq(r.cells[5].status, STATUS_FAILED);
    cr_expect_eq(r.first_failed, 5);
    cr_expect_str_eq(r.first_failure, "boom");
    char label[256];
    results_cell_label(&r, 4, -1, false, label, sizeof label);
    cr_expect_str_eq(label, "optimizer.lr=0.2 seed=2");
    results_cell_label(&r, 4, 0, true, label, sizeof label);
    cr_expect_str_eq(label, "");
    results_free(&r);
}

Test(report, table_is_mean_and_std_over_seeds)
{
    write_file_with(6);
    results_t r;
    err_t err;
    cr_assert_eq(results_read(path, 1.5, &r, &err), ERR_OK, "%s", err.msg);
    char *text = report_text(&r, -1, false);
    /* lr 0.1: final 1,3,2 -> 2 +- 1; best 1,3,1 -> 1.667 +- 1.155; reached at 2 and 1 of 3 */
    cr_expect(strstr(text, "rep: "), "%s", text);
    cr_expect(strstr(text, "6 cells: 4 ok, 1 diverged, 1 failed (run complete); mean ± std over the seed axis; 95% CI "
                           "(t): Student's t interval of the mean final loss"),
              "%s", text);
    /* the interval: 2 +- t(0.975, 2) 1 / sqrt(3) = 2 +- 2.484 */
    cr_expect(strstr(text, "optimizer.lr  n  ok  diverged  failed  final loss  best loss    95% CI (t)        steps to 1.5\n"),
              "%s", text);
    cr_expect(strstr(text, "0.1           3  3   0         0       2 ± 1       1.667 ± 1.2  [-0.4841, 4.484]  1.5 (2/3)\n"),
              "%s", text);
    cr_expect(strstr(text, "0.2           3  1   1         1       0.25        0.25         -                 1\n"), "%s", text);
    cr_expect(strstr(text, "best: optimizer.lr=0.2, final loss 0.25\n"), "%s", text);
    cr_expect(strstr(text, "first failure: cell 5 optimizer.lr=0.2 seed=3: boom\n"), "%s", text);
    free(text);
    results_free(&r);
}

Test(report, csv_has_unrounded_numbers)
{
    write_file_with(6);
    results_t r;
    err_t err;
    cr_assert_eq(results_read(path, 1.5, &r, &err), ERR_OK, "%s", err.msg);
    char *text = report_text(&r, -1, true);
    cr_expect_str_eq(text, "optimizer.lr,n,ok,diverged,failed,final_loss,final_loss_std,best_loss,best_loss_std,"
                           "final_loss_ci95_low,final_loss_ci95_high,steps_to_tol,reached\n"
                           "0.1,3,3,0,0,2,1,1.66666667,1.15470054,-0.484136136,4.48413614,1.5,2\n"
                           "0.2,3,1,1,1,0.25,,0.25,,,,1,1\n");
    free(text);
    results_free(&r);
}

Test(report, by_axis_names_the_best_setting_of_each_group)
{
    write_file_with(6);
    results_t r;
    err_t err;
    cr_assert_eq(results_read(path, NAN, &r, &err), ERR_OK, "%s", err.msg);
    int by;
    cr_assert_eq(report_find_axis(&r, "seed", &by, &err), ERR_OK);
    cr_assert_eq(by, 1);
    /* per seed, over both learning rates: seed 1 has cells 0 (1) and 3 (0.25) */
    char *text = report_text(&r, by, true);
    cr_expect_str_eq(text, "seed,n,ok,diverged,failed,final_loss,final_loss_std,best_loss,best_loss_std,best_setting\n"
                           "1,2,2,0,0,0.625,0.530330086,0.625,0.530330086,optimizer.lr=0.2\n"
                           "2,2,1,1,0,3,,3,,optimizer.lr=0.1\n"
                           "3,2,1,0,1,2,,1,,optimizer.lr=0.1\n");
    free(text);
    cr_expect_eq(report_find_axis(&r, "optimizer.l", &by, &err), ERR_USAGE);
    cr_expect(strstr(err.msg, "its axes are: optimizer.lr, seed (did you mean 'optimizer.lr'?)"), "%s", err.msg);
    results_free(&r);
}

Test(report, pending_cells_are_counted_and_the_summary_names_the_best_cell)
{
    write_file_with(3);
    results_t r;
    err_t err;
    cr_assert_eq(results_read(path, NAN, &r, &err), ERR_OK, "%s", err.msg);
    cr_expect_eq(r.run_state, RUN_INTERRUPTED);
    char *text = report_text(&r, -1, false);
    cr_expect(strstr(text, "6 cells: 3 ok, 0 diverged, 0 failed, 3 pending (run interrupted)"), "%s", text);
    cr_expect(strstr(text, "  pending  "), "%s", text);
    cr_expect(!strstr(text, "first failure"), "%s", text);
    free(text);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_eq(report_summary(f, &r, 12, &err), ERR_OK);
    fclose(f);
    cr_expect(strstr(buf, "best: cell 0 optimizer.lr=0.1 seed=1, final loss 1 (the best single cell; runner report "
                          "ranks settings by their mean over seeds)\n"), "%s", buf);
    cr_expect(strstr(buf, "optimizer.lr  n  ok  diverged  failed  pending"), "%s", buf);
    free(buf);
    results_free(&r);
}

/* A sweep holds its file open (and HDF5-locked) while it runs: a report
 * from another process still reads it, finished cells and pending ones. */
Test(report, reads_a_file_while_it_is_being_written)
{
    h5out_t *o;
    err_t err;
    cr_assert_eq(h5out_create(&ex, path, true, &(h5out_record_t){"test", "fp", NULL}, &o, &err), ERR_OK, "%s", err.msg);
    float params[3 * 3 * 2] = {0}, loss[3 * 3];
    double wall[3] = {0};
    char failure[3][RUNNER_ERR_MAX] = {{0}};
    memcpy(loss, losses, sizeof loss);
    const float *vars[] = {params, loss, loss};
    cr_assert_eq(h5out_write_cells(o, 0, 3, vars, statuses, wall, failure, &err), ERR_OK, "%s", err.msg);
    char out[8192], errtxt[4096], args[512];
    snprintf(args, sizeof args, "report %s", path);
    cr_expect_eq(run(args, out, sizeof out, errtxt, sizeof errtxt), 0, "%s", errtxt);
    cr_expect(strstr(out, "6 cells: 3 ok, 0 diverged, 0 failed, 3 pending (run running or killed)"), "%s", out);
    cr_assert_eq(h5out_close(o, &err), ERR_OK);
}

Test(report, command_line_end_to_end)
{
    char out[16384], errtxt[4096];
    write_file("sweep.yaml", "name: e2e\nsteps: 20\nproblem: {objective: parabola, start: [3]}\n"
                             "optimizer: {name: momentum, lr: 0.1}\n"
                             "grid: {optimizer.lr: [0.1, 0.3], optimizer.momentum: [0, 0.9]}\n"
                             "output: sweep.h5\n");
    char args[1024];
    snprintf(args, sizeof args, "%s -o %s", in_dir("sweep.yaml"), in_dir("sweep.h5"));
    cr_assert_eq(run(args, out, sizeof out, errtxt, sizeof errtxt), 0, "%s", errtxt);
    /* 4 settings: the end-of-sweep summary shows the report's table */
    cr_expect(strstr(out, "optimizer.lr  optimizer.momentum  ok  diverged  failed  final loss"), "%s", out);
    cr_expect(strstr(out, "best: cell "), "%s", out);

    snprintf(args, sizeof args, "report %s --by optimizer.momentum", in_dir("sweep.h5"));
    cr_assert_eq(run(args, out, sizeof out, errtxt, sizeof errtxt), 0, "%s", errtxt);
    cr_expect(strstr(out, "optimizer.momentum  n  ok"), "%s", out);
    cr_expect(strstr(out, "best setting"), "%s", out);

    snprintf(args, sizeof args, "report %s --csv --tol 1e-3", in_dir("sweep.h5"));
    cr_assert_eq(run(args, out, sizeof out, errtxt, sizeof errtxt), 0, "%s", errtxt);
    cr_expect(!strncmp(out, "optimizer.lr,optimizer.momentum,ok,diverged,failed,final_loss,", 62), "%s", out);

    /* a negative tolerance is meaningful: a formula can go below 0 (README, --help) */
    write_file("neg.yaml", "steps: 40\nproblem: {expression: \"x^2 - 1\", start: [2]}\noptimizer: {name: sgd, lr: 0.1}\n");
    snprintf(args, sizeof args, "%s -o %s --quiet", in_dir("neg.yaml"), in_dir("neg.h5"));
    cr_assert_eq(run(args, out, sizeof out, errtxt, sizeof errtxt), 0, "%s", errtxt);
    snprintf(args, sizeof args, "report %s --tol -0.5", in_dir("neg.h5"));
    cr_assert_eq(run(args, out, sizeof out, errtxt, sizeof errtxt), 0, "%s", errtxt);
    cr_expect(strstr(out, "steps to -0.5"), "%s", out);
    /* x_t = 2 * 0.8^t: x^2 - 1 <= -0.5 once x^2 <= 0.5, first at t = 5 */
    cr_expect(strstr(out, "  5\n"), "%s", out);

    /* the objective of a cell on a grid, for runner-plot's contour lines: parabola x^2 */
    snprintf(args, sizeof args, "surface %s --cell 3 --range -2,2 --points 5", in_dir("sweep.h5"));
    cr_assert_eq(run(args, out, sizeof out, errtxt, sizeof errtxt), 0, "%s", errtxt);
    cr_expect_str_eq(out, "4 1 0 1 4\n");

    /* an error inside the file's resolved_config names the file and line after
     * the command returned (the name once lived on its stack: issue 17) */
    {
        char src[1024], dst[1024];
        snprintf(src, sizeof src, "cp %s %s", in_dir("sweep.h5"), in_dir("bad.h5"));
        cr_assert_eq(system(src), 0);
        hid_t bf = H5Fopen(in_dir("bad.h5"), H5F_ACC_RDWR, H5P_DEFAULT);
        cr_assert_geq(bf, 0);
        hid_t at = H5Aopen(bf, "resolved_config", H5P_DEFAULT), ty = H5Aget_type(at);
        char *text = NULL;
        cr_assert_geq(H5Aread(at, ty, &text), 0);
        snprintf(dst, sizeof dst, "%s", text);
        H5free_memory(text);
        char *name = strstr(dst, "objective: parabola");
        cr_assert(name, "%s", dst);
        memcpy(name, "objective: parabolx", 19);
        const char *p = dst;
        cr_assert_geq(H5Awrite(at, ty, &p), 0);
        H5Tclose(ty), H5Aclose(at), H5Fclose(bf);
    }
    snprintf(args, sizeof args, "surface %s --cell 0 --range -1,1", in_dir("bad.h5"));
    cr_expect_eq(run(args, out, sizeof out, errtxt, sizeof errtxt), 2);
    cr_expect(strstr(errtxt, "bad.h5 (resolved_config):") && strstr(errtxt, "parabolx"), "%s", errtxt);

    /* errors: exit 2 and a message (%s: the file named in the test directory) */
    hid_t f = H5Fcreate(in_dir("other.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    /* a title but no status: the reader gets past its first check, to the
     * error that once printed the freed copy of the name (issue 18, item 7) */
    {
        hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR);
        H5Tset_size(t, H5T_VARIABLE);
        H5Tset_cset(t, H5T_CSET_UTF8);
        hid_t a = H5Acreate2(f, "title", t, sp, H5P_DEFAULT, H5P_DEFAULT);
        const char *title = "not ours";
        cr_assert_geq(H5Awrite(a, t, &title), 0);
        H5Aclose(a), H5Sclose(sp), H5Tclose(t);
    }
    H5Fclose(f);
    static const char *const errors[][3] = {
        {"surface %s --cell 3 --range -2,2,0,1", "sweep.h5", "cell 3's objective has 1 parameter: give --range LO,HI"},
        {"surface %s --cell 4 --range -2,2", "sweep.h5", "--cell 4: the file has cells 0 to 3"},
        {"surface %s --cell 0 --range 2,-2", "sweep.h5", "LO < HI"},
        {"report %s", "missing.h5", "missing.h5: error: not an HDF5 file, or unreadable"},
        {"report %s", "sweep.yaml", "not an HDF5 file"},
        {"report %s", "other.h5", "other.h5: error: not a runner results file: no status variable"}, /* the name, not freed memory */
        {"report %s --by lr", "sweep.h5", "no such axis"},
        {"%s --csv", "sweep.yaml", "--csv goes with runner report"},
        {"report %s --tol abc", "sweep.h5", "--tol needs a finite number"},
        {"report", "", "report needs one results file"},
    };
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++) {
        snprintf(args, sizeof args, errors[i][0], in_dir(errors[i][1]));
        cr_expect_eq(run(args, out, sizeof out, errtxt, sizeof errtxt), 2, "runner %s", args);
        cr_expect(strstr(errtxt, errors[i][2]), "runner %s: %s", args, errtxt);
    }
}

/* Issue 18, item 8: shapes read from a file are checked before use. A
 * coordinate longer than its dimension, a 2-D one, or a dimension label
 * naming another variable overflowed the heap in `runner report`; now each
 * is an error naming the variable, and --resume refuses the file. */
typedef enum { LONGER_COORDINATE, TWO_D_COORDINATE, LABEL_NAMES_ANOTHER } damage_t;

static void damage(const char *file, damage_t how)
{
    hid_t f = H5Fopen(file, H5F_ACC_RDWR, H5P_DEFAULT);
    cr_assert_geq(f, 0);
    if (how == LABEL_NAMES_ANOTHER) {
        hid_t st = H5Dopen2(f, "status", H5P_DEFAULT);
        cr_assert_geq(H5DSset_label(st, 0, "loss"), 0);
        H5Dclose(st);
    } else {
        cr_assert_geq(H5Ldelete(f, "optimizer.lr", H5P_DEFAULT), 0);
        hsize_t dims[2] = {how == LONGER_COORDINATE ? 1000 : 2, 500};
        hid_t sp = H5Screate_simple(how == LONGER_COORDINATE ? 1 : 2, dims, NULL);
        hid_t ds = H5Dcreate2(f, "optimizer.lr", H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        cr_assert_geq(ds, 0);
        H5Dclose(ds), H5Sclose(sp);
    }
    H5Fclose(f);
}

Test(report, damaged_shapes_are_errors_not_overflows)
{
    write_file("d.yaml", "steps: 3\nproblem: {objective: parabola, start: [3.0]}\noptimizer: {name: sgd, lr: 0.1}\n"
                         "grid: {optimizer.lr: [0.1, 0.2, 0.3]}\n");
    const char *expect[] = {"damaged: the coordinate variable 'optimizer.lr' is not one value per index",
                            "damaged: the coordinate variable 'optimizer.lr' is not one value per index",
                            "damaged: the coordinate variable 'loss' is not one value per index"};
    for (int how = LONGER_COORDINATE; how <= LABEL_NAMES_ANOTHER; how++) {
        char args[1024], out[4096], err[4096];
        snprintf(args, sizeof args, "%s -o %s --quiet --force", in_dir("d.yaml"), in_dir("d.h5"));
        cr_assert_eq(run(args, NULL, 0, err, sizeof err), 0, "%s", err);
        damage(in_dir("d.h5"), (damage_t)how);
        snprintf(args, sizeof args, "report %s", in_dir("d.h5"));
        cr_expect_eq(run(args, out, sizeof out, err, sizeof err), 2, "damage %d: %s", how, err);
        cr_expect(strstr(err, expect[how]), "damage %d: %s", how, err);
        if (how == LABEL_NAMES_ANOTHER) continue; /* the writer names dimensions itself; resuming keeps them */
        snprintf(args, sizeof args, "%s -o %s --resume", in_dir("d.yaml"), in_dir("d.h5"));
        cr_expect_eq(run(args, NULL, 0, err, sizeof err), 2, "damage %d: %s", how, err);
        cr_expect(strstr(err, "dataset 'optimizer.lr' is missing or not shaped for this config"), "damage %d: %s", how,
                  err);
    }
}

/* A ragged study (issue 19): runs with their own axes, one `cell`
 * dimension in the file. Run A: lr 0.1 x seeds 1, 2, 3 (cells 0-2); run B:
 * its own lrs 0.2, 0.3, 0.4 (cells 3-5), no seeds. Settings group A's
 * seeds; B's cells stand alone; --by run names each run's best rate. */
Test(report, a_ragged_study_reports_by_its_runs_and_values)
{
    experiment_t rag;
    err_t err;
    cr_assert_eq(load_text(&rag, &reg,
                           "name: rag\nsteps: 2\nproblem: {objective: elliptic, start: [1, 2]}\n"
                           "runs:\n  - {label: A, optimizer: {name: sgd}, grid: {optimizer.lr: [0.1]}, seeds: [1, 2, 3]}\n"
                           "  - {label: B, optimizer: {name: sgd}, grid: {optimizer.lr: [0.2, 0.3, 0.4]}}\n",
                           &err),
                 ERR_OK, "%s", err.msg);
    cr_assert_eq(rag.n_cells, 6);
    experiment_t keep = ex;
    ex = rag;
    write_file_with(6);
    ex = keep;
    experiment_free(&rag);
    results_t r;
    cr_assert_eq(results_read(path, NAN, &r, &err), ERR_OK, "%s", err.msg);
    cr_assert_eq(r.n_axes, 3, "run, optimizer.lr, seed as columns");
    cr_assert_not_null(r.coords);
    cr_expect_eq(r.n_settings, 4);
    char *text = report_text(&r, -1, true);
    cr_expect_str_eq(text, "run,optimizer.lr,n,ok,diverged,failed,final_loss,final_loss_std,best_loss,best_loss_std,"
                           "final_loss_ci95_low,final_loss_ci95_high\n"
                           "A,0.1,3,3,0,0,2,1,1.66666667,1.15470054,-0.484136136,4.48413614\n"
                           "B,0.2,1,1,0,0,0.25,,0.25,,,\n"
                           "B,0.3,1,0,1,0,,,,,,\n"
                           "B,0.4,1,0,0,1,,,,,,\n");
    free(text);
    int by;
    cr_assert_eq(report_find_axis(&r, "run", &by, &err), ERR_OK);
    text = report_text(&r, by, true);
    cr_expect_str_eq(text, "run,n,ok,diverged,failed,final_loss,final_loss_std,best_loss,best_loss_std,best_setting\n"
                           "A,3,3,0,0,2,1,1.66666667,1.15470054,optimizer.lr=0.1\n"
                           "B,3,1,1,1,0.25,,0.25,,optimizer.lr=0.2\n");
    free(text);
    char label[256];
    results_cell_label(&r, 3, -1, true, label, sizeof label);
    cr_expect_str_eq(label, "run=B optimizer.lr=0.2", "no seed: B has none");
    results_free(&r);
}

/* A study with select: (issue 19): `runner report` shows the final phase,
 * one row per group with its chosen rate, mean over the rerun seeds;
 * --phase tune the tuning cells; --phase on a file without phases is a
 * usage error. */
Test(report, a_study_with_select_reports_its_final_phase)
{
    char out[16384], errtxt[4096], args[1024];
    write_file("sel.yaml", "name: sel\nsteps: 30\nproblem: {objective: elliptic, start: [-7, 2]}\nruns:\n"
                           "  - {label: SGD, optimizer: {name: sgd}, grid: {optimizer.lr: [0.01, 0.3, 0.1]}}\n"
                           "  - {label: Adam, optimizer: {name: adam}, grid: {optimizer.lr: [0.01, 0.3]}}\n"
                           "select: {metric: final_loss, rerun: {seeds: [4, 5, 6]}}\n");
    snprintf(args, sizeof args, "%s -o %s", in_dir("sel.yaml"), in_dir("sel.h5"));
    cr_assert_eq(run(args, out, sizeof out, errtxt, sizeof errtxt), 0, "%s", errtxt);
    cr_expect(strstr(out, "sel: 11 cells in"), "5 tuning + 2 x 3 final: %s", out);
    snprintf(args, sizeof args, "report %s --csv", in_dir("sel.h5"));
    cr_assert_eq(run(args, out, sizeof out, errtxt, sizeof errtxt), 0, "%s", errtxt);
    cr_expect(!strncmp(out, "run,optimizer.lr,n,ok,", 22), "%s", out);
    cr_expect(strstr(out, "\nSGD,0.3,3,3,0,0,") && strstr(out, "\nAdam,0.3,3,3,0,0,"), "each run's best rate: %s", out);
    cr_expect(!strstr(out, "0.01,"), "the final phase only: %s", out);
    snprintf(args, sizeof args, "report %s --phase tune --csv", in_dir("sel.h5"));
    cr_assert_eq(run(args, out, sizeof out, errtxt, sizeof errtxt), 0, "%s", errtxt);
    cr_expect(strstr(out, "\nSGD,0.01,1,0,0,") && strstr(out, "\nAdam,0.3,1,0,0,"), "one cell a setting: %s", out);
    snprintf(args, sizeof args, "report %s --phase tun", in_dir("sel.h5"));
    cr_expect_eq(run(args, out, sizeof out, errtxt, sizeof errtxt), 2);
    cr_expect(strstr(errtxt, "--phase is tune or final, got 'tun'"), "%s", errtxt);
    write_file("plain.yaml", "steps: 3\nproblem: {objective: parabola, start: [3]}\noptimizer: {name: sgd, lr: 0.1}\n");
    snprintf(args, sizeof args, "%s -o %s --quiet", in_dir("plain.yaml"), in_dir("plain.h5"));
    cr_assert_eq(run(args, out, sizeof out, errtxt, sizeof errtxt), 0, "%s", errtxt);
    snprintf(args, sizeof args, "report %s --phase tune", in_dir("plain.h5"));
    cr_expect_eq(run(args, out, sizeof out, errtxt, sizeof errtxt), 2);
    cr_expect(strstr(errtxt, "has no phases (its study has no select:)"), "%s", errtxt);
}

/* Issue 20, item 2: the best setting against each other one over seeds.
 * 3 rates x 5 seeds with final losses lr 0.1: 1..5, lr 0.2: 6..10 (all
 * worse: the exact two-sided p is 2 / C(10, 5)), lr 0.3: 1.5..5.5
 * (interleaved: U = 10, p = 0.6905); Holm over the two: 0.0159, 0.6905. */
Test(report, compares_the_best_setting_with_each_other_over_seeds)
{
    experiment_t e;
    err_t err;
    cr_assert_eq(load_text(&e, &reg,
                           "name: cmp\nsteps: 2\nproblem: {objective: elliptic, start: [1, 2]}\n"
                           "optimizer: {name: sgd, lr: 0.1}\ngrid: {optimizer.lr: [0.1, 0.2, 0.3]}\nseeds: [1, 2, 3, 4, 5]\n",
                           &err),
                 ERR_OK, "%s", err.msg);
    h5out_t *o;
    cr_assert_eq(h5out_create(&e, path, true, &(h5out_record_t){"test", "fp", NULL}, &o, &err), ERR_OK, "%s", err.msg);
    float params[15 * 3 * 2] = {0}, loss[15 * 3];
    int8_t status[15];
    double wall[15] = {0};
    char failure[15][RUNNER_ERR_MAX] = {{0}};
    for (int c = 0; c < 15; c++) {
        int lr = c / 5, s = c % 5;
        loss[c * 3] = 20, loss[c * 3 + 1] = 12;
        loss[c * 3 + 2] = lr == 0 ? 1.0f + (float)s : lr == 1 ? 6.0f + (float)s : 1.5f + (float)s;
        status[c] = STATUS_OK;
    }
    const float *vars[] = {params, loss, loss};
    cr_assert_eq(h5out_write_cells(o, 0, 15, vars, status, wall, failure, &err), ERR_OK, "%s", err.msg);
    cr_assert_eq(h5out_set_state(o, RUN_COMPLETE, &err), ERR_OK);
    cr_assert_eq(h5out_close(o, &err), ERR_OK);
    experiment_free(&e);
    results_t r;
    cr_assert_eq(results_read(path, NAN, &r, &err), ERR_OK, "%s", err.msg);
    char *text = report_text(&r, -1, false);
    cr_expect(strstr(text, "final loss over seeds, optimizer.lr=0.1 against the others (Mann-Whitney U, two-sided, "
                           "Holm-adjusted over 2):\n"
                           "  optimizer.lr=0.1 better than optimizer.lr=0.2, p = 0.016\n"
                           "  optimizer.lr=0.1 vs optimizer.lr=0.3: no difference detected, p = 0.69\n"),
              "%s", text);
    free(text);
    results_free(&r);
}
