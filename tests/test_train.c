/*
 * test_train.c: training sweeps end to end on a small IDX data set made
 * by the test (idx_fixture.h). Runs build/runner, reads the HDF5 back.
 * (The schedules as functions: test_schedule.c.)
 */
#include <math.h>
#include <zlib.h>

#include "process_helpers.h"
#include "idx_fixture.h"
#include "cells/training/train.h"
#include "config/yaml_load.h"
#include "kernels/gemm.h"
#include "results/format.h"

#define N_TRAIN 300
#define N_TEST 90

static void setup(void)
{
    e2e_make_dir("train");
    make_idx_data_set(N_TRAIN, N_TEST);
}
static void teardown(void) { e2e_remove_dir(); }
TestSuite(train, .init = setup, .fini = teardown, .timeout = 120);

/* A config over the data in dir: extra, then the default data and model
 * unless extra gives its own. */
static void write_config(const char *name, const char *extra)
{
    char text[4096], data[512];
    snprintf(data, sizeof data, "data: {dir: %s}\n", dir);
    /* a top-level key: at the start of a line (record_loss: is not loss:) */
    bool has_loss = !strncmp(extra, "loss:", 5) || strstr(extra, "\nloss:");
    snprintf(text, sizeof text, "%s%s%s%s", extra, strstr(extra, "data:") ? "" : data,
             has_loss ? "" : "loss: softmax_cross_entropy\n",
             strstr(extra, "model:") ? ""
                                     : "model:\n"
                                       "  - {layer: affine, out: 16, init: xavier}\n"
                                       "  - {layer: tanh}\n"
                                       "  - {layer: affine, out: 3}\n");
    write_file(name, text);
}

static void run_ok(const char *config, const char *output, const char *more)
{
    char err[4096], args[1024];
    snprintf(args, sizeof args, "%s -o %s %s --quiet", in_dir(config), in_dir(output), more);
    cr_assert_eq(run(args, NULL, 0, err, sizeof err), 0, "%s", err);
}

/* data.validation: the largest layout a kind writes (8 variables); the
 * validation split is the end of the training set, held out of training. */
Test(train, a_validation_split_gets_its_own_variables)
{
    char data[512];
    snprintf(data, sizeof data, "data: {dir: %s, validation: 0.2}\n", dir);
    char extra[1024];
    snprintf(extra, sizeof extra, "%strain: {epochs: 3, batch: 20}\noptimizer: {name: adam, lr: 0.01}\n"
             "grid: {seed: [1, 2]}\n", data);
    write_config("v.yaml", extra);
    run_ok("v.yaml", "v.h5", "");
    size_t n;
    const char *vars[] = {"validation_accuracy", "validation_loss"};
    for (size_t k = 0; k < 2; k++) {
        float *v = read_all("v.h5", vars[k], H5T_NATIVE_FLOAT, 4, &n);
        cr_assert_eq(n, 2 * 4, "%s: 2 cells x epochs 0..3", vars[k]);
        for (size_t i = 0; i < n; i++) cr_expect(isfinite(v[i]), "%s[%zu] = %g", vars[k], i, v[i]);
        free(v);
    }
    float *acc = read_all("v.h5", "validation_accuracy", H5T_NATIVE_FLOAT, 4, &n);
    for (size_t c = 0; c < 2; c++) cr_expect_gt(acc[c * 4 + 3], acc[c * 4], "cell %zu learns on held-out data", c);
    free(acc);
    char *label = read_string_at("v.h5", "data_config", 0);
    cr_expect(label && strstr(label, "240 train, 60 validation"), "%s", label ? label : "(none)");
    free(label);
}

/* The per-cell record is exact: numbers in their shortest round-trip form. */
Test(train, train_config_records_the_values_used_exactly)
{
    write_config("w.yaml", "train: {iterations: 2, batch: 20, weight_decay: 1.1999049779393503e-07,"
                           " schedule: {name: step, every: 1, gamma: 0.30000000000000004}}\n"
                           "optimizer: {name: sgd, lr: 0.1}\n");
    run_ok("w.yaml", "w.h5", "");
    char *t = read_string_at("w.h5", "train_config", 0);
    cr_assert(t);
    cr_expect(strstr(t, "weight_decay=1.1999049779393503e-07 "), "%s", t);
    cr_expect(strstr(t, "gamma=0.30000000000000004,"), "%s", t);
    free(t);
}

Test(train, optimizers_learn_and_the_file_holds_every_output)
{
    write_config("c.yaml", "train: {epochs: 4, batch: 20}\noptimizer: {name: sgd, lr: 0.1}\n"
                           "grid: {optimizer.name: [sgd, momentum, adagrad, adam]}\n");
    run_ok("c.yaml", "c.h5", "");
    size_t n;
    float *acc = read_all("c.h5", "test_accuracy", H5T_NATIVE_FLOAT, 4, &n);
    cr_assert_eq(n, 4 * 5, "4 cells x epochs 0..4");
    for (size_t c = 0; c < 4; c++) {
        cr_expect(acc[c * 5] < 0.6, "cell %zu: before training %g, near chance", c, acc[c * 5]);
        cr_expect(acc[c * 5 + 4] > 0.95, "cell %zu: after 4 epochs only %g", c, acc[c * 5 + 4]);
    }
    free(acc);
    float *loss = read_all("c.h5", "train_loss", H5T_NATIVE_FLOAT, 4, &n);
    cr_assert_eq(n, 4 * 60, "4 cells x 15 steps per epoch x 4 epochs");
    for (size_t c = 0; c < 4; c++) cr_expect_lt(loss[c * 60 + 59], loss[c * 60], "cell %zu: the loss falls", c);
    free(loss);
    int8_t *st = read_all("c.h5", "status", H5T_NATIVE_INT8, 1, &n);
    for (size_t c = 0; c < 4; c++) cr_expect_eq(st[c], 1);
    free(st);
    const char *others[] = {"train_accuracy", "train_epoch_loss", "test_loss"};
    for (size_t k = 0; k < 3; k++) {
        float *v = read_all("c.h5", others[k], H5T_NATIVE_FLOAT, 4, &n);
        cr_expect_eq(n, 20, "%s", others[k]);
        for (size_t i = 0; i < n; i++) cr_expect(isfinite(v[i]), "%s[%zu]", others[k], i);
        free(v);
    }
    float *secs = read_all("c.h5", "epoch_seconds", H5T_NATIVE_FLOAT, 4, &n);
    cr_expect_eq(n, 20);
    for (size_t i = 0; i < n; i++)
        cr_expect(i % 5 ? secs[i] > 0 && secs[i] < 60 : secs[i] == 0, "epoch_seconds[%zu] = %g", i, secs[i]);
    free(secs);
    int32_t *epoch = read_all("c.h5", "epoch", H5T_NATIVE_INT32, 4, &n);
    cr_expect(n == 5 && epoch[0] == 0 && epoch[4] == 4);
    free(epoch);
    int32_t *it = read_all("c.h5", "iteration", H5T_NATIVE_INT32, 4, &n);
    cr_expect(n == 60 && it[0] == 1 && it[59] == 60);
    free(it);
}

