/*
 * test_e2e.c: the binary on real configs. Runs build/runner as a user would,
 * checks exit codes and messages, and reads the HDF5 back.
 */
#include <math.h>

#include "e2e_helpers.h"

static void setup(void)
{
    e2e_make_dir("e2e");
}
static void teardown(void)
{
    e2e_remove_dir();
}
TestSuite(e2e, .init = setup, .fini = teardown, .timeout = 120);

Test(e2e, momentum_sweep_values)
{
    char out[4096], err[4096], args[1024];
    snprintf(args, sizeof args, "configs/momentum_sweep.yaml -o %s/m.h5", dir);
    cr_assert_eq(run(args, out, sizeof out, err, sizeof err), 0, "%s", err);
    cr_expect(strstr(out, "16 cells"), "%s", out);
    cr_expect(strstr(out, "16 ok, 0 diverged, 0 failed"), "%s", out);
    cr_expect(strstr(out, "best: cell"), "%s", out);
    size_t n;
    float *p = read_all("m.h5", "params", H5T_NATIVE_FLOAT, sizeof(float), &n);
    cr_assert_eq(n, 16 * 7);
    /* lr 0.1, momentum 0.9 is cell 7: x = -5, -4, -2.3, -0.31, 1.543 (by hand: g = 2x, buf = 0.9 buf + g) */
    const float *c = p + 7 * 7;
    float expect[] = {-5.0f, -4.0f, -2.3f, -0.31f, 1.543f};
    for (int t = 0; t < 5; t++) cr_expect_float_eq(c[t], expect[t], 1e-5, "step %d: %g", t, c[t]);
    /* lr 0.01, momentum 0: plain descent x *= 0.98 */
    for (int t = 0; t < 7; t++) cr_expect_float_eq(p[t], -5.0 * pow(0.98, t), 1e-5);
    free(p);
    int8_t *st = read_all("m.h5", "status", H5T_NATIVE_INT8, 1, &n);
    for (size_t i = 0; i < n; i++) cr_expect_eq(st[i], 1);
    free(st);
}

/* The analytic configs, whole; the training ones run shortened in test_mnist
 * (real data), which also checks that the two lists cover configs/. */
Test(e2e, every_shipped_analytic_config_runs)
{
    const char *configs[] = {"momentum_sweep", "optimizers_2d", "gradient_descent", "linear_regression", "tuned_2d",
                             "lbfgs_rosenbrock"};
    for (size_t i = 0; i < 6; i++) {
        char out[4096], err[4096], args[1024];
        snprintf(args, sizeof args, "configs/%s.yaml -o %s/%s.h5 --quiet", configs[i], dir, configs[i]);
        cr_expect_eq(run(args, out, sizeof out, err, sizeof err), 0, "%s: %s", configs[i], err);
        cr_expect_str_empty(out, "--quiet printed: %s", out);
    }
    size_t n;
    float *loss = read_all("optimizers_2d.h5", "loss", H5T_NATIVE_FLOAT, sizeof(float), &n);
    cr_assert_eq(n, 6 * 31);
    for (size_t r = 0; r < 6; r++) cr_expect_lt(loss[r * 31 + 30], loss[r * 31], "run %zu does not descend", r);
    free(loss);
    /* 20-step cell padded with NaN after its last step */
    float *gl = read_all("gradient_descent.h5", "loss", H5T_NATIVE_FLOAT, sizeof(float), &n);
    cr_assert_eq(n, 2 * 101);
    cr_expect(!isnan(gl[20]) && isnan(gl[21]));
    cr_expect(!isnan(gl[101 + 100]));
    free(gl);
    /* the textbook's gradient_method, numerical gradient: x = (-3, 4) 0.8^100 = [-6.11110793e-10, 8.14814391e-10] */
    float *gp = read_all("gradient_descent.h5", "params", H5T_NATIVE_FLOAT, sizeof(float), &n);
    cr_assert_eq(n, 2 * 101 * 2);
    const float *last = gp + (101 + 100) * 2;
    cr_expect_float_eq(last[0], -6.11110793e-10f, 1e-15, "x0 %g", last[0]);
    cr_expect_float_eq(last[1], 8.14814391e-10f, 1e-15, "x1 %g", last[1]);
    free(gp);
    /* L-BFGS with its line search reaches Rosenbrock's minimum in 2 steps, Adam in ~1000 (by evaluations: 51 and 984) */
    float *le = read_all("lbfgs_rosenbrock.h5", "loss", H5T_NATIVE_FLOAT, sizeof(float), &n);
    cr_assert_eq(n, 4 * 2001);
    cr_expect_lt(le[2], 1e-6f, "L-BFGS after 2 steps: %g", le[2]);
    cr_expect_gt(le[2001 * 2 + 2], 1.0f, "Adam after 2 steps: %g", le[2001 * 2 + 2]);
    free(le);
}

