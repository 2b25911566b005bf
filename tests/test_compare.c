/* test_compare.c: `runner compare` (issue 20, item 3; results/compare.h) on
 * problems whose performance profile is counted by hand, and its errors. */
#include <math.h>

#include "e2e_helpers.h"

static void setup(void) { e2e_make_dir("compare"); }
static void teardown(void) { e2e_remove_dir(); }
TestSuite(compare, .init = setup, .fini = teardown, .timeout = 120);

/* SGD on f = x^2 multiplies x by 1 - 2 lr a step, the loss by its square:
 * lr 0.25 by 1/4, lr 0.375 by 1/16, lr 0.95 by 0.81. To a loss of 1e-4:
 *   from x = 1 (50 steps):  A 7 (4^-7 = 6.1e-5), B 4, C 44 (0.81^44 = 9.5e-5)
 *   from x = 10 (20 steps): A 10, B 5, C never
 * ratios to the fastest (B): A 1.75 and 2, C 11 and inf. So rho at 1, 2,
 * 4, 8, 16: A 0 1 1 1 1, B 1 1 1 1 1, C 0 0 0 0 0.5; areas over [1, 16]:
 * A (14.25 + 14) / 30, B 1, C 5 / 30; over [1, 11], A (9.25 + 9) / 20 and C 0
 * (its ratio 11 is at the end). */
static void problem(const char *name, const char *start, int steps)
{
    char text[1024], yaml[64], h5[64], args[1024], err[4096];
    snprintf(text, sizeof text,
             "name: %s\nsteps: %d\nproblem: {objective: parabola, start: [%s]}\n"
             "runs: [{label: A, optimizer: {name: sgd, lr: 0.25}}, {label: B, optimizer: {name: sgd, lr: 0.375}},\n"
             "       {label: C, optimizer: {name: sgd, lr: 0.95}}]\n",
             name, steps, start);
    snprintf(yaml, sizeof yaml, "%s.yaml", name);
    snprintf(h5, sizeof h5, "%s.h5", name);
    write_file(yaml, text);
    snprintf(args, sizeof args, "%s -o %s --quiet", in_dir(yaml), in_dir(h5));
    cr_assert_eq(run(args, NULL, 0, err, sizeof err), 0, "%s", err);
}

Test(compare, profiles_counted_by_hand)
{
    problem("near", "1.0", 50);
    problem("far", "10.0", 20);
    char args[1024], out[8192], err[4096];
    snprintf(args, sizeof args, "compare %s %s --tol 1e-4 --csv", in_dir("near.h5"), in_dir("far.h5"));
    cr_assert_eq(run(args, out, sizeof out, err, sizeof err), 0, "%s", err);
    cr_expect_str_eq(out, "setting,solved,rho_1,rho_2,rho_4,rho_8,rho_16,area,cost_near,cost_far\n"
                          "run=A,2,0,1,1,1,1,0.941666667,7,10\n"
                          "run=B,2,1,1,1,1,1,1,4,5\n"
                          "run=C,1,0,0,0,0,0.5,0.166666667,44,\n");
    snprintf(args, sizeof args, "compare %s %s --tol 1e-4 --tau 1,1.8,11", in_dir("near.h5"), in_dir("far.h5"));
    cr_assert_eq(run(args, out, sizeof out, err, sizeof err), 0, "%s", err);
    cr_expect(strstr(out, "2 problems, 3 settings; cost: steps until the loss is at most 0.0001"), "%s", out);
    cr_expect(strstr(out, "setting  solved        near         far   rho(1)  rho(1.8)  rho(11)  area\n"), "%s", out);
    cr_expect(strstr(out, "run=A       2/2           7          10    0.000    0.500    1.000  0.913\n"), "%s", out);
    cr_expect(strstr(out, "run=C       1/2          44           -    0.000    0.000    0.500  0.000\n"), "%s", out);
}