/* The configs of the bitwise tests: affine/relu/dropout with adam, sigmoid
 * with momentum (sgd), conv2d/batchnorm/relu/maxpool/avgpool, a conv2d big
 * enough to run in slices, and tanh/flatten/mse with sgd: every layer. */
static const char *const bitwise_configs[] = {"g.yaml", "one.yaml", "cnn.yaml", "sliced.yaml", "flat.yaml"};
#define N_BITWISE (sizeof bitwise_configs / sizeof bitwise_configs[0])

static void write_bitwise_configs(void)
{
    write_config("g.yaml", "train: {epochs: 2, batch: 16, weight_decay: 0.001}\n"
                           "model:\n  - {layer: affine, out: 200}\n  - {layer: relu}\n"
                           "  - {layer: dropout, ratio: 0.3}\n  - {layer: affine, out: 3}\n"
                           "optimizer: {name: adam, lr: 0.01}\n"
                           "grid: {optimizer.lr: [0.001, 0.01, 0.1]}\n");
    write_config("one.yaml", "train: {epochs: 2, batch: 150}\n"
                             "model:\n  - {layer: affine, out: 300}\n  - {layer: sigmoid}\n  - {layer: affine, out: 3}\n"
                             "optimizer: {name: momentum, lr: 0.05}\n");
    write_config("cnn.yaml", "train: {epochs: 1, batch: 50}\n"
                             "model:\n  - {layer: conv2d, filters: 4, size: 3, pad: 1}\n  - {layer: batchnorm}\n"
                             "  - {layer: relu}\n  - {layer: maxpool}\n  - {layer: avgpool, size: 2, stride: 1}\n"
                             "  - {layer: affine, out: 3}\n"
                             "optimizer: {name: adam, lr: 0.01}\n");
    /* 41 KB per sample in conv2d, relu, maxpool: the network runs them in slices of 6 */
    write_config("sliced.yaml", "train: {epochs: 1, batch: 50}\n"
                                "model:\n  - {layer: conv2d, filters: 64, size: 3, pad: 1}\n  - {layer: relu}\n"
                                "  - {layer: maxpool}\n  - {layer: affine, out: 3}\n"
                                "optimizer: {name: adam, lr: 0.01}\n");
    write_config("flat.yaml", "train: {epochs: 2, batch: 25}\nloss: mse\n"
                              "model:\n  - {layer: flatten}\n  - {layer: affine, out: 37}\n  - {layer: tanh}\n"
                              "  - {layer: batchnorm}\n  - {layer: affine, out: 3}\n"
                              "optimizer: {name: sgd, lr: 0.1}\n");
}

/* Every float variable the bitwise tests compare, the same bits in a and b. */
static void expect_same_bits(const char *config, const char *a_file, const char *b_file, const char *why)
{
    const char *vars[] = {"train_loss", "test_accuracy", "test_loss", "train_epoch_loss"};
    for (size_t v = 0; v < 4; v++) {
        size_t na, nb;
        float *a = read_all(a_file, vars[v], H5T_NATIVE_FLOAT, 4, &na);
        float *b = read_all(b_file, vars[v], H5T_NATIVE_FLOAT, 4, &nb);
        cr_assert(na == nb && na > 0);
        cr_expect_eq(memcmp(a, b, na * 4), 0, "%s: %s differs %s", config, vars[v], why);
        free(a), free(b);
    }
}

/* Cells side by side (3 cells) and one cell with all threads, whole batches
 * and slices: the same bits for any -j. */
Test(train, bitwise_identical_for_any_thread_count)
{
    write_bitwise_configs();
    for (size_t k = 0; k < N_BITWISE; k++) {
        run_ok(bitwise_configs[k], "j1.h5", "-j 1 --force");
        run_ok(bitwise_configs[k], "j2.h5", "-j 2 --force");
        run_ok(bitwise_configs[k], "j3.h5", "-j 3 --force");
        expect_same_bits(bitwise_configs[k], "j1.h5", "j2.h5", "between -j 1 and -j 2");
        expect_same_bits(bitwise_configs[k], "j1.h5", "j3.h5", "between -j 1 and -j 3");
    }
}

/* Every kernel path this CPU runs (RUNNER_KERNELS), at -j 1 and 2, gives
 * the bits of the default: what makes a file the same on any x86-64 CPU
 * (README "Reproducible"). The file names the kernels that computed it. */
Test(train, bitwise_identical_for_every_kernel_path, .timeout = 600)
{
    write_bitwise_configs();
    const kernels_t paths[] = {KERNELS_PORTABLE, KERNELS_AVX2, KERNELS_AVX512};
    /* what the runner can run, asked through the test wrapper: valgrind's
     * CPU has no AVX-512 */
    char version[512], err[512];
    cr_assert_eq(run("--version", version, sizeof version, err, sizeof err), 0, "%s", err);
    const char *runs = strstr(version, "this CPU runs:");
    cr_assert(runs, "%s", version);
    for (size_t k = 0; k < N_BITWISE; k++) {
        unsetenv("RUNNER_KERNELS");
        run_ok(bitwise_configs[k], "auto.h5", "-j 1 --force");
        char *named = root_attr("auto.h5", "matrix_kernels");
        cr_assert(strstr(version, named), "the file names %s; --version says %s", named, version);
        free(named);
        for (size_t p = 0; p < 3; p++) {
            char word[32];
            snprintf(word, sizeof word, " %s", kernels_name(paths[p]));
            if (!strstr(runs, word)) continue;
            setenv("RUNNER_KERNELS", kernels_name(paths[p]), 1);
            for (int j = 1; j <= 2; j++) {
                char why[64], more[32];
                snprintf(more, sizeof more, "-j %d --force", j);
                run_ok(bitwise_configs[k], "path.h5", more);
                snprintf(why, sizeof why, "between the default kernels and %s at -j %d", kernels_name(paths[p]), j);
                expect_same_bits(bitwise_configs[k], "auto.h5", "path.h5", why);
                named = root_attr("path.h5", "matrix_kernels");
                cr_expect_str_eq(named, kernels_name(paths[p]));
                free(named);
            }
        }
        /* glibc's FMA code off (its fma() in software for the plugins'
         * fmaf, its libm's SSE2 variants) and the portable kernels (FMA
         * emulated in SSE2): a CPU without FMA, as far as one machine can
         * play one. The same bits. */
        if (*runner_wrapper()) { /* under valgrind: software fma at valgrind's speed would take an hour */
            unsetenv("RUNNER_KERNELS");
            continue;
        }
        setenv("RUNNER_KERNELS", "portable", 1);
        setenv("GLIBC_TUNABLES", "glibc.cpu.hwcaps=-AVX2,-FMA,-AVX512F,-AVX2_Usable,-FMA_Usable", 1);
        run_ok(bitwise_configs[k], "nofma.h5", "-j 2 --force");
        unsetenv("GLIBC_TUNABLES");
        expect_same_bits(bitwise_configs[k], "auto.h5", "nofma.h5", "without FMA in glibc (GLIBC_TUNABLES), portable kernels");
        unsetenv("RUNNER_KERNELS");
    }
}

