/*
 * test_resume.c: nothing finished is lost. The runner is killed with
 * SIGKILL at random moments; each time the file must open, every cell it
 * marks done must hold exactly the numbers of an uninterrupted run, and
 * --resume must end with data bitwise identical to that run. Also: SIGINT
 * and SIGTERM, the fingerprint check, --fail-fast, failed cells recomputed.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <time.h>

#include "analytic_results.h"
#include "e2e_helpers.h"
#include "process_helpers.h"

static void setup(void)
{
    e2e_make_dir("resume");
}
static void teardown(void)
{
    e2e_remove_dir();
}
TestSuite(resume, .init = setup, .fini = teardown, .timeout = 600);

/* 1000 cells, 2 runs x 25 lr x 20 eps, 2000 steps: about 0.2 s and 32 MB
 * in a release build, long enough for kills to land in every phase. */
static const char sweep_yaml[] = "name: killme\n"
                                 "steps: 2000\n"
                                 "problem: {expression: \"sin(x)*cos(y) + x^2/20 + y^2\", start: [-3, 2]}\n"
                                 "optimizer: {name: adam, lr: 0.01}\n"
                                 "grid:\n"
                                 "  optimizer.lr: {logspace: [-3, 0, 25]}\n"
                                 "  optimizer.eps: {logspace: [-8, -1, 20]}\n" /* both optimizers have eps */
                                 "runs: [{label: adam}, {label: rms, optimizer: {name: rmsprop}}]\n";

/* The same work as a ragged study (issue 19): each optimizer its own grid,
 * one cell dimension in the file, exclude: leaving some cells out. */
static const char ragged_yaml[] = "name: killme\n"
                                  "steps: 2000\n"
                                  "problem: {expression: \"sin(x)*cos(y) + x^2/20 + y^2\", start: [-3, 2]}\n"
                                  "runs:\n"
                                  "  - {label: adam, optimizer: {name: adam},\n"
                                  "     grid: {optimizer.lr: {logspace: [-3, 0, 25]}, optimizer.beta1: {linspace: [0.5, 0.95, 20]}}}\n"
                                  "  - {label: rms, optimizer: {name: rmsprop},\n"
                                  "     grid: {optimizer.lr: {logspace: [-4, -1, 25]}, optimizer.alpha: {linspace: [0.5, 0.99, 20]}}}\n"
                                  "exclude: [{run: rms, optimizer.alpha: 0.5}]\n";

static void kill_9_at_random_moments(const char *yaml)
{
    write_file("sweep.yaml", yaml);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s -o %s -j 2 --quiet", in_dir("sweep.yaml"), in_dir("ref.h5"));
    double t0 = now();
    cr_assert_eq(wait_exit(spawn_runner(cmd)), 0, "the uninterrupted run failed");
    double t_ref = now() - t0;
    results_t ref;
    cr_assert(read_results("ref.h5", &ref));

    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    srand(seed);
    enum { KILLS = 24 };
    size_t no_file = 0, partial = 0, complete = 0;
    for (int k = 0; k < KILLS; k++) {
        char when[128];
        double delay = t_ref * 1.1 * rand() / RAND_MAX;
        snprintf(when, sizeof when, "kill %d after %.4f s (seed %u, -j %d)", k, delay, seed, 1 + k % 2);
        snprintf(cmd, sizeof cmd, "%s -o %s -j %d --quiet", in_dir("sweep.yaml"), in_dir("k.h5"), 1 + k % 2);
        unlink(in_dir("k.h5"));
        pid_t pid = spawn_runner(cmd);
        sleep_seconds(delay);
        kill(pid, SIGKILL);
        int st = wait_exit(pid);
        cr_assert(st == -SIGKILL || st == 0, "%s: exit %d", when, st);

        if (!exists("k.h5")) {
            no_file++; /* killed while creating: nothing was promised yet */
        } else {
            results_t got;
            cr_assert(read_results("k.h5", &got), "%s: the file does not open", when);
            size_t done = check_done_cells(&got, &ref, when);
            partial += done < ref.n_cells, complete += done == ref.n_cells;
            free_results(&got);
        }
        /* resume with the other thread count */
        snprintf(cmd, sizeof cmd, "%s -o %s -j %d --quiet --resume", in_dir("sweep.yaml"), in_dir("k.h5"), 2 - k % 2);
        cr_assert_eq(wait_exit(spawn_runner(cmd)), 0, "%s: --resume failed", when);
        results_t got;
        cr_assert(read_results("k.h5", &got), "%s: resumed file does not open", when);
        expect_identical(&got, &ref, when);
        free_results(&got);
    }
    cr_log_info("%d kills (seed %u): %zu before the file existed, %zu mid-run, %zu after the last cell", KILLS, seed,
                no_file, partial, complete);
    cr_expect_geq(partial, 3, "too few kills landed mid-run (%zu of %d): the sweep is too short to test anything",
                  partial, KILLS);
    free_results(&ref);
}

