/*
 * test_fixed_math.c: runner/fixed_math.h. Accuracy against long double
 * (x87, 64-bit mantissa) on a million random arguments per function; C99's
 * special values; and the bits themselves: a hash of each function over
 * 100,000 fixed arguments, recorded when the functions were written, so a
 * compiler that fuses or reorders their arithmetic (or an edit that changes
 * a bit) fails here. CTest runs this suite a second time with glibc's FMA
 * code turned off (GLIBC_TUNABLES), where fma() is computed in software: the
 * same hashes, as on a CPU without FMA.
 */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <runner/fixed_math.h>

static uint64_t rng_state;
static double uniform(void)
{
    rng_state ^= rng_state << 13, rng_state ^= rng_state >> 7, rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) * 0x1.0p-53;
}

/* |got - truth| in ulps of the double nearest truth. */
static double ulps(double got, long double truth)
{
    double t = (double)truth;
    if (isnan(got) || isnan(t)) return isnan(got) && isnan(t) ? 0 : INFINITY;
    if (isinf(got) || isinf(t)) return got == t ? 0 : INFINITY;
    double u = fabs(nextafter(t, INFINITY) - t);
    if (u == 0 || isinf(u)) u = fabs(t - nextafter(t, 0));
    return (double)(fabsl((long double)got - truth) / (long double)u);
}

typedef enum { F_EXP, F_LOG, F_SIN, F_COS, F_TAN, F_POW, F_POW_INT, F_COS_CR, F_TANH, F__N } fn_t;
static const char *const fn_names[] = {"exp", "log", "sin", "cos", "tan", "pow", "pow (whole y)", "cos_cr", "tanh"};
/* The bound of each, in ulps: the fast ones as documented, the
 * correctly rounded ones half an ulp plus the truth's own error (the long
 * double result is within 2^-11 ulp of a double). */
static const double bounds[] = {1.0, 1.25, 1.5, 1.5, 3.5, 0.501, 0.501, 0.501, 0.501};

/* Argument i of function f (x, and y for pow), fixed by the seed. */
static void args(fn_t f, double *x, double *y)
{
    double u = uniform(), v = uniform();
    *y = 0;
    switch (f) {
    case F_EXP: *x = (u - 0.5) * 1400; break;
    case F_LOG: *x = ldexp(0.5 + u, (int)(v * 2000) - 1000); break;
    case F_SIN: case F_COS: case F_COS_CR: *x = (u - 0.5) * 400; break;
    case F_TAN: *x = (u - 0.5) * 20; break;
    case F_POW: *x = u * 4 + 0.01, *y = (v - 0.5) * 60; break;
    case F_POW_INT: *x = 0.9 + u * 0.1, *y = floor(v * 100000); break; /* beta ** step */
    case F_TANH: *x = (u - 0.5) * 40 * (v < 0.5 ? 1e-3 : 1); break;
    default: break;
    }
}

static double mine(fn_t f, double x, double y)
{
    switch (f) {
    case F_EXP: return runner_exp(x);
    case F_LOG: return runner_log(x);
    case F_SIN: return runner_sin(x);
    case F_COS: return runner_cos(x);
    case F_TAN: return runner_tan(x);
    case F_POW: case F_POW_INT: return runner_pow(x, y);
    case F_COS_CR: return runner_cos_cr(x);
    default: return runner_tanh(x);
    }
}

static long double truth(fn_t f, double x, double y)
{
    switch (f) {
    case F_EXP: return expl(x);
    case F_LOG: return logl(x);
    case F_SIN: return sinl(x);
    case F_COS: case F_COS_CR: return cosl(x);
    case F_TAN: return tanl(x);
    case F_POW: case F_POW_INT: return powl(x, y);
    default: return tanhl(x);
    }
}

Test(fixed_math, within_their_bounds_on_a_million_arguments_each, .timeout = 120)
{
    for (fn_t f = 0; f < F__N; f++) {
        rng_state = 88172645463325252ull + (uint64_t)f;
        double worst = 0, wx = 0, wy = 0;
        for (int i = 0; i < (f == F_POW || f == F_COS_CR || f == F_TANH ? 200000 : 1000000); i++) {
            double x, y;
            args(f, &x, &y);
            long double t = truth(f, x, y);
            if (fabsl(t) < DBL_MIN && t != 0) continue; /* subnormal results: rounded twice, documented */
            double e = ulps(mine(f, x, y), t);
            if (e > worst) worst = e, wx = x, wy = y;
        }
        cr_expect_leq(worst, bounds[f], "%s: %.3f ulp at x = %a, y = %a (bound %.3f)", fn_names[f], worst, wx, wy,
                      bounds[f]);
    }
}

