/*
 * runner/fixed_math.h: elementary functions that give the same bits on
 * every x86-64 CPU, for the runner and its plugins (header only: a plugin
 * built out of tree needs nothing more).
 *
 * Why: glibc's libm picks FMA or SSE2 code by CPU, and for the double
 * functions the two differ in the last bit for 0.003% to 0.07% of inputs
 * (glibc 2.36, 10^6 random inputs each: exp 677, pow 678, cos 629, tanh
 * 255, log 34). A training run or a learning-rate schedule that calls them
 * then depends on the CPU. These are plain IEEE double arithmetic in a fixed
 * order (plus fma, sqrt and ldexp, which are exact or correctly rounded by
 * definition), so they give the same result wherever they run.
 *
 * Two kinds:
 *  - fast, within 1.5 ulp (tan 3.5), 5 to 20 ns, for element-wise work and
 *    objectives: runner_exp, runner_log, runner_sin, runner_cos, runner_tan,
 *    and the float runner_expf, runner_tanhf.
 *  - computed in double-double (about 100 bits) and rounded once, so the
 *    correctly rounded result except when the exact value lies within about
 *    2^-45 ulp of a rounding boundary (or the result is subnormal, where
 *    it may be 1 ulp off): runner_pow, runner_cos_cr, runner_tanh. That is
 *    what PyTorch's Python-side formulas get from a correctly rounding libm
 *    (the schedulers' gamma ** epoch, math.cos, the optimizers' beta **
 *    step), so bitwise comparisons with torch hold.
 *    runner_pow with a whole exponent below 2^31 takes 100 to 200 ns,
 *    otherwise 0.6 to 1 us (runner_pow_seq: 8.5 ns a step): for scalars.
 * The sines and cosines reduce their argument with a 3-part pi/2: accurate
 * for |x| < 2^20, still the same bits everywhere (but not accurate) beyond.
 *
 * Build with -ffp-contract=off (the runner and runner_add_plugin do): a
 * compiler that fuses a*b+c into an FMA on its own changes the bits.
 */
#ifndef RUNNER_FIXED_MATH_H
#define RUNNER_FIXED_MATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* ---- double-double arithmetic: hi + lo, |lo| <= ulp(hi) / 2 ------------ */

typedef struct {
    double hi, lo;
} runner_dd_t;

static inline runner_dd_t runner_dd_two_sum(double a, double b)
{
    double s = a + b, bb = s - a;
    return (runner_dd_t){s, (a - (s - bb)) + (b - bb)};
}

static inline runner_dd_t runner_dd_fast_two_sum(double a, double b) /* |a| >= |b| */
{
    double s = a + b;
    return (runner_dd_t){s, b - (s - a)};
}

static inline runner_dd_t runner_dd_two_prod(double a, double b)
{
    double p = a * b;
    return (runner_dd_t){p, fma(a, b, -p)}; /* exact: fma rounds once */
}

static inline runner_dd_t runner_dd_add(runner_dd_t a, runner_dd_t b)
{
    runner_dd_t s = runner_dd_two_sum(a.hi, b.hi), t = runner_dd_two_sum(a.lo, b.lo);
    s.lo += t.hi;
    s = runner_dd_fast_two_sum(s.hi, s.lo);
    s.lo += t.lo;
    return runner_dd_fast_two_sum(s.hi, s.lo);
}

static inline runner_dd_t runner_dd_mul(runner_dd_t a, runner_dd_t b)
{
    runner_dd_t p = runner_dd_two_prod(a.hi, b.hi);
    p.lo += a.hi * b.lo + a.lo * b.hi;
    return runner_dd_fast_two_sum(p.hi, p.lo);
}

static inline runner_dd_t runner_dd_mul_d(runner_dd_t a, double b)
{
    runner_dd_t p = runner_dd_two_prod(a.hi, b);
    p.lo += a.lo * b;
    return runner_dd_fast_two_sum(p.hi, p.lo);
}

