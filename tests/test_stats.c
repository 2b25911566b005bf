/* test_stats.c: the report's statistics (runner/results/stats.h) against
 * scipy 1.10's values (tests/fixtures/stats_reference.h, made by
 * tests/reference/make_stats_reference.py). */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "fixtures/stats_reference.h"
#include "results/stats.h"

Test(stats, t975_matches_scipy)
{
    for (size_t df = 1; df <= 200; df++) {
        double got = stats_t975(df), want = t975_reference[df - 1];
        cr_expect(fabs(got - want) <= 5e-5 * want, "df %zu: %.8g, scipy %.8g", df, got, want);
    }
    cr_expect(isnan(stats_t975(0)), "no interval from one value");
}

Test(stats, mann_whitney_matches_scipy)
{
    for (size_t i = 0; i < sizeof mw_cases / sizeof mw_cases[0]; i++) {
        const mw_case_t *c = &mw_cases[i];
        double u, p = stats_mann_whitney(c->a, c->na, c->b, c->nb, &u);
        cr_expect_eq(u, c->u, "case %zu (%zu vs %zu): U %g, scipy %g", i, c->na, c->nb, u, c->u);
        cr_expect(fabs(p - c->p) <= 1e-9 + 1e-9 * c->p, "case %zu (%zu vs %zu, %s): p %.12g, scipy %.12g", i, c->na,
                  c->nb, c->method, p, c->p);
    }
    double u;
    cr_expect(isnan(stats_mann_whitney(NULL, 0, (const double[]){1}, 1, &u)));
    /* 5 vs 5, completely separated: the smallest exact p, 2 / C(10, 5) */
    const double lo[] = {1, 2, 3, 4, 5}, hi[] = {6, 7, 8, 9, 10};
    cr_expect(fabs(stats_mann_whitney(hi, 5, lo, 5, &u) - 2.0 / 252) < 1e-15);
    cr_expect_eq(u, 25);
}

/* Holm on a textbook case: p = .01 .04 .03 .005 (m = 4) -> .03 .06 .06 .02 */
Test(stats, holm_step_down)
{
    double p[] = {0.01, 0.04, 0.03, 0.005};
    stats_holm(p, 4);
    const double want[] = {0.03, 0.06, 0.06, 0.02};
    for (size_t i = 0; i < 4; i++) cr_expect(fabs(p[i] - want[i]) < 1e-15, "%zu: %g, want %g", i, p[i], want[i]);
    double big[] = {0.5, 0.6};
    stats_holm(big, 2);
    cr_expect(big[0] == 1 && big[1] == 1, "capped at 1, never below an earlier one: %g %g", big[0], big[1]);
}
