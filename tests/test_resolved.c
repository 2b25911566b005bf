/* test_resolved.c: the resolved config a results file stores is the
 * experiment itself: loaded back, it computes the same cells (same
 * fingerprint: every cell's seed, steps and records, the axes, the plugins
 * and data files), and resolving it again changes nothing (issue 17). */
#include "config/fingerprint.h"
#include "helpers.h"
#include "shipped_configs.h"
#include "version.h"

static registry_t reg;
static void setup(void) { load_build_plugins(&reg); }
static void teardown(void) { registry_free(&reg); }
TestSuite(resolved, .init = setup, .fini = teardown);

/* Load text (with overrides), load its resolved config, compare. */
static void expect_round_trip(const char *name, const char *text, const override_t *ov, size_t n_ov)
{
    experiment_t a, b;
    err_t err = {0};
    experiment_options_t opts = {.overrides = ov, .n_overrides = n_ov};
    cr_assert_eq(experiment_load(&a, name, text, strlen(text), &opts, &reg, &err), ERR_OK, "%s: %s", name, err.msg);
    const char *resolved = a.resolved_text;
    err_code_t rc = experiment_load(&b, "resolved.yaml", resolved, strlen(resolved), NULL, &reg, &err);
    cr_assert_eq(rc, ERR_OK, "%s: its resolved config does not load: %s\n%s", name, err.msg, resolved);
    char fa[FINGERPRINT_LEN], fb[FINGERPRINT_LEN];
    experiment_fingerprint(&a, RUNNER_VERSION, fa);
    experiment_fingerprint(&b, RUNNER_VERSION, fb);
    cr_assert_eq(a.n_cells, b.n_cells, "%s", name);
    for (size_t c = 0; c < a.n_cells; c++)
        cr_expect_str_eq(b.cells[c].opt->text, a.cells[c].opt->text, "%s cell %zu\n%s", name, c, resolved);
    cr_expect_str_eq(fb, fa, "%s: the resolved config computes other cells\n%s", name, resolved);
    cr_expect_str_eq(b.resolved_text, a.resolved_text, "%s: resolving twice changed the text", name);
    cr_expect_str_eq(b.output, a.output);
    experiment_free(&b);
    experiment_free(&a);
}

Test(resolved, every_shipped_config_reloads_into_the_same_cells)
{
    shipped_config_t configs[64];
    size_t n = read_shipped_configs(configs, 64); /* test_mnist checks the list is configs/ */
    for (size_t i = 0; i < n; i++) {
        char path[128];
        snprintf(path, sizeof path, "configs/%.63s.yaml", configs[i].name);
        char *text;
        size_t len;
        err_t err;
        cr_assert_eq(read_text_file(path, &text, &len, &err), ERR_OK, "%s", err.msg);
        expect_round_trip(path, text, NULL, 0);
        free(text);
    }
    cr_expect_geq(n, 11);
}

/* configs/mnist_optimizers.yaml's pattern: the base is sgd, a run switches
 * to momentum. The base's sgd defaults (momentum=0) must not leak into it. */
Test(resolved, a_run_that_switches_optimizer_keeps_its_own_defaults)
{
    const char *text = "steps: 5\nproblem: {objective: parabola, start: [3.0]}\n"
                       "optimizer: {name: sgd, lr: 0.01}\n"
                       "runs:\n  - {label: SGD}\n  - {label: Momentum, optimizer: {name: momentum, lr: 0.01}}\n"
                       "  - {label: Adam, optimizer: {name: adam, lr: 0.001}}\n";
    expect_round_trip("switch", text, NULL, 0);
    experiment_t exp;
    err_t err;
    cr_assert_eq(load_text(&exp, &reg, text, &err), ERR_OK, "%s", err.msg);
    cr_expect(strstr(exp.cells[1].opt->text, "momentum=0.9"), "%s", exp.cells[1].opt->text);
    /* every optimizer written out in full where it is named */
    cr_expect(strstr(exp.resolved_text, "{name: momentum, lr: 0.01, momentum: 0.9, dampening: 0"), "%s", exp.resolved_text);
    cr_expect(strstr(exp.resolved_text, "dampening: 0"), "the base is used by run SGD: in full\n%s", exp.resolved_text);
    experiment_free(&exp);
}

/* Every run sets a parameter the base optimizer lacks, and every run names
 * its optimizer: the base's defaults would apply to no cell. */
Test(resolved, every_run_setting_a_parameter_the_base_lacks)
{
    expect_round_trip("lacks",
                      "steps: 5\nproblem: {objective: parabola, start: [3.0]}\n"
                      "optimizer: {name: adam, lr: 0.01}\n"
                      "runs:\n  - {label: m, optimizer: {name: momentum, momentum: 0.8}}\n"
                      "  - {label: s, optimizer: {name: sgd, momentum: 0.5}}\n",
                      NULL, 0);
}

