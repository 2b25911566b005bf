/* number_text.c: shortest exact text of a double. */
#include "base/number_text.h"

#include <stdio.h>
#include <stdlib.h>

void format_double(char *buf, size_t len, double v)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) return;
    }
}
