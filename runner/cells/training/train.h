/*
 * train.h: training a network in a cell. A config's `train:` mapping,
 * checked, and the loop that runs it.
 *
 *   train:
 *     epochs: 5              # passes over the training set; or
 *     iterations: 2000       # optimizer steps in all (the last epoch may be partial)
 *     batch: 100
 *     limit: 300             # train on the first N samples only (default: all)
 *     weight_decay: 0.0      # L2 in the loss, 0.5 * wd * |w|^2 over all parameters (textbook)
 *     eval: {every: 1, train_samples: N, test_samples: N}  # evaluate every N epochs, on the
 *                            # first N training (test) samples; default: each epoch, all
 *     activations: {bins: 30, range: [0, 1]}  # at each evaluation, a histogram of every
 *                            # layer's output over the evaluated training samples
 *     schedule: {name: step, every: 2, gamma: 0.5}   # or torch's: {name: StepLR, step_size: 2}
 *
 * Schedules (schedule.h) set the optimizer's `lr` before each step; the
 * short names scale the optimizer's lr by epoch (e = steps taken / steps
 * per epoch):
 *   constant     lr
 *   step         lr * gamma^floor(floor(e) / every)
 *   exponential  lr * gamma^floor(e)
 *   cosine       lr_min + (lr - lr_min) * (1 + cos(pi * t / T)) / 2, t steps of T
 * and torch's classes step as torch.optim.lr_scheduler does.
 *
 * Each epoch: the training samples in an order shuffled from the cell's
 * seed, in batches (the last one smaller when batch does not divide N).
 * Before training (epoch 0) and after each epoch, the network is evaluated
 * (dropout off, batchnorm on running statistics) on the training samples
 * used, the validation split and the test set.
 */
#ifndef RUNNER_TRAIN_H
#define RUNNER_TRAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "cells/training/dataset.h"
#include "cells/training/model.h"
#include "cells/training/schedule.h"

/* Gradient clipping before each step (train.clip), as torch.nn.utils:
 * clip_grad_norm_ (scale every gradient by max / (norm + 1e-6) when that
 * is below 1; norm over all parameters, of order norm_type, INFINITY for the
 * largest magnitude) or clip_grad_value_ (clamp each to [-max, max]). */
typedef enum { CLIP_NONE, CLIP_NORM, CLIP_VALUE } clip_kind_t;

typedef struct {
    clip_kind_t kind;
    double max, norm_type;
} clip_t;

typedef struct train_config {
    const model_t *model;
    const dataset_t *data;
    size_t n_pool;             /* the training file's first samples this cell may use (limit) */
    size_t n_val;              /* of them held out for validation (data.validation as a mapping), else 0 */
    size_t n_train;            /* samples trained on: n_pool - n_val */
    uint32_t eval_every;       /* evaluate after every this many epochs (and after the last) */
    size_t eval_train, eval_test; /* samples evaluated: the first of the training samples, of the test set */
    uint32_t hist_bins;        /* train.activations: bins (0: no histograms) over [hist_lo, hist_hi) */
    double hist_lo, hist_hi;
    uint32_t batch;
    uint64_t per_epoch;        /* steps per epoch: ceil(n_train / batch) */
    uint64_t iterations;       /* steps in all */
    uint32_t epochs;           /* evaluations after epoch 1..epochs (the last may be partial) */
    double weight_decay;
    const schedule_t *schedule; /* never NULL: constant when none is given */
    clip_t clip;
    bool record_after;         /* record_loss: after: train_loss is the batch's loss after the step (the textbook's) */
    const char *text;          /* "epochs=5 batch=100 ..." for the record */
} train_config_t;

/* Check `train:` against a model and data. */
err_code_t train_config_parse(arena_t *a, const node_t *train, const model_t *model, const dataset_t *data,
                              train_config_t **out, err_t *err);

/* What a training cell writes: train_loss (iterations), then per evaluation
 * (epochs + 1): train/validation/test accuracy and loss, and the seconds
 * the epoch's steps took; and each step's gradient norm. Entries past the cell's own iterations/epochs
 * are NaN. */
typedef struct {
    float *train_loss;
    float *train_accuracy, *train_eval_loss;
    float *validation_accuracy, *validation_loss;
    float *test_accuracy, *test_loss;
    float *epoch_seconds;
    float *grad_norm; /* (iterations): the gradient's norm before clipping, of the clip's order (else 2); NULL: not recorded */
    float *learning_rate; /* (iterations): the rate each step used; NULL: not recorded */
    float *activation_histogram; /* (epochs + 1, layers, bins): the fraction of each layer's outputs in
                                    each bin; NULL: not recorded */
    size_t hist_layers;          /* the file's layer dimension (the largest model's layers) */
    size_t hist_floats;          /* the variable's floats per cell (all NaN but what this cell records) */
    float *train_data_loss; /* iterations: train_loss without the weight-decay term; NULL: not recorded */
} train_outputs_t;

struct cell;
/* Train one cell. Returns a STATUS_* value; a failure's message in err.
 * poll (may be NULL) is called before every step with the fraction of the
 * steps done (for a progress line); when it returns nonzero the cell is
 * abandoned and the return is STATUS_PENDING. */
int train_run(const struct cell *cell, const train_outputs_t *out, int (*poll)(void *arg, double done), void *poll_arg,
              runner_err_t *err);

/* Memory a training cell allocates (network, optimizer state, batch order). */
size_t train_cell_bytes(const struct cell *cell);

#endif
