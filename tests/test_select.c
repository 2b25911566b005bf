/* test_select.c: the tune -> select -> rerun protocol (issue 19,
 * config/select.h): the final cells a study gets, the choice, and bad input. */
#include <math.h>

#include "config/select.h"
#include "helpers.h"

static registry_t reg;
static void setup(void) { load_build_plugins(&reg); }
static void teardown(void) { registry_free(&reg); }
TestSuite(select, .init = setup, .fini = teardown);

#define PROBLEM "steps: 3\nseed: 10\nproblem: {objective: elliptic, start: [-7, 2]}\n"
/* SGD: 3 rates x seeds 1, 2; Adam: 2 rates, no seeds of its own */
#define STUDY                                                                                                     \
    PROBLEM "runs:\n"                                                                                             \
            "  - {label: SGD, optimizer: {name: sgd}, grid: {optimizer.lr: [0.1, 0.2, 0.3]}, seeds: [1, 2]}\n" \
            "  - {label: Adam, optimizer: {name: adam}, grid: {optimizer.lr: [0.01, 0.02]}}\n"

/* The final phase: one group per run (by: run, the default), 3 seeds each,
 * after the 8 tuning cells; each a copy of its group's first cell for now,
 * with its own seed fixed at load. */
Test(select, the_final_cells_follow_the_tuning_cells)
{
    experiment_t exp;
    err_t err;
    cr_assert_eq(load_text(&exp, &reg, STUDY "select: {metric: final_loss, rerun: {seeds: [7, 8, 9]}}\n", &err), ERR_OK,
                 "%s", err.msg);
    const select_spec_t *s = exp.select;
    cr_assert_not_null(s);
    cr_assert_eq(s->n_tune, 8);
    cr_assert_eq(s->n_groups, 2);
    cr_assert_eq(exp.n_cells, 8 + 2 * 3);
    cr_expect_eq(s->group_first[0], 0);
    cr_expect_eq(s->group_first[1], 6);
    cr_expect_eq(s->group_of[5], 0);
    cr_expect_eq(s->group_of[7], 1);
    for (size_t f = 8; f < 14; f++) {
        size_t g = (f - 8) / 3;
        cr_expect_eq(exp.cells[f].seed_value, 7 + (int64_t)((f - 8) % 3), "cell %zu", f);
        /* tuning settings: SGD 3, Adam 2; group g's seeds are numbered after them */
        cr_expect_eq(exp.cells[f].seed, derive_cell_seed(exp.cells[f].seed_value, 5 + g), "cell %zu", f);
        char label[256];
        experiment_cell_label(&exp, f, label, sizeof label);
        char want[64];
        snprintf(want, sizeof want, "run=%s seed=%d", g ? "Adam" : "SGD", 7 + (int)((f - 8) % 3));
        cr_expect_str_eq(label, want, "only the group and the seed are known before the choice");
    }
    experiment_free(&exp);
}

/* The choice: the lowest (or highest) mean over a setting's seeds; a
 * setting with a cell that did not finish ok does not compete; a group with
 * none has nothing chosen; a tie goes to the first. */
Test(select, chooses_by_the_mean_over_seeds)
{
    experiment_t exp;
    err_t err;
    cr_assert_eq(load_text(&exp, &reg, STUDY "select: {metric: final_loss, rerun: {repeat: 2}}\n", &err), ERR_OK, "%s",
                 err.msg);
    /* SGD 0.1: 5, 1 (mean 3); 0.2: 2, 2 (mean 2); 0.3: 0, 9 but diverged once; Adam 0.01: 4, 0.02: 4 (tie) */
    const double score[8] = {5, 1, 2, 2, 0, 0.5, 4, 4};
    const int8_t ok[8] = {1, 1, 1, 1, 1, 2, 1, 1};
    size_t chosen[2];
    select_choose(&exp, score, ok, chosen);
    cr_expect_eq(chosen[0], 2, "SGD's lr 0.2 (mean 2), not 0.3 (a diverged seed)");
    cr_expect_eq(chosen[1], 6, "a tie: the first");
    const int8_t none_ok[8] = {3, 1, 2, 1, 2, 1, 1, 1};
    select_choose(&exp, score, none_ok, chosen);
    cr_expect_eq(chosen[0], SIZE_MAX, "no SGD setting finished ok on every seed");
    exp.select->maximize = true;
    select_choose(&exp, score, ok, chosen);
    cr_expect_eq(chosen[0], 0, "the highest mean: 0.1 (3)");
    /* applied: the final cells are the chosen cells' copies, their seeds kept */
    exp.select->maximize = false;
    select_choose(&exp, score, ok, exp.select->chosen);
    uint64_t seed = exp.cells[8].seed;
    select_apply(&exp);
    cr_expect_str_eq(exp.cells[8].opt->text, exp.cells[2].opt->text);
    cr_expect_eq(exp.cells[8].seed, seed);
    char label[256];
    experiment_cell_label(&exp, 9, label, sizeof label);
    cr_expect_str_eq(label, "run=SGD optimizer.lr=0.2 seed=11");
    experiment_cell_label(&exp, 10, label, sizeof label);
    cr_expect_str_eq(label, "run=Adam optimizer.lr=0.01 seed=10");
    experiment_free(&exp);
}

