/*
 * fingerprint.h: what identifies the numbers a sweep produces, as a short
 * string stored in the results file. `--resume` continues a file only when
 * the fingerprint of the config it is given matches the file's.
 *
 * It covers the resolved config (every cell's problem, optimizer with all
 * hyperparameters, steps and seeds follow from it), the name and version of
 * every plugin used, and the runner's version: a change in any of them may
 * change the numbers, and a resumed file must be bitwise what one
 * uninterrupted run would have written.
 */
#ifndef RUNNER_FINGERPRINT_H
#define RUNNER_FINGERPRINT_H

#include <stddef.h>
#include <stdint.h>

#include "config/experiment.h"

#define FINGERPRINT_LEN 32 /* "fnv1a64:" + 16 hex digits + NUL fits */

/* 64-bit FNV-1a, continued from h (start with FNV1A64_INIT). */
#define FNV1A64_INIT 0xcbf29ce484222325ull
uint64_t fnv1a64(uint64_t h, const void *data, size_t len);

void experiment_fingerprint(const experiment_t *exp, const char *runner_version, char out[FINGERPRINT_LEN]);

#endif
