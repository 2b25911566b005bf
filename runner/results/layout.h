/*
 * layout.h: what each cell writes, as named float variables over the cell
 * axes plus one or two trailing dimensions, and a batch of cells held in
 * memory in that shape. A cell kind describes its outputs once, in its
 * layout operation (cells/kind.h); the sweep sizes its buffers from it, the
 * MPI link packs batches by it, and h5out creates, checks and writes the
 * datasets from it.
 *
 *   analytic cells (cells/analytic): params [step, param], loss [step], grad_norm [step]
 *     step 0..max steps (0 is the start point), param = parameter names
 *   training cells (cells/training): train_loss [iteration]  (1..max iterations: the batch loss of each step)
 *     train_accuracy, train_epoch_loss, test_accuracy, test_loss, epoch_seconds
 *     (validation_accuracy, validation_loss when data.validation > 0) [epoch]
 *     epoch 0..max epochs (0 is before training)
 *     (activation_histogram [epoch, layer, bin] when train.activations is given)
 */
#ifndef RUNNER_LAYOUT_H
#define RUNNER_LAYOUT_H

#include <runner/plugin.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct experiment;

#define LAYOUT_MAX_VARS 16
#define LAYOUT_MAX_DIMS 5

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
    int dims[3]; /* indices into layout_t.dims */
    size_t per_cell;
} layout_var_t;

typedef struct layout {
    layout_dim_t dims[LAYOUT_MAX_DIMS];
    size_t n_dims;
    layout_var_t vars[LAYOUT_MAX_VARS];
    size_t n_vars;
    size_t floats_per_cell;
} layout_t;

/* Computed cells [c0, c1): the layout's variables, (c1-c0, per_cell) each,
 * and per cell the status, wall time and failure message. */
typedef struct batch {
    size_t c0, c1;
    float *vars[LAYOUT_MAX_VARS];
    int8_t *status;
    double *wall;
    char (*failure)[RUNNER_ERR_MAX];
} batch_t;

/* The experiment's layout, from its cell kind. */
void layout_of(const struct experiment *exp, layout_t *l);

/* For the kinds' layout operations: a dimension, then a variable over one
 * or two of them (d1 < 0: one). Both return the new index; the bounds are
 * compile-time facts of each kind, asserted (test_h5out builds the largest). */
int layout_add_dim(layout_t *l, layout_dim_t dim);
int layout_add_var(layout_t *l, const char *name, const char *long_name, int d0, int d1);
/* A variable over three of them (training's activation histograms). */
int layout_add_var3(layout_t *l, const char *name, const char *long_name, int d0, int d1, int d2);

#endif
