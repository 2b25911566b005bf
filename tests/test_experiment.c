/* test_experiment.c: expansion of configs into cells, the optimizer-parameter
 * rule across layers, and every config error with its position. */
#include <math.h>

#include "cells/analytic/problem.h"
#include "helpers.h"

static registry_t reg;
static void setup(void) { load_build_plugins(&reg); }
static void teardown(void) { registry_free(&reg); }
TestSuite(experiment, .init = setup, .fini = teardown);

Test(experiment, momentum_sweep_cells_in_row_major_order)
{
    experiment_t exp;
    err_t err;
    cr_assert_eq(load_text(&exp, &reg,
                           "steps: 6\nproblem: {objective: parabola, start: [-5.0]}\n"
                           "optimizer: {name: sgd, lr: 0.1}\n"
                           "grid:\n  optimizer.lr: [0.01, 0.1, 0.6, 0.9]\n  optimizer.momentum: [0.0, 0.1, 0.5, 0.9]\n",
                           &err),
                 ERR_OK, "%s", err.msg);
    cr_expect_eq(exp.n_cells, 16);
    cr_assert_eq(exp.n_axes, 2);
    cr_expect_str_eq(exp.axes[0].name, "optimizer.lr");
    cr_expect_str_eq(exp.axes[1].name, "optimizer.momentum");
    cr_expect(exp.axes[0].numeric);
    cr_expect_str_eq(exp.name, "test");
    cr_expect_str_eq(exp.output, "results/test.h5");
    /* cell 6 = lr index 1, momentum index 2 */
    const cell_t *c = &exp.cells[6];
    cr_expect_eq(c->opt->hp[0], 0.1);
    cr_expect_eq(c->opt->hp[1], 0.5);
    cr_expect_eq(c->steps, 6);
    cr_expect_eq(c->problem, exp.cells[0].problem, "an untouched problem is compiled once");
    cr_expect_str_eq(c->opt->text, "sgd(lr=0.1, momentum=0.5, dampening=0, weight_decay=0, nesterov=false, maximize=false)");
    char label[200];
    experiment_cell_label(&exp, 6, label, sizeof label);
    cr_expect_str_eq(label, "optimizer.lr=0.1 optimizer.momentum=0.5");
    cr_expect(strstr(exp.resolved_text, "optimizer.lr: [0.01, 0.1, 0.6, 0.9]"), "%s", exp.resolved_text);
    experiment_free(&exp);
}

Test(experiment, runs_grid_and_seeds)
{
    experiment_t exp;
    err_t err;
    cr_assert_eq(load_text(&exp, &reg,
                           "name: mix\nseed: 7\nsteps: 10\nproblem: {objective: elliptic, start: [-7, 2]}\n"
                           "optimizer: {name: sgd, lr: 0.1, momentum: 0.5}\n"
                           "runs:\n  - {label: SGD}\n  - {label: Adam, optimizer: {name: adam, lr: 0.3}}\n"
                           "grid: {steps: [5, 20], problem.start: [[1, 1], [2, 2], [3, 3]]}\n"
                           "repeat: 2\n",
                           &err),
                 ERR_OK, "%s", err.msg);
    cr_assert_eq(exp.n_axes, 4);
    cr_expect_str_eq(exp.axes[0].name, "run");
    cr_expect_str_eq(exp.axes[0].labels[1], "Adam");
    cr_expect_str_eq(exp.axes[3].name, "seed");
    cr_expect_eq(exp.axes[3].seeds[1], 8, "repeat counts up from the config's seed");
    cr_expect_not(exp.axes[2].numeric);
    cr_expect_str_eq(exp.axes[2].labels[1], "[2, 2]");
    cr_expect_eq(exp.n_cells, 2 * 2 * 3 * 2);
    cr_expect_eq(exp.max_steps, 20);
    /* run 1 merges: adam with lr 0.3; base momentum is not adam's and came from the base, so it is left out */
    const cell_t *c = &exp.cells[12];
    cr_expect_str_eq(c->opt->plugin->desc->name, "adam");
    cr_expect_eq(c->opt->hp[0], 0.3);
    cr_expect_eq(exp.cells[0].opt->hp[1], 0.5, "sgd keeps the base momentum");
    cr_expect_eq(exp.cells[3].problem->start[0], 2.0);
    /* seeds: distinct per cell, and a function of (seed value, cell index) only */
    cr_expect_neq(exp.cells[0].seed, exp.cells[1].seed);
    cr_expect_eq(exp.cells[1].seed, derive_cell_seed(8, 0));
    experiment_free(&exp);
}

