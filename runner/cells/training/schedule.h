/*
 * schedule.h: learning-rate schedules, `train.schedule`.
 *
 * Two families. The short names of earlier versions, closed forms of the
 * step count (unchanged):
 *   constant | {name: step, every: E, gamma: G} | exponential | cosine
 * and torch.optim.lr_scheduler's classes by their names and arguments,
 * stepped as torch steps them, with torch's defaults:
 *   {name: StepLR, step_size: 30, gamma: 0.1, interval: epoch}
 *   StepLR MultiStepLR ConstantLR LinearLR ExponentialLR PolynomialLR
 *   CosineAnnealingLR CosineAnnealingWarmRestarts OneCycleLR CyclicLR
 *   ReduceLROnPlateau SequentialLR (schedulers: [...], milestones: [...])
 * `interval: epoch | step` (Lightning's word) says when step() is called:
 * after each epoch (after its evaluation) or after each optimizer step;
 * the default is torch's custom for the class: step for OneCycleLR and
 * CyclicLR, epoch for the others. ReduceLROnPlateau is stepped each epoch
 * with the validation loss when the data has a validation split, else the
 * loss on the training samples evaluated at the epoch's end.
 *
 * Exactness: torch computes most rates recursively from the group's
 * current rate (the "chainable" form), in double; this file repeats each
 * formula in the same order of operations, so the rate of every step is
 * the same double (tests/test_schedule.c against committed torch 1.13
 * vectors). Momentum cycling (cycle_momentum) is not done: OneCycleLR and
 * CyclicLR need `cycle_momentum: false` written out, as torch's default
 * would cycle it.
 */
#ifndef RUNNER_CELLS_TRAINING_SCHEDULE_H
#define RUNNER_CELLS_TRAINING_SCHEDULE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/error.h"
#include "config/node.h"

typedef enum {
    /* the short names: closed forms of the step count */
    LR_SHORT_CONSTANT,
    LR_SHORT_STEP,
    LR_SHORT_EXPONENTIAL,
    LR_SHORT_COSINE,
    /* torch's classes */
    LR_STEP,
    LR_MULTISTEP,
    LR_CONSTANT,
    LR_LINEAR,
    LR_EXPONENTIAL,
    LR_POLYNOMIAL,
    LR_COSINE,
    LR_WARM_RESTARTS,
    LR_ONECYCLE,
    LR_CYCLIC,
    LR_PLATEAU,
    LR_SEQUENTIAL,
    LR__COUNT
} lr_class_t;

/* The arguments, by one index across classes (each class reads its own). */
enum {
    A_STEP_SIZE, A_GAMMA, A_FACTOR, A_TOTAL_ITERS, A_START_FACTOR, A_END_FACTOR, A_POWER, A_T_MAX, A_ETA_MIN,
    A_T_0, A_T_MULT, A_MAX_LR, A_TOTAL_STEPS, A_EPOCHS, A_STEPS_PER_EPOCH, A_PCT_START, A_ANNEAL, A_DIV_FACTOR,
    A_FINAL_DIV_FACTOR, A_THREE_PHASE, A_BASE_LR, A_STEP_SIZE_UP, A_STEP_SIZE_DOWN, A_MODE, A_CYCLE_MOMENTUM,
    A_BASE_MOMENTUM, A_MAX_MOMENTUM, A_PATIENCE, A_THRESHOLD, A_THRESHOLD_MODE, A_COOLDOWN, A_MIN_LR, A_EPS,
    A_EVERY, A_LR_MIN,
    A__COUNT
};

#define LR_MAX_MILESTONES 64
#define LR_MAX_CHILDREN 8

typedef struct schedule {
    lr_class_t cls;
    bool per_step;       /* interval: step */
    double a[A__COUNT];  /* the arguments, defaults filled in; NaN: not given (torch's None) */
    int64_t milestones[LR_MAX_MILESTONES];
    size_t n_milestones;
    const struct schedule *children[LR_MAX_CHILDREN]; /* SequentialLR */
    size_t n_children;
    const char *text;    /* "StepLR(step_size=30, gamma=0.1, interval=epoch)" for the record */
} schedule_t;

/* Parse `train.schedule` (NULL: constant). steps_per_epoch and iterations
 * are the training's, for the short names and the checks that need them
 * (OneCycleLR's length). Errors carry the node's mark. */
err_code_t schedule_parse(arena_t *a, const node_t *n, uint64_t steps_per_epoch, uint64_t iterations, uint32_t epochs,
                          const schedule_t **out, err_t *err);

/* Whether the rate changes at all (anything but constant). */
bool schedule_changes_lr(const schedule_t *s);

/* ---- running one: the state of torch's scheduler and its param group ---- */

typedef struct {
    const schedule_t *s;
    int64_t last_epoch, step_count;
    double base_lr;          /* base_lrs[0] */
    int64_t T_cur, T_i;      /* CosineAnnealingWarmRestarts */
    double best;             /* ReduceLROnPlateau */
    int64_t num_bad, cooldown_counter;
    double initial_lr, max_lr, min_lr; /* OneCycleLR's group values */
    double total_size, step_ratio;     /* CyclicLR */
} lr_one_t;

typedef struct {
    const schedule_t *s;
    double lr, initial_lr; /* param_groups[0]['lr'], ['initial_lr'] */
    lr_one_t top, kids[LR_MAX_CHILDREN];
    int64_t seq_epoch;     /* SequentialLR's last_epoch */
    uint64_t t, per_epoch, iterations; /* the short names' step count and lengths */
} lr_run_t;

/* Build the scheduler on an optimizer at base rate lr (torch's
 * constructor, its initial step included). */
void schedule_start(lr_run_t *r, const schedule_t *s, double lr, uint64_t per_epoch, uint64_t iterations);

/* The rate the next optimizer step uses. */
double schedule_lr_now(const lr_run_t *r);

/* After an optimizer step; after an epoch, with the metric that
 * ReduceLROnPlateau follows (ignored by the others), which steps only
 * after epochs that were evaluated (train.eval.every). */
void schedule_after_step(lr_run_t *r);
void schedule_after_epoch(lr_run_t *r, double metric, bool evaluated);

/* torch's scheduler.step() (metric for ReduceLROnPlateau): for the tests. */
void schedule_torch_step(lr_run_t *r, double metric);

#endif