/* RUNNER_KERNELS that is not a name, or names kernels this CPU lacks: exit 2, nothing written. */
Test(train, runner_kernels_must_name_kernels_this_cpu_runs)
{
    write_config("k.yaml", "train: {epochs: 1, batch: 50}\noptimizer: {name: sgd}\n");
    char err[4096], args[1024];
    snprintf(args, sizeof args, "%s -o %s", in_dir("k.yaml"), in_dir("k.h5"));
    setenv("RUNNER_KERNELS", "avx3", 1);
    cr_assert_eq(run(args, NULL, 0, err, sizeof err), 2);
    unsetenv("RUNNER_KERNELS");
    cr_expect(strstr(err, "RUNNER_KERNELS=avx3: expected auto, avx512, avx2, portable or openblas"), "%s", err);
    cr_expect(!exists("k.h5"));
}

/* A cell marked pending in a finished file is trained again by --resume, to the same bits. */
/* SIGTERM during a training sweep (README "Interrupted runs"): the training
 * cell in flight is abandoned within a step and stays pending, cells
 * already written are kept, the runner exits 143 at once, and --resume
 * finishes the file. */
Test(train, a_signal_abandons_the_training_cell_in_flight)
{
    write_config("s.yaml", "train: {epochs: 100000, batch: 10}\noptimizer: {name: sgd, lr: 0.05}\n"
                           "seeds: [1, 2]\n");
    char args[1024];
    snprintf(args, sizeof args, "%s -o %s -j 1", in_dir("s.yaml"), in_dir("s.h5"));
    pid_t pid = spawn_runner(args);
    for (int i = 0; i < 2000 && !exists("s.h5"); i++) sleep_seconds(0.005);
    sleep_seconds(0.3);
    double t0 = now();
    kill(pid, SIGTERM);
    int code = wait_exit(pid);
    double took = now() - t0;
    char log[8192];
    slurp("log", log, sizeof log);
    cr_assert_eq(code, 143, "exit %d: %s", code, log);
    cr_expect_lt(took, 1.0, "the runner took %.2f s to stop: a training cell must not be finished first", took);
    size_t n;
    int8_t *st = read_all("s.h5", "status", H5T_NATIVE_INT8, 1, &n);
    cr_assert_eq(n, 2);
    cr_expect_eq(st[0], STATUS_PENDING, "the cell in flight (100000 epochs) stays pending");
    cr_expect_eq(st[1], STATUS_PENDING);
    free(st);
    int8_t *state = read_all("s.h5", "run_state", H5T_NATIVE_INT8, 1, &n);
    cr_expect_eq(state[0], RUN_INTERRUPTED);
    free(state);
}

/* On a terminal, a long cell moves the progress line before it ends: the
 * percentage counts the steps of the cell in flight (issue 23). */
Test(train, the_progress_line_moves_inside_a_long_cell)
{
    write_config("p.yaml", "train: {epochs: 6000, batch: 10}\noptimizer: {name: sgd, lr: 0.05}\n");
    char cmd[2048], buf[65536];
    snprintf(cmd, sizeof cmd, "cd %s && script -qec '%s/runner p.yaml -o p.h5' /dev/null >tty.txt 2>&1", dir,
             RUNNER_BUILD_DIR);
    int st = system(cmd);
    cr_assert_eq(WEXITSTATUS(st), 0);
    slurp("tty.txt", buf, sizeof buf);
    bool moving = false;
    for (const char *p = buf; (p = strstr(p, "0/1 cells")); p++) {
        int pct = -1;
        if (sscanf(p, "0/1 cells %d%%", &pct) == 1 && pct > 0 && pct < 100) moving = true;
    }
    cr_expect(moving, "no line with 0/1 cells and a percentage inside the cell:\n%s", buf);
}

Test(train, resume_retrains_pending_cells)
{
    write_config("r.yaml", "train: {epochs: 2, batch: 30}\noptimizer: {name: adam, lr: 0.01}\n"
                           "seeds: [1, 2, 3]\n");
    run_ok("r.yaml", "r.h5", "");
    size_t n;
    float *before = read_all("r.h5", "train_loss", H5T_NATIVE_FLOAT, 4, &n);
    hid_t f = H5Fopen(in_dir("r.h5"), H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, "status", H5P_DEFAULT), t = H5Dopen2(f, "train_loss", H5P_DEFAULT);
    int8_t st[3] = {1, 0, 1};
    float *zeros = calloc(n, 4);
    H5Dwrite(d, H5T_NATIVE_INT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, st);
    H5Dwrite(t, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, zeros);
    H5Dclose(d), H5Dclose(t), H5Fclose(f);
    char out[4096], err[4096], args[1024];
    snprintf(args, sizeof args, "%s -o %s --resume", in_dir("r.yaml"), in_dir("r.h5"));
    cr_assert_eq(run(args, out, sizeof out, err, sizeof err), 0, "%s", err);
    cr_expect(strstr(out, "1 cell in") && strstr(out, "(2 kept from the file)"), "%s", out);
    float *after = read_all("r.h5", "train_loss", H5T_NATIVE_FLOAT, 4, &n);
    size_t per = n / 3;
    cr_expect_eq(memcmp(before + per, after + per, per * 4), 0, "the retrained cell matches its first run");
    for (size_t i = 0; i < per; i++) cr_expect_eq(after[i], 0.0f, "kept cells are not recomputed");
    free(before), free(after), free(zeros);
}