Test(experiment, linspace_and_logspace)
{
    experiment_t exp;
    err_t err;
    cr_assert_eq(load_text(&exp, &reg,
                           "steps: 1\nproblem: {objective: parabola, start: [1]}\noptimizer: {name: sgd, lr: 0.1}\n"
                           "grid: {optimizer.lr: {logspace: [-3, 0, 4]}, optimizer.momentum: {linspace: [0, 0.9, 10]}}\n",
                           &err),
                 ERR_OK, "%s", err.msg);
    cr_expect_eq(exp.axes[0].n, 4);
    cr_expect_float_eq(exp.axes[0].numbers[0], 1e-3, 1e-18);
    cr_expect_eq(exp.axes[0].numbers[3], 1.0);
    cr_expect_str_eq(exp.axes[0].labels[1], "0.01");
    cr_expect_eq(exp.axes[1].numbers[9], 0.9, "the stop value is exact");
    cr_expect_str_eq(exp.axes[1].labels[1], "0.1");
    experiment_free(&exp);
}

Test(experiment, parameter_from_another_layer_applies_where_it_exists)
{
    experiment_t exp;
    err_t err;
    cr_assert_eq(load_text(&exp, &reg,
                           "steps: 3\nproblem: {objective: elliptic, start: [-7, 2]}\noptimizer: {name: sgd, lr: 0.1}\n"
                           "grid: {optimizer.name: [sgd, adam], optimizer.momentum: [0.0, 0.9]}\n"
                           "exclude: [{optimizer.name: adam, optimizer.momentum: 0.9}]\n", /* test_ragged: else an error */
                           &err),
                 ERR_OK, "%s", err.msg);
    cr_expect_eq(exp.cells[1].opt->hp[1], 0.9, "sgd gets the momentum axis");
    cr_expect_str_eq(exp.cells[2].opt->plugin->desc->name, "adam");
    cr_expect(strstr(exp.cells[2].opt->text, "momentum") == NULL, "adam's cells leave momentum out");
    experiment_free(&exp);
}

/* grid: {seed: [...]} is the seed axis, exactly as seeds: [...] (issue 23):
 * last among the axes, int64 seeds, the same cell seeds. */
Test(experiment, a_seed_grid_axis_is_the_seed_axis)
{
    const char *as_grid = "steps: 3\nproblem: {objective: parabola, start: [-5.0]}\noptimizer: {name: sgd, lr: 0.1}\n"
                          "grid: {seed: [7, 3], optimizer.lr: [0.1, 0.2, 0.3]}\n";
    const char *as_seeds = "steps: 3\nproblem: {objective: parabola, start: [-5.0]}\noptimizer: {name: sgd, lr: 0.1}\n"
                           "grid: {optimizer.lr: [0.1, 0.2, 0.3]}\nseeds: [7, 3]\n";
    experiment_t a, b;
    err_t err;
    cr_assert_eq(load_text(&a, &reg, as_grid, &err), ERR_OK, "%s", err.msg);
    cr_assert_eq(load_text(&b, &reg, as_seeds, &err), ERR_OK, "%s", err.msg);
    cr_assert_eq(a.n_axes, 2);
    cr_expect_str_eq(a.axes[0].name, "optimizer.lr");
    cr_expect_eq(a.axes[1].kind, AXIS_SEED);
    cr_expect(a.axes[1].seeds[0] == 7 && a.axes[1].seeds[1] == 3);
    cr_assert_eq(a.n_cells, b.n_cells);
    for (size_t c = 0; c < a.n_cells; c++) cr_expect_eq(a.cells[c].seed, b.cells[c].seed, "cell %zu", c);
    experiment_free(&a);
    experiment_free(&b);
}

typedef struct {
    const char *text;
    int line, col;
    const char *expect;
} bad_config_t;