static inline runner_dd_t runner_dd_div(runner_dd_t a, runner_dd_t b)
{
    double q1 = a.hi / b.hi;
    runner_dd_t r = runner_dd_add(a, runner_dd_mul_d(b, -q1));
    double q2 = r.hi / b.hi;
    r = runner_dd_add(r, runner_dd_mul_d(b, -q2));
    double q3 = r.hi / b.hi;
    runner_dd_t q = runner_dd_fast_two_sum(q1, q2);
    return runner_dd_add(q, (runner_dd_t){q3, 0.0});
}

/* a / n for a small whole number n. */
static inline runner_dd_t runner_dd_div_n(runner_dd_t a, double n)
{
    double q1 = a.hi / n;
    runner_dd_t p = runner_dd_two_prod(q1, n);
    double q2 = (((a.hi - p.hi) - p.lo) + a.lo) / n;
    return runner_dd_fast_two_sum(q1, q2);
}

/* ---- constants ------------------------------------------------------------ */

#define RUNNER_LN2_1 0x1.62e42fefa39efp-1 /* ln 2 = LN2_1 + LN2_2 + LN2_3 */
#define RUNNER_LN2_2 0x1.abc9e3b39803fp-56
#define RUNNER_LN2_3 0x1.7b57a079a1934p-111
#define RUNNER_INV_LN2 0x1.71547652b82fep+0
#define RUNNER_PIO2_1 0x1.921fb54442d18p+0 /* pi / 2 = PIO2_1 + PIO2_2 + PIO2_3 */
#define RUNNER_PIO2_2 0x1.1a62633145c07p-54
#define RUNNER_PIO2_3 -0x1.f1976b7ed8fbcp-110
#define RUNNER_TWO_OVER_PI 0x1.45f306dc9c883p-1
#define RUNNER_ROUND_SHIFT 0x1.8p52 /* x + SHIFT - SHIFT rounds x to a whole number (|x| < 2^51) */

/* x rounded to the nearest whole number (ties to even), |x| < 2^51: the
 * shift pushes the fraction out of the double and back (no compiler folds
 * (x + c) - c without -ffast-math). */
static inline double runner_round_whole(double x) { return (x + RUNNER_ROUND_SHIFT) - RUNNER_ROUND_SHIFT; }

/* c[0] z^(n-1) + c[1] z^(n-2) + ... + c[n-1], by Horner's rule. */
static inline double runner_horner(const double *c, int n, double z)
{
    double p = c[0];
    for (int i = 1; i < n; i++) p = p * z + c[i];
    return p;
}

/* ---- fast: exp and log (within 1 and 1.2 ulp) ------------------------------ */

/* e^x: x = k ln2 + r, |r| <= ln2 / 2, e^r = 1 + r + r^2 Q(r) by its Taylor
 * series to r^13 (the next term is below 2^-60 of the result). */
static inline double runner_exp(double x)
{
    if (x != x) return x;
    if (x > 709.782712893384) return HUGE_VAL;
    if (x < -745.1332191019412) return 0.0;
    const double hi = 0x1.62e42feep-1, lo = 0x1.a39ef35793c76p-33; /* ln 2, hi with 21 trailing zero bits */
    double k = runner_round_whole(x * RUNNER_INV_LN2);
    double r = (x - k * hi) - k * lo; /* k hi exact for |k| < 2^11 */
    static const double c[] = {1.0 / 6227020800.0, 1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0,
                               1.0 / 362880.0,     1.0 / 40320.0,     1.0 / 5040.0,     1.0 / 720.0,
                               1.0 / 120.0,        1.0 / 24.0,        1.0 / 6.0,        0.5}; /* 1/13! .. 1/2! */
    double y = 1.0 + (r + r * r * runner_horner(c, 12, r));
    int ki = (int)k;
    /* 2^k in two steps, so a result near the subnormal range is scaled once */
    return ki < -1000 ? ldexp(ldexp(y, ki + 1000), -1000) : ldexp(y, ki);
}

