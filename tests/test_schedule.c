/*
 * test_schedule.c: learning-rate schedules as functions (schedule.h).
 *
 * torch's classes against tests/fixtures/schedule_reference.json, made by
 * tests/reference/make_schedule_reference.py with torch 1.13: each case's
 * schedule mapping, parsed as a config would be, built on a base rate of
 * 0.1 and stepped as torch stepped it, gives the same double at every
 * step. Then the short names' closed forms, and bad input.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/input_file.h"
#include "cells/training/schedule.h"
#include "config/yaml_load.h"

static arena_t arena;

static void setup(void) { arena_init(&arena); }
static void teardown(void) { arena_free(&arena); }
TestSuite(schedule, .init = setup, .fini = teardown);

static const node_t *load(const char *text)
{
    node_t *root;
    err_t err = {0};
    cr_assert_eq(yaml_load(&arena, text, strlen(text), "s.yaml", &root, &err), ERR_OK, "%s", err.msg);
    return root;
}

static double number(const node_t *n)
{
    double v;
    err_t err = {0};
    cr_assert_eq(node_to_double(n, "a number", &v, &err), ERR_OK, "%s", err.msg);
    return v;
}

Test(schedule, every_torch_class_matches_torch_bit_for_bit)
{
    char *text;
    size_t len;
    err_t err = {0};
    cr_assert_eq(read_text_file(RUNNER_SOURCE_DIR "/tests/fixtures/schedule_reference.json", &text, &len, &err), ERR_OK,
                 "%s", err.msg);
    node_t *root;
    cr_assert_eq(yaml_load(&arena, text, len, "schedule_reference.json", &root, &err), ERR_OK, "%s", err.msg);
    free(text);
    double lr0 = number(node_get(root, "optimizer_lr"));
    const node_t *cases = node_get(root, "cases");
    cr_assert(cases && cases->kind == NODE_SEQ);
    size_t checked = 0;
    bool classes[LR__COUNT] = {0};
    for (size_t i = 0; i < cases->n; i++) {
        const node_t *c = cases->items[i], *spec = node_get(c, "schedule"), *lrs = node_get(c, "lr"),
                     *metric = node_get(c, "metric");
        uint64_t steps = lrs->n - 1;
        const schedule_t *s;
        /* the training's length as the reference ran it: steps optimizer
         * steps, one step() after each (interval: step), so OneCycleLR's
         * default length is the reference's */
        cr_assert_eq(schedule_parse(&arena, spec, 1, steps, (uint32_t)steps, &s, &err), ERR_OK, "case %zu: %s", i,
                     err.msg);
        classes[s->cls] = true;
        lr_run_t r;
        schedule_start(&r, s, lr0, 1, steps);
        for (size_t k = 0; k < lrs->n; k++) {
            double want = number(lrs->items[k]), got = schedule_lr_now(&r);
            cr_assert_eq(memcmp(&got, &want, sizeof got), 0, "case %zu (%s) after %zu steps: %.17g, torch %.17g", i,
                         s->text, k, got, want);
            if (k + 1 < lrs->n) schedule_torch_step(&r, metric ? number(metric->items[k]) : 0.0);
        }
        checked++;
    }
    cr_expect_geq(checked, 26);
    for (int c = LR_STEP; c < LR__COUNT; c++) cr_expect(classes[c], "class %d has no reference case", c);
}

/* interval: when step() is called, torch's custom by default. */
Test(schedule, interval_defaults_and_stepping)
{
    err_t err = {0};
    const schedule_t *s;
    cr_assert_eq(schedule_parse(&arena, load("{name: StepLR, step_size: 2, gamma: 0.5}"), 10, 100, 10, &s, &err), ERR_OK);
    cr_expect_not(s->per_step, "StepLR: after each epoch");
    lr_run_t r;
    schedule_start(&r, s, 1.0, 10, 100);
    for (int k = 0; k < 10; k++) schedule_after_step(&r);
    cr_expect_eq(schedule_lr_now(&r), 1.0, "optimizer steps alone do not move an epoch schedule");
    schedule_after_epoch(&r, 0, true), schedule_after_epoch(&r, 0, true);
    cr_expect_eq(schedule_lr_now(&r), 0.5, "two epochs: halved");
    cr_assert_eq(schedule_parse(&arena, load("{name: OneCycleLR, max_lr: 1, cycle_momentum: false}"), 10, 100, 10, &s,
                                &err),
                 ERR_OK, "%s", err.msg);
    cr_expect(s->per_step, "OneCycleLR: after each optimizer step");
    cr_expect_eq(s->a[A_TOTAL_STEPS], 100.0, "its length defaults to the training's steps");
    cr_assert_eq(schedule_parse(&arena, load("{name: OneCycleLR, max_lr: 1, cycle_momentum: false, interval: epoch}"),
                                10, 100, 10, &s, &err),
                 ERR_OK, "%s", err.msg);
    cr_expect_eq(s->a[A_TOTAL_STEPS], 10.0, "stepped per epoch: the epochs");
    cr_expect_str_eq(s->text, "OneCycleLR(max_lr=1, total_steps=10, epochs=None, steps_per_epoch=None, pct_start=0.3, "
                              "anneal_strategy=cos, cycle_momentum=false, base_momentum=0.85, max_momentum=0.95, "
                              "div_factor=25, final_div_factor=10000, three_phase=false, interval=epoch)");
}