/* The numbers do not depend on the thread count. */
Test(e2e, bitwise_identical_for_any_thread_count)
{
    write_file("grid.yaml", "steps: 200\nproblem: {objective: rosenbrock, start: [-1.2, 1.0]}\n"
                            "optimizer: {name: adam, lr: 0.01}\n"
                            "grid: {optimizer.lr: {logspace: [-3, -0.5, 9]}}\n" /* and each run its own (ragged) */
                            "runs: [{label: adam, grid: {optimizer.beta1: [0.5, 0.8, 0.9, 0.95]}},\n"
                            "       {label: rms, optimizer: {name: rmsprop}, grid: {optimizer.alpha: [0.9, 0.99]}}]\n");
    char err[4096], args[1024];
    const char *vars[] = {"params", "loss", "grad_norm"};
    snprintf(args, sizeof args, "%s/grid.yaml -o %s/j1.h5 -j 1 --quiet", dir, dir);
    cr_assert_eq(run(args, NULL, 0, err, sizeof err), 0, "%s", err);
    snprintf(args, sizeof args, "%s/grid.yaml -o %s/j2.h5 -j 2 --quiet", dir, dir);
    cr_assert_eq(run(args, NULL, 0, err, sizeof err), 0, "%s", err);
    snprintf(args, sizeof args, "%s/grid.yaml -o %s/j3.h5 -j 3 --quiet", dir, dir);
    cr_assert_eq(run(args, NULL, 0, err, sizeof err), 0, "%s", err);
    for (size_t v = 0; v < 3; v++) {
        size_t n1, n2, n3;
        float *a = read_all("j1.h5", vars[v], H5T_NATIVE_FLOAT, 4, &n1);
        float *b = read_all("j2.h5", vars[v], H5T_NATIVE_FLOAT, 4, &n2);
        float *c = read_all("j3.h5", vars[v], H5T_NATIVE_FLOAT, 4, &n3);
        cr_assert_eq(n1, n2);
        cr_assert_eq(n1, n3);
        cr_expect_eq(memcmp(a, b, n1 * 4), 0, "%s differs between -j 1 and -j 2", vars[v]);
        cr_expect_eq(memcmp(a, c, n1 * 4), 0, "%s differs between -j 1 and -j 3", vars[v]);
        free(a), free(b), free(c);
    }
}

Test(e2e, divergence_is_a_result)
{
    write_file("div.yaml", "steps: 300\nproblem: {objective: parabola, start: [1.0]}\noptimizer: {name: sgd, lr: 0.1}\n"
                           "grid: {optimizer.lr: [0.1, 5.0]}\n");
    char out[4096], err[4096], args[1024];
    snprintf(args, sizeof args, "%s/div.yaml -o %s/div.h5", dir, dir);
    cr_assert_eq(run(args, out, sizeof out, err, sizeof err), 0, "diverged cells are results: %s", err);
    cr_expect(strstr(out, "1 ok, 1 diverged"), "%s", out);
    size_t n;
    int8_t *st = read_all("div.h5", "status", H5T_NATIVE_INT8, 1, &n);
    cr_expect_eq(st[0], 1);
    cr_expect_eq(st[1], 2);
    float *loss = read_all("div.h5", "loss", H5T_NATIVE_FLOAT, 4, &n);
    const float *l = loss + 301;
    size_t t = 0;
    while (t < 301 && isfinite(l[t])) t++;
    cr_assert_lt(t, 301, "lr 5 should overflow float32");
    cr_expect(isinf(l[t]), "the diverging step is recorded");
    for (size_t k = t + 1; k < 301; k++) cr_expect(isnan(l[k]), "step %zu after divergence is %g", k, l[k]);
    free(st), free(loss);
}