#define BASE "steps: 5\nproblem: {objective: parabola, start: [-5.0]}\n"
static const bad_config_t bad_configs[] = {
    {BASE "optimizer: {name: sgd, lerning_rate: 0.1}\n", 3, 24, "unknown key 'lerning_rate' in optimizer 'sgd' (did you mean 'lr'?)"},
    {BASE "optimizer: {name: sdg, lr: 0.1}\n", 3, 19, "unknown optimizer 'sdg' (did you mean 'sgd'?)"},
    {BASE "optimizer: {name: sgd}\n", 3, 12, "optimizer 'sgd' needs 'lr'"},
    {BASE "optimizer: {name: sgd, lr: -1}\n", 3, 28, "sgd.lr: -1 is out of bounds: must be in [0, 1e+06]"},
    {BASE "optimizer: {name: sgd, lr: fast}\n", 3, 28, "expected a number for sgd.lr, got a string 'fast'"},
    {BASE "optimizer: {name: sgd, lr: 0.1, nesterov: 1}\n", 3, 43, "expected true or false"},
    {BASE "optimizer: {name: sgd, lr: 0.1, nesterov: true}\n", 3, 12, "Nesterov momentum requires momentum > 0"},
    {BASE "optimizer: {name: adam, beta1: 1.0}\n", 3, 32, "must be in [0, 1)"},
    {BASE "optimizer: {name: sgd, lr: 0.1}\nstesp: 4\n", 4, 1, "unknown key 'stesp' (did you mean 'steps'?)"},
    {"problem: {objective: parabola, start: [-5.0]}\noptimizer: {name: sgd, lr: 0.1}\n", 1, 1, "missing 'steps'"},
    {BASE "optimizer: {name: sgd, lr: 0.1}\nsteps: 0\n", 0, 0, "duplicate key 'steps'"},
    {"steps: 0\nproblem: {objective: parabola, start: [-5.0]}\noptimizer: {name: sgd, lr: 0.1}\n", 1, 8, "steps must be between 1 and"},
    {"steps: -3\nproblem: {objective: parabola, start: [-5.0]}\noptimizer: {name: sgd, lr: 0.1}\n", 1, 8, "steps must be between 1 and"},
    {"steps: 5\nproblem: {objective: elliptic, start: [-5.0]}\noptimizer: {name: sgd, lr: 0.1}\n", 2, 39, "start has 1 value but objective 'elliptic' has 2"},
    {BASE "optimizer: {name: sgd, lr: 0.1}\ngrid: {optimizer.lr: []}\n", 4, 22, "grid axis 'optimizer.lr' has no values"},
    {BASE "optimizer: {name: sgd, lr: 0.1}\ngrid: {optimizer.lr: 0.5}\n", 4, 22, "needs a list of values"},
    {BASE "optimizer: {name: sgd, lr: 0.1}\ngrid: {optimizer.lerning_rate: [0.1]}\n", 4, 8, "applies to no cell: no optimizer in this sweep has it ('sgd' does not; did you mean 'lr'?)"},
    {BASE "optimizer: {name: sgd, lr: 0.1}\ngrid: {optimzer.lr: [0.1]}\n", 4, 8, "did you mean 'optimizer'"},
    {BASE "optimizer: {name: sgd, lr: 0.1}\ngrid: {optimizer.lr: [0.1, x]}\n", 4, 28, "expected a number for sgd.lr, got a string 'x'"},
    {BASE "optimizer: {name: sgd, lr: 0.1}\ngrid: {optimizer.lr: {linspace: [0, 1]}}\n", 4, 33, "linspace takes [start, stop, count]"},
    {BASE "optimizer: {name: sgd, lr: 0.1}\ngrid: {optimizer.lr: {range: [0, 1, 3]}}\n", 4, 23, "a grid axis is a list of values"},
    {BASE "optimizer: {name: sgd, lr: 0.1}\ngrid: {output: [a, b]}\n", 4, 8, "'output' cannot be a grid axis"},
    {BASE "optimizer: {name: sgd, lr: 0.1}\ngrid: [1, 2]\n", 4, 7, "grid must be a mapping"},
    {BASE "optimizer: {name: sgd, lr: 0.1}\ngrid: {optimizer.lr: {logspace: [-3, 0, 1000]}, optimizer.momentum: {linspace: [0, 1, 1000]}, steps: {linspace: [1, 100, 100]}}\n",
     4, 7, "the sweep has 1000 x 1000 x 100 = 100000000 cells (optimizer.lr x optimizer.momentum x steps), more than the limit of 10000000 cells"},
    {BASE "optimizer: {name: sgd, lr: 0.1}\nruns: [{label: a}, {label: a}]\n", 4, 20, "two runs are labelled 'a'"},
    {BASE "optimizer: {name: sgd, lr: 0.1}\nruns: [{optimiser: {name: adam}}]\n", 4, 9, "unknown key 'optimiser' in a run (did you mean 'optimizer'?)"},
    {BASE "optimizer: {name: sgd, lr: 0.1}\nruns: [{output: x.h5}]\n", 4, 9, "sweep-wide setting"},
    {BASE "optimizer: {name: sgd, lr: 0.1}\nruns: []\n", 4, 7, "runs is an empty list"},
    {BASE "optimizer: {name: sgd, lr: 0.1}\nruns: [{label: A, optimizer: {name: adam, momentum: 0.9}}]\n", 4, 43, "unknown key 'momentum' in optimizer 'adam'"},
    {BASE "optimizer: {name: sgd, lr: 0.1}\ngrid: {optimizer.name: [adam, rmsprop], optimizer.dampening: [0.1]}\n", 4, 41,
     "optimizer parameter 'dampening' applies to no cell"},
    {BASE "optimizer: {name: sgd, lr: 0.1}\nrepeat: 0\n", 4, 9, "repeat must be between 1 and"},
    {BASE "optimizer: {name: sgd, lr: 0.1}\nseeds: [1, 1]\n", 4, 12, "seed 1 is listed twice"},
    {BASE "optimizer: {name: sgd, lr: 0.1}\nrepeat: 2\nseeds: [1]\n", 5, 1, "either repeat: or seeds:"},
    {BASE "optimizer: sgd\n", 3, 12, "expected a mapping for optimizer"},
    {"- 1\n- 2\n", 1, 1, "expected a mapping of settings"},
    {BASE "optimizer: {name: sgd, lr: 1e999}\n", 3, 28, "out of range"},
    {BASE "optimizer: {name: sgd, lr: 0.1}\nseed: lots\n", 4, 7, "expected an integer for seed"},
    {BASE "optimizer: {lr: 0.1}\n", 3, 12, "optimizer needs a name"},
    {BASE "optimizer: {name: sgd, lr: 0.1}\nname: \"a/b\"\n", 4, 7, "name must be non-empty and contain no '/'"},
    /* suggestions come from the key table: a run knows the training keys too */
    {BASE "optimizer: {name: sgd, lr: 0.1}\nruns: [{label: a, trian: {epochs: 1}}]\n", 4, 19,
     "unknown key 'trian' in a run (did you mean 'train'?)"},
    {BASE "optimizer: {name: sgd, lr: 0.1}\nruns: [{label: a, modle: []}]\n", 4, 19,
     "unknown key 'modle' in a run (did you mean 'model'?)"},
    {BASE "optimizer: {name: sgd, lr: 0.1}\ngrid: {daat.limit: [10]}\n", 4, 8, "did you mean 'data'"},
    {BASE "optimizer: {name: sgd, lr: 0.1}\ngrid: {label: [a]}\n", 4, 8, "'label' cannot be a grid axis"},
    {BASE "optimizer: {name: sgd, lr: 0.1}\nrepaet: 3\n", 4, 1, "unknown key 'repaet' (did you mean 'repeat'?)"},
    {BASE "optimizer: {name: sgd, lr: 0.1}\ngrid: {seed: [1, 2]}\nrepeat: 2\n", 4, 8, "both define the seed axis"},
    {BASE "optimizer: {name: sgd, lr: 0.1}\ngrid: {seed: [1, 1]}\n", 4, 18, "seed 1 is listed twice"},
};
INDEX_PARAMS(experiment, config_errors, bad_configs)

