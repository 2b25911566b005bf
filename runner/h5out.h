/*
 * h5out.h: the results file, netCDF-4 compatible (h5py, h5dump, ncdump and
 * xarray read it with labelled dimensions).
 *
 * Layout (a contract; README "HDF5 output" documents it):
 *   dimensions, each with a coordinate variable of the same name:
 *     run (labels), grid axes by dotted name (numbers or strings), seed,
 *     step (0..max steps; 0 is the start point), param (parameter names)
 *   variables:
 *     params [axes..., step, param] float32    the iterates
 *     loss, grad_norm [axes..., step] float32
 *     status [axes...] int8 (0 pending, 1 ok, 2 diverged, 3 failed)
 *     wall_seconds [axes...] float64, cell_seed [axes...] uint64,
 *     cell_steps [axes...] int32, optimizer_config / problem_config [axes...] string
 *   root attributes: config_text, config_file, resolved_config, command_line,
 *     runner_version, plugin_abi, created, plugins, title.
 *
 * Why this shape (../shared/hdf5-notes.md has the measurements): every
 * dataset is created at full size, contiguous and allocated up front, so
 * after creation no metadata changes; a cell's data are written, flushed,
 * and only then its status, then flushed again. A kill at any moment leaves
 * a file that opens and whose `ok` cells are complete. The file is created
 * under a temporary name and renamed into place once complete and flushed.
 * Float data get no fill value (writing one costs a pass over the file);
 * status is what says whether a cell's numbers are valid.
 */
#ifndef RUNNER_H5OUT_H
#define RUNNER_H5OUT_H

#include <stdint.h>

#include "experiment.h"

enum { STATUS_PENDING = 0, STATUS_OK = 1, STATUS_DIVERGED = 2, STATUS_FAILED = 3 };

typedef struct h5out h5out_t;

/* Create the file at `path` (replacing an existing one), all datasets,
 * coordinates, attributes and per-cell records. */
err_code_t h5out_create(const experiment_t *exp, const char *path, const char *command_line, h5out_t **out,
                        err_t *err);

/* Cells [c0, c1): params is (c1-c0, step, param), loss and grad_norm are
 * (c1-c0, step), status and wall per cell. Data first, status after. */
err_code_t h5out_write_cells(h5out_t *o, size_t c0, size_t c1, const float *params, const float *loss,
                             const float *grad_norm, const int8_t *status, const double *wall, err_t *err);

/* Flush and close; frees o. */
err_code_t h5out_close(h5out_t *o, err_t *err);

#endif