Test(e2e, failing_plugin_cells_are_contained)
{
    write_file("fail.yaml", "steps: 5\nproblem: {objective: parabola, start: [1.0]}\noptimizer: {name: failing_init, lr: 0.1}\n"
                            "grid: {optimizer.lr: [0.5, 2.0]}\nruns: [{label: init}, {label: step, optimizer: {name: failing_step}}]\n");
    char out[4096], err[4096], args[1024];
    snprintf(args, sizeof args, "%s/fail.yaml -o %s/fail.h5 --plugin-path %s", dir, dir, RUNNER_BROKEN_DIR);
    cr_expect_eq(run(args, out, sizeof out, err, sizeof err), 1, "a failed cell is a runtime failure: %s %s", out, err);
    cr_expect(strstr(out, "1 ok, 0 diverged, 3 failed"), "%s", out);
    cr_expect(strstr(out, "refusing lr 2 in init"), "%s", out);
    size_t n;
    int8_t *st = read_all("fail.h5", "status", H5T_NATIVE_INT8, 1, &n);
    int8_t expect[] = {1, 3, 3, 3};
    for (size_t i = 0; i < 4; i++) cr_expect_eq(st[i], expect[i], "cell %zu", i);
    free(st);
}

typedef struct {
    const char *config, *args, *expect;
} cli_error_t;

static const cli_error_t cli_errors[] = {
    {"steps: 5\nproblem: {objective: parabola, start: [1]}\noptimizer: {name: sgd, lerning_rate: 0.1}\n", "",
     "bad.yaml:3:24: error: unknown key 'lerning_rate' in optimizer 'sgd' (did you mean 'lr'?)\n"
     "  optimizer: {name: sgd, lerning_rate: 0.1}\n"
     "                         ^"},
    {"steps: 5\nproblem: {objective: parabola, start: [1]}\noptimizer: {name: sgd, lr: 0.1}\n", "--set optimizer.lr=abc",
     "--set optimizer.lr:1:1: error: expected a number for sgd.lr, got a string 'abc'\n  abc\n  ^"},
    {"steps: 5\nproblem: {objective: parabola, start: [1]}\noptimizer: {name: sgd, lr: 0.1}\n", "-j 0",
     "runner: error: -j needs a thread count from 1 to 4096, got '0'"},
    {"steps: 5\nproblem: {objective: parabola, start: [1]}\noptimizer: {name: sgd, lr: 0.1}\n", "--frobnicate",
     "unknown option '--frobnicate'"},
    {"steps: 5\nproblem: {objective: parabola, start: [1]}\noptimizer: {name: sgd, lr: 0.1}\n",
     "-o /proc/forbidden/x.h5", "/proc/forbidden/x.h5: error: cannot create directory /proc/forbidden"},
    {"steps: 5\n\tproblem: 1\n", "", "bad.yaml:2:1: error: tab character used for indentation"},
    {"", "", "bad.yaml:1:1: error: the config is empty"},
};
INDEX_PARAMS(e2e, config_errors_exit_2_and_write_nothing, cli_errors)

ParameterizedTest(size_t *i, e2e, config_errors_exit_2_and_write_nothing)
{
    const cli_error_t *c = &cli_errors[*i];
    write_file("bad.yaml", c->config);
    char err[4096], args[1024];
    /* run from dir so the file name in messages is bad.yaml */
    snprintf(args, sizeof args, "bad.yaml %s", c->args);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cd %s && %s %s/runner %s >stdout 2>stderr", dir, runner_wrapper(), RUNNER_BUILD_DIR, args);
    int st = system(cmd);
    char path[300];
    snprintf(path, sizeof path, "%s/stderr", dir);
    FILE *f = fopen(path, "r");
    err[fread(err, 1, sizeof err - 1, f)] = 0;
    fclose(f);
    cr_expect_eq(WEXITSTATUS(st), 2, "exit %d: %s", WEXITSTATUS(st), err);
    cr_expect(strstr(err, c->expect), "stderr:\n%s\nlacks:\n%s", err, c->expect);
    cr_expect_not(exists("results"), "output written despite the error");
}

