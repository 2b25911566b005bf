/*
 * h5out.h: the results file, netCDF-4 compatible (h5py, h5dump, ncdump and
 * xarray read it with labelled dimensions).
 *
 * Layout (a contract; README "HDF5 output" documents it):
 *   dimensions, each with a coordinate variable of the same name:
 *     run (labels), grid axes by dotted name (numbers or strings), seed,
 *     then the cell kind's own (layout.h): step and param for analytic
 *     problems, iteration and epoch for training
 *   variables:
 *     the cell kind's float32 variables (layout.h): params, loss, grad_norm
 *     for analytic problems; train_loss, train/test accuracy and loss for training
 *     status [axes...] int8 (0 pending, 1 ok, 2 diverged, 3 failed)
 *     failure [axes...] fixed-length UTF-8 string: a failed cell's message
 *     wall_seconds [axes...] float64, cell_seed [axes...] uint64,
 *     cell_steps [axes...] int32, optimizer_config [axes...] string, and
 *     and the cell kind's records (cells/kind.h): problem_config (analytic) or
 *     model_config, train_config, data_config (training) [axes...] string
 *     run_state (scalar) int8 (0 running, 1 complete, 2 interrupted, 3 stopped)
 *   root attributes: config_text, config_file, resolved_config, command_line,
 *     runner_version, plugin_abi, created, plugins, title, config_fingerprint,
 *     cell_kind. The names and values are in format.h.
 *
 * Why this shape (docs/hdf5-notes.md has the measurements): every
 * dataset is created at full size, contiguous and allocated up front, so
 * after creation no metadata changes; a cell's data are written, flushed,
 * and only then its status, then flushed again. A kill at any moment leaves
 * a file that opens and whose `ok` cells are complete. The file is created
 * under a temporary name and renamed into place once complete and flushed.
 * Float data get no fill value (writing one costs a pass over the file);
 * status is what says whether a cell's numbers are valid. Everything
 * written after creation is raw data of these datasets (run_state and the
 * failure messages too, hence fixed-length strings: variable-length ones
 * would grow the global heap, metadata a kill could tear).
 */
#ifndef RUNNER_H5OUT_H
#define RUNNER_H5OUT_H

#include <stdbool.h>
#include <stdint.h>

#include "config/experiment.h"
#include "results/format.h"
#include "results/layout.h"
#include "results/provenance.h"

typedef struct h5out h5out_t;

/* Create the file at `path`, all datasets, coordinates, attributes and
 * per-cell records. It is built under an unpredictable temporary name,
 * created exclusively (O_EXCL: an existing file or a symlink there is never
 * followed), and moved to `path` only if nothing is there: when another
 * process made `path` meanwhile, the result is an error, never a silent
 * replacement. replace: remove an existing `path` first (--force). Stale
 * temporary files of earlier runs killed during creation are removed.
 * `path` is borrowed (also by h5out_open): it must outlive the writer and
 * any error it returns, whose mark names it. */
typedef struct {
    const char *command_line;
    const char *fingerprint;        /* config/fingerprint.h */
    const provenance_t *provenance; /* NULL: not recorded (unit tests) */
} h5out_record_t;
err_code_t h5out_create(const experiment_t *exp, const char *path, bool replace, const h5out_record_t *record,
                        h5out_t **out, err_t *err);

/* The error for a file another runner is writing (writer_lock.h): it
 * cannot be `what` ("replaced", "resumed"); it never suggests --force. */
err_code_t h5out_busy_error(err_t *err, const char *path, const char *what);

/* The config_fingerprint attribute of an existing results file, into buf.
 * ERR_IO when the file is not a results file this runner can resume. */
err_code_t h5out_read_fingerprint(const char *path, char *buf, size_t len, err_t *err);

/* Open an existing file of the same experiment to finish it: checks its
 * layout against exp and fills each cell's status. The caller sets
 * run_state back to running. */
err_code_t h5out_open(const experiment_t *exp, const char *path, h5out_t **out, int8_t *status, err_t *err);

/* Cells [c0, c1): vars[v] holds the layout's variable v for these cells,
 * (c1-c0, its dimensions); status, wall and failure message per cell. Data
 * first, status after. */
err_code_t h5out_write_cells(h5out_t *o, size_t c0, size_t c1, const float *const *vars, const int8_t *status,
                             const double *wall, const char (*failure)[RUNNER_ERR_MAX], err_t *err);

/* Disk space the cells flagged in todo will take (all cells and the file's
 * own overhead when todo is NULL): for the resource guard. */
uint64_t h5out_bytes_needed(const experiment_t *exp, const unsigned char *todo);

/* Record how the run ended (or that it runs again), and flush. */
/* A study with select: (config/select.h). The tuning cells' scores and
 * statuses, read back from the file (so a resumed study chooses from the
 * same numbers as an uninterrupted one); and once the final cells are the
 * chosen settings' copies (select_apply), their axes' values, records,
 * steps and `selected_cell`: raw-data writes into the cells made at
 * creation. */
err_code_t h5out_read_tuning(h5out_t *o, const experiment_t *exp, double *score, int8_t *status, err_t *err);
err_code_t h5out_write_selection(h5out_t *o, const experiment_t *exp, err_t *err);

err_code_t h5out_set_state(h5out_t *o, run_state_t state, err_t *err);

/* Flush and close; frees o. */
err_code_t h5out_close(h5out_t *o, err_t *err);

#endif