Test(resume, kill_9_at_random_moments_loses_nothing) { kill_9_at_random_moments(sweep_yaml); }
Test(resume, kill_9_of_a_ragged_study_loses_nothing) { kill_9_at_random_moments(ragged_yaml); }

/* A study with select: (issue 19): kills land in the tuning phase, between
 * the phases and in the final one; --resume finishes both exactly as an
 * uninterrupted study, the choice included (the final cells' numbers
 * depend on it). */
static const char select_yaml[] = "name: killme\n"
                                  "steps: 2000\n"
                                  "problem: {expression: \"sin(x)*cos(y) + x^2/20 + y^2\", start: [-3, 2]}\n"
                                  "runs:\n"
                                  "  - {label: adam, optimizer: {name: adam},\n"
                                  "     grid: {optimizer.lr: {logspace: [-3, 0, 25]}, optimizer.beta1: {linspace: [0.5, 0.95, 16]}}}\n"
                                  "  - {label: rms, optimizer: {name: rmsprop},\n"
                                  "     grid: {optimizer.lr: {logspace: [-4, -1, 25]}, optimizer.alpha: {linspace: [0.5, 0.99, 16]}}}\n"
                                  "select: {metric: best_loss, rerun: {repeat: 100}}\n";
Test(resume, kill_9_of_a_study_with_select_loses_nothing) { kill_9_at_random_moments(select_yaml); }

/* Start a long sweep, signal it once its file exists, and check it stops
 * cleanly: exit 128+sig, a resume hint, run_state interrupted, then that
 * --resume keeps the finished cells. The signal must land after the first
 * cell finished and before the last: a fixed delay did not (under ASan with
 * the MPI test beside it, no cell had finished 0.05 s in, so the resume kept
 * nothing), so an attempt that finished no cell is retried with 4x the
 * delay; finishing them all is a failure. */
static void interrupt_with(int sig, int expect_exit)
{
    /* 1000 cells x 9999 steps: a second or more of work, so the signal lands mid-run */
    char yaml[1024];
    snprintf(yaml, sizeof yaml, "%s", sweep_yaml);
    memcpy(strstr(yaml, "steps: 2000"), "steps: 9999", 11);
    write_file("long.yaml", yaml);
    char cmd[1024], log[8192];
    size_t done = 0;
    double delay = 0.05;
    for (int attempt = 0; attempt < 5 && done == 0; attempt++, delay *= 4) {
        unlink(in_dir("long.h5"));
        snprintf(cmd, sizeof cmd, "%s -o %s -j 2", in_dir("long.yaml"), in_dir("long.h5"));
        pid_t pid = spawn_runner(cmd);
        for (int i = 0; i < 2000 && !exists("long.h5"); i++) sleep_seconds(0.005);
        sleep_seconds(delay);
        kill(pid, sig);
        cr_assert_eq(wait_exit(pid), expect_exit, "signalled %.2f s after the file appeared", delay);
        slurp("log", log, sizeof log);
        cr_expect(strstr(log, sig == SIGINT ? "interrupted by SIGINT" : "interrupted by SIGTERM"), "%s", log);
        cr_expect(strstr(log, "--resume"), "no resume hint: %s", log);
        results_t got;
        cr_assert(read_results("long.h5", &got));
        cr_expect_eq(got.run_state, RUN_INTERRUPTED);
        size_t pending = 0;
        for (size_t c = 0; c < got.n_cells; c++) pending += got.status[c] == STATUS_PENDING;
        cr_assert_gt(pending, 0, "the run finished before the signal (%.2f s after the file appeared)", delay);
        done = got.n_cells - pending;
        free_results(&got);
    }
    cr_assert_gt(done, 0, "no cell finished before the signal in 5 attempts, the last %.1f s in", delay / 4);

    snprintf(cmd, sizeof cmd, "%s -o %s -j 2 --resume", in_dir("long.yaml"), in_dir("long.h5"));
    cr_assert_eq(wait_exit(spawn_runner(cmd)), 0);
    slurp("log", log, sizeof log);
    char kept[64];
    snprintf(kept, sizeof kept, "(%zu kept from the file)", done);
    cr_expect(strstr(log, kept), "expected %s: %s", kept, log);
    results_t got;
    cr_assert(read_results("long.h5", &got));
    cr_expect_eq(got.run_state, RUN_COMPLETE);
    for (size_t c = 0; c < got.n_cells; c++) cr_expect_eq(got.status[c], STATUS_OK, "cell %zu", c);
    free_results(&got);
}

