/* test_ragged.c: studies that are not one product (issue 19): per-run
 * grid:, search: and seeds:, exclude:, and the duplicates error. */
#include <math.h>

#include "helpers.h"

static registry_t reg;
static void setup(void) { load_build_plugins(&reg); }
static void teardown(void) { registry_free(&reg); }
TestSuite(ragged, .init = setup, .fini = teardown);

#define PROBLEM "steps: 3\nproblem: {objective: elliptic, start: [-7, 2]}\n"

/* A cell's label on axis `name`, or "-" where the cell has none. */
static const char *value_of(const experiment_t *exp, size_t cell, const char *name)
{
    size_t idx[64];
    experiment_cell_coords(exp, cell, idx);
    for (size_t k = 0; k < exp->n_axes; k++)
        if (!strcmp(exp->axes[k].name, name)) return idx[k] == AXIS_ABSENT ? "-" : exp->axes[k].labels[idx[k]];
    return "(no such axis)";
}

/* The example: 4 SGD rates and 3 Adam rates are 4 + 3 cells, run
 * by run, one column optimizer.lr; a logspace is written out as values. */
Test(ragged, each_run_has_its_own_grid)
{
    experiment_t exp;
    err_t err;
    cr_assert_eq(load_text(&exp, &reg,
                           PROBLEM "runs:\n"
                                   "  - {label: SGD, optimizer: {name: sgd}, grid: {optimizer.lr: {logspace: [-3, 0, 4]}}}\n"
                                   "  - {label: Adam, optimizer: {name: adam}, grid: {optimizer.lr: {logspace: [-4, -1, 3]}}}\n",
                           &err),
                 ERR_OK, "%s", err.msg);
    cr_assert_eq(exp.n_cells, 7);
    cr_assert_not_null(exp.coords, "a ragged study");
    cr_assert_eq(exp.n_axes, 2, "run and one optimizer.lr column");
    cr_expect_str_eq(exp.axes[1].name, "optimizer.lr");
    const char *want_run[] = {"SGD", "SGD", "SGD", "SGD", "Adam", "Adam", "Adam"};
    const double want_lr[] = {0.001, 0.01, 0.1, 1, 0.0001, 0.0031622776601683794, 0.1};
    for (size_t c = 0; c < 7; c++) {
        cr_expect_str_eq(value_of(&exp, c, "run"), want_run[c]);
        cr_expect(fabs(exp.cells[c].opt->hp[0] - want_lr[c]) <= 1e-16 * want_lr[c], "cell %zu: lr %g", c, exp.cells[c].opt->hp[0]);
        cr_expect_str_eq(exp.cells[c].opt->plugin->desc->name, c < 4 ? "sgd" : "adam");
    }
    cr_expect(strstr(exp.resolved_text, "0.0001") && !strstr(exp.resolved_text, "logspace"),
              "the values, not the generator:\n%s", exp.resolved_text);
    experiment_free(&exp);
}

/* A run's own seeds: only its cells repeat; the sweep-wide grid applies to
 * every run; cells of one setting share their derived seed's index. */
Test(ragged, own_seeds_and_sweep_wide_axes)
{
    experiment_t exp;
    err_t err;
    cr_assert_eq(load_text(&exp, &reg,
                           PROBLEM "seed: 10\ngrid: {steps: [2, 3]}\nruns:\n"
                                   "  - {label: A, optimizer: {name: sgd, lr: 0.1}}\n"
                                   "  - {label: B, optimizer: {name: sgd, lr: 0.2}, seeds: [1, 2, 3]}\n",
                           &err),
                 ERR_OK, "%s", err.msg);
    cr_assert_eq(exp.n_cells, 2 + 2 * 3);
    cr_expect_str_eq(exp.axes[exp.n_axes - 1].name, "seed");
    cr_expect_str_eq(value_of(&exp, 0, "seed"), "-", "run A has no seed axis");
    cr_expect_eq(exp.cells[0].seed_value, 10, "its cells take the config's seed");
    cr_expect_str_eq(value_of(&exp, 2, "run"), "B");
    cr_expect_eq(exp.cells[2].seed_value, 1);
    cr_expect_eq(exp.cells[4].seed_value, 3);
    cr_expect_eq(exp.cells[5].steps, 3, "B's second setting: steps 3");
    cr_expect_eq(exp.cells[2].seed, derive_cell_seed(1, 2), "B's first setting is the third setting");
    cr_expect_eq(exp.cells[5].seed, derive_cell_seed(1, 3));
    experiment_free(&exp);
}

/* A run's search: draws its own axis; without search.seed, from the
 * run's seed: else the config's. */