ParameterizedTest(size_t *i, experiment, config_errors)
{
    const bad_config_t *c = &bad_configs[*i];
    experiment_t exp;
    err_t err;
    cr_expect_eq(load_text(&exp, &reg, c->text, &err), ERR_CONFIG, "accepted:\n%s", c->text);
    cr_expect(strstr(err.msg, c->expect), "message '%s' lacks '%s'", err.msg, c->expect);
    if (c->line) {
        cr_expect_eq(err.mark.line, c->line, "line %d, expected %d: %s", err.mark.line, c->line, err.msg);
        cr_expect_eq(err.mark.col, c->col, "col %d, expected %d: %s", err.mark.col, c->col, err.msg);
    }
    experiment_free(&exp);
}

Test(experiment, set_overrides)
{
    experiment_t exp;
    err_t err = {0};
    const char *text = "steps: 5\nproblem: {objective: parabola, start: [-5.0]}\noptimizer: {name: sgd, lr: 0.1}\n";
    override_t ov[] = {{"optimizer.lr", "0.3"}, {"steps", "7"}, {"grid.optimizer.momentum", "[0.1, 0.2]"}};
    cr_assert_eq(experiment_load(&exp, "t.yaml", text, strlen(text), &(experiment_options_t){.overrides = ov, .n_overrides = 3}, &reg, &err), ERR_OK, "%s", err.msg);
    cr_expect_eq(exp.cells[0].opt->hp[0], 0.3);
    cr_expect_eq(exp.cells[1].opt->hp[1], 0.2);
    cr_expect_eq(exp.cells[0].steps, 7);
    experiment_free(&exp);
    override_t bad[] = {{"optimizer.lr", "[oops"}};
    cr_expect_eq(experiment_load(&exp, "t.yaml", text, strlen(text), &(experiment_options_t){.overrides = bad, .n_overrides = 1}, &reg, &err), ERR_CONFIG);
    cr_expect_str_eq(err.mark.file, "--set optimizer.lr");
    experiment_free(&exp);
}

/* No silent no-ops (issue 17, item 5): a --set no cell sees, two axes for
 * one value, and an overridden base value that is invalid are errors. */
static err_code_t load_with(experiment_t *exp, const char *text, const override_t *ov, size_t n, err_t *err)
{
    memset(err, 0, sizeof *err);
    err_code_t rc = experiment_load(exp, "t.yaml", text, strlen(text),
                                    &(experiment_options_t){.overrides = ov, .n_overrides = n}, &reg, err);
    /* the mark's file name may live in the experiment's arena ("--set PATH") */
    static char mark_file[256];
    if (err->mark.file) snprintf(mark_file, sizeof mark_file, "%s", err->mark.file), err->mark.file = mark_file;
    experiment_free(exp);
    return rc;
}