/* Each metric's score of one recorded series (NaN padded). */
Test(select, scores)
{
    experiment_t exp;
    err_t err;
    const float v[6] = {4, 2, 0.5f, 1, NAN, NAN};
    const char *metric[] = {"final_loss", "best_loss", "steps_to_tol, tol: 0.6"};
    const double want[] = {1, 0.5, 2};
    for (size_t i = 0; i < 3; i++) {
        char text[512];
        snprintf(text, sizeof text, PROBLEM "optimizer: {name: sgd, lr: 0.1}\nselect: {metric: %s, rerun: {repeat: 1}}\n", metric[i]);
        cr_assert_eq(load_text(&exp, &reg, text, &err), ERR_OK, "%s", err.msg);
        cr_expect_eq(select_score(exp.select, v, 6), want[i], "%s", metric[i]);
        experiment_free(&exp);
    }
    cr_assert_eq(load_text(&exp, &reg, PROBLEM "optimizer: {name: sgd, lr: 0.1}\nselect: {metric: steps_to_tol, tol: 0.1, rerun: {repeat: 1}}\n",
                           &err),
                 ERR_OK, "%s", err.msg);
    cr_expect(isinf(select_score(exp.select, v, 6)), "never reached: +inf");
    cr_expect_eq(exp.select->n_groups, 1, "no runs: one group");
    experiment_free(&exp);
}

/* A config that must fail to load with `expect` in "LINE:COL: error: MSG". */
static void expect_config_error(const char *text, const char *expect) { expect_load_error(&reg, text, expect); }

Test(select, bad_input_names_the_place)
{
    expect_config_error(STUDY "select: {metric: final_los, rerun: {repeat: 2}}\n",
                        "7:18: error: unknown select.metric 'final_los'; did you mean 'final_loss'?");
    expect_config_error(STUDY "select: {metric: validation_accuracy, rerun: {repeat: 2}}\n",
                        "select.metric 'validation_accuracy' is for training cells");
    expect_config_error(STUDY "select: {metric: steps_to_tol, rerun: {repeat: 2}}\n",
                        "select.metric steps_to_tol needs tol:");
    expect_config_error(STUDY "select: {metric: final_loss, tol: 1, rerun: {repeat: 2}}\n",
                        "select.tol is for metric steps_to_tol");
    expect_config_error(STUDY "select: {metric: final_loss, goal: up, rerun: {repeat: 2}}\n",
                        "select.goal is max or min, got 'up'");
    expect_config_error(STUDY "select: {metric: final_loss, by: optimizer.l, rerun: {repeat: 2}}\n",
                        "7:34: error: select.by: no such axis; the study's axes are: run, optimizer.lr (did you mean "
                        "'optimizer.lr'?)");
    expect_config_error(STUDY "select: {metric: final_loss, by: seed, rerun: {repeat: 2}}\n",
                        "select.by: seed is what the final phase averages over");
    expect_config_error(STUDY "select: {metric: final_loss}\n", "select needs rerun: {seeds: [1, 2, 3]} or rerun: {repeat: N}");
    expect_config_error(STUDY "select: {metric: final_loss, rerun: {seeds: [1, 1]}}\n", "seed 1 is listed twice");
    expect_config_error(STUDY "select: {metric: final_loss, rerun: {seed: [1]}}\n",
                        "select.rerun has seeds: [...] or repeat: N, not 'seed'");
    expect_config_error(STUDY "select: {metric: final_loss, rerun: {repeat: 2}, by_: run}\n",
                        "unknown key 'by_' in select (did you mean 'by'?)");
    expect_config_error(STUDY "select: final_loss\n", "select is a mapping");
    expect_config_error(STUDY "selct: {metric: final_loss}\n", "unknown key 'selct' (did you mean 'select'?)");
    /* validation without a split: a load-time error saying what to add */
    expect_config_error("data: {format: random, samples: 30, shape: [4], classes: 4}\nmodel: [{layer: affine, out: 4}]\nloss: softmax_cross_entropy\n"
                        "train: {epochs: 1, batch: 10}\noptimizer: {name: sgd}\ngrid: {optimizer.lr: [0.1, 0.2]}\n"
                        "select: {metric: validation_accuracy, rerun: {repeat: 2}}\n",
                        "7:18: error: select.metric 'validation_accuracy' needs 'validation_accuracy', which these cells do "
                        "not record: give data.validation");
}
