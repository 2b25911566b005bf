/*
 * fingerprint.h: what identifies the numbers a sweep computes, as a short
 * string stored in the results file (root attribute config_fingerprint).
 * `--resume`, a rerun from a results file and the ranks of an MPI job go on
 * only when their fingerprints match.
 *
 * It hashes (SHA-256) what is computed, not how the config was written:
 * the axes and their coordinates; every cell's resolved record (seed,
 * steps, optimizer with every hyperparameter, and its kind's records such
 * as model_config and train_config); the name, version and content hash of
 * every plugin file used; the content hash of every data file read; and
 * the runner's version. A comment, a reordered key or another output path
 * leave it unchanged; a different momentum in one cell, a rebuilt plugin
 * or a replaced data file change it. When two differ, results/recorded.h
 * says where.
 */
#ifndef RUNNER_FINGERPRINT_H
#define RUNNER_FINGERPRINT_H

#include "config/experiment.h"

#define FINGERPRINT_LEN 72 /* "sha256:" + 64 hex digits + NUL */

void experiment_fingerprint(const experiment_t *exp, const char *runner_version, char out[FINGERPRINT_LEN]);

/* The same, part by part, so that two processes that differ can say in
 * what (MPI ranks compare these): each part's hash, and what it covers
 * as words for a message. */
enum { FP_VERSION, FP_CELLS, FP_PLUGINS, FP_DATA, FP__COUNT };
extern const char *const fingerprint_part_names[FP__COUNT];
void experiment_fingerprint_parts(const experiment_t *exp, const char *runner_version,
                                  char out[FP__COUNT][FINGERPRINT_LEN]);

#endif
