/*
 * test_record.c: the results file is the experiment (issue 17). --resume
 * and `runner FILE.h5` refuse, saying what differs, a config that computes
 * other cells, a rebuilt plugin and replaced data; a file reruns without
 * its config; it names its provenance (check_rerun.py compares reruns of
 * every shipped config bit for bit).
 */
#include <hdf5.h>
#include <sys/stat.h>

#include "e2e_helpers.h"
#include "idx_fixture.h"

static void setup(void) { e2e_make_dir("record"); }
static void teardown(void) { e2e_remove_dir(); }
TestSuite(record, .init = setup, .fini = teardown, .timeout = 300);

static void append_byte(const char *path)
{
    FILE *f = fopen(path, "ab");
    cr_assert(f);
    fputc(0, f);
    fclose(f);
}

/* The case: a run's momentum changed between the run and --resume. */
Test(record, resume_names_the_cell_and_key_that_differ)
{
    const char *cfg = "steps: 5\nproblem: {objective: parabola, start: [3.0]}\noptimizer: {name: sgd, lr: 0.1}\n"
                      "runs:\n  - {label: plain}\n  - {label: heavy, optimizer: {momentum: 0.9}}\n";
    write_file("r.yaml", cfg);
    char args[1024], err[4096];
    snprintf(args, sizeof args, "%s -o %s --quiet", in_dir("r.yaml"), in_dir("r.h5"));
    cr_assert_eq(run(args, NULL, 0, err, sizeof err), 0, "%s", err);
    char *edited = strdup(cfg);
    memcpy(strstr(edited, "0.9}"), "0.8}", 4);
    write_file("r.yaml", edited);
    free(edited);
    snprintf(args, sizeof args, "%s -o %s --resume", in_dir("r.yaml"), in_dir("r.h5"));
    cr_expect_eq(run(args, NULL, 0, err, sizeof err), 2);
    cr_expect(strstr(err, "cannot be resumed with this experiment: cell 1 (run=heavy) computes differently: "
                          "optimizer_config 'momentum=0.9' in the file, 'momentum=0.8' now"),
              "%s", err);
    /* a comment, or another description, computes the same cells: accepted */
    write_file("r.yaml", "# the same experiment\ndescription: reworded\n");
    FILE *f = fopen(in_dir("r.yaml"), "a");
    fputs(cfg, f);
    fclose(f);
    cr_expect_eq(run(args, NULL, 0, err, sizeof err), 0, "%s", err);
}

/* A plugin rebuilt with the same name and version, other bytes. */
Test(record, a_rebuilt_plugin_is_refused_by_resume_and_rerun)
{
    mkdir(in_dir("plugins"), 0755);
    char args[2048], err[4096];
    snprintf(args, sizeof args, "cp %s/abi_1_0.so %s", RUNNER_BROKEN_DIR, in_dir("plugins/abi_1_0.so"));
    cr_assert_eq(system(args), 0);
    write_file("p.yaml", "steps: 5\nproblem: {objective: parabola, start: [3.0]}\noptimizer: {name: abi_1_0, lr: 0.1}\n");
    const char *plugins = in_dir("plugins");
    snprintf(args, sizeof args, "--plugin-path %s %s -o %s --quiet", plugins, in_dir("p.yaml"), in_dir("p.h5"));
    cr_assert_eq(run(args, NULL, 0, err, sizeof err), 0, "%s", err);
    /* the file names it by content, in sha256sum's form */
    char *lines = root_attr("p.h5", "plugin_files");
    snprintf(args, sizeof args, "cd / && printf '%%s' '%s' | sha256sum -c --quiet", lines);
    cr_expect_eq(system(args), 0, "sha256sum -c disagrees with plugin_files: %s", lines);
    free(lines);

    append_byte(in_dir("plugins/abi_1_0.so"));
    snprintf(args, sizeof args, "--plugin-path %s %s -o %s --resume", in_dir("plugins"), in_dir("p.yaml"), in_dir("p.h5"));
    cr_expect_eq(run(args, NULL, 0, err, sizeof err), 2);
    cr_expect(strstr(err, "cannot be resumed with this experiment: plugin file ") && strstr(err, "abi_1_0.so has other contents"),
              "%s", err);
    snprintf(args, sizeof args, "--plugin-path %s %s -o %s", in_dir("plugins"), in_dir("p.h5"), in_dir("q.h5"));
    cr_expect_eq(run(args, NULL, 0, err, sizeof err), 2);
    cr_expect(strstr(err, "cannot rerun the experiment as recorded: plugin file ") && strstr(err, "has other contents"),
              "%s", err);
    cr_expect(!exists("q.h5"));
}

