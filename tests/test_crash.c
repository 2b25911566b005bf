/*
 * test_crash.c: one bad cell costs one cell (issue 18, item 3). A plugin
 * that crashes (SIGSEGV, abort, stack overflow), calls exit() or hangs in
 * one cell: the runner marks that cell failed with the reason and every
 * other cell ends with the numbers of a sweep without the bad cell, bit
 * for bit: after a crash and --resume, within one --isolate run, with
 * --cell-timeout; SIGTERM stops a sweep whose plugin never returns.
 *
 * The fixture plugin `faulty` (fixtures/plugins/faulty.c) goes wrong at its
 * third step as its `fault` parameter says. The runner runs unwrapped
 * (spawn_runner): crashing on purpose is not a memory error.
 */
#include <signal.h>

#include "analytic_results.h"
#include "e2e_helpers.h"
#include "process_helpers.h"

static void setup(void)
{
    e2e_make_dir("crash");
}
static void teardown(void)
{
    e2e_remove_dir();
}
TestSuite(crash, .init = setup, .fini = teardown, .timeout = 300);

/* 16 cells; `faults` is the fault axis, e.g. "[0, 1, 0, ...]". */
static void write_sweep(const char *name, const char *faults)
{
    char text[1024];
    snprintf(text, sizeof text,
             "steps: 40\n"
             "problem: {expression: \"x^2/20 + y^2\", start: [-7, 2]}\n"
             "optimizer: {name: faulty, lr: 0.1}\n"
             "grid:\n"
             "  optimizer.fault: %s\n",
             faults);
    write_file(name, text);
}

static const char healthy[] = "[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]";

/* runner --plugin-path <fixtures> ARGS, unwrapped; its exit as wait_exit
 * says (negative: the signal that ended it); its output in dir/log. */
static int run_faulty(const char *args, char *log, size_t len)
{
    char all[2048];
    snprintf(all, sizeof all, "--plugin-path %s %s", RUNNER_BROKEN_DIR, args);
    int rc = wait_exit(spawn_runner(all));
    slurp("log", log, len);
    return rc;
}

/* The reference: the same sweep with no fault at all. */
static void reference(results_t *ref)
{
    write_sweep("ref.yaml", healthy);
    char args[1024], log[8192];
    snprintf(args, sizeof args, "%s -o %s -q", in_dir("ref.yaml"), in_dir("ref.h5"));
    cr_assert_eq(run_faulty(args, log, sizeof log), 0, "%s", log);
    cr_assert(read_results("ref.h5", ref));
}

/* The failure message of cell c (a fixed-length string per cell). */
static void failure_of(const char *file, size_t c, char msg[RUNNER_ERR_MAX])
{
    hid_t f = H5Fopen(in_dir(file), H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, "failure", H5P_DEFAULT), t = H5Dget_type(d), space = H5Dget_space(d);
    cr_assert_eq(H5Tget_size(t), RUNNER_ERR_MAX);
    hsize_t start = c, count = 1;
    H5Sselect_hyperslab(space, H5S_SELECT_SET, &start, NULL, &count, NULL);
    hid_t mem = H5Screate_simple(1, &count, NULL);
    cr_assert_geq(H5Dread(d, t, mem, space, H5P_DEFAULT, msg), 0);
    msg[RUNNER_ERR_MAX - 1] = 0;
    H5Sclose(mem), H5Sclose(space), H5Tclose(t), H5Dclose(d), H5Fclose(f);
}

/* Every cell but the `bad` ones (flags) holds the reference's numbers; the
 * bad ones failed with a message containing `why`. */
static void expect_contained(const char *file, const results_t *ref, const bool *bad, const char *const *why)
{
    results_t got;
    cr_assert(read_results(file, &got));
    for (size_t c = 0; c < ref->n_cells; c++) {
        if (!bad[c]) continue;
        cr_expect_eq(got.status[c], STATUS_FAILED, "cell %zu: status %d", c, got.status[c]);
        char msg[RUNNER_ERR_MAX];
        failure_of(file, c, msg);
        cr_expect(strstr(msg, why[c]), "cell %zu: failure '%s', expected '%s'", c, msg, why[c]);
        got.status[c] = STATUS_PENDING; /* not compared below */
    }
    size_t done = check_done_cells(&got, ref, file);
    size_t n_bad = 0;
    for (size_t c = 0; c < ref->n_cells; c++) n_bad += bad[c];
    cr_expect_eq(done + n_bad, ref->n_cells, "every healthy cell is done");
    cr_expect_eq(got.run_state, RUN_COMPLETE);
    free_results(&got);
}

