/*
 * kind.h: what a kind of cell is to the rest of the runner.
 *
 * Every cell of an experiment is of one kind: an optimizer on an analytic
 * problem (cells/analytic), or a network trained on data (cells/training).
 * The experiment loader, the sweep, the writer, the guards and the commands
 * talk to a kind only through this table of operations, so a new kind (or a
 * ragged layout) is a new folder under cells/ and one row in cell_kinds[],
 * not a branch in each of them.
 *
 * A kind keeps what it needs about all cells (largest sizes, loaded data)
 * in exp->kind_data, its own struct, allocated by its first build.
 *
 * Lifecycle: while an experiment loads, the first kind whose claims() accepts
 * a cell's merged config tree builds every cell (build, then check once the
 * optimizer is resolved), and finish() settles what needs all cells. A sweep
 * then asks for its layout, sizes per-thread buffers with thread_bytes,
 * creates one set per compute thread, and hands it batches of consecutive
 * cells to compute.
 *
 * Threads: compute() runs on several threads at once, each with its own
 * buffers; everything else runs on one thread, before or after the sweep.
 *
 * What this is not: the plugin ABI (include/runner/plugin.h). Kinds are part
 * of the host, compiled in.
 */
#ifndef RUNNER_CELLS_KIND_H
#define RUNNER_CELLS_KIND_H

#include <runner/plugin.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/error.h"
#include "base/input_file.h"

struct experiment;
struct cell;
struct node;
struct registry;
struct layout;
struct batch;
struct plugin_entry;

/* Per-run state that the cells of one run share while loading: the merged
 * tree of the run, and a kind's own cache of what it compiled for it (a
 * problem, a model) when no grid axis changes that part. */
typedef struct {
    struct node *tree;
    void *kind_cache; /* the kind's, allocated in the experiment's arena */
    void *opt;        /* the run's resolved optimizer, when no axis changes it */
} cell_run_cache_t;

/* What the sweep offers a batch in progress. */
typedef struct {
    /* Polled between cells (and, by long cells, between steps): nonzero asks
     * the batch to end at the last finished cell. */
    int (*stopping)(void *arg);
    /* A cell is done: its status (STATUS_*), wall seconds, and failure
     * message (empty unless failed). Row r of the batch. */
    void (*cell_done)(void *arg, struct batch *b, size_t r, int status, double wall, const runner_err_t *err);
    /* A long cell says how far it is (0..1) for the progress line; cheap,
     * may be called every step. Kinds whose cells are short never call it. */
    void (*cell_progress)(void *arg, double done);
    void *arg;
} cell_env_t;

/* A per-cell config string the file keeps: a variable of strings over the
 * cell axes (optimizer_config, which every kind has, is not listed). */
typedef struct {
    const char *name, *long_name;
} cell_record_t;

typedef struct cell_kind {
    const char *name; /* the file's cell_kind attribute: "analytic", "training" */
    const char *does; /* for messages: "has a problem", "trains a model" */
    /* The cell keys this kind adds to the shared ones (name, seed,
     * optimizer, ...); NULL-terminated. They may head grid axes. */
    const char *const *cell_keys;

    /* Loading. claims: whether a cell's merged tree is of this kind. build:
     * the kind's part of the cell (cell->steps included), sharing compiled
     * parts through run->kind_cache. check (may be NULL): checks that need
     * the resolved optimizer. finish (may be NULL): after all cells. */
    bool (*claims)(const struct node *tree);
    err_code_t (*build)(struct experiment *exp, const struct registry *reg, struct node *tree, cell_run_cache_t *run,
                        struct cell *cell, err_t *err);
    err_code_t (*check)(const struct cell *cell, const struct node *tree, err_t *err);
    err_code_t (*finish)(struct experiment *exp, err_t *err);
    /* The resolved config (experiment.c): tree with the kind's defaults
     * written out where every cell that reads them sees the same value, so
     * it reads on its own; computing the same cells (test_resolved). May be
     * NULL. */
    struct node *(*fill_defaults)(struct experiment *exp, struct node *tree, const struct registry *reg);
    /* Frees what the kind loaded outside the experiment's arena (data
     * sets); may be NULL. */
    void (*release)(struct experiment *exp);
    /* The plugins a cell uses besides its optimizer (for the record): calls
     * note for each, in order, repeats allowed. NULL: none. */
    void (*each_plugin)(const struct cell *cell, void (*note)(void *ctx, const struct plugin_entry *pe), void *ctx);
    /* The files the experiment read (data sets), each with its content
     * hash, for the record and the fingerprint; repeats allowed. NULL: none. */
    void (*each_input)(const struct experiment *exp, void (*note)(void *ctx, const input_file_t *file), void *ctx);

    /* The output: variables and trailing dimensions (results/layout.h), and
     * the per-cell config strings beside optimizer_config. */
    void (*layout)(const struct experiment *exp, struct layout *l);
    const cell_record_t *records;
    size_t n_records;
    const char *(*record)(const struct cell *cell, size_t i);

    /* Computing. thread_bytes: what thread_create allocates plus what one
     * cell allocates while it runs, for the memory guard. thread_create
     * returns NULL when out of memory. compute: rows [0, b->c1 - b->c0) of
     * batch b, cells b->c0.. of exp; on a stop request it ends the batch
     * (b->c1) at the last finished cell. */
    uint64_t (*thread_bytes)(const struct experiment *exp);
    void *(*thread_create)(const struct experiment *exp);
    void (*thread_destroy)(void *buffers);
    void (*compute)(const struct experiment *exp, const struct layout *l, struct batch *b, void *buffers,
                    const cell_env_t *env);
    /* true: a cell can use every thread in its own kernels, so with fewer
     * cells than threads the sweep runs one cell at a time with all of them
     * (training); false: cells are single-threaded (analytic). */
    bool threaded_cells;
    /* Cells that compute() runs together (interleaved lanes) and that a
     * crash therefore takes down together; 1: one cell at a time. */
    size_t cells_together;

    /* Describing. plan_column: the dry run's per-cell column (heading and
     * text); plan_notes (may be NULL): lines after the table. report_tol:
     * the loss tolerance of the end-of-run table (NaN: none). */
    const char *plan_heading;
    void (*plan_column)(const struct cell *cell, char *buf, size_t len);
    void (*plan_notes)(FILE *out, const struct experiment *exp);
    double report_tol;
} cell_kind_t;

extern const cell_kind_t cell_kind_analytic;
extern const cell_kind_t cell_kind_training;

/* Every kind, most specific first (the last claims any cell); NULL-terminated. */
extern const cell_kind_t *const cell_kinds[];

/* The kind that claims a cell's tree (never NULL: the last one claims all). */
const cell_kind_t *cell_kind_of(const struct node *tree);

#endif