Test(resolved, conditional_and_subtree_axes_seeds_and_generated_values)
{
    expect_round_trip("conditional",
                      "steps: 5\nproblem: {objective: elliptic, start: [-7, 2]}\n"
                      "optimizer: {name: sgd, lr: 0.1}\n"
                      "grid: {optimizer.name: [sgd, adam, rmsprop], optimizer.momentum: [0, 0.9]}\n"
                      "exclude: [{optimizer.name: adam, optimizer.momentum: 0.9}]\n",
                      NULL, 0);
    /* issue 19: each run its own grid, search and seeds; the values written out */
    expect_round_trip("ragged",
                      "steps: 5\nseed: 3\nproblem: {objective: elliptic, start: [-7, 2]}\n"
                      "grid: {steps: [4, 5]}\n"
                      "runs:\n  - {label: s, optimizer: {name: sgd}, grid: {optimizer.lr: {logspace: [-2, 0, 3]}}}\n"
                      "  - {label: a, optimizer: {name: adam}, seeds: [1, 2],\n"
                      "     search: {method: random, samples: 3, space: {optimizer.lr: {loguniform: [0.001, 1]}}}}\n"
                      "exclude: [{run: s, optimizer.lr: 1}]\n",
                      NULL, 0);
    expect_round_trip("subtree",
                      "steps: 5\nproblem: {objective: elliptic, start: [-7, 2]}\n"
                      "optimizer: {name: sgd, lr: 0.1, momentum: 0.5}\n"
                      "runs: [{label: a}, {label: b, optimizer: {lr: 0.2}}]\n"
                      "grid:\n  optimizer: [{name: sgd, lr: 0.1}, {name: adam, lr: 0.01}]\n"
                      "  problem: [{objective: parabola, start: [1.0]}, {objective: elliptic, start: [1, 2]}]\n",
                      NULL, 0);
    expect_round_trip("seeds",
                      "steps: 5\nseed: 11\nproblem: {objective: parabola, start: [3.0]}\n"
                      "optimizer: {name: adagrad}\ngrid: {optimizer.lr: {logspace: [-3, 0, 7]}, seed: [4, 9, 2]}\n",
                      NULL, 0);
    expect_round_trip("repeat",
                      "steps: 5\nproblem: {objective: parabola, start: [3.0]}\n"
                      "optimizer: {name: sgd, lr: 0.1}\ngrid: {optimizer.lr: {linspace: [0.1, 0.3, 3]}}\nrepeat: 3\n",
                      NULL, 0);
}

Test(resolved, set_overrides_are_part_of_it)
{
    override_t ov[] = {{"optimizer.lr", "0.05"}, {"grid.optimizer.momentum", "[0, 0.5]"}, {"runs.1.optimizer.lr", "0.3"}};
    expect_round_trip("set",
                      "steps: 5\nproblem: {objective: parabola, start: [3.0]}\n"
                      "optimizer: {name: sgd, lr: 0.1}\n"
                      "runs: [{label: a}, {label: b, optimizer: {name: momentum}}]\n",
                      ov, 3);
}

Test(resolved, the_output_is_the_one_written)
{
    experiment_t exp;
    err_t err = {0};
    const char *text = "steps: 5\noutput: results/x.h5\nproblem: {objective: parabola, start: [3.0]}\n"
                       "optimizer: {name: sgd, lr: 0.1}\n";
    cr_assert_eq(experiment_load(&exp, "t.yaml", text, strlen(text), &(experiment_options_t){.output = "elsewhere/y.h5"},
                                 &reg, &err),
                 ERR_OK, "%s", err.msg);
    cr_expect(strstr(exp.resolved_text, "elsewhere/y.h5") && !strstr(exp.resolved_text, "results/x.h5"), "%s",
              exp.resolved_text);
    experiment_free(&exp);
}

/* Training: data, layer and train defaults written out where every cell
 * reading them sees the same value; a run with its own model, schedule
 * and validation split still gets its own. */
Test(resolved, training_defaults_are_written_out_without_changing_a_cell)
{
    const char *text = "model: [{layer: affine, out: 10}]\nloss: softmax_cross_entropy\n"
                       "train: {iterations: 2, batch: 50, limit: 100}\noptimizer: {name: sgd, lr: 0.1}\n"
                       "runs:\n  - {label: plain}\n"
                       "  - {label: deep, model: [{layer: affine, out: 20, init: he}, {layer: relu}, {layer: affine, out: 10}],"
                       " train: {schedule: {name: step, every: 1, gamma: 0.5}}, data: {validation: 0.1}}\n";
    expect_round_trip("training", text, NULL, 0);
    experiment_t exp;
    err_t err;
    cr_assert_eq(load_text(&exp, &reg, text, &err), ERR_OK, "%s", err.msg);
    cr_expect(strstr(exp.resolved_text, "  validation: 0\n") && strstr(exp.resolved_text, "  weight_decay: 0\n") &&
                  strstr(exp.resolved_text, "{layer: affine, out: 20, init: he, "),
              "%s", exp.resolved_text);
    experiment_free(&exp);
}

/* Issue 19: vars and ${NAME}, torch's schedules, random data, train.eval
 * and activations, a validation mapping: each resolves to a config that
 * computes the same cells. */
Test(resolved, vars_schedules_and_random_data_round_trip)
{
    expect_round_trip("vars",
                      "steps: 3\nvars: {lr: 0.5}\nproblem: {objective: elliptic, start: [2.0, -1.0]}\n"
                      "optimizer: {name: sgd, lr: \"${lr}\"}\ngrid: {vars.lr: [0.01, 0.1]}\n",
                      NULL, 0);
    expect_round_trip("random data",
                      "data: {format: random, samples: 60, shape: [8], classes: 4, validation: {count: 12}}\n"
                      "vars: {w: 0.1}\nmodel: [{layer: affine, out: 4, init: std, scale: \"${w}\"}]\n"
                      "loss: softmax_cross_entropy\n"
                      "train: {epochs: 2, batch: 12, eval: {every: 2}, activations: {bins: 5},\n"
                      "        schedule: {name: SequentialLR, milestones: [1], schedulers: [{name: ConstantLR}, "
                      "{name: ExponentialLR, gamma: 0.5}]}}\n"
                      "optimizer: {name: sgd, lr: 0.1}\ngrid: {vars.w: [0.1, 1.0]}\n",
                      NULL, 0);
}
