/*
 * guards.h: refuse, before any work, a sweep this machine cannot hold: an
 * output file larger than the free disk (or than --max-output), or buffers
 * larger than most of the memory. The cell-count guard (--max-cells) runs
 * earlier, in experiment_load, before the cells are even built.
 */
#ifndef RUNNER_GUARDS_H
#define RUNNER_GUARDS_H

#include <stdint.h>

#include "base/number_text.h" /* format_bytes */
#include "config/experiment.h"

/* todo: the cells still to compute (NULL: all, into a new file).
 * max_output: bytes allowed; 0 means the free space where output goes. */
err_code_t guard_resources(const experiment_t *exp, const unsigned char *todo, const char *output, int threads,
                           uint64_t max_output, err_t *err);


/* "500M", "2G", "1.5T", "4096" (K, M, G, T: powers of 1000; KiB.. of 1024) into bytes. */
int parse_bytes(const char *text, uint64_t *bytes);

#endif
