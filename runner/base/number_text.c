/* number_text.c: shortest exact text of a double. */
#include "base/number_text.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

void format_double(char *buf, size_t len, double v)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) return;
    }
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