Test(train, divergence_stops_the_cell_and_the_sweep_goes_on)
{
    write_config("d.yaml", "train: {epochs: 2, batch: 30}\noptimizer: {name: sgd, lr: 0.1}\n"
                           "model: [{layer: affine, out: 3}]\nloss: mse\n"
                           "grid: {optimizer.lr: [0.1, 1000]}\n");
    run_ok("d.yaml", "d.h5", "");
    size_t n;
    int8_t *st = read_all("d.h5", "status", H5T_NATIVE_INT8, 1, &n);
    cr_expect(st[0] == 1 && st[1] == 2, "ok then diverged, got %d %d", st[0], st[1]);
    float *loss = read_all("d.h5", "train_loss", H5T_NATIVE_FLOAT, 4, &n);
    cr_expect(isnan(loss[n - 1]), "steps after divergence are NaN");
    cr_expect(isfinite(loss[n / 2 - 1]), "the good cell ran to the end");
    free(st), free(loss);
}

typedef struct {
    const char *extra, *expect;
} train_error_t;

static const train_error_t train_errors[] = {
    {"train: {epochs: 2, batch: 30}\noptimizer: {name: sgd, lr: 0.1}\nmodel: [{layer: affine, out: 5}]\n",
     "t.yaml:3:9: error: the model ends with output shape (5), but the data have 3 classes: end with {layer: affine, out: 3}"},
    {"train: {batch: 30}\noptimizer: {name: sgd, lr: 0.1}\n", "train needs either 'epochs' (passes over the data) or "
                                                              "'iterations' (steps in all), not neither"},
    {"train: {epochs: 1, batch: 301}\noptimizer: {name: sgd, lr: 0.1}\n",
     "train.batch is 301 but only 300 training samples are used"},
    {"train: {epochs: 1, batch: 30, shedule: cosine}\noptimizer: {name: sgd, lr: 0.1}\n",
     "unknown key 'shedule' in train (did you mean 'schedule'?)"},
    {"train: {epochs: 1, batch: 30, schedule: {name: stepp}}\noptimizer: {name: sgd, lr: 0.1}\n",
     "unknown schedule 'stepp' (did you mean 'step'?)"},
    {"train: {epochs: 1, batch: 30}\nsteps: 10\noptimizer: {name: sgd, lr: 0.1}\n",
     "steps: is for analytic problems"},
    {"train: {epochs: 1, batch: 30}\noptimizer: {name: sgd, lr: 0.1}\ndata: {dir: /nonexistent}\n",
     "/nonexistent/train-images-idx3-ubyte"},
    {"train: {epochs: 1, batch: 30}\noptimizer: {name: sgd, lr: 0.1}\nmodel: [{layer: affine, out: 3, init: glorot}]\n",
     "affine.init: 'glorot' is not one of he, xavier, std, uniform"},
    {"train: {epochs: 1, batch: 30, clip: {norm: 1, value: 1}}\noptimizer: {name: sgd, lr: 0.1}\n",
     "train.clip takes either norm (clip_grad_norm_) or value (clip_grad_value_), not both"},
    {"train: {epochs: 1, batch: 30, clip: {norm: -1}}\noptimizer: {name: sgd, lr: 0.1}\n",
     "train.clip.norm must be in"},
    {"train: {epochs: 1, batch: 30, clip: {value: 1, norm_type: 2}}\noptimizer: {name: sgd, lr: 0.1}\n",
     "norm_type goes with norm, not value"},
    {"train: {epochs: 1, batch: 30, clip: {nrom: 1}}\noptimizer: {name: sgd, lr: 0.1}\n",
     "unknown key 'nrom' in train.clip (did you mean 'norm'?)"},
    {"train: {epochs: 1, batch: 30, record_loss: later}\noptimizer: {name: sgd, lr: 0.1}\n",
     "train.record_loss is before (the batch's loss as the step computes it, torch's habit) or after"},
    {"train: {epochs: 3, batch: 30, schedule: {name: CosineAnnealingLr, T_max: 3}}\noptimizer: {name: sgd, lr: 0.1}\n",
     "t.yaml:1:48: error: unknown schedule 'CosineAnnealingLr' (did you mean 'CosineAnnealingLR'?)"},
    {"train: {epochs: 3, batch: 30, schedule: {name: MultiStepLR, milestones: [2, 2]}}\noptimizer: {name: sgd, lr: 0.1}\n",
     "t.yaml:1:77: error: MultiStepLR's milestones must increase: 2 comes after 2"},
    {"train: {epochs: 3, batch: 30, schedule: {name: StepLR, step_size: 1, gama: 0.5}}\noptimizer: {name: sgd, lr: 0.1}\n",
     "unknown key 'gama' in StepLR (did you mean 'gamma'?)"},
    {"train: {epochs: 1, batch: 30, activations: {bins: 0}}\noptimizer: {name: sgd, lr: 0.1}\n",
     "train.activations.bins must be"},
    {"train: {epochs: 1, batch: 30, activations: {range: [1, 0]}}\noptimizer: {name: sgd, lr: 0.1}\n",
     "train.activations.range needs low < high, got [1, 0]"},
    {"train: {epochs: 1, batch: 30, eval: {every: 0}}\noptimizer: {name: sgd, lr: 0.1}\n", "train.eval.every must be"},
    {"data: {format: random, shape: [4]}\nmodel: [{layer: sigmoid}]\ntrain: {epochs: 1, batch: 3}\noptimizer: {name: sgd}\n",
     "t.yaml:1:7: error: data of format random needs samples"},
    {"data: {format: random, samples: 9, shape: [4], classes: 4, distribution: gauss}\nmodel: [{layer: sigmoid}]\n"
     "train: {epochs: 1, batch: 3}\noptimizer: {name: sgd}\n",
     "data.distribution is normal (standard) or uniform (on [0, 1)), got 'gauss'"},
    {"data: {format: random, samples: 9, dir: /tmp}\nmodel: [{layer: sigmoid}]\ntrain: {epochs: 1, batch: 3}\n"
     "optimizer: {name: sgd}\n",
     "unknown key 'dir' in data (format: random)"},
    {"train: {epochs: 3, batch: 30, schedule: {name: OneCycleLR, max_lr: 1, cycle_momentum: false, total_steps: 20}}\n"
     "optimizer: {name: sgd, lr: 0.1}\n",
     "OneCycleLR's schedule has 20 steps but is stepped 30 times (after each optimizer step)"},
};
INDEX_PARAMS(train, config_errors, train_errors)

ParameterizedTest(size_t *i, train, config_errors)
{
    const train_error_t *c = &train_errors[*i];
    write_config("t.yaml", c->extra);
    char err[4096], args[1024];
    snprintf(args, sizeof args, "%s -o %s", in_dir("t.yaml"), in_dir("t.h5"));
    int rc = run(args, NULL, 0, err, sizeof err);
    cr_expect(rc == 2 || rc == 1, "exit %d", rc);
    cr_expect(strstr(err, c->expect), "'%s' lacks '%s'", err, c->expect);
    cr_expect_not(exists("t.h5"), "nothing written");
}