/* The short names keep their closed forms. */
Test(schedule, short_names)
{
    err_t err = {0};
    const schedule_t *s;
    lr_run_t r;
#define AT(t_)                                                            \
    (schedule_start(&r, s, base, 10, 100), r.t = (t_), schedule_lr_now(&r))
    double base = 0.1;
    cr_assert_eq(schedule_parse(&arena, NULL, 10, 100, 10, &s, &err), ERR_OK);
    cr_expect_not(schedule_changes_lr(s));
    cr_expect_eq(AT(99), 0.1);
    cr_assert_eq(schedule_parse(&arena, load("{name: step, every: 2, gamma: 0.5}"), 10, 100, 10, &s, &err), ERR_OK);
    cr_expect_eq(AT(19), 0.1, "epochs 0 and 1: full rate");
    cr_expect_eq(AT(20), 0.05, "epoch 2: halved");
    cr_expect_eq(AT(45), 0.025, "epoch 4: halved twice");
    cr_expect_str_eq(s->text, "step(every=2, gamma=0.5, lr_min=0)");
    base = 1.0;
    cr_assert_eq(schedule_parse(&arena, load("{name: exponential, gamma: 0.9}"), 10, 100, 10, &s, &err), ERR_OK);
    cr_expect_float_eq(AT(30), 0.729, 1e-12);
    cr_assert_eq(schedule_parse(&arena, load("{name: cosine, lr_min: 0.01}"), 10, 100, 10, &s, &err), ERR_OK);
    cr_expect_float_eq(AT(0), 1.0, 1e-12);
    cr_expect_float_eq(AT(50), 0.505, 1e-12);
    cr_expect_float_eq(AT(100), 0.01, 1e-12);
#undef AT
}

typedef struct {
    const char *yaml, *expect;
} bad_t;

static const bad_t bad[] = {
    {"{name: StepLRR, step_size: 3}", "1:8: error: unknown schedule 'StepLRR' (did you mean 'StepLR'?)"},
    {"{name: StepLR}", "1:1: error: StepLR needs step_size"},
    {"{name: StepLR, step_size: 0}", "StepLR's step_size must be"},
    {"{name: StepLR, step_size: 3, gama: 0.1}", "unknown key 'gama' in StepLR (did you mean 'gamma'?)"},
    {"{name: MultiStepLR, milestones: [30, 20]}", "1:38: error: MultiStepLR's milestones must increase: 20 comes after 30"},
    {"{name: MultiStepLR, milestones: 30}", "MultiStepLR's milestones is a list"},
    {"{name: MultiStepLR}", "MultiStepLR needs milestones"},
    {"{name: ConstantLR, factor: 1.5}", "ConstantLR's factor must be above 0 and at most 1, got 1.5"},
    {"{name: ExponentialLR}", "ExponentialLR needs gamma"},
    {"{name: CosineAnnealingLR, T_max: 10, interval: hourly}", "interval is epoch"},
    {"{name: OneCycleLR, max_lr: 0.1}", "write cycle_momentum: false"},
    {"{name: OneCycleLR, max_lr: 0.1, cycle_momentum: true}", "runner does not cycle momentum"},
    {"{name: OneCycleLR, max_lr: 0.1, cycle_momentum: false, total_steps: 50, interval: step}",
     "OneCycleLR's schedule has 50 steps but is stepped 100 times"},
    {"{name: OneCycleLR, max_lr: 0.1, cycle_momentum: false, epochs: 5}", "epochs with steps_per_epoch"},
    {"{name: OneCycleLR, max_lr: 0.1, cycle_momentum: false, anneal_strategy: cosine}",
     "OneCycleLR's anneal_strategy is one of cos, linear, got 'cosine'"},
    {"{name: CyclicLR, base_lr: 0.01, max_lr: 0.1, mode: triangle, cycle_momentum: false}",
     "CyclicLR's mode is one of triangular, triangular2, exp_range"},
    {"{name: ReduceLROnPlateau, interval: step}", "ReduceLROnPlateau follows the loss of each epoch"},
    {"{name: ReduceLROnPlateau, factor: 1.0}", "ReduceLROnPlateau's factor must be"},
    {"{name: SequentialLR, schedulers: [{name: ConstantLR}, {name: ExponentialLR, gamma: 0.9}], milestones: [5, 9]}",
     "SequentialLR needs one milestone fewer than schedulers"},
    {"{name: SequentialLR, schedulers: [{name: ConstantLR}, {name: ReduceLROnPlateau}], milestones: [5]}",
     "ReduceLROnPlateau cannot be one of SequentialLR's schedulers"},
    {"{name: SequentialLR, schedulers: [{name: ConstantLR, interval: step}, {name: ConstantLR}], milestones: [5]}",
     "interval goes on the SequentialLR"},
    {"{name: SequentialLR, milestones: [5]}", "SequentialLR needs schedulers"},
    {"[StepLR]", "expected a schedule"},
};

Test(schedule, bad_input_names_the_place)
{
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err_t err = {0};
        const schedule_t *s;
        err_code_t rc = schedule_parse(&arena, load(bad[i].yaml), 10, 100, 10, &s, &err);
        cr_expect_eq(rc, ERR_CONFIG, "%s: accepted", bad[i].yaml);
        char full[1200];
        snprintf(full, sizeof full, "%d:%d: error: %s", err.mark.line, err.mark.col, err.msg);
        cr_expect(strstr(full, bad[i].expect), "%s:\n got '%s'\nwant '%s'", bad[i].yaml, full, bad[i].expect);
    }
}
