/*
 * input_file.h: a file an experiment read (a data file, a plugin), named as
 * it was opened and identified by the SHA-256 of the bytes read. The
 * results file lists them (sha256sum's format, so `sha256sum -c` checks a
 * copy) and `--resume` compares them.
 */
#ifndef RUNNER_INPUT_FILE_H
#define RUNNER_INPUT_FILE_H

#include "base/sha256.h"

typedef struct {
    const char *path;
    uint8_t sha256[SHA256_BYTES];
} input_file_t;

#endif
