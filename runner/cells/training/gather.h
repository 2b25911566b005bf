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

/* Row r of dst (width floats) = row i of x, i = rows ? rows[first + r] :
 * first + r, then i = map[i] when map is given; for r in [0, B). */
void gather_rows(float *dst, const float *x, size_t width, const uint32_t *rows, const uint32_t *map, size_t first,
                 size_t B);

#endif
