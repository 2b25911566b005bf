/*
 * search.h: `search:`, a random or quasi-random search as one axis (issue 19).
 *
 *   search:
 *     method: random          # or sobol: the unscrambled Sobol sequence (base/sobol.h)
 *     samples: 100
 *     seed: 7                 # random only; default: the seed: beside search: (a run's, else the config's)
 *     space:
 *       optimizer.lr: {loguniform: [1.0e-6, 1.0e-2]}
 *       train.weight_decay: {loguniform: [1.0e-8, 1.0e-4]}
 *       model.0.out: {intuniform: [50, 200]}      # whole numbers, both ends included
 *       optimizer.name: {choice: [sgd, adam]}
 *       train.batch: {uniform: [0, 1]}            # any real in [lo, hi)
 *
 * The samples become one grid axis after the written ones: a zipped axis
 * over the space's paths (one path: a plain axis), its values the drawn
 * numbers in their shortest exact text. The loader replaces search: by that
 * axis before anything else reads the config, so resolved_config holds the
 * values themselves and a rerun never depends on the sampler. Sample i,
 * dimension j (space order) uses u = the random stream's next uniform
 * (sample by sample, dimension by dimension), or Sobol point i's
 * coordinate j; then uniform: lo + (hi - lo) u; loguniform:
 * exp(log lo + (log hi - log lo) u); intuniform: lo + floor(u (hi - lo + 1));
 * choice: item floor(u n).
 */
#ifndef RUNNER_CONFIG_SEARCH_H
#define RUNNER_CONFIG_SEARCH_H

#include <stdint.h>

#include "base/arena.h"
#include "base/error.h"
#include "config/node.h"

/* root with search: turned into a grid axis (root itself when it has none).
 * root is the config, or a run entry (its own search: and grid:, issue 19):
 * a random search without search.seed draws from root's seed:, else from
 * outer_seed (a run's: the config's seed:; NULL: none, seed 0).
 * max_samples bounds samples (the cell limit). */
err_code_t search_expand(arena_t *a, node_t *root, const node_t *outer_seed, uint64_t max_samples, node_t **out,
                         err_t *err);

#endif
