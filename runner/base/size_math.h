/*
 * size_math.h: size arithmetic that saturates at SIZE_MAX instead of
 * wrapping. Used wherever a size comes from a plugin (state_bytes,
 * work_bytes) or from input: a sum that would wrap becomes SIZE_MAX, which
 * the memory guard refuses and an allocation cannot satisfy, so a huge
 * request ends in a clear error, never in a small buffer that is then
 * overrun (issue 18, item 9).
 */
#ifndef RUNNER_SIZE_MATH_H
#define RUNNER_SIZE_MATH_H

#include <stddef.h>
#include <stdint.h>

static inline size_t size_add(size_t a, size_t b)
{
    size_t r;
    return __builtin_add_overflow(a, b, &r) ? SIZE_MAX : r;
}

static inline size_t size_mul(size_t a, size_t b)
{
    size_t r;
    return __builtin_mul_overflow(a, b, &r) ? SIZE_MAX : r;
}

/* n rounded up to a multiple of align (a power of two). */
static inline size_t size_round_up(size_t n, size_t align)
{
    return n > SIZE_MAX - (align - 1) ? SIZE_MAX : (n + align - 1) & ~(align - 1);
}

#endif
