/* test_check.c: `runner check PLUGIN.so` end to end: every bundled plugin
 * passes its self-test; each way of failing it (tests/fixtures/plugins/
 * bad_selftest.c) is caught and named; a file the runner would refuse gets
 * a FAIL verdict with the reason. `runner check CONFIG`: a network's
 * gradient check (the shipped configs pass it in test_mnist). */
#include <dirent.h>
#include <zlib.h>

#include "e2e_helpers.h"
#include "idx_fixture.h"

static void setup(void) { e2e_make_dir("check"); }
static void teardown(void) { e2e_remove_dir(); }
TestSuite(check, .init = setup, .fini = teardown);

static char out[65536], errtxt[4096];

static int check(const char *file)
{
    char args[2048];
    snprintf(args, sizeof args, "check %s", file);
    return run(args, out, sizeof out, errtxt, sizeof errtxt);
}

Test(check, every_bundled_plugin_passes)
{
    DIR *d = opendir(RUNNER_BUILD_DIR "/plugins");
    cr_assert(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 3, ".so")) continue;
        char file[1024];
        snprintf(file, sizeof file, "%s/plugins/%s", RUNNER_BUILD_DIR, e->d_name);
        cr_expect_eq(check(file), 0, "%s:\n%s%s", e->d_name, out, errtxt);
        cr_expect(strstr(out, "verdict: PASS ("), "%s", out);
        cr_expect(!strstr(out, "FAIL"), "%s", out);
        n++;
    }
    closedir(d);
    cr_expect_geq(n, 12);
}

Test(check, what_each_kind_of_plugin_is_put_through)
{
    cr_assert_eq(check(RUNNER_BUILD_DIR "/plugins/sgd.so"), 0, "%s", errtxt);
    cr_expect(strstr(out, "sgd 1.0.0 (optimizer, plugin ABI 1.5): descriptor and schema valid, 6 parameters"), "%s", out);
    cr_expect(strstr(out, "required parameters, given for the test: lr=0.01"), "%s", out);
    cr_expect(strstr(out, "ok: 37 parameters, 300 steps: loss 23.12 -> "), "%s", out);
    cr_expect(strstr(out, "finite, same bits after a second init and stepped in ranges\n"), "%s", out);
    cr_assert_eq(check(RUNNER_BUILD_DIR "/plugins/conv2d.so"), 0, "%s", errtxt);
    cr_expect(strstr(out, "skipped: input (9) refused (it needs images"), "%s", out);
    cr_expect(strstr(out, "ok: input (2, 7, 6), batch 3: 84 inputs -> 80 outputs, 76 parameters"), "%s", out);
    cr_assert_eq(check(RUNNER_BUILD_DIR "/plugins/losses.so"), 0, "%s", errtxt);
    cr_expect(strstr(out, "dx matches central differences"), "%s", out);
}

/* The ABI rule end to end: a layer whose descriptor ends before its last
 * field (tests/fixtures/plugins/older_layout.c) loads and passes the whole
 * self-test, gradients included; an optimizer of ABI 1.0 too. */
Test(check, plugins_of_older_layouts_pass)
{
    cr_assert_eq(check(RUNNER_BROKEN_DIR "/older_layout.so"), 0, "%s%s", out, errtxt);
    cr_expect(strstr(out, "older_layout 1 (layer, plugin ABI 1.1): descriptor and schema valid"), "%s", out);
    cr_expect(strstr(out, "verdict: PASS ("), "%s", out);
    cr_assert_eq(check(RUNNER_BROKEN_DIR "/abi_1_0.so"), 0, "%s%s", out, errtxt);
    cr_expect(strstr(out, "abi_1_0 1 (optimizer, plugin ABI 1.0): descriptor and schema valid"), "%s", out);
    cr_expect(strstr(out, "verdict: PASS ("), "%s", out);
}

/* A plugin asking for SIZE_MAX - 10 bytes of state (issue 18, item 9): an
 * alignment round-up used to wrap it to a tiny buffer (the old runner died
 * of SIGSEGV). Sizes from plugins saturate: runner check fails cleanly and a
 * sweep is refused by the memory guard, exit 2. */
Test(check, an_absurd_state_size_is_refused_not_overrun)
{
    cr_expect_eq(check(RUNNER_BROKEN_DIR "/huge_state.so"), 1, "%s%s", out, errtxt);
    cr_expect(strstr(out, "FAIL: convex quadratic of 1 parameter: state_bytes(1) asks for 18446744073709551605 bytes"),
              "%s", out);
    write_file("huge.yaml", "steps: 5\nproblem: {objective: elliptic, start: [-7, 2]}\n"
                            "optimizer: {name: huge_state, lr: 0.1}\n");
    char args[1024];
    snprintf(args, sizeof args, "--plugin-path %s %s -o %s", RUNNER_BROKEN_DIR, in_dir("huge.yaml"), in_dir("huge.h5"));
    cr_expect_eq(run(args, out, sizeof out, errtxt, sizeof errtxt), 2, "%s", errtxt);
    cr_expect(strstr(errtxt, "the sweep's buffers would take"), "%s", errtxt);
    cr_expect(!exists("huge.h5"));
}