Test(train, a_schedule_changes_the_run)
{
    write_config("s.yaml", "train: {epochs: 3, batch: 30, schedule: {name: step, every: 1, gamma: 0.1}}\n"
                           "optimizer: {name: sgd, lr: 0.5}\n");
    write_config("c.yaml", "train: {epochs: 3, batch: 30}\noptimizer: {name: sgd, lr: 0.5}\n");
    run_ok("s.yaml", "s.h5", "");
    run_ok("c.yaml", "c.h5", "");
    size_t n;
    float *a = read_all("s.h5", "train_loss", H5T_NATIVE_FLOAT, 4, &n);
    float *b = read_all("c.h5", "train_loss", H5T_NATIVE_FLOAT, 4, &n);
    cr_expect_eq(memcmp(a, b, 10 * 4), 0, "the first epoch is the same");
    /* step 11 (index 10) is the first at the new rate: the loss after it differs */
    cr_expect_eq(a[10], b[10]);
    cr_expect_neq(a[11], b[11], "the second epoch runs at a tenth of the rate");
    free(a), free(b);
}

/* Issue 18, item 10: a gzip IDX file whose header declares 1.97 GB of
 * images is not inflated by --dry-run (it reads headers and labels); the
 * run itself reads it and says it is truncated. */
Test(train, dry_run_reads_no_images)
{
    gzFile gz = gzopen(in_dir("train-images-idx3-ubyte.gz"), "wb");
    cr_assert(gz);
    const uint8_t head[16] = {0, 0, 8, 3, 0, 0, 0x75, 0x30, 0, 0, 1, 0, 0, 0, 1, 0}; /* 30000 x 256 x 256 */
    gzwrite(gz, head, sizeof head);
    uint8_t zeros[4096] = {0};
    gzwrite(gz, zeros, sizeof zeros);
    gzclose(gz);
    unlink(in_dir("train-images-idx3-ubyte")); /* the plain file would win over the .gz */
    uint8_t *labels = malloc(30000);
    for (size_t i = 0; i < 30000; i++) labels[i] = (uint8_t)(i % 3);
    const uint32_t dims[1] = {30000};
    write_idx("train-labels-idx1-ubyte", labels, dims, 1);
    free(labels);
    uint8_t *test = calloc(10 * 256 * 256, 1), test_labels[10];
    for (size_t i = 0; i < 10; i++) test_labels[i] = (uint8_t)(i % 3);
    const uint32_t test_dims[3] = {10, 256, 256}, test_label_dims[1] = {10};
    write_idx("t10k-images-idx3-ubyte", test, test_dims, 3);
    write_idx("t10k-labels-idx1-ubyte", test_labels, test_label_dims, 1);
    free(test);
    write_config("bomb.yaml", "train: {epochs: 1, batch: 30}\noptimizer: {name: sgd, lr: 0.1}\n"
                              "model: [{layer: affine, out: 3}]\n");
    char args[1024], out[8192], err[4096];
    snprintf(args, sizeof args, "%s --dry-run", in_dir("bomb.yaml"));
    cr_expect_eq(run(args, out, sizeof out, err, sizeof err), 0, "%s", err);
    cr_expect(strstr(out, "30000 train, 0 validation, 10 test, 256 x 256"), "%s", out);
    snprintf(args, sizeof args, "%s -o %s", in_dir("bomb.yaml"), in_dir("bomb.h5"));
    cr_expect_eq(run(args, NULL, 0, err, sizeof err), 2, "%s", err);
    cr_expect(strstr(err, "truncated: the header declares 1966080000 bytes of data"), "%s", err);
    unlink(in_dir("train-images-idx3-ubyte.gz"));
    make_idx_data_set(N_TRAIN, N_TEST); /* the other tests' data back */
}

/* Issue 21, item 3: train.clip as torch.nn.utils.clip_grad_norm_ and
 * clip_grad_value_, and the norm before clipping recorded per step. One
 * cell per file, so every run starts from the same weights and batches. */
Test(train, gradient_clipping)
{
    const char *base = "train: {iterations: 6, batch: 30%s}\noptimizer: {name: sgd, lr: 0.5}\n";
    const char *clips[] = {"", ", clip: {norm: 1e9}", ", clip: {norm: 0.05}", ", clip: {value: 1e-4}",
                           ", clip: {norm: 0.05, norm_type: inf}"};
    const char *files[] = {"c0.h5", "c1.h5", "c2.h5", "c3.h5", "c4.h5"};
    for (size_t i = 0; i < 5; i++) {
        char extra[256], name[32];
        snprintf(extra, sizeof extra, base, clips[i]);
        snprintf(name, sizeof name, "c%zu.yaml", i);
        write_config(name, extra);
        run_ok(name, files[i], "");
    }
    size_t n;
    float *loss[5], *norm[5];
    for (size_t i = 0; i < 5; i++) loss[i] = read_all(files[i], "train_loss", H5T_NATIVE_FLOAT, 4, &n);
    cr_assert_eq(n, 6);
    hid_t f = H5Fopen(in_dir("c0.h5"), H5F_ACC_RDONLY, H5P_DEFAULT);
    cr_expect_eq(H5Lexists(f, "grad_norm", H5P_DEFAULT), 0, "a file without clipping keeps its variables");
    H5Fclose(f);
    for (size_t i = 1; i < 5; i++) norm[i] = read_all(files[i], "grad_norm", H5T_NATIVE_FLOAT, 4, &n);
    cr_expect(memcmp(loss[0], loss[1], 6 * sizeof(float)) == 0, "a clip above the norm changes nothing");
    cr_expect(norm[1][0] > 0.05f && isfinite(norm[1][0]), "the gradient norm %g", norm[1][0]);
    /* the first step's norm is taken before clipping: the same in every L2 run */
    cr_expect_eq(norm[2][0], norm[1][0], "pre-clip norms %g and %g", norm[2][0], norm[1][0]);
    cr_expect_eq(norm[3][0], norm[1][0]);
    cr_expect_lt(norm[4][0], norm[1][0], "the inf-norm (the largest magnitude) is below the L2 norm");
    for (size_t i = 2; i < 5; i++) {
        cr_expect_eq(loss[i][0], loss[0][0], "run %zu: the first loss precedes every step", i);
        cr_expect_neq(loss[i][5], loss[0][5], "run %zu: clipping changed nothing", i);
    }
    char *t = read_string_at("c2.h5", "train_config", 0);
    cr_expect(t && strstr(t, " clip=norm(max=0.05, norm_type=2)"), "%s", t);
    free(t);
    for (size_t i = 0; i < 5; i++) free(loss[i]);
    for (size_t i = 1; i < 5; i++) free(norm[i]);
}