/* A data file replaced after the run. */
Test(record, replaced_data_is_refused_by_resume_and_rerun)
{
    make_idx_data_set(90, 30);
    char cfg[1024], args[2048], err[4096];
    snprintf(cfg, sizeof cfg,
             "data: {dir: %s}\nmodel: [{layer: affine, out: 3}]\nloss: softmax_cross_entropy\n"
             "train: {epochs: 1, batch: 30}\noptimizer: {name: sgd, lr: 0.1}\n", dir);
    write_file("t.yaml", cfg);
    snprintf(args, sizeof args, "%s -o %s --quiet", in_dir("t.yaml"), in_dir("t.h5"));
    cr_assert_eq(run(args, NULL, 0, err, sizeof err), 0, "%s", err);
    char *files = root_attr("t.h5", "data_files");
    cr_expect(strstr(files, "train-images-idx3-ubyte\n") && strstr(files, "t10k-labels-idx1-ubyte\n"), "%s", files);
    free(files);

    make_split("train-images-idx3-ubyte", "train-labels-idx1-ubyte", 90, 7); /* other pixels, same shapes */
    snprintf(args, sizeof args, "%s -o %s --resume", in_dir("t.yaml"), in_dir("t.h5"));
    cr_expect_eq(run(args, NULL, 0, err, sizeof err), 2);
    cr_expect(strstr(err, "data file ") && strstr(err, "train-images-idx3-ubyte has other contents"), "%s", err);
    snprintf(args, sizeof args, "%s -o %s", in_dir("t.h5"), in_dir("u.h5"));
    cr_expect_eq(run(args, NULL, 0, err, sizeof err), 2);
    cr_expect(strstr(err, "cannot rerun the experiment as recorded: data file "), "%s", err);
}

Test(record, a_file_reruns_without_its_config)
{
    write_file("s.yaml", "steps: 20\nproblem: {objective: elliptic, start: [-7, 2]}\noptimizer: {name: adam, lr: 0.1}\n"
                         "grid: {optimizer.lr: {logspace: [-2, 0, 3]}}\n");
    char args[1024], err[4096];
    snprintf(args, sizeof args, "%s -o %s --quiet", in_dir("s.yaml"), in_dir("s.h5"));
    cr_assert_eq(run(args, NULL, 0, err, sizeof err), 0, "%s", err);
    unlink(in_dir("s.yaml"));
    /* over itself only when asked */
    snprintf(args, sizeof args, "%s", in_dir("s.h5"));
    cr_expect_eq(run(args, NULL, 0, err, sizeof err), 2);
    cr_expect(strstr(err, "s.h5: error: output file exists; use --resume"), "%s", err);
    snprintf(args, sizeof args, "%s --resume --quiet", in_dir("s.h5"));
    cr_expect_eq(run(args, NULL, 0, err, sizeof err), 0, "%s", err);
    snprintf(args, sizeof args, "%s -o %s --quiet", in_dir("s.h5"), in_dir("again.h5"));
    cr_expect_eq(run(args, NULL, 0, err, sizeof err), 0, "%s", err);
    size_t n, m;
    float *a = read_all("s.h5", "loss", H5T_NATIVE_FLOAT, 4, &n), *b = read_all("again.h5", "loss", H5T_NATIVE_FLOAT, 4, &m);
    cr_assert_eq(n, m);
    cr_expect(memcmp(a, b, n * sizeof *a) == 0, "the rerun differs");
    free(a), free(b);
    char *resolved = root_attr("again.h5", "resolved_config");
    cr_expect(strstr(resolved, "again.h5"), "the rerun's record names its own output: %s", resolved);
    free(resolved);
    /* a variation: --set changes cells, the files are still checked */
    snprintf(args, sizeof args, "%s -o %s --quiet --set steps=5", in_dir("s.h5"), in_dir("short.h5"));
    cr_expect_eq(run(args, NULL, 0, err, sizeof err), 0, "%s", err);
    int32_t *steps = read_all("short.h5", "cell_steps", H5T_NATIVE_INT32, 4, &n);
    cr_expect_eq(steps[0], 5);
    free(steps);
}

Test(record, provenance_attributes_and_report_block)
{
    write_file("v.yaml", "steps: 5\nproblem: {objective: parabola, start: [3.0]}\noptimizer: {name: sgd, lr: 0.1}\n");
    char args[1024], err[4096], out[8192];
    snprintf(args, sizeof args, "%s -o %s --quiet -j 2", in_dir("v.yaml"), in_dir("v.h5"));
    cr_assert_eq(run(args, NULL, 0, err, sizeof err), 0, "%s", err);
    static const char *const present[] = {"runner_git_commit", "compiler", "compile_flags", "build_type", "host",
                                          "cpu_model", "os", "kernel", "hdf5_version", "created"};
    for (size_t i = 0; i < sizeof present / sizeof present[0]; i++) {
        char *v = root_attr("v.h5", present[i]);
        cr_expect(v[0] && strcmp(v, "unknown"), "%s is '%s'", present[i], v);
        free(v);
    }
    char *v = root_attr("v.h5", "threads");
    cr_expect_str_eq(v, "2");
    free(v);
    v = root_attr("v.h5", "mpi_ranks");
    cr_expect_str_eq(v, "1");
    free(v);
    v = root_attr("v.h5", "cpu_cores");
    cr_expect_gt(atoi(v), 0);
    free(v);
    v = root_attr("v.h5", "matrix_kernels");
    cr_expect(!strcmp(v, "avx2") || !strcmp(v, "avx512") || !strcmp(v, "portable"), "%s", v); /* runner/kernels */
    free(v);
    size_t n;
    double *end = read_all("v.h5", "end_time", H5T_NATIVE_DOUBLE, 8, &n);
    cr_expect(end[0] > 1.7e9 && end[0] < 4e9, "end_time %f", end[0]);
    free(end);
    snprintf(args, sizeof args, "report %s --provenance", in_dir("v.h5"));
    cr_assert_eq(run(args, out, sizeof out, err, sizeof err), 0, "%s", err);
    cr_expect(strstr(out, "provenance of ") && strstr(out, "sgd.so") && strstr(out, "2 threads, 1 MPI ranks") &&
                  strstr(out, "fingerprint: sha256:") && strstr(out, "1 ok"),
              "%s", out);
}