Test(ragged, a_run_searches_its_own_space)
{
    experiment_t a, b;
    err_t err;
    const char *text = PROBLEM "seed: 4\nruns:\n"
                               "  - {label: SGD, optimizer: {name: sgd},\n"
                               "     search: {method: random, samples: 5, space: {optimizer.lr: {loguniform: [0.001, 1]}}}}\n"
                               "  - {label: Adam, optimizer: {name: adam}, grid: {optimizer.lr: [0.1]},\n"
                               "     search: {method: sobol, samples: 2, space: {optimizer.beta1: {uniform: [0.5, 1]}}}}\n";
    cr_assert_eq(load_text(&a, &reg, text, &err), ERR_OK, "%s", err.msg);
    cr_assert_eq(a.n_cells, 5 + 2);
    cr_expect_str_eq(a.cells[6].opt->plugin->desc->name, "adam");
    cr_expect(strstr(a.cells[6].opt->text, "beta1=0.75"), "Sobol point 1: %s", a.cells[6].opt->text);
    cr_expect(!strstr(a.resolved_text, "search:"), "%s", a.resolved_text);
    /* the config's seed draws the SGD rates: another seed, other rates */
    char other[1024];
    snprintf(other, sizeof other, "%s", text);
    memcpy(strstr(other, "seed: 4"), "seed: 5", 7);
    cr_assert_eq(load_text(&b, &reg, other, &err), ERR_OK, "%s", err.msg);
    cr_expect_neq(a.cells[0].opt->hp[0], b.cells[0].opt->hp[0]);
    for (size_t c = 0; c < 5; c++) cr_expect(a.cells[c].opt->hp[0] >= 0.001 && a.cells[c].opt->hp[0] < 1);
    experiment_free(&a), experiment_free(&b);
}

/* exclude: leaves out the cells matching every entry of one item: by run,
 * by axis value (1 and 1.0 alike), by a setting of the run. */
Test(ragged, exclude_leaves_cells_out)
{
    experiment_t exp;
    err_t err;
    cr_assert_eq(load_text(&exp, &reg,
                           PROBLEM "grid: {optimizer.lr: [0.1, 1], optimizer.momentum: [0, 0.9]}\n"
                                   "runs:\n  - {label: M, optimizer: {name: momentum}}\n"
                                   "  - {label: N, optimizer: {name: momentum, nesterov: true}}\n"
                                   "exclude:\n  - {run: M, optimizer.lr: 1.0}\n"
                                   "  - {optimizer.nesterov: true, optimizer.momentum: 0}\n",
                           &err),
                 ERR_OK, "%s", err.msg);
    cr_assert_eq(exp.n_cells, 8 - 2 - 2);
    cr_expect_eq(exp.n_warnings, 0);
    for (size_t c = 0; c < exp.n_cells; c++) {
        bool m = !strcmp(value_of(&exp, c, "run"), "M");
        cr_expect(!(m && exp.cells[c].opt->hp[0] == 1), "cell %zu: M with lr 1", c);
        cr_expect(!(!m && !strcmp(value_of(&exp, c, "optimizer.momentum"), "0")), "cell %zu: N with momentum 0", c);
    }
    experiment_free(&exp);
}

/* An entry that matches nothing is a warning at its place, not an error;
 * leaving out every cell is an error. */
Test(ragged, exclude_warnings_and_errors)
{
    experiment_t exp;
    err_t err;
    cr_assert_eq(load_text(&exp, &reg,
                           PROBLEM "optimizer: {name: sgd}\ngrid: {optimizer.lr: [0.1, 1]}\n"
                                   "exclude:\n  - {optimizer.lr: 0.5}\n",
                           &err),
                 ERR_OK, "%s", err.msg);
    cr_expect_eq(exp.n_cells, 2);
    cr_assert_eq(exp.n_warnings, 1);
    cr_expect(strstr(exp.warnings[0], "test.yaml:6:5: warning: this exclude entry matches no cell"), "%s",
              exp.warnings[0]);
    experiment_free(&exp);
    cr_expect_eq(load_text(&exp, &reg,
                           PROBLEM "optimizer: {name: sgd}\ngrid: {optimizer.lr: [0.1, 1]}\nexclude: [{steps: 3}]\n", &err),
                 ERR_CONFIG);
    cr_expect(strstr(err.msg, "exclude: leaves no cell to run"), "%s", err.msg);
    experiment_free(&exp);
}

/* A config that must fail to load with `expect` in "LINE:COL: error: MSG". */
static void expect_config_error(const char *text, const char *expect) { expect_load_error(&reg, text, expect); }