/* x = m 2^e with m in [sqrt(1/2), sqrt(2)), for finite x > 0. */
static inline double runner_split_log2(double x, int *e)
{
    int scale = 0;
    if (x < 0x1p-1022) x *= 0x1p54, scale = -54; /* subnormal */
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    int ex = (int)((u >> 52) & 0x7ff) - 1023;
    u = (u & 0x000fffffffffffffull) | 0x3ff0000000000000ull; /* m in [1, 2) */
    double m;
    memcpy(&m, &u, sizeof m);
    if (m > 0x1.6a09e667f3bcdp+0) m *= 0.5, ex++; /* > sqrt(2) */
    *e = ex + scale;
    return m;
}

/* ln x: ln m = 2 atanh(s), s = (m - 1) / (m + 1), |s| < 0.1716, by its series to s^23. */
static inline double runner_log(double x)
{
    if (x != x || x == HUGE_VAL) return x;
    if (x < 0.0) return NAN;
    if (x == 0.0) return -HUGE_VAL;
    int e;
    double m = runner_split_log2(x, &e);
    double f = m - 1.0, s = f / (2.0 + f), z = s * s;
    static const double c[] = {1.0 / 23, 1.0 / 21, 1.0 / 19, 1.0 / 17, 1.0 / 15, 1.0 / 13,
                               1.0 / 11, 1.0 / 9,  1.0 / 7,  1.0 / 5,  1.0 / 3};
    double p = runner_horner(c, 11, z);
    /* ln m = f - f^2/2 + s (f^2/2 + 2 z p) / ... in fdlibm's arrangement: the
     * small correction is rounded, f itself is exact */
    double hfsq = 0.5 * f * f, r = z * p * 2.0;
    double lnm = f - (hfsq - s * (hfsq + r));
    const double hi = 0x1.62e42feep-1, lo = 0x1.a39ef35793c76p-33;
    return ((double)e * hi + ((double)e * lo + lnm));
}

/* e^x in float (via double: within 1 ulp of float, usually correctly rounded). */
static inline float runner_expf(float x) { return (float)runner_exp((double)x); }

/* runner_exp(x) for |x| <= 708 (where 2^k is a normal double, so ldexp is
 * one exact product), without a branch or a call, so that a loop over an
 * array vectorises: the same operations on the same doubles, so the same
 * bits. 2^k comes from t's low bits: t = x/ln2 + 1.5 2^52 holds k there,
 * in two's complement, and k + 1023 is in [1, 2046]. */
static inline double runner_exp_branchless(double x)
{
    const double hi = 0x1.62e42feep-1, lo = 0x1.a39ef35793c76p-33; /* runner_exp's */
    double t = x * RUNNER_INV_LN2 + RUNNER_ROUND_SHIFT, k = t - RUNNER_ROUND_SHIFT;
    double r = (x - k * hi) - k * lo;
    /* runner_horner over runner_exp's 1/13! .. 1/2!, written out (a loop is control flow to the vectoriser) */
    double p = 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    double y = 1.0 + (r + r * r * p);
    uint64_t u;
    memcpy(&u, &t, sizeof u);
    u = (u + 1023) << 52;
    double scale;
    memcpy(&scale, &u, sizeof scale);
    return y * scale;
}

/* runner_expf's bits for every float x but signalling NaNs (each of the
 * 2^32 checked at -O3; test_fixed_math samples them at every level),
 * vectorisable: x is clamped to [-104, 89], beyond which e^x rounds to 0 or
 * to infinity in float anyway, and a NaN is returned as it came (runner_expf
 * quiets a signalling one where the compiler keeps its float -> double ->
 * float round trip, as -O0 does). Measured in a loop over an array (activations.c's
 * sigmoid): 2.4 ns an element with AVX2, 4.7 with SSE2, against 11 ns for
 * runner_expf. The compiler needs -fno-trapping-math to turn the clamps
 * into selects (the values do not depend on it). */