Test(check, each_self_test_failure_is_named)
{
    cr_assert_eq(check(RUNNER_BROKEN_DIR "/bad_selftest.so"), 1, "%s%s", out, errtxt);
    cr_expect(strstr(out, "ascent 1 (optimizer, plugin ABI 1.5): descriptor and schema valid, 1 parameter\n"
                          "  FAIL: convex quadratic of 1 parameter: the loss did not decrease"), "%s", out);
    cr_expect(strstr(out, "a second run after init gave other numbers (init does not reset the state)"), "%s", out);
    cr_expect(strstr(out, "step wrote past the 4 bytes of state_bytes(1)"), "%s", out);
    cr_expect(strstr(out, "FAIL: input (9), batch 3: dx[0]: backward gives"), "%s", out);
    cr_expect(strstr(out, "FAIL: input (9), batch 3: per sample (RUNNER_LAYER_PER_SAMPLE): y[0] is "), "%s", out);
    cr_expect(strstr(out, "for the batch but 0 sample by sample"), "%s", out);
    /* one parameter is one range: the first size to show it is 10 */
    cr_expect(strstr(out, "range_dependent 1 (optimizer, plugin ABI 1.5): descriptor and schema valid, 1 parameter\n"
                          "  ok: 1 parameter, 300 steps: "), "%s", out);
    cr_expect(strstr(out, "  FAIL: convex quadratic of 10 parameters: its elementwise step (begin, then apply over "
                          "ranges) gave other numbers than step"), "%s", out);
    cr_expect(strstr(out, "verdict: FAIL (6 of 6 plugins in "), "%s", out);

    cr_expect_eq(check(RUNNER_BROKEN_DIR "/failing_step.so"), 1);
    cr_expect(strstr(out, "step 3 failed: step 3 fails on purpose"), "%s", out);
}

Test(check, refused_files_and_usage)
{
    cr_expect_eq(check(RUNNER_BROKEN_DIR "/bad_magic.so"), 1);
    cr_expect(strstr(out, "refused: plugin refused: bad magic"), "%s", out);
    cr_expect(strstr(out, "verdict: FAIL (the runner would not load this file)"), "%s", out);
    cr_expect_eq(check(RUNNER_BROKEN_DIR "/not_elf.so"), 1);
    cr_expect(strstr(out, "verdict: FAIL"), "%s", out);
    cr_expect_eq(check(in_dir("missing.so")), 2);
    cr_expect(strstr(errtxt, "missing.so: error: no such plugin file"), "%s", errtxt);
    cr_expect_eq(run("check", out, sizeof out, errtxt, sizeof errtxt), 2);
    cr_expect(strstr(errtxt, "check needs one plugin file"), "%s", errtxt);
}

/* Issue 21, item 7: runner check CONFIG, on a small data set of the test's
 * own: a layer whose backward pass doubles its bias gradient is caught and
 * named, with the numbers; the same network with the right layer passes;
 * a config without a network, and a config error, are refused. */
Test(check, config_gradient_check_catches_a_wrong_backward_pass)
{
    make_idx_data_set(60, 20);
    char text[1024], args[1024];
    const char *layers[] = {"wrong_backward", "affine"};
    for (int i = 0; i < 2; i++) {
        snprintf(text, sizeof text,
                 "data: {dir: %s}\nmodel: [{layer: %s, out: 6}, {layer: tanh}, {layer: affine, out: 3}]\n"
                 "loss: softmax_cross_entropy\ntrain: {epochs: 1, batch: 10}\noptimizer: {name: sgd, lr: 0.1}\n",
                 dir, layers[i]);
        write_file("n.yaml", text);
        snprintf(args, sizeof args, "--plugin-path %s check %s", RUNNER_BROKEN_DIR, in_dir("n.yaml"));
        int rc = run(args, out, sizeof out, errtxt, sizeof errtxt);
        if (i == 0) {
            cr_expect_eq(rc, 1, "%s%s", out, errtxt);
            cr_expect(strstr(out, "wrong_backward") && strstr(out, "FAIL (parameter"), "%s", out);
            cr_expect(strstr(out, "verdict: FAIL (1 layer"), "%s", out);
            /* the worst parameter is a bias: analytic twice the numeric */
            const char *a = strstr(out, "analytic "), *n = strstr(out, "numeric ");
            cr_assert(a && n, "%s", out);
            double va = strtod(a + 9, NULL), vn = strtod(n + 8, NULL);
            cr_expect_float_eq(va / vn, 2.0, 0.05, "%s", out);
        } else {
            cr_expect_eq(rc, 0, "%s%s", out, errtxt);
            cr_expect(strstr(out, "verdict: PASS (1 model"), "%s", out);
            cr_expect(strstr(out, "(no parameters: checked through the layers before it)"), "%s", out);
        }
    }
    write_file("a.yaml", "steps: 5\nproblem: {objective: parabola, start: [3.0]}\noptimizer: {name: sgd, lr: 0.1}\n");
    snprintf(args, sizeof args, "check %s", in_dir("a.yaml"));
    cr_expect_eq(run(args, out, sizeof out, errtxt, sizeof errtxt), 2);
    cr_expect(strstr(errtxt, "no network to check"), "%s", errtxt);
    snprintf(text, sizeof text, "data: {dir: %s}\nmodel: [{layer: afine, out: 3}]\ntrain: {epochs: 1, batch: 10}\n"
                                "optimizer: {name: sgd, lr: 0.1}\n", dir);
    write_file("b.yaml", text);
    snprintf(args, sizeof args, "check %s", in_dir("b.yaml"));
    cr_expect_eq(run(args, out, sizeof out, errtxt, sizeof errtxt), 2);
    cr_expect(strstr(errtxt, "b.yaml:2:") && strstr(errtxt, "afine"), "%s", errtxt);
    snprintf(args, sizeof args, "check %s --samples 0", in_dir("n.yaml"));
    cr_expect_eq(run(args, out, sizeof out, errtxt, sizeof errtxt), 2);
    cr_expect(strstr(errtxt, "--samples needs a number"), "%s", errtxt);
}