Test(ragged, bad_input_names_the_place)
{
    expect_config_error(PROBLEM "optimizer: {name: sgd}\ngrid: {optimizer.lr: [0.1]}\n"
                                "runs:\n  - {label: A, grid: {optimizer.lr: [1]}}\n",
                        "6:23: error: grid axis 'optimizer.lr' is sweep-wide already");
    expect_config_error(PROBLEM "optimizer: {name: sgd}\nruns:\n  - {label: A, grid: [1]}\n",
                        "5:22: error: a run's grid is a mapping");
    expect_config_error(PROBLEM "optimizer: {name: sgd}\nruns:\n  - {label: A, grid: {seed: [1, 2]}}\n",
                        "5:23: error: a run's seeds are its seeds: [...] or repeat: N");
    expect_config_error(PROBLEM "optimizer: {name: sgd}\nruns:\n  - {label: A, seeds: [1, 1]}\n",
                        "5:27: error: seed 1 is listed twice");
    expect_config_error(PROBLEM "optimizer: {name: sgd}\nruns:\n"
                                "  - {label: A, search: {method: grid, samples: 2, space: {optimizer.lr: {uniform: [0, 1]}}}}\n",
                        "unknown search method 'grid'");
    expect_config_error(PROBLEM "optimizer: {name: sgd}\nruns:\n"
                                "  - {label: A, search: {method: random, samples: 2, space: {optimizer.lr: {loguniform: [0, 1]}}}}\n",
                        "loguniform");
    expect_config_error(PROBLEM "optimizer: {name: sgd}\nruns:\n"
                                "  - {label: A, grid: {optimizer.lr+optimizer.momentum: [[0.1, 0.9], [0.2]]}}\n",
                        "grid axis 'optimizer.lr+optimizer.momentum' sets 2 paths together");
    expect_config_error(PROBLEM "optimizer: {name: sgd}\nrepeat: 2\nexclude: {steps: 3}\n",
                        "5:10: error: exclude: is a list of partial assignments");
    expect_config_error(PROBLEM "optimizer: {name: sgd}\nrepeat: 2\nexclude: [3]\n",
                        "5:11: error: each exclude entry is a mapping");
    expect_config_error(PROBLEM "optimizer: {name: sgd}\nrepeat: 2\nexlude: [3]\n",
                        "unknown key 'exlude' (did you mean 'exclude'?)");
    expect_config_error(PROBLEM "optimizer: {name: sgd}\nruns:\n  - {label: A, grid: {optimizer.lr: [0.1], optimizer: [{name: sgd}]}}\n",
                        "lies inside");
}

/* The duplicates rule: an axis that does not reach some cells is an error
 * naming it, both cells and an exclude: entry; with the entry it loads. */
Test(ragged, an_axis_that_changes_nothing_is_an_error)
{
    const char *grid = PROBLEM "optimizer: {name: sgd, lr: 0.1}\n"
                               "grid: {optimizer.name: [sgd, adam], optimizer.momentum: [0.0, 0.9]}\n";
    expect_config_error(grid, "4:37: error: grid axis 'optimizer.momentum' changes nothing in cells 2 "
                              "(optimizer.name=adam optimizer.momentum=0.0) and 3 (optimizer.name=adam "
                              "optimizer.momentum=0.9)");
    expect_config_error(grid, "exclude: entries like {optimizer.name: adam, optimizer.momentum: 0.9} (one for each value but the first)");
    /* with runs, the entry names the run: the axis reaches the other runs */
    expect_config_error(PROBLEM "grid: {optimizer.lr: [0.1, 0.2], optimizer.beta1: [0.5, 0.8]}\n"
                                "runs: [{label: adam, optimizer: {name: adam}}, {label: rms, optimizer: {name: rmsprop}}]\n",
                        "exclude: entries like {run: rms, optimizer.beta1: 0.8}");
    char fixed[512];
    snprintf(fixed, sizeof fixed, "%sexclude: [{optimizer.name: adam, optimizer.momentum: 0.9}]\n", grid);
    experiment_t exp;
    err_t err;
    cr_assert_eq(load_text(&exp, &reg, fixed, &err), ERR_OK, "%s", err.msg);
    cr_expect_eq(exp.n_cells, 3);
    experiment_free(&exp);
    /* a var nothing reads changes nothing either */
    expect_config_error(PROBLEM "optimizer: {name: sgd, lr: 0.1}\nvars: {w: 1}\ngrid: {vars.w: [1, 2]}\n",
                        "grid axis 'vars.w' changes nothing in cells 0");
    /* two runs alike are allowed: a run is repeated on purpose */
    cr_expect_eq(load_text(&exp, &reg,
                           PROBLEM "optimizer: {name: sgd, lr: 0.1}\nruns: [{label: a}, {label: b}]\n", &err),
                 ERR_OK, "%s", err.msg);
    experiment_free(&exp);
}