static inline float runner_expf_branchless(float xf)
{
    double x = (double)xf;
    x = x < -104.0 ? -104.0 : x;
    x = x > 89.0 ? 89.0 : x;
    x = x == x ? x : 0.0; /* NaN: computed as 0, returned as NaN */
    float e = (float)runner_exp_branchless(x);
    return xf == xf ? e : xf;
}

/* tanh x in float: the odd series near 0 (where 1 - 2/(e^2x + 1) would
 * cancel), else from e^2|x|. */
static inline float runner_tanhf(float xf)
{
    double x = (double)xf, a = fabs(x);
    if (xf != xf) return xf;
    if (a < 0.0625) {
        double z = x * x;
        return (float)(x * (1.0 + z * (-1.0 / 3 + z * (2.0 / 15 + z * (-17.0 / 315 + z * (62.0 / 2835 + z * (-1382.0 / 155925)))))));
    }
    if (a > 10.0) return xf > 0 ? 1.0f : -1.0f;
    double t = 1.0 - 2.0 / (runner_exp(2.0 * a) + 1.0);
    return (float)(xf > 0 ? t : -t);
}

/* runner_tanhf's bits, vectorisable (every float checked, as for
 * runner_expf_branchless): both formulas computed, one chosen. */
static inline float runner_tanhf_branchless(float xf)
{
    double x = (double)xf, a = fabs(x);
    double z = x * x;
    float series = (float)(x * (1.0 + z * (-1.0 / 3 + z * (2.0 / 15 + z * (-17.0 / 315 + z * (62.0 / 2835 + z * (-1382.0 / 155925)))))));
    double ac = a > 10.0 ? 10.0 : a;
    ac = ac == ac ? ac : 0.0;
    double t = 1.0 - 2.0 / (runner_exp_branchless(2.0 * ac) + 1.0);
    float mid = (float)(xf > 0 ? t : -t), one = xf > 0 ? 1.0f : -1.0f;
    float r = a < 0.0625 ? series : a > 10.0 ? one : mid;
    return xf == xf ? r : xf;
}

/* ---- double-double cores -------------------------------------------------- */

/* e^x for a double-double x, |x.hi| < 746, as 2^k times a double-double
 * near 1 (scaling before the final rounding would round twice where e^x is
 * small: 0.75 ulp was measured): k ln2 + r, e^(r/256) by its series to the
 * 10th power, squared 8 times. */
static inline runner_dd_t runner_exp_dd_scaled(runner_dd_t x, int *k_out)
{
    double k = runner_round_whole(x.hi * RUNNER_INV_LN2);
    runner_dd_t p = runner_dd_two_prod(k, RUNNER_LN2_1);
    runner_dd_t r = runner_dd_add((runner_dd_t){x.hi - p.hi, 0.0}, (runner_dd_t){x.lo, -p.lo}); /* x.hi - p.hi exact */
    r = runner_dd_add(r, runner_dd_two_prod(-k, RUNNER_LN2_2));
    r.lo -= k * RUNNER_LN2_3;
    r = runner_dd_fast_two_sum(r.hi, r.lo);
    runner_dd_t s = {r.hi * 0x1p-8, r.lo * 0x1p-8}, t = {1.0, 0.0};
    for (int n = 10; n >= 1; n--) t = runner_dd_add((runner_dd_t){1.0, 0.0}, runner_dd_mul(runner_dd_div_n(s, n), t));
    for (int i = 0; i < 8; i++) t = runner_dd_mul(t, t);
    *k_out = (int)k;
    return t;
}

/* e^x rounded once to a double (then scaled: exact unless subnormal). */
static inline double runner_exp_dd_round(runner_dd_t x)
{
    int k;
    runner_dd_t t = runner_exp_dd_scaled(x, &k);
    double v = t.hi + t.lo;
    return k < -1000 ? ldexp(ldexp(v, k + 1000), -1000) : ldexp(v, k);
}

/* e^x as a double-double, for |x.hi| below about 700. */
static inline runner_dd_t runner_exp_dd(runner_dd_t x)
{
    int k;
    runner_dd_t t = runner_exp_dd_scaled(x, &k);
    return (runner_dd_t){ldexp(t.hi, k), ldexp(t.lo, k)};
}