Test(e2e, existing_output_needs_force)
{
    char err[4096], args[1024];
    snprintf(args, sizeof args, "configs/momentum_sweep.yaml -o %s/o.h5 --quiet", dir);
    cr_assert_eq(run(args, NULL, 0, err, sizeof err), 0, "%s", err);
    cr_expect_eq(run(args, NULL, 0, err, sizeof err), 2);
    cr_expect(strstr(err, "output file exists; use --resume to finish it, --force to overwrite it"), "%s", err);
    snprintf(args, sizeof args, "configs/momentum_sweep.yaml -o %s/o.h5 --quiet --force", dir);
    cr_expect_eq(run(args, NULL, 0, err, sizeof err), 0, "%s", err);
}

Test(e2e, plugins_describe_dry_run_help)
{
    char out[8192], err[4096];
    cr_assert_eq(run("plugins", out, sizeof out, err, sizeof err), 0, "%s", err);
    const char *names[] = {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw", "adamax", "nadam", "radam", "adadelta", "asgd", "rprop"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) cr_expect(strstr(out, names[i]), "plugins lacks %s:\n%s", names[i], out);
    cr_expect(strstr(out, "/plugins/sgd.so"), "%s", out);
    cr_assert_eq(run("describe adam", out, sizeof out, err, sizeof err), 0, "%s", err);
    cr_expect(strstr(out, "beta2"), "%s", out);
    cr_expect(strstr(out, "0.999"), "%s", out);
    cr_expect(strstr(out, "[0, 1)"), "%s", out);
    cr_expect_eq(run("describe adma", out, sizeof out, err, sizeof err), 2);
    cr_expect(strstr(err, "did you mean 'adam'"), "%s", err);
    /* the built-in objectives are listed and described too */
    cr_assert_eq(run("plugins", out, sizeof out, err, sizeof err), 0, "%s", err);
    cr_expect(strstr(out, "objective  rosenbrock             built-in"), "%s", out);
    cr_assert_eq(run("describe rosenbrock", out, sizeof out, err, sizeof err), 0, "%s", err);
    cr_expect(strstr(out, "rosenbrock (objective, built in)") && strstr(out, "parameters: 2 to"), "%s", out);
    /* a refused plugin: describe says why, as a sweep would */
    cr_expect_eq(run("--plugin-path " RUNNER_BROKEN_DIR " describe bad_magic", out, sizeof out, err, sizeof err), 2);
    cr_expect(strstr(err, "plugin 'bad_magic' was refused: ") && strstr(err, "bad magic 0xdeadbeef"), "%s", err);
    /* a plugin directory asked for by name must exist */
    cr_expect_eq(run("--plugin-path /nonexistent plugins", out, sizeof out, err, sizeof err), 2);
    cr_expect(strstr(err, "--plugin-path /nonexistent: No such file or directory"), "%s", err);
    cr_assert_eq(run("configs/momentum_sweep.yaml --dry-run", out, sizeof out, err, sizeof err), 0, "%s", err);
    cr_expect(strstr(out, "16 cells"), "%s", out);
    cr_expect(strstr(out, "sgd(lr=0.9, momentum=0.9"), "%s", out);
    cr_expect_eq(run("--help", out, sizeof out, err, sizeof err), 0);
    cr_expect(strstr(out, "--dry-run"), "%s", out);
    cr_expect_eq(run("--version", out, sizeof out, err, sizeof err), 0);
    cr_expect(strstr(out, "runner 0."), "%s", out);
}

/* A write error (here a file-size limit, as a full disk would give) is an
 * error that names the output, exit 2 at creation, and no crash: the old
 * runner printed freed memory as the name and died of SIGSEGV in HDF5's
 * cleanup at exit (issue 18, item 7). */
Test(e2e, a_write_error_is_reported_not_a_crash)
{
    char cmd[2048], path[300], buf[8192];
    snprintf(cmd, sizeof cmd,
             "cd %s && sh -c \"trap '' XFSZ; ulimit -f 200; %s %s/runner %s/bench/sweep_10k.yaml -o big.h5\" "
             ">out.txt 2>&1",
             dir, runner_wrapper(), RUNNER_BUILD_DIR, RUNNER_SOURCE_DIR);
    int st = system(cmd);
    snprintf(path, sizeof path, "%s/out.txt", dir);
    FILE *f = fopen(path, "r");
    cr_assert(f);
    buf[fread(buf, 1, sizeof buf - 1, f)] = 0;
    fclose(f);
    cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 2, "status %d: %s", st, buf);
    cr_expect(strstr(buf, "big.h5: error: HDF5 could not create the datasets"), "%s", buf);
    cr_expect(!exists("big.h5"), "a half-made file was left at the output");
}

