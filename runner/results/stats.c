/* stats.c: t intervals, the Mann-Whitney U test, Holm's adjustment (stats.h). */
#include "results/stats.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* t(0.975, df) for df 1..30 (scipy.stats.t.ppf(0.975, df), 6 digits are
 * more than a report prints). */
static const double t975[31] = {NAN,      12.7062, 4.30265, 3.18245, 2.77645, 2.57058, 2.44691, 2.36462,
                                2.306,    2.26216, 2.22814, 2.20099, 2.17881, 2.16037, 2.14479, 2.13145,
                                2.11991,  2.10982, 2.10092, 2.09302, 2.08596, 2.07961, 2.07387, 2.06866,
                                2.0639,   2.05954, 2.05553, 2.05183, 2.04841, 2.04523, 2.04227};

double stats_t975(size_t df)
{
    if (df <= 30) return t975[df];
    /* Cornish-Fisher expansion in 1/df around z = 1.959964: within 2e-5 of
     * the exact quantile for df > 30 */
    double z = 1.959963984540054, d = (double)df, z3 = z * z * z, z5 = z3 * z * z, z7 = z5 * z * z;
    return z + (z3 + z) / (4 * d) + (5 * z5 + 16 * z3 + 3 * z) / (96 * d * d) +
           (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * d * d * d);
}

/* P(U <= u) under the null for samples of m and n values without ties:
 * the count of arrangements with U = k, by the recursion
 * f(m, n, k) = f(m-1, n, k-n) + f(m, n-1, k), over all C(m+n, m). */
static double exact_cdf(size_t m, size_t n, double u)
{
    size_t max = m * n;
    /* f[j][k] for the current i (values of a), j values of b */
    double *f = calloc((n + 1) * (max + 1), sizeof *f), *g = calloc((n + 1) * (max + 1), sizeof *g);
    if (!f || !g) {
        free(f), free(g);
        return NAN;
    }
    for (size_t j = 0; j <= n; j++) f[j * (max + 1)] = 1; /* i = 0: U = 0 only */
    for (size_t i = 1; i <= m; i++) {
        memset(g, 0, (n + 1) * (max + 1) * sizeof *g);
        for (size_t j = 0; j <= n; j++)
            for (size_t k = 0; k <= i * j; k++) {
                /* the largest of the i + j values is a's (it beats all j of b's) or b's */
                double v = k >= j ? f[j * (max + 1) + k - j] : 0;
                if (j > 0) v += g[(j - 1) * (max + 1) + k];
                g[j * (max + 1) + k] = v;
            }
        double *t = f;
        f = g, g = t;
    }
    double total = 0, below = 0;
    for (size_t k = 0; k <= max; k++) {
        total += f[n * (max + 1) + k];
        if ((double)k <= u + 1e-9) below += f[n * (max + 1) + k];
    }
    free(f), free(g);
    return below / total;
}

typedef struct {
    double v;
    int from; /* 0: a, 1: b */
} tagged_t;

static int by_value(const void *x, const void *y)
{
    double a = ((const tagged_t *)x)->v, b = ((const tagged_t *)y)->v;
    return a < b ? -1 : a > b;
}

double stats_mann_whitney(const double *a, size_t na, const double *b, size_t nb, double *u_out)
{
    *u_out = NAN;
    if (!na || !nb) return NAN;
    size_t n = na + nb;
    tagged_t *all = malloc(n * sizeof *all);
    if (!all) return NAN;
    for (size_t i = 0; i < na; i++) all[i] = (tagged_t){a[i], 0};
    for (size_t i = 0; i < nb; i++) all[na + i] = (tagged_t){b[i], 1};
    qsort(all, n, sizeof *all, by_value);
    /* mid-ranks; the tie term sum(t^3 - t) for the variance */
    double rank_sum_a = 0, ties = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && all[j].v == all[i].v) j++;
        double mid = (double)(i + j + 1) / 2, t = (double)(j - i);
        ties += t * t * t - t;
        for (size_t k = i; k < j; k++)
            if (!all[k].from) rank_sum_a += mid;
        i = j;
    }
    free(all);
    double m1 = (double)na, m2 = (double)nb;
    double u = rank_sum_a - m1 * (m1 + 1) / 2, mean = m1 * m2 / 2;
    *u_out = u;
    if (ties == 0 && na <= 25 && nb <= 25) {
        /* two-sided: twice the smaller tail, at most 1 */
        double lo = fmin(u, m1 * m2 - u);
        double p = 2 * exact_cdf(na, nb, lo);
        return p > 1 ? 1 : p;
    }
    double var = m1 * m2 / 12 * ((m1 + m2 + 1) - ties / ((m1 + m2) * (m1 + m2 - 1)));
    if (var <= 0) return 1; /* every value alike */
    double z = (fabs(u - mean) - 0.5) / sqrt(var);
    if (z < 0) z = 0;
    return erfc(z / sqrt(2.0));
}

void stats_holm(double *p, size_t m)
{
    size_t *order = malloc((m + 1) * sizeof *order);
    if (!order) return;
    for (size_t i = 0; i < m; i++) order[i] = i;
    for (size_t i = 1; i < m; i++) /* insertion sort by p: m is a handful */
        for (size_t j = i; j > 0 && p[order[j]] < p[order[j - 1]]; j--) {
            size_t t = order[j];
            order[j] = order[j - 1], order[j - 1] = t;
        }
    double running = 0;
    for (size_t i = 0; i < m; i++) {
        double adj = fmin(1, (double)(m - i) * p[order[i]]);
        if (adj < running) adj = running; /* step-down: never below an earlier one */
        running = adj;
        p[order[i]] = adj;
    }
    free(order);
}