/* Issue 21, item 4: record_loss: after is the batch's loss after the step,
 * the textbook's curve. With the whole training set as one batch, it is
 * the next step's loss before its update (up to summation order). */
Test(train, record_loss_after_the_step)
{
    write_config("before.yaml", "train: {iterations: 5, batch: 300}\noptimizer: {name: sgd, lr: 0.5}\n");
    write_config("after.yaml", "train: {iterations: 5, batch: 300, record_loss: after}\noptimizer: {name: sgd, lr: 0.5}\n");
    run_ok("before.yaml", "before.h5", "");
    run_ok("after.yaml", "after.h5", "");
    size_t n;
    float *before = read_all("before.h5", "train_loss", H5T_NATIVE_FLOAT, 4, &n), *after = read_all("after.h5", "train_loss", H5T_NATIVE_FLOAT, 4, &n);
    cr_assert_eq(n, 5);
    for (size_t t = 0; t + 1 < 5; t++)
        cr_expect_float_eq(after[t], before[t + 1], 1e-5 * fabsf(before[t + 1]), "step %zu: after %.9g, next before %.9g", t,
                           after[t], before[t + 1]);
    cr_expect_lt(after[0], before[0], "the first step lowers the batch's loss");
    char *t = read_string_at("after.h5", "train_config", 0);
    cr_expect(t && strstr(t, " record_loss=after"), "%s", t);
    free(t);
    free(before), free(after);
}

/* Issue 21, item 2: torch's schedulers by name, stepped per epoch or per
 * optimizer step, with the rate of every step recorded as learning_rate
 * (axes..., iteration). 300 samples at batch 30: 10 steps an epoch. */
static float *learning_rates(const char *file, size_t *n)
{
    return read_all(file, "learning_rate", H5T_NATIVE_FLOAT, 4, n);
}

Test(train, torch_schedules_are_stepped_and_recorded)
{
    /* StepLR per epoch: three epochs at 0.5, 0.25, 0.125 (exact in float) */
    write_config("e.yaml", "train: {epochs: 3, batch: 30, schedule: {name: StepLR, step_size: 1, gamma: 0.5}}\n"
                           "optimizer: {name: sgd, lr: 0.5}\n");
    run_ok("e.yaml", "e.h5", "");
    size_t n;
    float *lr = learning_rates("e.h5", &n);
    cr_assert_eq(n, 30);
    for (size_t t = 0; t < 30; t++) cr_expect_eq(lr[t], 0.5f / (float)(1 << (t / 10)), "step %zu: %g", t, lr[t]);
    free(lr);
    /* the same class with interval: step halves after every optimizer step */
    write_config("s.yaml", "train: {epochs: 1, batch: 30, schedule: {name: StepLR, step_size: 1, gamma: 0.5, "
                           "interval: step}}\noptimizer: {name: sgd, lr: 0.5}\n");
    run_ok("s.yaml", "s.h5", "");
    lr = learning_rates("s.h5", &n);
    for (size_t t = 0; t < 10; t++) cr_expect_eq(lr[t], 0.5f / (float)(1 << t), "step %zu: %g", t, lr[t]);
    free(lr);
    /* OneCycleLR (per step by default) over the 30 steps: the schedule
     * module's rates (test_schedule checks them against torch), each step */
    write_config("o.yaml", "train: {epochs: 3, batch: 30, schedule: {name: OneCycleLR, max_lr: 0.4, "
                           "cycle_momentum: false}}\noptimizer: {name: adam, lr: 0.001}\n");
    run_ok("o.yaml", "o.h5", "");
    lr = learning_rates("o.h5", &n);
    arena_t a;
    arena_init(&a);
    node_t *root;
    err_t err = {0};
    const char *spec = "{name: OneCycleLR, max_lr: 0.4, cycle_momentum: false}";
    cr_assert_eq(yaml_load(&a, spec, strlen(spec), "x", &root, &err), ERR_OK);
    const schedule_t *s;
    cr_assert_eq(schedule_parse(&a, root, 10, 30, 3, &s, &err), ERR_OK, "%s", err.msg);
    lr_run_t r;
    schedule_start(&r, s, 0.001, 10, 30);
    for (size_t t = 0; t < 30; t++) {
        cr_expect_eq(lr[t], (float)schedule_lr_now(&r), "step %zu", t);
        schedule_after_step(&r);
    }
    cr_expect_float_eq(lr[0], 0.016f, 1e-6, "max_lr / div_factor first");
    arena_free(&a);
    free(lr);
    /* a file without a schedule keeps its variables */
    write_config("c.yaml", "train: {epochs: 1, batch: 30}\noptimizer: {name: sgd, lr: 0.5}\n");
    run_ok("c.yaml", "c.h5", "");
    hid_t f = H5Fopen(in_dir("c.h5"), H5F_ACC_RDONLY, H5P_DEFAULT);
    cr_expect_eq(H5Lexists(f, "learning_rate", H5P_DEFAULT), 0);
    H5Fclose(f);
}

/* ReduceLROnPlateau follows the validation loss: with patience 0 and a
 * learning rate so small that the loss cannot improve by the threshold
 * (and eps 0: torch ignores cuts smaller than eps, 1e-8 by default),
 * every epoch after the first cuts the rate by the factor. */
Test(train, reduce_on_plateau_follows_the_validation_loss)
{
    char text[1024];
    snprintf(text, sizeof text,
             "data: {dir: %s, validation: 0.2}\n"
             "train: {epochs: 4, batch: 30, schedule: {name: ReduceLROnPlateau, patience: 0, factor: 0.5, "
             "threshold: 0.5, eps: 0}}\noptimizer: {name: sgd, lr: 1.0e-9}\n",
             dir);
    write_config("p.yaml", text);
    run_ok("p.yaml", "p.h5", "");
    size_t n;
    float *lr = learning_rates("p.h5", &n);
    cr_assert_eq(n, 32, "240 training samples: 8 steps an epoch");
    for (size_t t = 0; t < 32; t++) {
        /* epoch 1 sets best (from inf); epochs 2, 3 do not beat it by half */
        float want = t < 16 ? 1e-9f : t < 24 ? 5e-10f : 2.5e-10f;
        cr_expect_eq(lr[t], want, "step %zu: %g", t, lr[t]);
    }
    free(lr);
}

/* Issue 21, item 5: train.eval evaluates every N epochs (and after the
 * last) on the first N training and test samples; training itself is
 * untouched, bit for bit. */