/* The float ones against the double truth, in float ulps. */
Test(fixed_math, float_functions_within_one_float_ulp)
{
    rng_state = 12345;
    double worst_exp = 0, worst_tanh = 0;
    for (int i = 0; i < 1000000; i++) {
        float x = (float)((uniform() - 0.5) * 170), t = (float)((uniform() - 0.5) * (i & 1 ? 20 : 0.2));
        long double e = expl(x), h = tanhl(t);
        float ge = runner_expf(x), gh = runner_tanhf(t);
        if (isfinite((float)e) && (float)e != 0) {
            double u = fabs(nextafterf((float)e, INFINITY) - (float)e);
            double d = (double)fabsl((long double)ge - e) / u;
            if (d > worst_exp) worst_exp = d;
        }
        double u = fabs(nextafterf((float)h, INFINITY) - (float)h);
        double d = (double)fabsl((long double)gh - h) / (u ? u : 0x1p-149);
        if (d > worst_tanh) worst_tanh = d;
    }
    cr_expect_leq(worst_exp, 0.5001, "expf: %.4f float ulp", worst_exp);
    cr_expect_leq(worst_tanh, 0.5001, "tanhf: %.4f float ulp", worst_tanh);
}

/* C99 Annex F's special cases of pow, and the edges of the others. */
Test(fixed_math, special_values)
{
    const double inf = INFINITY;
    struct { double x, y, want; } pw[] = {
        {2, 10, 1024},       {10, -2, 0.01},     {-2, 3, -8},       {-2, 0.5, NAN},      {0.0, -1, inf},
        {-0.0, -1, -inf},    {-0.0, -2, inf},    {0.0, 3, 0.0},     {-0.0, 3, -0.0},     {-0.0, 2, 0.0},
        {-1, inf, 1},        {0.5, inf, 0},      {0.5, -inf, inf},  {2, -inf, 0},        {-inf, -3, -0.0},
        {-inf, 3, -inf},     {-inf, 2, inf},     {inf, -1, 0},      {NAN, 0, 1},         {1, NAN, 1},
        {NAN, 1, NAN},       {1e-310, -1, inf},  {710, 710, inf},   {710, -746, 0},      {0.999, 1e6, 0},
        {1.0000001, 3e10, inf}, {3, 40, 12157665459056928801.0},
        {1e300, 1e308, inf}, {1e300, -1e308, 0}, {1e-300, 1e308, 0}, {-1e300, 1e308, inf}, /* y ln x overflows */
    };
    for (size_t i = 0; i < sizeof pw / sizeof pw[0]; i++) {
        double got = runner_pow(pw[i].x, pw[i].y);
        cr_expect(isnan(pw[i].want) ? isnan(got) : memcmp(&got, &pw[i].want, sizeof got) == 0,
                  "pow(%g, %g) = %a, want %a", pw[i].x, pw[i].y, got, pw[i].want);
    }
    cr_expect(runner_exp(0) == 1 && runner_exp(-inf) == 0 && runner_exp(inf) == inf && isnan(runner_exp(NAN)));
    cr_expect(runner_exp(710) == inf && runner_exp(-746) == 0 && runner_exp(-740) > 0);
    cr_expect(runner_log(1) == 0 && runner_log(0) == -inf && isnan(runner_log(-1)) && runner_log(inf) == inf);
    cr_expect(fabs(runner_log(0x1p-1074) - -744.4400719213812) < 1e-13);
    cr_expect(signbit(runner_sin(-0.0)) && signbit(runner_tan(-0.0)) && signbit(runner_tanh(-0.0)));
    cr_expect(isnan(runner_sin(inf)) && isnan(runner_cos(-inf)) && isnan(runner_cos_cr(inf)) && isnan(runner_tan(NAN)));
    cr_expect(runner_cos_cr(0) == 1 && runner_cos(0) == 1 && runner_tanh(30) == 1 && runner_tanh(-30) == -1);
    const double huge[] = {1e300, -1e300, 0x1p60, -0x1p51, 1e16, 0x1p50};
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) /* huge arguments: fixed values, in range */
        cr_expect(fabs(runner_sin(huge[i])) <= 1 && fabs(runner_cos(huge[i])) <= 1 && fabs(runner_cos_cr(huge[i])) <= 1,
                  "%g", huge[i]);
    cr_expect(runner_expf(-104) == 0 && runner_expf(89) == INFINITY && runner_tanhf(-0.0f) == 0 && signbit(runner_tanhf(-0.0f)));
}