/* ln x for finite x > 0 as a double-double: ln m by one Newton step from
 * runner_log(m) (l + m e^-l - 1: quadratic, so about 106 bits), plus e ln2. */
static inline runner_dd_t runner_log_dd(double x)
{
    int e;
    double m = runner_split_log2(x, &e);
    double l0 = runner_log(m);
    runner_dd_t y = runner_dd_add(runner_dd_mul_d(runner_exp_dd((runner_dd_t){-l0, 0.0}), m), (runner_dd_t){-1.0, 0.0});
    runner_dd_t l = runner_dd_add((runner_dd_t){l0, 0.0}, y);
    runner_dd_t el = runner_dd_add(runner_dd_two_prod((double)e, RUNNER_LN2_1), runner_dd_two_prod((double)e, RUNNER_LN2_2));
    return runner_dd_add(el, l);
}

/* ---- correctly rounded (see the top) ------------------------------------- */

/* Whole and odd by conversion to a 64-bit integer (truncation: exact, and
 * no fmod, whose loop was 30% of an analytic Adam sweep). */
static inline int runner_is_whole(double y) { return fabs(y) >= 0x1p62 || (double)(int64_t)y == y; }
static inline int runner_is_odd_whole(double y)
{
    return fabs(y) < 0x1p53 && (double)(int64_t)y == y && ((int64_t)y & 1);
}

/* x^y, C99's special cases included. */
static inline double runner_pow(double x, double y)
{
    if (y == 0.0 || x == 1.0) return 1.0;
    if (x != x || y != y) return x + y;
    if (y == 1.0) return x;
    if (isinf(y)) {
        double a = fabs(x);
        if (a == 1.0) return 1.0;
        return (a > 1.0) == (y > 0) ? HUGE_VAL : 0.0;
    }
    int odd = runner_is_odd_whole(y);
    if (x == 0.0 || isinf(x)) {
        double mag = (x == 0.0) == (y < 0) ? HUGE_VAL : 0.0;
        return odd && signbit(x) ? -mag : mag;
    }
    if (x < 0.0 && !runner_is_whole(y)) return NAN;
    double sign = x < 0.0 && odd ? -1.0 : 1.0, a = fabs(x);
    if (y == 2.0) return x * x; /* one rounding: correctly rounded */
    if (runner_is_whole(y) && fabs(y) < 0x1p31) { /* beta ** step: by squaring, in double-double */
        uint64_t n = (uint64_t)fabs(y);
        runner_dd_t r = {1.0, 0.0}, b = {a, 0.0};
        for (; n > 0; n >>= 1) {
            if (n & 1) r = runner_dd_mul(r, b);
            if (n > 1) b = runner_dd_mul(b, b);
        }
        if (y < 0) r = runner_dd_div((runner_dd_t){1.0, 0.0}, r);
        /* near the ends (or past), where a low part would be subnormal: the general way */
        if (!(fabs(r.hi) >= 0x1p-960 && fabs(r.hi) <= 0x1p1020)) goto by_logs;
        return sign * (r.hi + r.lo);
    }
by_logs:;
    runner_dd_t l = runner_log_dd(a), t = runner_dd_mul_d(l, y);
    if (!isfinite(t.hi)) t.hi = (l.hi > 0) == (y > 0) ? HUGE_VAL : -HUGE_VAL; /* y ln a overflowed (inf - inf is NaN) */
    if (t.hi > 709.782712893384) return sign * HUGE_VAL;
    if (t.hi < -745.1332191019412) return sign * 0.0;
    return sign * runner_exp_dd_round(t);
}