/* The progress line appears on a terminal (script(1) provides one) and not in a pipe. */
Test(e2e, progress_line_only_on_a_terminal)
{
    char cmd[2048], path[300], buf[8192];
    snprintf(cmd, sizeof cmd,
             "cd %s && script -qec '%s/runner %s/bench/sweep_10k.yaml -o p.h5 --force' /dev/null >tty.txt 2>&1",
             dir, RUNNER_BUILD_DIR, RUNNER_SOURCE_DIR);
    int st = system(cmd);
    cr_assert_eq(WEXITSTATUS(st), 0);
    snprintf(path, sizeof path, "%s/tty.txt", dir);
    FILE *f = fopen(path, "r");
    cr_assert(f);
    buf[fread(buf, 1, sizeof buf - 1, f)] = 0;
    fclose(f);
    cr_expect(strstr(buf, "/10000 cells") && strstr(buf, "ETA"), "no progress line on a terminal:\n%s", buf);
    char out[4096], err[4096], args[1024];
    snprintf(args, sizeof args, "bench/sweep_10k.yaml -o %s/q.h5", dir);
    cr_assert_eq(run(args, out, sizeof out, err, sizeof err), 0);
    cr_expect_str_empty(err, "progress written to a pipe: %s", err);
}

/* Issue 19: include: merges other files under the config, nested, in
 * order, relative to the including file; cycles and missing files are
 * errors at their place; the file's resolved_config stands alone. */
Test(e2e, includes_merge_under_the_config)
{
    mkdir(in_dir("inc"), 0755);
    write_file("inc/base.yaml", "steps: 5\nproblem: {objective: elliptic, start: [-7, 2]}\noptimizer: {name: sgd, lr: 0.1}\n");
    write_file("inc/lr.yaml", "include: base.yaml\noptimizer: {lr: 0.3}\n");
    write_file("inc/momentum.yaml", "optimizer: {momentum: 0.5}\n");
    write_file("main.yaml", "include: [inc/lr.yaml, inc/momentum.yaml]\nsteps: 7\n");
    char args[1024], out[8192], err[4096];
    snprintf(args, sizeof args, "%s -o %s", in_dir("main.yaml"), in_dir("main.h5"));
    cr_assert_eq(run(args, out, sizeof out, err, sizeof err), 0, "%s", err);
    char *cfg = read_string_at("main.h5", "optimizer_config", 0);
    cr_expect(cfg && strstr(cfg, "sgd(lr=0.3, momentum=0.5,"), "%s", cfg ? cfg : "");
    free(cfg);
    int32_t *steps;
    size_t n;
    steps = read_all("main.h5", "cell_steps", H5T_NATIVE_INT32, 4, &n);
    cr_expect_eq(steps[0], 7, "the including file wins");
    free(steps);
    /* the file reruns without the included files */
    remove(in_dir("inc/base.yaml"));
    snprintf(args, sizeof args, "%s -o %s", in_dir("main.h5"), in_dir("again.h5"));
    cr_expect_eq(run(args, out, sizeof out, err, sizeof err), 0, "%s", err);
    /* errors */
    snprintf(args, sizeof args, "%s -o %s", in_dir("main.yaml"), in_dir("x.h5"));
    cr_expect_eq(run(args, out, sizeof out, err, sizeof err), 2);
    cr_expect(strstr(err, "lr.yaml:1:10: error: cannot include 'base.yaml': no such file"), "%s", err);
    write_file("a.yaml", "include: [b.yaml]\n");
    write_file("b.yaml", "include: [a.yaml]\nsteps: 3\n");
    snprintf(args, sizeof args, "%s -o %s", in_dir("a.yaml"), in_dir("x.h5"));
    cr_expect_eq(run(args, out, sizeof out, err, sizeof err), 2);
    cr_expect(strstr(err, "b.yaml:1:11: error: include cycle: ") && strstr(err, "a.yaml -> ") && strstr(err, "b.yaml -> "),
              "%s", err);
    write_file("c.yaml", "include: {file: a.yaml}\n");
    snprintf(args, sizeof args, "%s -o %s", in_dir("c.yaml"), in_dir("x.h5"));
    cr_expect_eq(run(args, out, sizeof out, err, sizeof err), 2);
    cr_expect(strstr(err, "c.yaml:1:10: error: include is a file name or a list of them"), "%s", err);
    cr_expect_not(exists("x.h5"));
}