Test(train, eval_every_and_sample_counts)
{
    write_config("a.yaml", "train: {epochs: 4, batch: 30}\noptimizer: {name: sgd, lr: 0.3}\n");
    write_config("e.yaml", "train: {epochs: 4, batch: 30, eval: {every: 2, train_samples: 50, test_samples: 30}}\n"
                           "optimizer: {name: sgd, lr: 0.3}\n");
    run_ok("a.yaml", "a.h5", "");
    run_ok("e.yaml", "e.h5", "");
    size_t n;
    float *la = read_all("a.h5", "train_loss", H5T_NATIVE_FLOAT, 4, &n);
    float *le = read_all("e.h5", "train_loss", H5T_NATIVE_FLOAT, 4, &n);
    cr_expect_eq(memcmp(la, le, n * 4), 0, "evaluation never changes training");
    free(la), free(le);
    float *tr = read_all("e.h5", "train_accuracy", H5T_NATIVE_FLOAT, 4, &n);
    float *te = read_all("e.h5", "test_accuracy", H5T_NATIVE_FLOAT, 4, &n);
    cr_assert_eq(n, 5);
    for (size_t e = 0; e < 5; e++) {
        bool evaluated = e % 2 == 0;
        cr_expect_eq(isnan(te[e]), !evaluated, "epoch %zu: %g", e, te[e]);
        if (!evaluated) continue;
        /* right answers out of 50 and out of 30: whole numbers */
        cr_expect_float_eq(tr[e] * 50, roundf(tr[e] * 50), 1e-3, "epoch %zu: %g of 50", e, tr[e]);
        cr_expect_float_eq(te[e] * 30, roundf(te[e] * 30), 1e-3, "epoch %zu: %g of 30", e, te[e]);
    }
    free(tr), free(te);
}

/* data.validation as a mapping: held out of the samples the cell trains on
 * (here train.limit's 200), shuffled from the seed unless shuffle: false. */
Test(train, validation_held_out_of_the_cells_samples)
{
    char text[1024];
    const char *forms[] = {"{count: 40}", "{count: 40, shuffle: false}", "{fraction: 0.2}"};
    const char *files[] = {"v0.h5", "v1.h5", "v2.h5"};
    for (int i = 0; i < 3; i++) {
        snprintf(text, sizeof text,
                 "data: {dir: %s, validation: %s}\ntrain: {epochs: 2, batch: 20, limit: 200}\n"
                 "optimizer: {name: sgd, lr: 0.3}\n",
                 dir, forms[i]);
        write_config("v.yaml", text);
        run_ok("v.yaml", files[i], "");
    }
    size_t n;
    float *l0 = read_all("v0.h5", "train_loss", H5T_NATIVE_FLOAT, 4, &n);
    cr_expect_eq(n, 16, "160 samples trained on at batch 20: 8 steps an epoch");
    float *v0 = read_all("v0.h5", "validation_accuracy", H5T_NATIVE_FLOAT, 4, &n);
    float *v1 = read_all("v1.h5", "validation_accuracy", H5T_NATIVE_FLOAT, 4, &n);
    float *v2 = read_all("v2.h5", "validation_accuracy", H5T_NATIVE_FLOAT, 4, &n);
    float *l2 = read_all("v2.h5", "train_loss", H5T_NATIVE_FLOAT, 4, &n);
    for (size_t e = 0; e < 3; e++) cr_expect_float_eq(v0[e] * 40, roundf(v0[e] * 40), 1e-3, "out of 40: %g", v0[e]);
    cr_expect_eq(memcmp(v0, v2, 3 * 4), 0, "fraction 0.2 of 200 is count 40");
    cr_expect_eq(memcmp(l0, l2, 16 * 4), 0, "the same split, the same training");
    float *l1 = read_all("v1.h5", "train_loss", H5T_NATIVE_FLOAT, 4, &n);
    cr_expect_neq(memcmp(l0, l1, 16 * 4), 0, "unshuffled: other samples held out");
    float *w0 = read_all("v0.h5", "validation_loss", H5T_NATIVE_FLOAT, 4, &n);
    float *w1 = read_all("v1.h5", "validation_loss", H5T_NATIVE_FLOAT, 4, &n);
    cr_expect_neq(memcmp(w0, w1, 3 * 4), 0, "and other samples validated");
    free(l0), free(l1), free(l2), free(v0), free(v1), free(v2), free(w0), free(w1);
    /* too many held out: an error at the mapping, nothing written */
    snprintf(text, sizeof text,
             "data: {dir: %s, validation: {count: 200}}\ntrain: {epochs: 1, batch: 20, limit: 200}\n"
             "optimizer: {name: sgd, lr: 0.3}\n",
             dir);
    write_config("bad.yaml", text);
    char args[1024], err[4096];
    snprintf(args, sizeof args, "%s -o %s", in_dir("bad.yaml"), in_dir("bad.h5"));
    cr_expect_eq(run(args, NULL, 0, err, sizeof err), 2, "%s", err);
    cr_expect(strstr(err, "bad.yaml:1:") && strstr(err, "data.validation holds out 200 of the 200 samples"), "%s", err);
    cr_expect_not(exists("bad.h5"));
}

/* Issue 21, item 6: data: {format: random} and train.activations. The
 * histogram of a sigmoid over 30 random samples of 4 values, computed here
 * from the same stream (random_data.h: every training value, then the
 * labels), bin by bin; the bins as numpy's (the last one closed). */
