/*
 * random_data.h: `data: {format: random, ...}`, samples drawn from a seeded
 * stream instead of read from files: the textbook's activation-histogram
 * experiment feeds 1,000 samples of 100 standard normal values through a
 * fresh network, and this is that input as a config.
 *
 *   data:
 *     format: random
 *     samples: 1000          # training samples (required)
 *     test_samples: 0        # test samples, drawn after them
 *     shape: [100]           # one sample's shape: [features] or [channels, rows, cols]
 *     distribution: normal   # standard normal, or uniform on [0, 1)
 *     classes: 10            # labels uniform in 0..classes-1
 *     seed: 0                # the stream (splitmix64, as every runner stream)
 *     validation: ...        # as for idx data (dataset.h)
 *
 * Order of the stream: every training value, then every training label,
 * then the test values and labels (tests regenerate it).
 */
#ifndef RUNNER_CELLS_TRAINING_RANDOM_DATA_H
#define RUNNER_CELLS_TRAINING_RANDOM_DATA_H

#include "cells/training/dataset.h"

/* data is a mapping whose format is random. */
err_code_t random_data_load(arena_t *a, const node_t *data, bool shapes_only, dataset_t *ds, err_t *err);

/* data with every key of the random format written out (the resolved
 * config); NULL when out of memory. */
node_t *random_data_fill_defaults(arena_t *a, const node_t *data);

#endif
