/*
 * provenance.h: where and how a results file was made, as the root
 * attributes it carries (README "HDF5 output" lists them): the build (git
 * commit, compiler, flags), the machine (host, CPU model, cores, OS,
 * kernel), the libraries whose code computes or stores the numbers (HDF5,
 * the matrix kernels), and the run's parallelism (threads, MPI ranks).
 * Together with the plugin and data hashes and the resolved config, a
 * reader can tell whether two files are comparable without asking anyone.
 */
#ifndef RUNNER_PROVENANCE_H
#define RUNNER_PROVENANCE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/error.h"

#define PROVENANCE_MAX 16

typedef struct {
    const char *name; /* the attribute's name */
    char text[512];   /* its value, when text */
    int64_t number;   /* its value, when is_number */
    int is_number;
} provenance_item_t;

typedef struct {
    provenance_item_t items[PROVENANCE_MAX];
    size_t n;
} provenance_t;

/* The facts of this process: threads and ranks are the run's. */
void provenance_collect(provenance_t *p, int threads, int ranks);


/* `runner report --provenance`: the block of what made the file at path,
 * read from its attributes (files of older runners show "unknown"). */
err_code_t provenance_print(FILE *out, const char *path, err_t *err);

#endif
