/* summary.c: counts and the first failure of a sweep. */
#include "sweep/summary.h"

#include <stdio.h>
#include <string.h>

#include "results/format.h"

void summary_init(sweep_summary_t *sum)
{
    memset(sum, 0, sizeof *sum);
}

void summary_add(sweep_summary_t *sum, size_t cell, int status, const char *failure)
{
    switch (status) {
    case STATUS_OK: sum->ok++; break;
    case STATUS_DIVERGED: sum->diverged++; break;
    default:
        if (sum->failed++ == 0 || cell < sum->first_failed) {
            sum->first_failed = cell;
            snprintf(sum->first_failure, sizeof sum->first_failure, "%s", failure ? failure : "");
        }
    }
}

size_t summary_done(const sweep_summary_t *sum)
{
    return sum->ok + sum->diverged + sum->failed;
}
