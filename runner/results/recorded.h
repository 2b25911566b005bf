/*
 * recorded.h: what a results file records of the experiment that made it,
 * compared with an experiment loaded now. The check behind --resume and
 * `runner FILE.h5`: neither may continue or redo a file with cells that
 * would be computed differently, and a refusal says exactly what differs:
 * the runner version, which plugin file, which data file, or which record
 * (and which key of it) of which cell.
 */
#ifndef RUNNER_RECORDED_H
#define RUNNER_RECORDED_H

#include "base/error.h"
#include "config/experiment.h"

enum {
    RECORDED_VERSION = 1u << 0, /* the runner version */
    RECORDED_INPUTS = 1u << 1,  /* plugin and data files, by content hash */
    RECORDED_CELLS = 1u << 2,   /* the cells: count, seeds, steps and every per-cell record */
    RECORDED_ALL = RECORDED_VERSION | RECORDED_INPUTS | RECORDED_CELLS,
};

/* ERR_OK when nothing checked differs; ERR_CONFIG with what differs (up to
 * a few findings, "; "-separated, marked with path); ERR_IO when the file
 * cannot be read as a results file. */
err_code_t recorded_compare(const char *path, const experiment_t *exp, unsigned checks, err_t *err);

#endif