Test(resume, sigint_stops_cleanly_with_130)
{
    interrupt_with(SIGINT, 130);
}

Test(resume, sigterm_stops_cleanly_with_143)
{
    interrupt_with(SIGTERM, 143);
}

/* The handlers are in place once the file exists: a signal the moment it
 * appears still stops the sweep cleanly (130, an interrupted file that
 * resumes), never kills the process half-way through creating it. */
Test(resume, a_signal_as_soon_as_the_file_exists_stops_cleanly)
{
    write_file("sweep.yaml", sweep_yaml);
    char cmd[1024];
    for (int k = 0; k < 5; k++) {
        unlink(in_dir("now.h5"));
        snprintf(cmd, sizeof cmd, "%s -o %s -j 2 --quiet", in_dir("sweep.yaml"), in_dir("now.h5"));
        pid_t pid = spawn_runner(cmd);
        double t0 = now();
        while (!exists("now.h5") && now() - t0 < 60) {
        }
        kill(pid, SIGINT);
        cr_assert_eq(wait_exit(pid), 130, "attempt %d", k);
        results_t got;
        cr_assert(read_results("now.h5", &got), "attempt %d", k);
        cr_expect_eq(got.run_state, RUN_INTERRUPTED, "attempt %d", k);
        free_results(&got);
    }
    snprintf(cmd, sizeof cmd, "%s -o %s -j 2 --quiet --resume", in_dir("sweep.yaml"), in_dir("now.h5"));
    cr_assert_eq(wait_exit(spawn_runner(cmd)), 0);
}

Test(resume, refuses_a_file_from_another_config)
{
    write_file("sweep.yaml", sweep_yaml);
    char args[1024], err[4096], out[4096];
    snprintf(args, sizeof args, "%s -o %s --quiet --set steps=10", in_dir("sweep.yaml"), in_dir("a.h5"));
    cr_assert_eq(run(args, NULL, 0, err, sizeof err), 0, "%s", err);
    snprintf(args, sizeof args, "%s -o %s --quiet --set steps=11 --resume", in_dir("sweep.yaml"), in_dir("a.h5"));
    cr_expect_eq(run(args, NULL, 0, err, sizeof err), 2);
    cr_expect(strstr(err, "a.h5: error: cannot be resumed with this experiment: cell 0 (run=adam optimizer.lr=0.001 "
                          "optimizer.eps=1e-08) runs another number of steps (10 in the file, 11 now)"),
              "%s", err);
    cr_expect(strstr(err, "--force to start over"), "%s", err);
    size_t n;
    int32_t *steps = read_all("a.h5", "cell_steps", H5T_NATIVE_INT32, 4, &n);
    cr_expect_eq(steps[0], 10, "the refused resume changed the file");
    free(steps);
    /* --force: start over with the new config */
    snprintf(args, sizeof args, "%s -o %s --set steps=11 --resume --force", in_dir("sweep.yaml"), in_dir("a.h5"));
    cr_expect_eq(run(args, out, sizeof out, err, sizeof err), 0, "%s", err);
    cr_expect(strstr(out, "1000 cells in"), "%s", out);
    steps = read_all("a.h5", "cell_steps", H5T_NATIVE_INT32, 4, &n);
    cr_expect_eq(steps[0], 11);
    free(steps);
    /* not a results file at all */
    write_file("junk.h5", "junk");
    snprintf(args, sizeof args, "%s -o %s --resume", in_dir("sweep.yaml"), in_dir("junk.h5"));
    cr_expect_eq(run(args, NULL, 0, err, sizeof err), 2);
    cr_expect(strstr(err, "not an HDF5 file"), "%s", err);
}