/* A crash ends the process; --resume computes the cells that were in
 * flight each in a process of its own, marks the crashing one failed and
 * finishes the rest: at one thread and at two, for a segmentation fault
 * (lanes: cell 6 crashes beside cells 4, 5, 7), and for exit(). */
typedef struct {
    const char *faults, *jobs;
    size_t bad;
    int first_exit;
    const char *says, *why;
} crash_case_t;

static const crash_case_t crash_cases[] = {
    {"[0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]", "1", 6, -SIGSEGV, "a cell crashed the process (SIGSEGV",
     "crashed the process computing it (SIGSEGV"},
    {"[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0]", "2", 11, -SIGABRT, "a cell crashed the process (SIGABRT",
     "crashed the process computing it (SIGABRT"},
    {"[0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]", "2", 3, 70, "plugin code called exit() while running",
     "plugin code called exit()"},
    {"[0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0]", "1", 9, -SIGSEGV, "a cell crashed the process (SIGSEGV",
     "crashed the process computing it (SIGSEGV"},
};

INDEX_PARAMS(crash, crash_then_resume_costs_one_cell, crash_cases)

ParameterizedTest(size_t *i, crash, crash_then_resume_costs_one_cell)
{
    const crash_case_t *c = &crash_cases[*i];
    results_t ref;
    reference(&ref);
    write_sweep("bad.yaml", c->faults);
    char args[1024], log[8192];
    snprintf(args, sizeof args, "%s -o %s -j %s -q", in_dir("bad.yaml"), in_dir("bad.h5"), c->jobs);
    cr_assert_eq(run_faulty(args, log, sizeof log), c->first_exit, "%s", log);
    cr_expect(strstr(log, c->says), "%s", log);
    cr_expect(strstr(log, "resume with: "), "%s", log);
    cr_expect(exists("bad.h5.cells-in-flight"), "the cells in flight outlive the crash");
    snprintf(args, sizeof args, "%s -o %s -j %s --resume", in_dir("bad.yaml"), in_dir("bad.h5"), c->jobs);
    cr_assert_eq(run_faulty(args, log, sizeof log), 1, "failed cells: status 1\n%s", log);
    cr_expect(strstr(log, "in flight when an earlier run crashed"), "%s", log);
    cr_expect_not(exists("bad.h5.cells-in-flight"), "removed once the sweep ends by itself");
    bool bad[16] = {0};
    const char *why[16] = {0};
    bad[c->bad] = true, why[c->bad] = c->why;
    expect_contained("bad.h5", &ref, bad, why);
    free_results(&ref);
}

/* --isolate: every fault in one sweep at two threads, and the sweep goes on. */
Test(crash, isolate_contains_every_fault_in_one_run)
{
    results_t ref;
    reference(&ref);
    write_sweep("bad.yaml", "[1, 0, 0, 2, 0, 0, 3, 0, 0, 5, 0, 0, 0, 0, 0, 1]");
    char args[1024], log[8192];
    snprintf(args, sizeof args, "%s -o %s -j 2 --isolate", in_dir("bad.yaml"), in_dir("bad.h5"));
    cr_assert_eq(run_faulty(args, log, sizeof log), 1, "%s", log);
    cr_expect(strstr(log, "11 ok, 0 diverged, 5 failed"), "%s", log);
    bool bad[16] = {[0] = true, [3] = true, [6] = true, [9] = true, [15] = true};
    const char *why[16] = {[0] = "(SIGSEGV", [3] = "(SIGABRT", [6] = "plugin code called exit()", [9] = "(SIGSEGV",
                           [15] = "(SIGSEGV"};
    expect_contained("bad.h5", &ref, bad, why);
    /* a clean sweep isolated: the same bits as in one process (under the
     * valgrind wrapper when the suite has one: parent and children clean) */
    char out[1024];
    snprintf(args, sizeof args, "--plugin-path %s %s -o %s -j 2 --isolate -q", RUNNER_BROKEN_DIR, in_dir("ref.yaml"),
             in_dir("iso.h5"));
    cr_assert_eq(run(args, out, sizeof out, log, sizeof log), 0, "%s", log);
    results_t iso;
    cr_assert(read_results("iso.h5", &iso));
    expect_identical(&iso, &ref, "isolated");
    free_results(&iso);
    free_results(&ref);
}