/* base^1, base^2, base^3, ... (an optimizer's beta ** step): a running
 * double-double product, rounded once per power, 10 ns a step where
 * runner_pow takes 100 to 200 (two of those per Adam step were 66% of an
 * analytic Adam sweep). After t steps the product is within t 2^-104 of
 * base^t, so it is runner_pow's correctly rounded value but where the exact
 * power lies within about 2^-20 ulp of a rounding boundary (measured: 0 of
 * 400,000 powers differ, tests/test_fixed_math.c). The product is kept as
 * m 2^e so it neither underflows nor overflows; a base outside [2^-60,
 * 2^60] (or 0, NaN, inf) takes runner_pow every step. */
typedef struct {
    runner_dd_t m;
    double base;
    int64_t e;
    uint64_t t;
} runner_pow_seq_t;

static inline runner_pow_seq_t runner_pow_seq(double base) { return (runner_pow_seq_t){{1.0, 0.0}, base, 0, 0}; }

static inline double runner_pow_seq_next(runner_pow_seq_t *s)
{
    s->t++;
    double b = fabs(s->base);
    if (!(b >= 0x1p-60 && b <= 0x1p60)) return runner_pow(s->base, (double)s->t);
    s->m = runner_dd_mul_d(s->m, s->base);
    double a = fabs(s->m.hi);
    if (a < 0x1p-400) s->m.hi *= 0x1p400, s->m.lo *= 0x1p400, s->e -= 400; /* exact */
    else if (a > 0x1p400) s->m.hi *= 0x1p-400, s->m.lo *= 0x1p-400, s->e += 400;
    double v = s->m.hi + s->m.lo;
    if (s->e == 0) return v;
    if (s->e < -2000) return s->m.hi > 0 ? 0.0 : -0.0;
    if (s->e > 2000) return s->m.hi > 0 ? HUGE_VAL : -HUGE_VAL;
    int e = (int)s->e;
    return e < -1000 ? ldexp(ldexp(v, e + 1000), -1000) : ldexp(v, e);
}

/* tanh x = (e^2x - 1) / (e^2x + 1) in double-double. */
static inline double runner_tanh(double x)
{
    double a = fabs(x);
    if (x != x) return x;
    if (a < 0x1p-28) return x; /* tanh x = x - x^3/3: the cube is below half an ulp */
    if (a > 22.0) return x > 0 ? 1.0 : -1.0;
    runner_dd_t e = runner_exp_dd((runner_dd_t){2.0 * a, 0.0});
    runner_dd_t t = runner_dd_div(runner_dd_add(e, (runner_dd_t){-1.0, 0.0}), runner_dd_add(e, (runner_dd_t){1.0, 0.0}));
    double v = t.hi + t.lo;
    return x > 0 ? v : -v;
}

/* sin r and cos r for |r| <= pi/4 (double-double), by their series to r^29. */
static inline runner_dd_t runner_sin_dd(runner_dd_t r)
{
    runner_dd_t z = runner_dd_mul(r, r), t = {1.0, 0.0};
    for (int n = 28; n >= 2; n -= 2)
        t = runner_dd_add((runner_dd_t){1.0, 0.0}, runner_dd_mul(runner_dd_div_n(z, -(double)n * (n + 1)), t));
    return runner_dd_mul(r, t);
}

static inline runner_dd_t runner_cos_dd(runner_dd_t r)
{
    runner_dd_t z = runner_dd_mul(r, r), t = {1.0, 0.0};
    for (int n = 28; n >= 2; n -= 2)
        t = runner_dd_add((runner_dd_t){1.0, 0.0}, runner_dd_mul(runner_dd_div_n(z, -(double)n * (n - 1)), t));
    return t;
}

/* x = q pi/2 + r, |r| <= pi/4 (a little more when |x| is huge), r as a
 * double-double; q mod 4 into *quadrant. */
static inline runner_dd_t runner_reduce_pio2(double x, int *quadrant)
{
    if (fabs(x) >= 0x1p50) x = fmod(x, 4.0 * RUNNER_PIO2_1); /* as runner_reduce_pio2_fast */
    double q = runner_round_whole(x * RUNNER_TWO_OVER_PI);
    runner_dd_t p = runner_dd_two_prod(q, RUNNER_PIO2_1);
    runner_dd_t r = runner_dd_add((runner_dd_t){x, 0.0}, (runner_dd_t){-p.hi, -p.lo});
    r = runner_dd_add(r, runner_dd_two_prod(-q, RUNNER_PIO2_2));
    r = runner_dd_add(r, runner_dd_two_prod(-q, RUNNER_PIO2_3));
    *quadrant = (int)((int64_t)q & 3);
    return r;
}