Test(resume, resume_of_a_complete_file_or_no_file)
{
    write_file("sweep.yaml", sweep_yaml);
    char args[1024], err[4096], out[4096];
    /* no file yet: --resume simply runs everything */
    snprintf(args, sizeof args, "%s -o %s --set steps=5 --resume", in_dir("sweep.yaml"), in_dir("c.h5"));
    cr_assert_eq(run(args, out, sizeof out, err, sizeof err), 0, "%s", err);
    cr_expect(strstr(out, "1000 cells in"), "%s", out);
    cr_assert_eq(run(args, out, sizeof out, err, sizeof err), 0, "%s", err);
    cr_expect(strstr(out, "0 cells in") && strstr(out, "(1000 kept from the file)"), "%s", out);
    cr_expect(strstr(out, "best: cell"), "the summary covers the kept cells: %s", out);
}

static const char failing_yaml[] = "steps: 5\n"
                                   "problem: {objective: parabola, start: [1.0]}\n"
                                   "optimizer: {name: failing_step, lr: 0.5}\n"
                                   "grid: {optimizer.lr: {linspace: [0.01, 0.5, 200]}}\n";

Test(resume, fail_fast_stops_and_failures_are_stored)
{
    write_file("fail.yaml", failing_yaml);
    char args[1024], err[4096], out[4096];
    /* without --fail-fast every cell runs (and fails at its third step) */
    snprintf(args, sizeof args, "%s -o %s --plugin-path %s -j 1", in_dir("fail.yaml"), in_dir("all.h5"),
             RUNNER_BROKEN_DIR);
    cr_expect_eq(run(args, out, sizeof out, err, sizeof err), 1, "%s", err);
    cr_expect(strstr(out, "0 ok, 0 diverged, 200 failed"), "%s", out);
    size_t n;
    char(*msg)[RUNNER_ERR_MAX] = NULL;
    {
        hid_t f = H5Fopen(in_dir("all.h5"), H5F_ACC_RDONLY, H5P_DEFAULT);
        hid_t d = H5Dopen2(f, "failure", H5P_DEFAULT), t = H5Dget_type(d);
        cr_assert_eq(H5Tget_size(t), RUNNER_ERR_MAX);
        msg = malloc(200 * sizeof *msg);
        cr_assert_geq(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, msg), 0);
        H5Tclose(t), H5Dclose(d), H5Fclose(f);
    }
    for (size_t c = 0; c < 200; c++) cr_expect(strstr(msg[c], "step 3"), "cell %zu message '%s'", c, msg[c]);
    free(msg);

    snprintf(args, sizeof args, "%s -o %s --plugin-path %s -j 1 --fail-fast", in_dir("fail.yaml"), in_dir("ff.h5"),
             RUNNER_BROKEN_DIR);
    cr_expect_eq(run(args, out, sizeof out, err, sizeof err), 1, "%s", err);
    cr_expect(strstr(err, "stopped at the first failed cell (--fail-fast): cell 0"), "%s", err);
    cr_expect(strstr(err, "resume with:"), "%s", err);
    int8_t *st = read_all("ff.h5", "status", H5T_NATIVE_INT8, 1, &n);
    size_t pending = 0;
    for (size_t c = 0; c < n; c++) pending += st[c] == STATUS_PENDING;
    cr_expect_gt(pending, 150, "--fail-fast ran on: %zu pending", pending);
    cr_expect_eq(st[0], STATUS_FAILED);
    free(st);
    int8_t *state = read_all("ff.h5", "run_state", H5T_NATIVE_INT8, 1, &n);
    cr_expect_eq(*state, RUN_STOPPED);
    free(state);

    /* the hint is pasted into a shell: a name with a backquote, '!' and '~'
     * is single-quoted, so the paste runs this command and nothing else
     * (issue 18, polish) */
    snprintf(args, sizeof args, "%s -o '%s' --plugin-path %s -j 1 --fail-fast", in_dir("fail.yaml"),
             in_dir("we`ird!~.h5"), RUNNER_BROKEN_DIR);
    cr_expect_eq(run(args, out, sizeof out, err, sizeof err), 1, "%s", err);
    char quoted[600];
    snprintf(quoted, sizeof quoted, "'%s'", in_dir("we`ird!~.h5"));
    cr_expect(strstr(err, quoted), "the hint does not quote %s: %s", quoted, err);
}