/* The optimizers' beta ** step, step by step: runner_pow's bits for 8
 * bases x 50,000 steps, and the ends: 0, 1, a tiny power, a huge one. */
Test(fixed_math, a_power_sequence_is_runner_pow)
{
    const double bases[] = {0.9, 0.999, 0.5, 0.99, 0.95, 1.0001, 0.3, 0.96};
    for (size_t b = 0; b < sizeof bases / sizeof bases[0]; b++) {
        runner_pow_seq_t s = runner_pow_seq(bases[b]);
        for (int t = 1; t <= 50000; t++) {
            double got = runner_pow_seq_next(&s), want = runner_pow(bases[b], t);
            cr_assert_eq(memcmp(&got, &want, sizeof got), 0, "%g ** %d: %a, runner_pow %a", bases[b], t, got, want);
        }
    }
    runner_pow_seq_t zero = runner_pow_seq(0.0), one = runner_pow_seq(1.0), big = runner_pow_seq(1e10);
    for (int t = 1; t <= 40; t++) {
        double z = runner_pow_seq_next(&zero), o = runner_pow_seq_next(&one), g = runner_pow_seq_next(&big);
        cr_expect(z == 0 && o == 1 && g == runner_pow(1e10, t), "t %d: %g %g %g", t, z, o, g);
        if (t == 40) cr_expect(isinf(g), "1e10 ** 40 overflows");
    }
    runner_pow_seq_t small = runner_pow_seq(0.5); /* through the subnormals to 0, as runner_pow */
    for (int t = 1; t <= 1100; t++) {
        double got = runner_pow_seq_next(&small);
        cr_expect(got == ldexp(1.0, -t), "0.5 ** %d: %a", t, got);
    }
}

/* FNV-1a over the bits of each function at 100,000 fixed arguments. */
static uint64_t hash_of(fn_t f)
{
    rng_state = 0x9e3779b97f4a7c15ull + (uint64_t)f;
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < 100000; i++) {
        double x, y, r;
        args(f, &x, &y);
        r = mine(f, x, y);
        uint64_t b;
        memcpy(&b, &r, sizeof b);
        h = (h ^ b) * 1099511628211ull;
    }
    return h;
}

Test(fixed_math, the_same_bits_as_when_they_were_written)
{
    /* Printed by this test when it fails. Recorded 2026-12-05; the same from
     * GCC 12 at -O0, -O3 and -O3 -march=native, clang 14 -O2, and with glibc's
     * FMA code off; with -ffp-contract=fast -march=native 6 of the 9 differ. */
    static const uint64_t recorded[F__N] = {
        0x280535c893e83fc0ull,
        0x900f79ae7c9068feull,
        0x7dc4795efb4cc9a5ull,
        0x41920baa7a8d86caull,
        0x8db5d8f986942d7aull,
        0x9f6a1b6040bd26aeull,
        0x8cb230dd6ca32a7cull,
        0x48dc95cfcad6c4a6ull,
        0x6b23cff7184a1ef2ull};
    for (fn_t f = 0; f < F__N; f++) {
        uint64_t h = hash_of(f);
        cr_expect_eq(h, recorded[f], "%s: hash 0x%016llxull, recorded 0x%016llxull", fn_names[f], (unsigned long long)h,
                     (unsigned long long)recorded[f]);
    }
}

/* The branchless forms the activations vectorise give the scalar functions'
 * bits: every 509th of the 2^32 floats, and every float near the clamps
 * ([-105, -103] and [88, 90]) and near the series' switch of tanh (0.0625)
 * and its saturation (10), through a loop compiled plainly and one for AVX2
 * (where the CPU has it), as activations.c's clones are. Each of the 2^32
 * was checked once (a program like this loop: 0 differences in either). */