/* --cell-timeout: a cell that hangs (ignoring SIGTERM) is stopped, marked
 * failed, and the sweep goes on; two hung cells on two threads cost one
 * timeout each, side by side. */
Test(crash, cell_timeout_stops_a_hung_cell)
{
    results_t ref;
    reference(&ref);
    write_sweep("bad.yaml", "[0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0]");
    char args[1024], log[8192];
    snprintf(args, sizeof args, "%s -o %s -j 2 --cell-timeout 0.5", in_dir("bad.yaml"), in_dir("bad.h5"));
    double t0 = now();
    cr_assert_eq(run_faulty(args, log, sizeof log), 1, "%s", log);
    double took = now() - t0;
    cr_expect_lt(took, 20.0, "took %.1f s", took);
    bool bad[16] = {[2] = true, [13] = true};
    const char *why[16] = {[2] = "ran past --cell-timeout 0.5 s", [13] = "ran past --cell-timeout 0.5 s"};
    expect_contained("bad.h5", &ref, bad, why);
    free_results(&ref);
}

/* SIGTERM while plugin code never returns: in one process the runner
 * leaves after the grace period with 143, saying which cell did not stop,
 * and the file resumes; with --isolate the child is killed and the runner
 * ends as after any SIGTERM. */
static void sigterm_with_a_hung_cell(const char *extra)
{
    write_sweep("bad.yaml", "[0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]");
    char args[1024], log[8192];
    snprintf(args, sizeof args, "--plugin-path %s %s -o %s -j 1 %s", RUNNER_BROKEN_DIR, in_dir("bad.yaml"),
             in_dir("bad.h5"), extra);
    pid_t pid = spawn_runner(args);
    sleep_seconds(1.0); /* the hung cell is the second: by now it hangs */
    double t0 = now();
    kill(pid, SIGTERM);
    int rc = wait_exit(pid);
    double took = now() - t0;
    slurp("log", log, sizeof log);
    cr_expect_eq(rc, 143, "%s", log);
    cr_expect_lt(took, 15.0, "took %.1f s after SIGTERM", took);
    cr_expect(strstr(log, "resume with: "), "%s", log);
    /* the file resumes; the hung cell is then stopped by a time limit */
    snprintf(args, sizeof args, "%s -o %s -j 1 --resume --cell-timeout 0.5", in_dir("bad.yaml"), in_dir("bad.h5"));
    cr_assert_eq(run_faulty(args, log, sizeof log), 1, "%s", log);
    cr_expect(strstr(log, "15 ok, 0 diverged, 1 failed"), "%s", log);
}

Test(crash, sigterm_with_a_hung_cell_in_one_process) { sigterm_with_a_hung_cell(""); }

Test(crash, sigterm_with_a_hung_cell_isolated) { sigterm_with_a_hung_cell("--isolate"); }

/* The journal's name is beside the output: a link or FIFO planted there is
 * refused before anything is written, and its target untouched. */
Test(crash, a_link_at_the_journal_name_is_refused)
{
    write_sweep("ok.yaml", healthy);
    write_file("target", "precious\n");
    cr_assert_eq(symlink(in_dir("target"), in_dir("out.h5.cells-in-flight")), 0);
    char args[1024], log[8192];
    snprintf(args, sizeof args, "%s -o %s", in_dir("ok.yaml"), in_dir("out.h5"));
    cr_expect_eq(run_faulty(args, log, sizeof log), 2, "%s", log);
    cr_expect(strstr(log, "out.h5.cells-in-flight is a symbolic link"), "%s", log);
    cr_expect_not(exists("out.h5"));
    slurp("target", log, sizeof log);
    cr_expect_str_eq(log, "precious\n");
}

Test(crash, bad_cell_timeouts_are_usage_errors)
{
    write_sweep("ok.yaml", healthy);
    const char *bad[] = {"0", "-1", "abc", "nan", "1e9", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char args[1024], out[1024], err[4096];
        snprintf(args, sizeof args, "%s -o %s --cell-timeout '%s'", in_dir("ok.yaml"), in_dir("o.h5"), bad[i]);
        cr_expect_eq(run(args, out, sizeof out, err, sizeof err), 2, "'%s': %s", bad[i], err);
        cr_expect(strstr(err, "--cell-timeout needs seconds"), "'%s': %s", bad[i], err);
        cr_expect_not(exists("o.h5"));
    }
}