/* Failed cells are not "done": --resume computes them again (a failure
 * may have been transient); ok and diverged cells are kept. */
Test(resume, resume_recomputes_failed_cells)
{
    write_file("mixed.yaml", "steps: 5\nproblem: {objective: parabola, start: [1.0]}\n"
                             "optimizer: {name: failing_init, lr: 0.5}\n"
                             "grid: {optimizer.lr: [0.5, 2.0, 0.25, 3.0]}\n");
    char args[1024], err[4096], out[4096];
    snprintf(args, sizeof args, "%s -o %s --plugin-path %s", in_dir("mixed.yaml"), in_dir("m.h5"), RUNNER_BROKEN_DIR);
    cr_expect_eq(run(args, out, sizeof out, err, sizeof err), 1, "%s", err);
    cr_expect(strstr(out, "2 ok, 0 diverged, 2 failed"), "%s", out);
    cr_expect_eq(run(args, out, sizeof out, err, sizeof err), 2, "an existing file needs --resume or --force");
    strcat(args, " --resume");
    cr_expect_eq(run(args, out, sizeof out, err, sizeof err), 1, "%s", err);
    cr_expect(strstr(out, "2 cells in") && strstr(out, "(2 kept from the file)"), "%s", out);
}

/* Issue 18, item 2: while one runner writes a file, another can neither
 * replace it (--force) nor resume it, and is not told to use --force; the
 * mark goes with the writer, even under kill -9. */
Test(resume, a_file_being_written_is_not_replaced_or_resumed)
{
    write_file("long.yaml", "steps: 100000\nproblem: {objective: rosenbrock, start: [-1.2, 1.0]}\n"
                            "optimizer: {name: adam, lr: 0.001}\ngrid: {optimizer.lr: {logspace: [-4, -1, 300]}}\n");
    char args[1024], err[4096];
    snprintf(args, sizeof args, "%s -o %s -j 1 --quiet", in_dir("long.yaml"), in_dir("long.h5"));
    pid_t writer = spawn_runner(args);
    double t0 = now();
    while (!exists("long.h5") && now() - t0 < 20) sleep_seconds(0.01);
    cr_assert(exists("long.h5"), "the writer did not create its file");
    /* then stopped, so it is still writing whatever the checks below take
     * (under valgrind they outlasted the whole sweep once Adam got faster);
     * a stopped process keeps its lock. The lock follows the file's
     * creation at once: 0.3 s is plenty for it. */
    sleep_seconds(0.3);
    kill(writer, SIGSTOP);
    snprintf(args, sizeof args, "%s -o %s --force", in_dir("long.yaml"), in_dir("long.h5"));
    int forced = run(args, NULL, 0, err, sizeof err);
    bool still_running = waitpid(writer, NULL, WNOHANG) == 0;
    if (still_running) {
        cr_expect_eq(forced, 2, "%s", err);
        cr_expect(strstr(err, "another runner is writing this file right now, so it cannot be replaced") &&
                      !strstr(err, "--force"),
                  "%s", err);
        snprintf(args, sizeof args, "%s -o %s --resume", in_dir("long.yaml"), in_dir("long.h5"));
        cr_expect_eq(run(args, NULL, 0, err, sizeof err), 2, "%s", err);
        cr_expect(strstr(err, "so it cannot be resumed"), "%s", err);
        kill(writer, SIGKILL);
    }
    wait_exit(writer);
    /* the mark died with the writer: the file may be replaced now (short
     * cells, so the valgrind run of this test stays quick) */
    snprintf(args, sizeof args, "%s -o %s --force --quiet --set steps=10", in_dir("long.yaml"), in_dir("long.h5"));
    cr_expect_eq(run(args, NULL, 0, err, sizeof err), 0, "after the writer died: %s", err);
}