/* Issue 19: --dry-run summarises a study of more than 40 cells (its axes,
 * its first and last 20 cells); --all-cells lists every one. */
Test(e2e, dry_run_summarises_large_studies)
{
    write_file("s.yaml", "steps: 3\nproblem: {objective: elliptic, start: [-7, 2]}\noptimizer: {name: sgd, lr: 0.1}\n"
                         "search: {method: sobol, samples: 100, space: {optimizer.lr: {loguniform: [0.001, 1.0]}}}\n");
    char args[1024], out[65536], err[4096];
    snprintf(args, sizeof args, "%s --dry-run", in_dir("s.yaml"));
    cr_assert_eq(run(args, out, sizeof out, err, sizeof err), 0, "%s", err);
    cr_expect(strstr(out, "axes:\n  optimizer.lr: 100 values, from 0.001 to "), "%s", out);
    cr_expect(strstr(out, "... 60 cells not shown (--all-cells lists every one)"), "%s", out);
    cr_expect(strstr(out, "\n19 ") && !strstr(out, "\n20 ") && strstr(out, "\n80 ") && strstr(out, "\n99 "), "%s", out);
    snprintf(args, sizeof args, "%s --dry-run --all-cells", in_dir("s.yaml"));
    cr_assert_eq(run(args, out, sizeof out, err, sizeof err), 0, "%s", err);
    cr_expect(!strstr(out, "not shown") && strstr(out, "\n50 "), "%s", out);
}

/* A whole-number coordinate reads as digits in reports (10, not 1e+01). */
Test(e2e, report_labels_whole_numbers_as_digits)
{
    write_file("w.yaml", "problem: {objective: elliptic, start: [-7, 2]}\noptimizer: {name: sgd, lr: 0.1}\n"
                         "steps: 5\ngrid: {steps: [5, 10, 100000]}\n");
    char args[1024], out[8192], err[4096];
    snprintf(args, sizeof args, "%s -o %s -q", in_dir("w.yaml"), in_dir("w.h5"));
    cr_assert_eq(run(args, out, sizeof out, err, sizeof err), 0, "%s", err);
    snprintf(args, sizeof args, "report %s", in_dir("w.h5"));
    cr_assert_eq(run(args, out, sizeof out, err, sizeof err), 0, "%s", err);
    cr_expect(strstr(out, "\n10 ") && strstr(out, "\n100000 ") && !strstr(out, "e+0"), "%s", out);
}

/* exclude: (issue 19): an entry that matches no cell is a warning at its
 * place on stderr; the study runs. */
Test(e2e, an_exclude_entry_that_matches_nothing_is_a_warning)
{
    write_file("ex.yaml", "steps: 3\nproblem: {objective: elliptic, start: [-7, 2]}\noptimizer: {name: sgd}\n"
                          "grid: {optimizer.lr: [0.1, 0.2]}\nexclude:\n  - {optimizer.lr: 0.2}\n  - {optimizer.lr: 0.5}\n");
    char args[1024], out[8192], err[4096];
    snprintf(args, sizeof args, "%s -o %s/ex.h5", in_dir("ex.yaml"), dir);
    cr_assert_eq(run(args, out, sizeof out, err, sizeof err), 0, "%s", err);
    cr_expect(strstr(err, "ex.yaml:7:5: warning: this exclude entry matches no cell"), "%s", err);
    cr_expect(!strstr(err, ":6:5: warning"), "the first entry left a cell out: %s", err);
    cr_expect(strstr(out, "1 cell in"), "%s", out);
}

/* --dry-run's summary of a ragged study counts an axis's distinct values
 * (its column lists each run's: two runs of steps [3, 4] are 2 values). */