Test(experiment, a_set_that_no_cell_sees_is_an_error)
{
    experiment_t exp;
    err_t err;
    const char *runs = "steps: 5\nproblem: {objective: parabola, start: [3.0]}\noptimizer: {name: sgd, lr: 0.1}\n"
                       "runs:\n  - {label: a, optimizer: {lr: 0.2}}\n  - {label: b, optimizer: {name: adam, lr: 0.01}}\n";
    override_t lr[] = {{"optimizer.lr", "abc"}};
    cr_expect_eq(load_with(&exp, runs, lr, 1, &err), ERR_CONFIG);
    cr_expect(strstr(err.msg, "--set optimizer.lr=abc applies to no cell: every run sets optimizer.lr itself (the first "
                              "at t.yaml:5:32)"),
              "%s", err.msg);
    cr_expect_str_eq(err.mark.file, "--set optimizer.lr");
    /* valid or not: what the user asked for would not happen */
    override_t valid[] = {{"optimizer.lr", "0.3"}};
    cr_expect_eq(load_with(&exp, runs, valid, 1, &err), ERR_CONFIG);
    /* seen by run a's cells (sgd has momentum; adam's leave it out) */
    override_t some[] = {{"optimizer.momentum", "0.5"}, {"steps", "7"}};
    cr_expect_eq(load_with(&exp, runs, some, 2, &err), ERR_OK, "%s", err.msg);
    /* a grid axis sets it in every cell */
    const char *grid = "steps: 5\nproblem: {objective: parabola, start: [3.0]}\noptimizer: {name: sgd, lr: 0.1}\n"
                       "grid: {optimizer: [{name: sgd, lr: 0.1}, {name: adam}]}\nseeds: [1, 2]\n";
    cr_expect_eq(load_with(&exp, grid, valid, 1, &err), ERR_CONFIG);
    cr_expect(strstr(err.msg, "grid axis 'optimizer' sets it in every cell; use --set grid.optimizer=[...]"), "%s",
              err.msg);
    override_t seed[] = {{"seed", "3"}};
    cr_expect_eq(load_with(&exp, grid, seed, 1, &err), ERR_CONFIG, "seeds: replaces the seed");
    const char *repeat = "steps: 5\nproblem: {objective: parabola, start: [3.0]}\noptimizer: {name: sgd, lr: 0.1}\n"
                         "repeat: 2\n";
    cr_expect_eq(load_with(&exp, repeat, seed, 1, &err), ERR_OK, "repeat: counts from the seed: %s", err.msg);
}

Test(experiment, two_axes_for_one_value_are_an_error)
{
    experiment_t exp;
    err_t err;
    const char *head = "steps: 5\nproblem: {objective: elliptic, start: [3.0, 1]}\noptimizer: {name: sgd, lr: 0.1}\n";
    char text[512];
    snprintf(text, sizeof text, "%sgrid: {problem.start.1: [1, 2], problem.start.01: [3, 4]}\n", head);
    cr_expect_eq(load_with(&exp, text, NULL, 0, &err), ERR_CONFIG);
    cr_expect(strstr(err.msg, "grid axes 'problem.start.1' and 'problem.start.01' set the same value"), "%s", err.msg);
    cr_expect_eq(err.mark.line, 4);
    snprintf(text, sizeof text, "%sgrid: {optimizer: [{name: sgd, lr: 0.1}], optimizer.lr: [0.1, 0.2]}\n", head);
    cr_expect_eq(load_with(&exp, text, NULL, 0, &err), ERR_CONFIG);
    cr_expect(strstr(err.msg, "grid axis 'optimizer.lr' lies inside grid axis 'optimizer'"), "%s", err.msg);
    /* neighbours are not overlaps */
    snprintf(text, sizeof text, "%sgrid: {problem.start.0: [1, 2], problem.start.1: [3, 4], optimizer.lr: [0.1]}\n", head);
    cr_expect_eq(load_with(&exp, text, NULL, 0, &err), ERR_OK, "%s", err.msg);
}

Test(experiment, an_overridden_base_value_is_still_checked)
{
    experiment_t exp;
    err_t err;
    cr_expect_eq(load_with(&exp,
                           "steps: 5\nproblem: {objective: parabola, start: [3.0]}\noptimizer: {name: sgd, lr: abc}\n"
                           "grid: {optimizer.lr: [0.1, 0.2]}\n",
                           NULL, 0, &err),
                 ERR_CONFIG);
    cr_expect(strstr(err.msg, "sgd.lr") && err.mark.line == 3, "%s", err.msg);
    /* overridden but valid: a fallback, allowed */
    cr_expect_eq(load_with(&exp,
                           "steps: 5\nproblem: {objective: parabola, start: [3.0]}\noptimizer: {name: sgd, lr: 0.5}\n"
                           "grid: {optimizer.lr: [0.1, 0.2]}\n",
                           NULL, 0, &err),
                 ERR_OK, "%s", err.msg);
}

