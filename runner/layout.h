/*
 * layout.h: what each cell writes, as named float variables over the cell
 * axes plus one or two trailing dimensions. The sweep sizes its buffers
 * from it and h5out creates, checks and writes the datasets from it, so a
 * cell kind's outputs are described once, here.
 *
 *   analytic cells: params [step, param], loss [step], grad_norm [step]
 *     step 0..max steps (0 is the start point), param = parameter names
 *   training cells: train_loss [iteration]        (1..max iterations: the batch loss of each step)
 *     train_accuracy, train_epoch_loss, test_accuracy, test_loss
 *     (validation_accuracy, validation_loss when data.validation > 0) [epoch]
 *     epoch 0..max epochs (0 is before training)
 */
#ifndef RUNNER_LAYOUT_H
#define RUNNER_LAYOUT_H

#include <stdbool.h>

#include "experiment.h"

#define LAYOUT_MAX_VARS 8
#define LAYOUT_MAX_DIMS 3

typedef struct {
    const char *name;
    size_t n;
    int32_t first;              /* numeric coordinate first..first+n-1, when labels is NULL */
    const char *const *labels;  /* string coordinate */
    const char *long_name;
} layout_dim_t;

typedef struct {
    const char *name, *long_name;
    int n_dims;
    int dims[2]; /* indices into layout_t.dims */
    size_t per_cell;
} layout_var_t;

typedef struct {
    layout_dim_t dims[LAYOUT_MAX_DIMS];
    size_t n_dims;
    layout_var_t vars[LAYOUT_MAX_VARS];
    size_t n_vars;
    size_t floats_per_cell;
} layout_t;

/* Training variables, in this order (train_run's outputs). */
enum { TV_TRAIN_LOSS, TV_TRAIN_ACCURACY, TV_TRAIN_EPOCH_LOSS, TV_TEST_ACCURACY, TV_TEST_LOSS, TV_EPOCH_SECONDS,
       TV_VALIDATION_ACCURACY, TV_VALIDATION_LOSS };

void layout_of(const experiment_t *exp, layout_t *l);

#endif