Test(e2e, dry_run_summary_counts_distinct_values_of_a_ragged_study)
{
    write_file("rag.yaml", "problem: {objective: elliptic, start: [-7, 2]}\nsteps: 3\n"
                           "runs:\n  - {label: a, optimizer: {name: sgd}, grid: {steps: [3, 4], optimizer.lr: {logspace: [-3, 0, 20]}}}\n"
                           "  - {label: b, optimizer: {name: adam}, grid: {steps: [3, 4], optimizer.lr: {logspace: [-4, -1, 20]}}}\n");
    char args[1024], out[16384], err[4096];
    snprintf(args, sizeof args, "%s --dry-run", in_dir("rag.yaml"));
    cr_assert_eq(run(args, out, sizeof out, err, sizeof err), 0, "%s", err);
    cr_expect(strstr(out, "rag: 80 cells, 3 axes: run, steps, optimizer.lr (not one product"), "%s", out);
    cr_expect(strstr(out, "  steps: 2 values, from 3 to 4 (3 ... 4)\n"), "%s", out);
    cr_expect(strstr(out, "  optimizer.lr: 40 values, from 0.0001 to 1"), "20 rates a run, none shared: %s", out);
}

/* L-BFGS through the closure: on x^2 from -5 (g = 2x) it is at 0 after one
 * step, by hand: iteration 1 goes d = -g = 10 with t = min(1, 1/|g|) lr =
 * 0.1 to x = -4; iteration 2 has y = 2, s = 1, so H_diag = 1/2 and the
 * two loops give d = 4, t = lr = 1: x = 0, where the gradient is 0 and the
 * step stops. Evaluations: the start (1), x = -4 and x = 0 inside the step,
 * the record of x = 0: 4; then one a step (the gradient is 0 at once). The
 * strong-Wolfe search accepts both first tries (Armijo and curvature hold),
 * so it spends the same. SGD spends one a step. */
Test(e2e, lbfgs_takes_several_evaluations_a_step)
{
    write_file("lbfgs.yaml", "name: lbfgs\nsteps: 3\nproblem: {objective: parabola, start: [-5.0]}\n"
                             "optimizer: {name: lbfgs}\n"
                             "runs:\n"
                             "  - {label: fixed, optimizer: {name: lbfgs, lr: 1}}\n"
                             "  - {label: wolfe, optimizer: {name: lbfgs, line_search_fn: strong_wolfe}}\n"
                             "  - {label: sgd, optimizer: {name: sgd, lr: 0.1}}\n");
    char out[4096], err[4096], args[1024];
    snprintf(args, sizeof args, "%s -o %s/lbfgs.h5", in_dir("lbfgs.yaml"), dir);
    cr_assert_eq(run(args, out, sizeof out, err, sizeof err), 0, "%s", err);
    size_t n;
    float *p = read_all("lbfgs.h5", "params", H5T_NATIVE_FLOAT, sizeof(float), &n);
    float *ev = read_all("lbfgs.h5", "evaluations", H5T_NATIVE_FLOAT, sizeof(float), &n);
    cr_assert_eq(n, 3 * 4);
    for (int c = 0; c < 2; c++) {
        cr_expect_eq(p[c * 4 + 0], -5.0f);
        for (int t = 1; t < 4; t++) cr_expect_eq(p[c * 4 + t], 0.0f, "cell %d step %d: %g", c, t, p[c * 4 + t]);
        float expect[] = {1, 4, 5, 6};
        for (int t = 0; t < 4; t++) cr_expect_eq(ev[c * 4 + t], expect[t], "cell %d step %d: %g evaluations", c, t, ev[c * 4 + t]);
    }
    for (int t = 0; t < 4; t++) cr_expect_eq(ev[8 + t], (float)(t + 1), "sgd step %d: %g", t, ev[8 + t]);
    free(p), free(ev);
    /* the report counts evaluations beside steps */
    snprintf(args, sizeof args, "report %s/lbfgs.h5 --tol 1e-3", dir);
    cr_assert_eq(run(args, out, sizeof out, err, sizeof err), 0, "%s", err);
    cr_expect(strstr(out, "steps to 0.001  evaluations  evaluations to 0.001"), "%s", out);
    cr_expect(strstr(out, "fixed  1   0         0       0           0          1               6            4"), "%s", out);
    cr_expect(strstr(out, "sgd    1   0         0       6.554       6.554      -               4            -"), "%s", out);
}