Test(train, activation_histograms_of_random_input)
{
    write_file("z.yaml", "data: {format: random, samples: 30, shape: [4], classes: 4, seed: 7}\n"
                         "model: [{layer: sigmoid}]\nloss: softmax_cross_entropy\n"
                         "train: {iterations: 1, batch: 10, activations: {bins: 10, range: [0, 1]}}\n"
                         "optimizer: {name: sgd, lr: 0.1}\n");
    run_ok("z.yaml", "z.h5", "");
    size_t n;
    float *h = read_all("z.h5", "activation_histogram", H5T_NATIVE_FLOAT, 4, &n);
    cr_assert_eq(n, 2 * 1 * 10, "(epoch 0..1, layer, bin)");
    double want[10] = {0};
    runner_rng_t rng = {7};
    for (int i = 0; i < 30 * 4; i++) {
        float x = (float)runner_rng_normal(&rng);
        double s = 1.0 / (1.0 + exp(-(double)x)); /* the sigmoid plugin's value, to float rounding */
        int b = (int)(s * 10);
        want[b < 10 ? b : 9] += 1.0 / 120.0;
    }
    double total = 0;
    for (int b = 0; b < 10; b++) {
        cr_expect_float_eq(h[b], want[b], 1e-6, "bin %d: %g, want %g", b, h[b], want[b]);
        total += h[b];
    }
    cr_expect_float_eq(total, 1.0, 1e-6, "a sigmoid's outputs all fall in [0, 1]");
    free(h);
    /* a range that leaves values out: the fractions sum below 1 */
    write_file("r.yaml", "data: {format: random, samples: 30, shape: [4], classes: 4, seed: 7}\n"
                         "model: [{layer: sigmoid}]\nloss: softmax_cross_entropy\n"
                         "train: {iterations: 1, batch: 10, activations: {bins: 5, range: [0.5, 1]}}\n"
                         "optimizer: {name: sgd, lr: 0.1}\n");
    run_ok("r.yaml", "r.h5", "");
    h = read_all("r.h5", "activation_histogram", H5T_NATIVE_FLOAT, 4, &n);
    total = 0;
    for (int b = 0; b < 5; b++) total += h[b];
    cr_expect(total > 0.3 && total < 0.7, "about half the outputs are above 0.5: %g", total);
    free(h);
    /* a file without the option keeps its variables */
    write_config("c.yaml", "train: {epochs: 1, batch: 30}\noptimizer: {name: sgd, lr: 0.5}\n");
    run_ok("c.yaml", "c.h5", "");
    hid_t f = H5Fopen(in_dir("c.h5"), H5F_ACC_RDONLY, H5P_DEFAULT);
    cr_expect_eq(H5Lexists(f, "activation_histogram", H5P_DEFAULT), 0);
    H5Fclose(f);
}

/* Issue 20, item 1: with a validation split, `runner report` shows the
 * validation numbers and picks "best" on validation accuracy, saying so;
 * --metric picks another; a metric the file lacks is a usage error. */
Test(train, report_chooses_on_validation)
{
    char text[1024];
    snprintf(text, sizeof text,
             "data: {dir: %s, validation: {count: 60}}\ntrain: {epochs: 2, batch: 30}\n"
             "optimizer: {name: sgd, lr: 0.1}\ngrid: {optimizer.lr: [0.001, 0.3]}\n",
             dir);
    write_config("v.yaml", text);
    run_ok("v.yaml", "v.h5", "");
    char args[1024], out[16384], err[4096];
    snprintf(args, sizeof args, "report %s", in_dir("v.h5"));
    cr_assert_eq(run(args, out, sizeof out, err, sizeof err), 0, "%s", err);
    cr_expect(strstr(out, "final val acc  best val acc  final val loss"), "%s", out);
    cr_expect(strstr(out, "best: optimizer.lr=") && strstr(out, ", final validation accuracy "), "%s", out);
    snprintf(args, sizeof args, "report %s --metric final_validation_loss", in_dir("v.h5"));
    cr_assert_eq(run(args, out, sizeof out, err, sizeof err), 0, "%s", err);
    cr_expect(strstr(out, ", final validation loss "), "%s", out);
    snprintf(args, sizeof args, "report %s --csv", in_dir("v.h5"));
    cr_assert_eq(run(args, out, sizeof out, err, sizeof err), 0, "%s", err);
    cr_expect(strstr(out, ",final_validation_accuracy,final_validation_accuracy_std,best_validation_accuracy,"), "%s", out);
    snprintf(args, sizeof args, "report %s --metric final_validaton_loss", in_dir("v.h5"));
    cr_expect_eq(run(args, out, sizeof out, err, sizeof err), 2);
    cr_expect(strstr(err, "did you mean 'final_validation_loss'"), "%s", err);
    /* without a split: test accuracy, as before; validation metrics refused */
    write_config("t.yaml", "train: {epochs: 1, batch: 30}\noptimizer: {name: sgd, lr: 0.1}\n");
    run_ok("t.yaml", "t.h5", "");
    snprintf(args, sizeof args, "report %s --metric best_validation_accuracy", in_dir("t.h5"));
    cr_expect_eq(run(args, out, sizeof out, err, sizeof err), 2);
    cr_expect(strstr(err, "has no validation results"), "%s", err);
    snprintf(args, sizeof args, "report %s", in_dir("t.h5"));
    cr_assert_eq(run(args, out, sizeof out, err, sizeof err), 0, "%s", err);
    cr_expect(strstr(out, "final test accuracy") && !strstr(out, "val acc"), "%s", out);
}

/* Issue 20, item 1: with weight decay, train_loss holds the L2 term and
 * train_data_loss the data loss alone; their difference is 0.5 wd |w|^2 of
 * the weights the step saw, so it is 0 for a cell without decay, and the
 * variable exists only when some cell decays. */
Test(train, the_data_loss_is_recorded_without_the_l2_term)
{
    write_file("wd.yaml", "data: {format: random, samples: 40, shape: [6], classes: 3, seed: 2}\n"
                          "model: [{layer: affine, out: 3, init: std, scale: 0.5}]\nloss: softmax_cross_entropy\n"
                          "train: {iterations: 4, batch: 10}\noptimizer: {name: sgd, lr: 0.1}\n"
                          "grid: {train.weight_decay: [0.0, 0.5]}\n");
    run_ok("wd.yaml", "wd.h5", "");
    size_t n, m;
    float *total = read_all("wd.h5", "train_loss", H5T_NATIVE_FLOAT, 4, &n);
    float *data = read_all("wd.h5", "train_data_loss", H5T_NATIVE_FLOAT, 4, &m);
    cr_assert_eq(n, 2 * 4);
    cr_assert_eq(m, n);
    for (size_t t = 0; t < 4; t++) {
        cr_expect_eq(total[t], data[t], "no decay: one loss (step %zu)", t);
        /* |w|^2 of 6 x 3 weights of std 0.5 and 3 zero biases: ~4.5, so the term is ~1 */
        cr_expect(total[4 + t] - data[4 + t] > 0.2f && total[4 + t] - data[4 + t] < 5.0f,
                  "decay 0.5: the L2 term at step %zu is %g", t, total[4 + t] - data[4 + t]);
    }
    free(total), free(data);
    /* without any decay the file has no train_data_loss */
    write_file("nowd.yaml", "data: {format: random, samples: 40, shape: [6], classes: 3, seed: 2}\n"
                            "model: [{layer: affine, out: 3}]\nloss: softmax_cross_entropy\n"
                            "train: {iterations: 2, batch: 10}\noptimizer: {name: sgd, lr: 0.1}\n");
    run_ok("nowd.yaml", "nowd.h5", "");
    hid_t f = H5Fopen(in_dir("nowd.h5"), H5F_ACC_RDONLY, H5P_DEFAULT);
    cr_expect_eq(H5Lexists(f, "train_data_loss", H5P_DEFAULT), 0);
    H5Fclose(f);
}
