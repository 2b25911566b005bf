/* summary.c: counts and the best cell of a sweep. */
#include "summary.h"

#include <stdio.h>
#include <string.h>

#include "h5out.h"

void summary_init(sweep_summary_t *sum, const char *metric_name, bool higher_is_better)
{
    memset(sum, 0, sizeof *sum);
    sum->metric_name = metric_name;
    sum->higher_is_better = higher_is_better;
}

void summary_add(sweep_summary_t *sum, size_t cell, int status, double final, const char *failure)
{
    bool better;
    switch (status) {
    case STATUS_OK:
        sum->ok++;
        better = sum->higher_is_better ? final > sum->best_value : final < sum->best_value;
        if (!sum->have_best || better || (final == sum->best_value && cell < sum->best_cell)) {
            sum->have_best = true;
            sum->best_value = final;
            sum->best_cell = cell;
        }
        break;
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