/* Issue 18, item 10: run labels are compared by sorting, not pairwise
 * (100,000 runs took 30 s to load): 200,000 runs with the one repeat at
 * the end are refused, naming the later run. */
Test(experiment, many_runs_and_a_repeated_label)
{
    size_t n = 200000, cap = n * 24 + 256, len = 0;
    char *text = malloc(cap);
    cr_assert(text);
    len += (size_t)snprintf(text, cap, "steps: 2\nproblem: {objective: parabola, start: [1.0]}\n"
                                       "optimizer: {name: sgd, lr: 0.1}\nruns:\n");
    for (size_t i = 0; i < n; i++) len += (size_t)snprintf(text + len, cap - len, "  - {label: r%zu}\n", i);
    experiment_t exp;
    err_t err;
    cr_expect_eq(load_text(&exp, &reg, text, &err), ERR_OK, "%s", err.msg);
    cr_expect_eq(exp.n_cells, n);
    experiment_free(&exp);
    snprintf(text + len, cap - len, "  - {label: r17}\n");
    cr_expect_eq(load_text(&exp, &reg, text, &err), ERR_CONFIG);
    cr_expect(strstr(err.msg, "two runs are labelled 'r17'") && err.mark.line == (int)n + 5, "line %d: %s", err.mark.line,
              err.msg);
    experiment_free(&exp);
    free(text);
}

/* Any base value every cell overrides is checked against what replaces it. */
Test(experiment, an_overridden_value_of_another_kind_is_an_error)
{
    experiment_t exp;
    err_t err;
    cr_expect_eq(load_with(&exp,
                           "steps: abc\nproblem: {objective: parabola, start: [3.0]}\noptimizer: {name: sgd, lr: 0.1}\n"
                           "grid: {steps: [5, 10]}\n",
                           NULL, 0, &err),
                 ERR_CONFIG);
    cr_expect(strstr(err.msg, "steps is text here, where every cell has a number instead (grid axis steps sets it)") &&
                  err.mark.line == 1,
              "%s", err.msg);
    cr_expect_eq(load_with(&exp,
                           "steps: 5\nproblem: {objective: parabola, start: 3}\noptimizer: {name: sgd, lr: 0.1}\n"
                           "runs: [{label: a, problem: {start: [1.0]}}, {label: b, problem: {start: [2.0]}}]\n",
                           NULL, 0, &err),
                 ERR_CONFIG);
    cr_expect(strstr(err.msg, "problem.start is a number here, where every cell has a list instead (run a sets it)"), "%s",
              err.msg);
    /* one run sees it: not overridden everywhere, checked as that run's cells */
    cr_expect_eq(load_with(&exp,
                           "steps: 5\nproblem: {objective: parabola, start: [3.0]}\noptimizer: {name: sgd, lr: 0.1}\n"
                           "runs: [{label: a, problem: {start: [1.0]}}, {label: b}]\n",
                           NULL, 0, &err),
                 ERR_OK, "%s", err.msg);
}

/* A config that must fail to load with `expect` in "LINE:COL: error: MSG". */
static void expect_config_error(const char *text, const char *expect) { expect_load_error(&reg, text, expect); }

/* Issue 19: vars: and ${NAME}. One grid axis over vars.lr sets the rate
 * of every run; a var can hold a list; the vars key never reaches a cell. */
Test(experiment, vars_substitute_in_every_cell)
{
    experiment_t exp;
    err_t err;
    cr_assert_eq(load_text(&exp, &reg,
                           "steps: 3\nvars: {lr: 0.5, start: [2.0, -1.0]}\n"
                           "problem: {objective: elliptic, start: \"${start}\"}\n"
                           "optimizer: {name: sgd, lr: \"${lr}\"}\n"
                           "runs: [{label: plain}, {label: heavy, optimizer: {name: momentum, lr: \"${lr}\"}}]\n"
                           "grid: {vars.lr: [0.01, 0.1]}\n",
                           &err),
                 ERR_OK, "%s", err.msg);
    cr_assert_eq(exp.n_cells, 4);
    cr_expect(strstr(exp.cells[0].opt->text, "sgd(lr=0.01"), "%s", exp.cells[0].opt->text);
    cr_expect(strstr(exp.cells[1].opt->text, "sgd(lr=0.1"), "%s", exp.cells[1].opt->text);
    cr_expect(strstr(exp.cells[3].opt->text, "momentum(lr=0.1"), "%s", exp.cells[3].opt->text);
    cr_expect_eq(exp.cells[2].problem->dim, 2);
    cr_expect_eq(exp.cells[2].problem->start[0], 2.0);
    cr_expect_eq(exp.cells[2].problem->start[1], -1.0);
    experiment_free(&exp);
}

