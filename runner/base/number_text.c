/* number_text.c: shortest exact text of a double. */
#include "base/number_text.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

static bool round_trips(char *buf, size_t len, double v, int prec)
{
    snprintf(buf, len, "%.*g", prec, v);
    return strtod(buf, NULL) == v;
}

/* The fewest significant digits that read back as v. Whether p digits
 * round-trip is monotonic in p, so: 15, then 16 and 17 for the many values
 * that need them, else a bisection below 15 (at most 6 formattings; the
 * plain scan up to 17 took 16% of expanding a 100,000-cell study). */
void format_double(char *buf, size_t len, double v)
{
    if (!round_trips(buf, len, v, 15)) {
        if (!round_trips(buf, len, v, 16)) round_trips(buf, len, v, 17);
        return;
    }
    int lo = 1, hi = 15; /* hi round-trips */
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (round_trips(buf, len, v, mid)) hi = mid;
        else lo = mid + 1;
    }
    round_trips(buf, len, v, hi);
}

void format_bytes(char *buf, size_t len, uint64_t bytes)
{
    const char *units[] = {"bytes", "kB", "MB", "GB", "TB", "PB", "EB"};
    double v = (double)bytes;
    size_t u = 0;
    while (v >= 1000.0 && u + 1 < sizeof units / sizeof units[0]) v /= 1000.0, u++;
    if (u == 0) snprintf(buf, len, "%" PRIu64 " bytes", bytes);
    else snprintf(buf, len, "%.1f %s", v, units[u]);
}