#define BRANCHLESS_LOOP(name, f, attr) \
    attr static void name(const float *x, float *y, size_t n) { for (size_t i = 0; i < n; i++) y[i] = f(x[i]); }
BRANCHLESS_LOOP(exp_plain, runner_expf_branchless, )
BRANCHLESS_LOOP(tanh_plain, runner_tanhf_branchless, )
#if defined(__GNUC__) && defined(__x86_64__)
BRANCHLESS_LOOP(exp_avx2, runner_expf_branchless, __attribute__((target("avx2"))))
BRANCHLESS_LOOP(tanh_avx2, runner_tanhf_branchless, __attribute__((target("avx2"))))
#endif

typedef void (*loop_fn)(const float *x, float *y, size_t n);

/* Count where the loop's results differ from the scalar function's. A NaN
 * matches any NaN: a signalling NaN comes back quiet or not depending on
 * whether the compiler folds runner_expf's (float)(double)x (it does at
 * -O3, not at -O0), and arithmetic never makes a signalling NaN. */
static uint64_t differences(float (*scalar)(float), loop_fn loop, const float *x, size_t n, float *got)
{
    static float want[1 << 16];
    for (size_t i = 0; i < n; i++) want[i] = scalar(x[i]);
    loop(x, got, n);
    uint64_t d = 0;
    for (size_t i = 0; i < n; i++)
        d += !(isnan(want[i]) && isnan(got[i])) && memcmp(&want[i], &got[i], sizeof *got) != 0;
    return d;
}

/* differ: expf plain, expf AVX2, tanhf plain, tanhf AVX2. */
static size_t compare_block(const float *x, size_t n, float *got, uint64_t *differ)
{
    differ[0] += differences(runner_expf, exp_plain, x, n, got);
    differ[2] += differences(runner_tanhf, tanh_plain, x, n, got);
#if defined(__GNUC__) && defined(__x86_64__)
    if (__builtin_cpu_supports("avx2")) {
        differ[1] += differences(runner_expf, exp_avx2, x, n, got);
        differ[3] += differences(runner_tanhf, tanh_avx2, x, n, got);
    }
#endif
    return n;
}

Test(fixed_math, branchless_forms_give_the_same_bits, .timeout = 120)
{
    enum { BLOCK = 1 << 16 };
    static float x[BLOCK], got[BLOCK];
    uint64_t differ[4] = {0}, checked = 0;
    size_t n = 0;
    for (uint64_t i = 0; i < (1ull << 32); i += 509) {
        uint32_t u = (uint32_t)i;
        memcpy(&x[n++], &u, sizeof u);
        if (n == BLOCK) checked += compare_block(x, n, got, differ), n = 0;
    }
    const float edges[][2] = {{-105.0f, -103.0f}, {88.0f, 90.0f}, {0.0625f, 0.0626f}, {-0.0626f, -0.0625f},
                              {9.99f, 10.01f}, {-10.01f, -9.99f}};
    for (size_t e = 0; e < sizeof edges / sizeof edges[0]; e++)
        for (float v = edges[e][0]; v <= edges[e][1]; v = nextafterf(v, INFINITY)) {
            x[n++] = v;
            if (n == BLOCK) checked += compare_block(x, n, got, differ), n = 0;
        }
    const float specials[] = {NAN, -NAN, INFINITY, -INFINITY, 0.0f, -0.0f, FLT_MAX, -FLT_MAX, FLT_MIN, 0x1p-149f};
    for (size_t i = 0; i < sizeof specials / sizeof specials[0]; i++) x[n++] = specials[i];
    checked += compare_block(x, n, got, differ);
    cr_expect_gt(checked, 8000000);
    cr_expect_eq(differ[0], 0, "expf, plain loop: %llu of %llu differ", (unsigned long long)differ[0], (unsigned long long)checked);
    cr_expect_eq(differ[1], 0, "expf, AVX2 loop: %llu differ", (unsigned long long)differ[1]);
    cr_expect_eq(differ[2], 0, "tanhf, plain loop: %llu differ", (unsigned long long)differ[2]);
    cr_expect_eq(differ[3], 0, "tanhf, AVX2 loop: %llu differ", (unsigned long long)differ[3]);
}
