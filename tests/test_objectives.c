/* test_objectives.c: every built-in objective's gradient against central
 * differences, the known minima, and the problem section compiler. */
#include <math.h>

#include "helpers.h"
#include "cells/analytic/problem.h"

TestSuite(objectives);

Test(objectives, exact_gradients_match_central_differences)
{
    size_t n_obj;
    const objective_def_t *t = objective_table(&n_obj);
    double xs[] = {0.3, -1.2, 0.8, 2.1, -0.4};
    double data_x[] = {0.0, 0.5, 1.0}, data_y[] = {1.0, 0.2, 0.9};
    linreg_data_t lr = {3, data_x, data_y};
    for (size_t k = 0; k < n_obj; k++) {
        size_t dim = t[k].min_dim == t[k].max_dim ? t[k].min_dim : 5;
        const void *ctx = t[k].fn == linreg_loss ? &lr : NULL;
        for (int shift = 0; shift < 3; shift++) {
            double x[5], g[5], xp[5];
            for (size_t i = 0; i < dim; i++) x[i] = xs[(i + (size_t)shift) % 5] * (1.0 + 0.3 * shift);
            t[k].fn(ctx, dim, x, g);
            for (size_t i = 0; i < dim; i++) {
                const double h = 1e-6;
                memcpy(xp, x, sizeof xp);
                xp[i] = x[i] + h;
                double fp = t[k].fn(ctx, dim, xp, NULL);
                xp[i] = x[i] - h;
                double fm = t[k].fn(ctx, dim, xp, NULL);
                double num = (fp - fm) / (2 * h);
                cr_expect(fabs(num - g[i]) <= 1e-5 * fmax(1.0, fabs(num)), "%s d/dx%zu: exact %.10g, numerical %.10g",
                          t[k].name, i, g[i], num);
            }
        }
    }
}

Test(objectives, known_minima)
{
    struct {
        const char *name;
        size_t dim;
        double x[3];
    } minima[] = {{"parabola", 1, {0}},          {"sphere", 3, {0, 0, 0}},    {"elliptic", 2, {0, 0}},
                  {"rosenbrock", 3, {1, 1, 1}},  {"beale", 2, {3, 0.5}},      {"booth", 2, {1, 3}},
                  {"himmelblau", 2, {3, 2}},     {"himmelblau", 2, {-2.805118, 3.131312}},
                  {"rastrigin", 3, {0, 0, 0}}};
    for (size_t i = 0; i < sizeof minima / sizeof minima[0]; i++) {
        const objective_def_t *d = objective_find(minima[i].name);
        cr_assert(d, "%s", minima[i].name);
        double g[3];
        double f = d->fn(NULL, minima[i].dim, minima[i].x, g);
        cr_expect_float_eq(f, 0.0, 1e-9, "%s minimum value %g", minima[i].name, f);
    }
    cr_expect_null(objective_find("rosenbrok"));
}

static err_code_t compile_text(arena_t *a, const char *text, problem_t **p, err_t *err)
{
    node_t *n;
    cr_assert_eq(yaml_load(a, text, strlen(text), "p.yaml", &n, err), ERR_OK, "%s", err->msg);
    return problem_compile(a, n, p, err);
}

Test(objectives, problem_section)
{
    arena_t a;
    arena_init(&a);
    problem_t *p;
    err_t err;
    cr_assert_eq(compile_text(&a, "{objective: elliptic, start: [-7, 2]}", &p, &err), ERR_OK, "%s", err.msg);
    cr_expect_eq(p->dim, 2);
    cr_expect_str_eq(p->param_names[1], "y");
    double g[2], s[2];
    cr_expect_float_eq(problem_eval(p, p->start, g, s), 49.0 / 20 + 4, 1e-12);

    cr_assert_eq(compile_text(&a, "{expression: \"x^2/20 + y^2\", start: [-7, 2], gradient: numerical}", &p, &err), ERR_OK);
    double gn[2];
    problem_eval(p, p->start, gn, s);
    cr_expect_float_eq(gn[0], -0.7, 1e-7);
    cr_expect_float_eq(gn[1], 4.0, 1e-7);

    cr_assert_eq(compile_text(&a, "{objective: linear_regression, start: [1, 0], normalize: true,"
                                  " data: {x: [10, 20, 30], y: [5, 6, 7]}}", &p, &err), ERR_OK, "%s", err.msg);
    /* normalised: x = y = (0, 0.5, 1), so a = 1, b = 0 is exact */
    cr_expect_float_eq(problem_eval(p, p->start, g, s), 0.0, 1e-15);

    struct {
        const char *text, *expect;
    } bad[] = {
        {"{objective: elliptic, start: [1]}", "start has 1 value but objective 'elliptic' has 2 dimensions"},
        {"{objective: rosenbrock, start: [1]}", "needs at least 2"},
        {"{objective: elipstic, start: [1, 2]}", "did you mean 'elliptic'"},
        {"{objective: elliptic}", "needs a start point"},
        {"{start: [1]}", "needs an objective"},
        {"{objective: parabola, expression: x, start: [1]}", "both objective and expression"},
        {"{objective: parabola, start: [a]}", "expected a number for problem.start"},
        {"{objective: parabola, start: 1}", "expected a list of numbers"},
        {"{objective: parabola, start: [1], strat: [2]}", "did you mean 'start'"},
        {"{objective: parabola, start: [1], gradient: fast}", "'exact' or 'numerical'"},
        {"{objective: parabola, start: [1], normalize: true}", "only applies to objective linear_regression"},
        {"{objective: linear_regression, start: [1, 2]}", "needs data"},
        {"{objective: linear_regression, start: [1, 2], data: {x: [1, 2], y: [1]}}", "has 1 values but"},
        {"{objective: linear_regression, start: [1, 2], normalize: true, data: {x: [1, 1], y: [1, 2]}}",
         "all values are equal"},
        {"{expression: \"x^2 + y\", start: [1]}", "expression 'x^2 + y' has 2 dimensions"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err.msg[0] = 0;
        cr_expect_eq(compile_text(&a, bad[i].text, &p, &err), ERR_CONFIG, "accepted %s", bad[i].text);
        cr_expect(strstr(err.msg, bad[i].expect), "%s: '%s' lacks '%s'", bad[i].text, err.msg, bad[i].expect);
    }
    arena_free(&a);
}
