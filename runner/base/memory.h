/*
 * memory.h: how much memory one run may plan to use: 3/4 of the machine's
 * physical memory, the rule of the sweep's buffer guard (sweep/guards.c)
 * and of the data sets (cells/training/dataset.c), checked before any
 * allocation so that a config or a file header asking for more gets an
 * error with the numbers instead of the OOM killer.
 */
#ifndef RUNNER_MEMORY_H
#define RUNNER_MEMORY_H

#include <stdint.h>
#include <unistd.h>

static inline uint64_t memory_physical_bytes(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    return pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : UINT64_MAX;
}

static inline uint64_t memory_limit_bytes(void) { return memory_physical_bytes() / 4 * 3; }

#endif
