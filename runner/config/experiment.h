/*
 * experiment.h: a YAML experiment expanded into cells.
 *
 * A config is a tree. Its meta keys (grid, runs, repeat, seeds) define the
 * axes; the rest is the base. A cell is the base with one run overlay merged
 * in (mappings key by key, lists and scalars replaced) and one value of every
 * grid axis set at its dotted path. Axes, in order: `run` (when runs: is
 * given), the grid axes as written, `seed` (when repeat: or seeds: is given).
 * A grid axis named `a+b` is zipped: its values are pairs, both set at once.
 * Cells are numbered row-major over the axes (the last axis varies fastest),
 * which is also their order in the HDF5 datasets.
 *
 * A ragged study (ragged.h) is not one product: a run may have its own
 * grid:, search: and seeds:, and exclude: leaves cells out. Its axes are
 * then columns: `run`, the sweep-wide grid axes, each run's own axes by
 * name (one column for a name that several runs use), `seed`; a cell has
 * a value on some of them (AXIS_ABSENT on the others), and the cells are
 * run by run, each run row-major over its own axes.
 *
 * Optimizer parameters across optimizers (the "conditional parameter" rule):
 * a parameter written in the same layer as the optimizer's name (the base,
 * a run entry, or the same grid axis) must exist in that optimizer: a typo
 * is an error. A parameter from another layer (say a grid axis
 * optimizer.momentum combined with a grid axis optimizer.name: [sgd, adam])
 * applies to the cells whose optimizer has it and is left out of the others;
 * it is an error only when it applies to no cell at all.
 *
 * Everything is validated here, for every cell, before any output exists.
 */
#ifndef RUNNER_EXPERIMENT_H
#define RUNNER_EXPERIMENT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/input_file.h"
#include "config/node.h"
#include "plugin_host/registry.h"

typedef enum { AXIS_RUN, AXIS_GRID, AXIS_SEED } axis_kind_t;

/* A cell's index on an axis that does not reach it (a ragged study's
 * per-run axis in another run): experiment_cell_coords gives this. */
#define AXIS_ABSENT SIZE_MAX

typedef struct {
    axis_kind_t kind;
    const char *name; /* "run", the dotted grid path, or "seed" */
    /* A grid axis's dotted paths: one, or those a zipped axis joins with
     * '+' ("optimizer.lr+optimizer.momentum"), each value then a list of
     * one value per path, set together. */
    const char **paths;
    size_t n_paths;
    mark_t mark;
    size_t n;
    node_t **values;     /* run overlays / grid values (NULL for seed) */
    bool numeric;        /* coordinate stored as numbers */
    double *numbers;     /* n, when numeric */
    const char **labels; /* n, always (text of each value, or run label) */
    int64_t *seeds;      /* n, for the seed axis */
    /* Whether every cell has a value on this axis: always in a cartesian
     * study; in a ragged one, a per-run axis that every run has. */
    bool everywhere;
} axis_t;

/* An optimizer with every hyperparameter resolved; shared by cells. */
typedef struct {
    const plugin_entry_t *plugin;
    double *hp;       /* plugin->desc->n_params values, schema order */
    const char *text; /* "sgd(lr=0.1, momentum=0.9, ...)" */
} opt_config_t;

/* A cell: an optimizer with its steps and seed, and the part its kind
 * (cells/kind.h) built: an analytic problem or a training setup. Every cell
 * of an experiment has the same kind, exp->kind. */
typedef struct cell {
    union {
        const struct problem *problem;    /* kind analytic (cells/analytic/problem.h) */
        const struct train_config *train; /* kind training (cells/training/train.h) */
    };
    const opt_config_t *opt;
    uint32_t steps; /* optimizer steps (training: iterations) */
    uint64_t seed;
    int64_t seed_value; /* the config's seed for this cell (seed:, or its seeds: value), before
                           derive_cell_seed: what every cell of one seed shares (a validation split) */
} cell_t;

typedef struct experiment {
    arena_t arena;
    const char *path;  /* config file */
    const char *text;  /* its text, as given */
    node_t *root;      /* the config after --set */
    node_t *base;      /* root without the meta keys */
    const char *name, *output;
    int64_t seed;
    axis_t *axes;
    size_t n_axes;
    size_t n_cells;
    /* A ragged study: each cell's value index on each axis, n_cells x
     * n_axes (UINT32_MAX: absent); NULL for a cartesian one. */
    uint32_t *coords;
    /* select: (config/select.h): cells 0..select->n_tune-1 are the tuning
     * phase, the rest the final phase; NULL when the study has none. */
    struct select_spec *select;
    /* Not errors, printed before the cells run (exclude: entries that
     * matched no cell): each a whole message with its FILE:LINE:COL. */
    const char **warnings;
    size_t n_warnings;
    uint64_t max_cells; /* the guard this experiment was loaded under */
    bool objectives_only; /* loaded without optimizers: cell->opt is NULL (experiment_options_t) */
    bool dry_run;         /* loaded to be listed, never run (experiment_options_t) */
    cell_t *cells;
    size_t max_steps;             /* the most steps of any cell */
    const struct cell_kind *kind; /* of every cell (cells/kind.h) */
    void *kind_data;              /* the kind's own, over all cells (its sizes, loaded data) */
    const plugin_entry_t **plugins_used; /* distinct plugins used (optimizers, layers), for the record */
    input_file_t *plugin_files;          /* n_plugins_used: each one's file and content hash */
    size_t n_plugins_used;
    input_file_t *inputs; /* distinct data files read (path and content hash), in order of first use */
    size_t n_inputs;
    /* The config as it ran, runnable on its own (see build_resolved_text). */
    const char *resolved_text;
} experiment_t;

/* An override from the command line: --set PATH=VALUE. */
typedef struct {
    const char *path;
    const char *value; /* YAML text */
} override_t;

/* The default resource guard: more cells are refused unless --max-cells. */
#define EXPERIMENT_MAX_CELLS 10000000u

/* How to load: all fields may be zero. */
typedef struct {
    const override_t *overrides; /* --set, applied in order */
    size_t n_overrides;
    uint64_t max_cells;   /* the largest sweep accepted (0: EXPERIMENT_MAX_CELLS) */
    const char *output;   /* -o: replaces the config's output (and so the resolved config's) */
    bool objectives_only; /* build the cells' problems but resolve no optimizer (runner surface) */
    bool dry_run;         /* nothing will run: data sets are read for their sizes only */
} experiment_options_t;

/* Load, apply overrides, expand and validate. text must outlive exp.
 * opts may be NULL (the defaults). */
err_code_t experiment_load(experiment_t *exp, const char *path, const char *text, size_t len,
                           const experiment_options_t *opts, const registry_t *reg, err_t *err);
void experiment_free(experiment_t *exp);

/* A cell's value index on each axis (idx has n_axes entries): unravelled
 * row-major, or a ragged study's table (AXIS_ABSENT where none). */
void experiment_cell_coords(const experiment_t *exp, size_t cell, size_t *idx);
/* "optimizer.lr=0.1 optimizer.momentum=0.9" for a cell, into buf. */
void experiment_cell_label(const experiment_t *exp, size_t cell, char *buf, size_t len);


/* splitmix64-based seed for a cell: from the seed value and the cell's index
 * among the non-seed axes. */
uint64_t derive_cell_seed(int64_t seed, uint64_t index);

#endif
