/* clock.h: wall time for durations (monotonic, so a clock change never
 * makes one negative). */
#ifndef RUNNER_CLOCK_H
#define RUNNER_CLOCK_H

#include <time.h>

static inline double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#endif
