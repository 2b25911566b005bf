/*
 * duplicates.h: a sweep never multiplies cells by an axis that changes
 * nothing in them (issue 19).
 *
 * grid: {optimizer.name: [sgd, adam], optimizer.momentum: [0, 0.9]} would
 * run each Adam cell twice: Adam has no momentum, so that axis does not
 * reach its cells (the conditional-parameter rule leaves the value out).
 * Each cell's digest covers everything that decides what it computes: its
 * tree as its kind reads it (vars substituted), its resolved optimizer
 * and its seed value. Two cells with one digest that differ in a grid axis
 * are an error naming the axis and both cells, suggesting a per-run grid
 * or exclude:. Cells that differ in their run, or only in values written
 * alike (an axis listing 0 twice), are not: those repeat a setting on
 * purpose.
 */
#ifndef RUNNER_CONFIG_DUPLICATES_H
#define RUNNER_CONFIG_DUPLICATES_H

#include <stdint.h>

#include "config/experiment.h"

typedef struct {
    uint64_t h[2];
} cell_digest_t;

/* The digest of a cell: tree (the keys optimizer and seed aside), the
 * optimizer's record text (NULL: none) and the seed value. Flow text is
 * built in scratch. */
void cell_digest(arena_t *scratch, const node_t *tree, const char *optimizer, int64_t seed_value, cell_digest_t *d);

/* ERR_CONFIG when two cells share a digest and differ in a grid axis. */
err_code_t duplicates_check(const experiment_t *exp, const cell_digest_t *digests, err_t *err);

#endif
