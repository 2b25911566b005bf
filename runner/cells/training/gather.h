/*
 * gather.h: a batch's rows of a data set copied into the network's input,
 * shared out over the threads when the cell has them. A one-thread CNN
 * epoch spent 0.6% of its time here (perf), 44 ms; serial, that would be
 * a tenth of the epoch on 16 threads. Copies only: the bits are the data's.
 */
#ifndef RUNNER_GATHER_H
#define RUNNER_GATHER_H

#include <stddef.h>
#include <stdint.h>

/* Which rows of a data set (x: width floats a row, y: labels) make a
 * batch: row r is row i of the set, i = rows ? rows[first + r] : first + r,
 * then i = map[i] when map is given. */
typedef struct {
    const float *x;
    const int32_t *y;
    size_t width;
    const uint32_t *rows, *map;
} batch_rows_t;

/* Rows [first, first + B) of the batch into dst (B x width floats), and
 * their labels into labels unless it is NULL. */
void gather_rows(const batch_rows_t *src, size_t first, size_t B, float *dst, int32_t *labels);

#endif
