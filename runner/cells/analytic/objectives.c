/* objectives.c: analytic test functions and their gradients. */
#include "cells/analytic/objectives.h"

#include <math.h>
#include <runner/fixed_math.h>
#include <string.h>

static double parabola(const void *ctx, size_t n, const double *x, double *g)
{
    (void)ctx, (void)n;
    if (g) g[0] = 2.0 * x[0];
    return x[0] * x[0];
}

static double sphere(const void *ctx, size_t n, const double *x, double *g)
{
    (void)ctx;
    double f = 0.0;
    for (size_t i = 0; i < n; i++) {
        f += x[i] * x[i];
        if (g) g[i] = 2.0 * x[i];
    }
    return f;
}

/* x^2/20 + y^2: the textbook surface where SGD zig-zags. */
static double elliptic(const void *ctx, size_t n, const double *x, double *g)
{
    (void)ctx, (void)n;
    if (g) {
        g[0] = x[0] / 10.0;
        g[1] = 2.0 * x[1];
    }
    return x[0] * x[0] / 20.0 + x[1] * x[1];
}

static double rosenbrock(const void *ctx, size_t n, const double *x, double *g)
{
    (void)ctx;
    double f = 0.0;
    if (g) memset(g, 0, n * sizeof *g);
    for (size_t i = 0; i + 1 < n; i++) {
        double a = x[i + 1] - x[i] * x[i], b = 1.0 - x[i];
        f += 100.0 * a * a + b * b;
        if (g) {
            g[i] += -400.0 * x[i] * a - 2.0 * b;
            g[i + 1] += 200.0 * a;
        }
    }
    return f;
}

static double beale(const void *ctx, size_t n, const double *v, double *g)
{
    (void)ctx, (void)n;
    double x = v[0], y = v[1];
    double t1 = 1.5 - x + x * y, t2 = 2.25 - x + x * y * y, t3 = 2.625 - x + x * y * y * y;
    if (g) {
        g[0] = 2.0 * (t1 * (y - 1.0) + t2 * (y * y - 1.0) + t3 * (y * y * y - 1.0));
        g[1] = 2.0 * (t1 * x + t2 * 2.0 * x * y + t3 * 3.0 * x * y * y);
    }
    return t1 * t1 + t2 * t2 + t3 * t3;
}

static double booth(const void *ctx, size_t n, const double *v, double *g)
{
    (void)ctx, (void)n;
    double t1 = v[0] + 2.0 * v[1] - 7.0, t2 = 2.0 * v[0] + v[1] - 5.0;
    if (g) {
        g[0] = 2.0 * t1 + 4.0 * t2;
        g[1] = 4.0 * t1 + 2.0 * t2;
    }
    return t1 * t1 + t2 * t2;
}

static double himmelblau(const void *ctx, size_t n, const double *v, double *g)
{
    (void)ctx, (void)n;
    double x = v[0], y = v[1];
    double t1 = x * x + y - 11.0, t2 = x + y * y - 7.0;
    if (g) {
        g[0] = 4.0 * x * t1 + 2.0 * t2;
        g[1] = 2.0 * t1 + 4.0 * y * t2;
    }
    return t1 * t1 + t2 * t2;
}

static double rastrigin(const void *ctx, size_t n, const double *x, double *g)
{
    (void)ctx;
    const double two_pi = 2.0 * M_PI;
    double f = 10.0 * (double)n;
    for (size_t i = 0; i < n; i++) {
        f += x[i] * x[i] - 10.0 * runner_cos(two_pi * x[i]);
        if (g) g[i] = 2.0 * x[i] + 10.0 * two_pi * runner_sin(two_pi * x[i]);
    }
    return f;
}

double linreg_loss(const void *ctx, size_t n, const double *p, double *g)
{
    (void)n;
    const linreg_data_t *d = ctx;
    double f = 0.0, ga = 0.0, gb = 0.0;
    for (size_t i = 0; i < d->n; i++) {
        double r = p[0] * d->x[i] + p[1] - d->y[i];
        f += r * r;
        ga += 2.0 * r * d->x[i];
        gb += 2.0 * r;
    }
    double inv = 1.0 / (double)d->n;
    if (g) {
        g[0] = ga * inv;
        g[1] = gb * inv;
    }
    return f * inv;
}

static const char *const XY[] = {"x", "y"};
static const char *const X[] = {"x"};
static const char *const AB[] = {"a", "b"};
#define ANY ((size_t)1 << 20)

static const objective_def_t table[] = {
    {"parabola", "x^2, one dimension", 1, 1, parabola, X},
    {"sphere", "sum of squares, any dimension", 1, ANY, sphere, NULL},
    {"elliptic", "x^2/20 + y^2, the textbook comparison surface", 2, 2, elliptic, XY},
    {"rosenbrock", "sum 100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2, two or more dimensions", 2, ANY, rosenbrock, NULL},
    {"beale", "Beale's function, minimum at (3, 0.5)", 2, 2, beale, XY},
    {"booth", "Booth's function, minimum at (1, 3)", 2, 2, booth, XY},
    {"himmelblau", "Himmelblau's function, four minima", 2, 2, himmelblau, XY},
    {"rastrigin", "10 n + sum x^2 - 10 cos(2 pi x), any dimension", 1, ANY, rastrigin, NULL},
    {"linear_regression", "mean squared error of a*x + b on problem.data", 2, 2, linreg_loss, AB},
};

const objective_def_t *objective_table(size_t *n)
{
    *n = sizeof table / sizeof table[0];
    return table;
}

const objective_def_t *objective_find(const char *name)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i].name, name) == 0) return &table[i];
    return NULL;
}
