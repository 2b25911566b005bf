/*
 * sobol.h: the unscrambled Sobol sequence, as scipy.stats.qmc.Sobol(d,
 * scramble=False) gives it: Joe and Kuo's direction numbers
 * (new-joe-kuo-6.21201, the file scipy ships), points in Gray-code order,
 * point 0 the origin. The first 2^m points of each dimension fall one in
 * each of 2^m equal intervals (stratified). tests/test_sobol.c compares
 * every value with scipy's.
 */
#ifndef RUNNER_BASE_SOBOL_H
#define RUNNER_BASE_SOBOL_H

#include <stddef.h>
#include <stdint.h>

#define SOBOL_MAX_DIMS 21

/* Coordinate `dim` (0-based, < SOBOL_MAX_DIMS) of point `index`
 * (< 2^32), in [0, 1): exact multiples of 2^-32. */
double sobol_point(uint32_t index, size_t dim);

#endif