Test(compare, bad_usage_is_exit_2)
{
    problem("near", "1.0", 50);
    char args[1024], out[4096], err[4096];
    const struct {
        const char *extra, *msg;
    } bad[] = {
        {"--tau 2,1", "--tau values must increase, got 1 after 2"},
        {"--tau 0.5", "--tau takes numbers >= 1"},
        {"--target-accuracy 2", "--target-accuracy needs a number in (0, 1]"},
        {"--tol x", "--tol needs a finite number"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(args, sizeof args, "compare %s %s", in_dir("near.h5"), bad[i].extra);
        cr_expect_eq(run(args, out, sizeof out, err, sizeof err), 2, "%s", bad[i].extra);
        cr_expect(strstr(err, bad[i].msg), "%s: %s", bad[i].extra, err);
    }
    cr_expect_eq(run("compare", out, sizeof out, err, sizeof err), 2);
    cr_expect(strstr(err, "compare needs results files, one per problem"), "%s", err);
    snprintf(args, sizeof args, "compare %s %s", in_dir("near.h5"), in_dir("missing.h5"));
    cr_expect_eq(run(args, out, sizeof out, err, sizeof err), 2, "%s", err);
}

/* Training files: epochs until the test accuracy reaches --target-accuracy;
 * without a target (or --tol) they are a usage error, not compared by the
 * analytic default. */
Test(compare, training_files_by_a_target_accuracy)
{
    char text[1024], args[1024], out[8192], err[4096];
    for (int p = 0; p < 2; p++) {
        snprintf(text, sizeof text,
                 "name: data%d\ndata: {format: random, samples: 60, test_samples: 20, shape: [4], classes: 2, seed: %d}\n"
                 "model: [{layer: affine, out: 2}]\nloss: softmax_cross_entropy\ntrain: {epochs: 3, batch: 10}\n"
                 "runs: [{label: slow, optimizer: {name: sgd, lr: 0.01}}, {label: fast, optimizer: {name: sgd, lr: 0.5}}]\n",
                 p, p + 1);
        char yaml[32], h5[32];
        snprintf(yaml, sizeof yaml, "d%d.yaml", p);
        snprintf(h5, sizeof h5, "d%d.h5", p);
        write_file(yaml, text);
        snprintf(args, sizeof args, "%s -o %s --quiet", in_dir(yaml), in_dir(h5));
        cr_assert_eq(run(args, NULL, 0, err, sizeof err), 0, "%s", err);
    }
    snprintf(args, sizeof args, "compare %s %s --target-accuracy 0.01", in_dir("d0.h5"), in_dir("d1.h5"));
    cr_assert_eq(run(args, out, sizeof out, err, sizeof err), 0, "%s", err);
    cr_expect(strstr(out, "2 problems, 2 settings; cost: epochs until the test accuracy is at least 0.01"), "%s", out);
    /* any accuracy is at least 0.01 before training: epoch 0 for both, ratio 1 */
    cr_expect(strstr(out, "run=slow     2/2"), "%s", out);
    snprintf(args, sizeof args, "compare %s %s", in_dir("d0.h5"), in_dir("d1.h5"));
    cr_expect_eq(run(args, out, sizeof out, err, sizeof err), 2);
    cr_expect(strstr(err, "give --target-accuracy A (test accuracy) or --tol T (training loss)"), "%s", err);
    /* one analytic file among training ones: a usage error */
    write_file("a.yaml", "steps: 3\nproblem: {objective: parabola, start: [1]}\noptimizer: {name: sgd, lr: 0.1}\n");
    snprintf(args, sizeof args, "%s -o %s --quiet", in_dir("a.yaml"), in_dir("a.h5"));
    cr_assert_eq(run(args, NULL, 0, err, sizeof err), 0, "%s", err);
    snprintf(args, sizeof args, "compare %s %s --target-accuracy 0.5", in_dir("d0.h5"), in_dir("a.h5"));
    cr_expect_eq(run(args, out, sizeof out, err, sizeof err), 2);
    cr_expect(strstr(err, "holds analytic cells"), "%s", err);
}