/* cos x, correctly rounded (the schedulers' cosines). */
static inline double runner_cos_cr(double x)
{
    if (isinf(x) || x != x) return x - x;
    if (fabs(x) < 0x1p-27) return 1.0; /* cos x = 1 - x^2/2: below half an ulp */
    int q;
    runner_dd_t r = runner_reduce_pio2(x, &q), v = q & 1 ? runner_sin_dd(r) : runner_cos_dd(r);
    double d = v.hi + v.lo;
    return (q == 1 || q == 2) ? -d : d;
}

/* ---- fast sines ------------------------------------------------------------ */

/* x = q pi/2 + r in double (pi/2 in three parts, the first two of 33 bits so
 * q times them is exact for |q| < 2^20); beyond 2^50, x mod a double near
 * 2 pi first (exact, so fixed, though not the true angle). */
static inline double runner_reduce_pio2_fast(double x, int *quadrant)
{
    if (fabs(x) >= 0x1p50) x = fmod(x, 4.0 * RUNNER_PIO2_1);
    double q = runner_round_whole(x * RUNNER_TWO_OVER_PI);
    double r = ((x - q * 0x1.921fb544p+0) - q * 0x1.0b4611a6p-34) - q * 0x1.3198a2e037073p-69;
    *quadrant = (int)((int64_t)q & 3);
    return r;
}

/* sin r and cos r for |r| <= pi/4 by their Taylor series to r^19 and r^18. */
static inline double runner_sin_poly(double r)
{
    static const double c[] = {-1.0 / 121645100408832000.0, 1.0 / 355687428096000.0, -1.0 / 1307674368000.0,
                               1.0 / 6227020800.0,          -1.0 / 39916800.0,      1.0 / 362880.0,
                               -1.0 / 5040.0,               1.0 / 120.0,            -1.0 / 6.0}; /* -1/19! .. -1/3! */
    double z = r * r;
    return r + r * z * runner_horner(c, 9, z);
}

static inline double runner_cos_poly(double r)
{
    static const double c[] = {1.0 / 6402373705728000.0, -1.0 / 20922789888000.0, 1.0 / 87178291200.0,
                               -1.0 / 479001600.0,       1.0 / 3628800.0,         -1.0 / 40320.0,
                               1.0 / 720.0,              -1.0 / 24.0}; /* 1/18! .. -1/4! */
    double z = r * r;
    return 1.0 - (0.5 * z + z * z * runner_horner(c, 8, z));
}

static inline double runner_sin(double x)
{
    if (isinf(x) || x != x) return x - x;
    if (fabs(x) < 0x1p-26) return x; /* sin x = x - x^3/6: below half an ulp (and -0 stays -0) */
    int q;
    double r = runner_reduce_pio2_fast(x, &q), v = q & 1 ? runner_cos_poly(r) : runner_sin_poly(r);
    return q & 2 ? -v : v;
}

static inline double runner_cos(double x)
{
    if (isinf(x) || x != x) return x - x;
    int q;
    double r = runner_reduce_pio2_fast(x, &q), v = q & 1 ? runner_sin_poly(r) : runner_cos_poly(r);
    return (q == 1 || q == 2) ? -v : v;
}

static inline double runner_tan(double x)
{
    if (isinf(x) || x != x) return x - x;
    if (fabs(x) < 0x1p-27) return x; /* tan x = x + x^3/3: below half an ulp */
    int q;
    double r = runner_reduce_pio2_fast(x, &q), s = runner_sin_poly(r), c = runner_cos_poly(r);
    return q & 1 ? -c / s : s / c;
}

#endif
