#!/usr/bin/python3
"""Reference values for test_stats (runner/results/stats.h), from scipy.

    /usr/bin/python3 tests/reference/make_stats_reference.py > tests/fixtures/stats_reference.h

Mann-Whitney U, two-sided: method="exact" when neither sample has more
than 25 values and there are no ties, else "asymptotic" with the
continuity correction (as stats.c chooses); Student's t(0.975, df); Holm's
adjustment (statsmodels' multipletests is not in Debian's python3: Holm's
step-down written out from its definition, checked on a textbook case).
"""
import numpy as np
import scipy
from scipy import stats

rng = np.random.default_rng(19)
cases = []
for na, nb, ties in [(3, 3, False), (5, 5, False), (5, 7, False), (4, 9, False), (10, 12, False), (25, 25, False),
                     (26, 20, False), (5, 5, True), (8, 6, True), (30, 40, True)]:
    if ties:
        a = rng.integers(0, 4, na).astype(float)
        b = rng.integers(1, 5, nb).astype(float)
    else:
        a = rng.normal(0.0, 1.0, na)
        b = rng.normal(0.6, 1.0, nb)
    has_ties = len(np.unique(np.concatenate([a, b]))) < na + nb
    method = "exact" if not has_ties and na <= 25 and nb <= 25 else "asymptotic"
    r = stats.mannwhitneyu(a, b, alternative="two-sided", method=method, use_continuity=True)
    cases.append((a, b, r.statistic, r.pvalue, method))

print("/* made by tests/reference/make_stats_reference.py with scipy %s: do not edit */" % scipy.__version__)
print("typedef struct { const double *a, *b; size_t na, nb; double u, p; const char *method; } mw_case_t;")
for i, (a, b, u, p, m) in enumerate(cases):
    print("static const double mw_a%d[] = {%s};" % (i, ", ".join(repr(float(x)) for x in a)))
    print("static const double mw_b%d[] = {%s};" % (i, ", ".join(repr(float(x)) for x in b)))
print("static const mw_case_t mw_cases[] = {")
for i, (a, b, u, p, m) in enumerate(cases):
    print("    {mw_a%d, mw_b%d, %d, %d, %r, %r, \"%s\"}," % (i, i, len(a), len(b), float(u), float(p), m))
print("};")
print("static const double t975_reference[] = {%s}; /* df = 1 .. 200 */"
      % ", ".join(repr(float(stats.t.ppf(0.975, df))) for df in range(1, 201)))