Test(experiment, vars_errors_name_the_place)
{
    static const struct {
        const char *text, *expect;
    } bad[] = {
        {"steps: 3\nvars: {lr: 0.5}\nproblem: {objective: parabola, start: [1.0]}\noptimizer: {name: sgd, lr: \"${rate}\"}\n",
         "4:28: error: ${rate} names no variable: vars has lr"},
        {"steps: 3\nproblem: {objective: parabola, start: [1.0]}\noptimizer: {name: sgd, lr: \"${lr}\"}\n",
         "3:28: error: ${lr} names no variable: there is no vars: mapping"},
        {"steps: 3\nvars: [1, 2]\nproblem: {objective: parabola, start: [1.0]}\noptimizer: {name: sgd, lr: 0.1}\n",
         "2:7: error: vars is a mapping of names to values"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) expect_config_error(bad[i].text, bad[i].expect);
}

/* Issue 19: a zipped axis sets its paths together, one cell per item. */
Test(experiment, zipped_axes_set_paths_together)
{
    experiment_t exp;
    err_t err;
    cr_assert_eq(load_text(&exp, &reg,
                           "steps: 3\nproblem: {objective: elliptic, start: [-7, 2]}\n"
                           "optimizer: {name: momentum, lr: 0.1}\n"
                           "grid:\n  optimizer.lr+optimizer.momentum: [[0.1, 0.9], [0.01, 0.5], [0.3, 0.0]]\n"
                           "  steps: [3, 4]\n",
                           &err),
                 ERR_OK, "%s", err.msg);
    cr_assert_eq(exp.n_cells, 6, "three pairs, not nine");
    cr_expect_eq(exp.axes[0].n_paths, 2);
    cr_expect_str_eq(exp.axes[0].labels[1], "[0.01, 0.5]");
    cr_expect(!exp.axes[0].numeric);
    cr_expect(strstr(exp.cells[2].opt->text, "momentum(lr=0.01, momentum=0.5,"), "%s", exp.cells[2].opt->text);
    cr_expect(strstr(exp.cells[5].opt->text, "momentum(lr=0.3, momentum=0.0,"), "%s", exp.cells[5].opt->text);
    cr_expect_eq(exp.cells[5].steps, 4);
    experiment_free(&exp);
}

Test(experiment, zipped_axis_errors_name_the_place)
{
    static const struct {
        const char *grid, *expect;
    } bad[] = {
        {"  optimizer.lr+optimizer.momentum: [[0.1, 0.9], [0.01]]\n",
         "5:49: error: grid axis 'optimizer.lr+optimizer.momentum' sets 2 paths together: each value is a list of 2"},
        {"  optimizer.lr+optimizer.momentum: [0.1, 0.9]\n", "this one is one value, not a list"},
        {"  optimizer.lr+optimizer.momentum: {linspace: [0, 1, 3]}\n", "its values are a list of lists"},
        {"  optimizer.lr+optimizer.lr: [[0.1, 0.2]]\n", "paths 'optimizer.lr' and 'optimizer.lr' set the same value"},
        {"  optimizer+optimizer.lr: [[{name: sgd}, 0.2]]\n", "path 'optimizer.lr' lies inside path 'optimizer'"},
        {"  optimizer.lr+: [[0.1]]\n", "has an empty path"},
        {"  optimizer.lr+stepz: [[0.1, 3]]\n", "unknown key 'stepz' at the start of grid axis (did you mean 'steps'?)"},
        {"  optimizer.lr: [0.1]\n  steps+optimizer.lr: [[3, 0.2]]\n", "grid axes 'optimizer.lr' and 'optimizer.lr'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[512];
        snprintf(text, sizeof text,
                 "steps: 3\nproblem: {objective: elliptic, start: [-7, 2]}\noptimizer: {name: momentum, lr: 0.1}\n"
                 "grid:\n%s",
                 bad[i].grid);
        expect_config_error(text, bad[i].expect);
    }
}

/* Issue 19: search: random or Sobol, as one grid axis of plain values. */
Test(experiment, search_draws_one_axis_of_values)
{
    experiment_t exp;
    err_t err;
    const char *sobol = "steps: 3\nproblem: {objective: elliptic, start: [-7, 2]}\noptimizer: {name: momentum, lr: 0.1}\n"
                        "grid: {steps: [3, 4]}\n"
                        "search: {method: sobol, samples: 4, space: {optimizer.lr: {loguniform: [0.001, 1.0]},\n"
                        "  optimizer.momentum: {uniform: [0, 0.8]}, optimizer.dampening: {choice: [0.1, 0.2, 0.3]}}}\n";
    cr_assert_eq(load_text(&exp, &reg, sobol, &err), ERR_OK, "%s", err.msg);
    cr_assert_eq(exp.n_axes, 2, "the grid's axis, then the search's");
    cr_expect_str_eq(exp.axes[1].name, "optimizer.lr+optimizer.momentum+optimizer.dampening");
    cr_assert_eq(exp.n_cells, 8);
    /* Sobol points 0..3 of dimensions 0..2: (0,0,0) (.5,.5,.5) (.75,.25,.25) (.25,.75,.75) */
    cr_expect_str_eq(exp.axes[1].labels[0], "[0.001, 0, 0.1]");
    cr_expect(strstr(exp.cells[1].opt->text, "momentum=0.4, dampening=0.2,"), "%s", exp.cells[1].opt->text);
    cr_expect(!strstr(exp.resolved_text, "search:") && strstr(exp.resolved_text, "optimizer.lr+optimizer.momentum"),
              "the values, not the sampler: %s", exp.resolved_text);
    experiment_free(&exp);
    /* random: the same seed, the same values; another seed, others */
    const char *random = "steps: 3\nseed: 5\nproblem: {objective: elliptic, start: [-7, 2]}\noptimizer: {name: sgd, lr: 0.1}\n"
                         "search: {method: random, samples: 20, space: {optimizer.lr: {loguniform: [0.001, 1.0]}}}\n";
    experiment_t e1, e2;
    cr_assert_eq(load_text(&e1, &reg, random, &err), ERR_OK, "%s", err.msg);
    cr_assert_eq(load_text(&e2, &reg, random, &err), ERR_OK, "%s", err.msg);
    cr_assert_eq(e1.n_cells, 20);
    for (size_t i = 0; i < 20; i++) {
        cr_expect_str_eq(e1.axes[0].labels[i], e2.axes[0].labels[i]);
        double v = e1.axes[0].numbers[i];
        cr_expect(v >= 0.001 && v < 1.0, "%g", v);
    }
    experiment_free(&e2);
    char other[512];
    snprintf(other, sizeof other, "%s", random);
    memcpy(strstr(other, "seed: 5"), "seed: 6", 7);
    cr_assert_eq(load_text(&e2, &reg, other, &err), ERR_OK, "%s", err.msg);
    cr_expect_str_neq(e1.axes[0].labels[0], e2.axes[0].labels[0]);
    experiment_free(&e1), experiment_free(&e2);
}

Test(experiment, search_errors_name_the_place)
{
    expect_config_error("steps: 3\nproblem: {objective: parabola, start: [1.0]}\noptimizer: {name: sgd}\nserch: {}\n",
                        "4:1: error: unknown key 'serch' (did you mean 'search'?)");
    expect_config_error("steps: 3\nproblem: {objective: parabola, start: [1.0]}\noptimizer: {name: sgd}\ninclde: a.yaml\n",
                        "4:1: error: unknown key 'inclde' (did you mean 'include'?)");
    static const struct {
        const char *search, *expect;
    } bad[] = {
        {"{method: grid, samples: 3, space: {optimizer.lr: {uniform: [0, 1]}}}", "4:18: error: unknown search method 'grid'"},
        {"{method: random, samples: 3, space: {optimizer.lr: {unifrom: [0, 1]}}}",
         "4:61: error: unknown distribution 'unifrom' (did you mean 'uniform'?)"},
        {"{method: random, samples: 3, space: {optimizer.lr: {uniform: [1, 0]}}}", "uniform needs lo < hi, got [1, 0]"},
        {"{method: random, samples: 3, space: {optimizer.lr: {loguniform: [0, 1]}}}", "loguniform needs lo > 0"},
        {"{method: random, samples: 3, space: {optimizer.lr: {choice: []}}}", "choice takes a non-empty list"},
        {"{method: random, samples: 0, space: {optimizer.lr: {uniform: [0, 1]}}}", "search.samples must be"},
        {"{method: random, samples: 3}", "search needs method (random or sobol), samples and space"},
        {"{method: sobol, samples: 3, seed: 1, space: {optimizer.lr: {uniform: [0, 1]}}}", "search.seed is for method random"},
        {"{method: random, samples: 3, spaces: {}}", "unknown key 'spaces' in search (did you mean 'space'?)"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[512];
        snprintf(text, sizeof text,
                 "steps: 3\nproblem: {objective: elliptic, start: [-7, 2]}\noptimizer: {name: sgd, lr: 0.1}\nsearch: %s\n",
                 bad[i].search);
        expect_config_error(text, bad[i].expect);
    }
}
