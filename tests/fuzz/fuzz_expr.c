/*
 * fuzz_expr.c: libFuzzer target for the formula compiler and its
 * evaluation: compile the input, then evaluate value and gradient at a few
 * points. No crash, no sanitizer report, and an error always has a message.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/expr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    arena_t a;
    arena_init(&a);
    expr_t *e;
    size_t dim = 0;
    const char **names;
    err_t err = {0};
    if (expr_compile(&a, text, (mark_t){"fuzz", 1, 1}, &e, &dim, &names, &err) == ERR_OK) {
        if (dim > EXPR_MAX_VARS) abort();
        double x[EXPR_MAX_VARS], g[EXPR_MAX_VARS];
        const double points[] = {0.0, 1.5, -2.25, 1e-300, 1e300};
        for (size_t p = 0; p < sizeof points / sizeof points[0]; p++) {
            for (size_t i = 0; i < dim; i++) x[i] = points[p] * (double)(i + 1);
            volatile double v = expr_eval(e, dim, x, g);
            (void)v;
        }
    } else if (err.msg[0] == 0) {
        abort();
    }
    arena_free(&a);
    free(text);
    return 0;
}
