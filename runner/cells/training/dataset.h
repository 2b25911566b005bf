/*
 * dataset.h: a config's `data:` mapping loaded into memory as float
 * samples and int32 labels, once per experiment, shared read-only by
 * every cell.
 *
 *   data:
 *     format: idx                               # the MNIST file format (the only one so far)
 *     dir: /usr/share/datasets/fashion-mnist    # the default
 *     train_images: train-images-idx3-ubyte     # these four are the defaults; NAME.gz is
 *     train_labels: train-labels-idx1-ubyte     # tried when NAME is missing
 *     test_images: t10k-images-idx3-ubyte
 *     test_labels: t10k-labels-idx1-ubyte
 *     standardize: false    # after scaling to [0, 1]: subtract the training mean, divide by its std
 *     flatten: false        # samples (rows*cols) instead of images (1, rows, cols)
 *     validation: 0         # the fraction of the training set held out (its last samples), or
 *     validation: {count: 5000, shuffle: true}    # (or fraction: 0.1) held out of the samples
 *                           # each cell trains on (train.limit), after a shuffle seeded by
 *                           # the cell's seed: value (the same split for every setting)
 *
 * Pixels are scaled to [0, 1] (byte / 255). Labels must be classes
 * 0..K-1; K is the largest label in the training set plus one.
 */
#ifndef RUNNER_DATASET_H
#define RUNNER_DATASET_H

#include <runner/plugin.h>

#include "base/arena.h"
#include "base/input_file.h"
#include "config/node.h"

typedef struct {
    size_t n;
    float *x;   /* (n, sample size) */
    int32_t *y; /* (n) */
} split_t;

typedef struct {
    runner_shape_t shape;   /* of one sample */
    size_t n_classes;
    split_t train, validation, test;
    /* data.validation as a mapping: no split here; each cell holds out
     * count (or fraction of its samples) itself (train.c, train_run.c) */
    struct {
        bool per_cell, shuffle;
        size_t count; /* 0: fraction */
        double fraction;
        mark_t mark;
    } holdout;
    const char *label;      /* "DIR (60000 train, 0 validation, 10000 test)" */
    input_file_t files[4];  /* train images, train labels, test images, test labels: as read */
    void *block;            /* x and y of all splits */
} dataset_t;

#define DATASET_DEFAULT_DIR "/usr/share/datasets/fashion-mnist"

/* shapes_only (--dry-run): read the headers and labels, not the images:
 * the splits' sizes are set, their samples NULL. */
err_code_t dataset_load(arena_t *a, const node_t *data, bool shapes_only, dataset_t *ds, err_t *err);
void dataset_free(dataset_t *ds);
/* data (a mapping, or NULL for the defaults) with every key written out,
 * for the resolved config; data itself when it is not a mapping (its error
 * comes from dataset_load). NULL when out of memory. */
node_t *dataset_fill_defaults(arena_t *a, const node_t *data);

#endif
