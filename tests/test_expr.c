/* test_expr.c: formula objectives: values, exact gradients, and errors with columns. */
#include <math.h>

#include "config/expr.h"
#include "helpers.h"

TestSuite(expr);

static expr_t *compile(arena_t *a, const char *text, size_t *dim)
{
    expr_t *e;
    const char **names;
    err_t err;
    cr_assert_eq(expr_compile(a, text, (mark_t){"t", 1, 1}, &e, dim, &names, &err), ERR_OK, "%s: %s", text, err.msg);
    return e;
}

Test(expr, values_and_precedence)
{
    arena_t a;
    arena_init(&a);
    size_t dim;
    double x[3] = {2.0, 3.0, 0.5};
    struct {
        const char *text;
        double value;
    } cases[] = {
        {"x^2/20 + y^2", 4.0 / 20 + 9},  {"-x^2", -4.0},          {"2^3^2 + 0*x", 512.0},     {"x**2", 4.0},
        {"2*x - y/3", 3.0},              {"(x+y)*z", 2.5},        {"sin(pi/2) + 0*x", 1.0},  {"exp(log(y))", 3.0},
        {"sqrt(abs(-x-y+1))", 2.0},      {"x0 + x1 + x2", 5.5},  {"2^-1*x", 1.0},     {"tanh(0*x)", 0.0},
        {"1.5e1 + x", 17.0},             {"--x", 2.0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        expr_t *e = compile(&a, cases[i].text, &dim);
        cr_expect_float_eq(expr_eval(e, dim, x, NULL), cases[i].value, 1e-12, "%s = %g", cases[i].text,
                           expr_eval(e, dim, x, NULL));
    }
    arena_free(&a);
}

Test(expr, gradient_matches_central_difference)
{
    const char *formulas[] = {
        "x^2/20 + y^2", "(1-x)^2 + 100*(y-x^2)^2", "sin(x)*cos(y) + exp(x*y/10)", "sqrt(x^2 + y^2 + 1)",
        "log(x^2 + 1) / (y^2 + 2)", "x^y", "abs(x - 0.3) * tanh(y)", "x0*x1*x2 + x2^3", "tan(x/3) - y^-2",
    };
    double pts[][3] = {{0.7, 1.3, -0.4}, {-1.1, 0.6, 2.0}, {2.5, -0.8, 0.9}};
    arena_t a;
    arena_init(&a);
    for (size_t f = 0; f < sizeof formulas / sizeof formulas[0]; f++) {
        size_t dim;
        expr_t *e = compile(&a, formulas[f], &dim);
        for (size_t p = 0; p < 3; p++) {
            double x[3], g[3], xp[3];
            memcpy(x, pts[p], sizeof x);
            if (strcmp(formulas[f], "x^y") == 0) x[0] = fabs(x[0]) + 0.1; /* a^b needs a > 0 */
            expr_eval(e, dim, x, g);
            for (size_t i = 0; i < dim; i++) {
                const double h = 1e-6;
                memcpy(xp, x, sizeof xp);
                xp[i] = x[i] + h;
                double fp = expr_eval(e, dim, xp, NULL);
                xp[i] = x[i] - h;
                double fm = expr_eval(e, dim, xp, NULL);
                double num = (fp - fm) / (2 * h);
                cr_expect(fabs(num - g[i]) <= 1e-6 * fmax(1.0, fabs(num)), "%s at point %zu: d/dx%zu exact %.12g numerical %.12g",
                          formulas[f], p, i, g[i], num);
            }
        }
    }
    arena_free(&a);
}

Test(expr, dimension_and_names)
{
    arena_t a;
    arena_init(&a);
    expr_t *e;
    size_t dim;
    const char **names;
    err_t err;
    cr_assert_eq(expr_compile(&a, "y^2", (mark_t){0}, &e, &dim, &names, &err), ERR_OK);
    cr_expect_eq(dim, 2);
    cr_expect_str_eq(names[1], "y");
    cr_assert_eq(expr_compile(&a, "x3 + x0", (mark_t){0}, &e, &dim, &names, &err), ERR_OK);
    cr_expect_eq(dim, 4);
    cr_expect_str_eq(names[3], "x3");
    arena_free(&a);
}

typedef struct {
    const char *text;
    int col;
    const char *expect;
} bad_expr_t;

static const bad_expr_t errors_cases[] = {
    {"x^2 +", 6, "ends where a value was expected"},
    {"x^2 + qq", 7, "unknown name 'qq'"},
    {"sinn(x)", 1, "did you mean 'sin'"},
    {"(x + y", 7, "expected ')'"},
    {"x y", 3, "unexpected 'y' after the end"},
    {"3 + 4", 1, "no variables"},
    {"sin x", 5, "expected '(' after function 'sin'"},
    {"x + $", 5, "unexpected '$'"},
    {"", 1, "ends where a value was expected"},
};
INDEX_PARAMS(expr, errors, errors_cases)

ParameterizedTest(size_t *i, expr, errors)
{
    const bad_expr_t *c = &errors_cases[*i];
    arena_t a;
    arena_init(&a);
    expr_t *e;
    size_t dim;
    const char **names;
    err_t err = {0};
    /* the formula starts at column 20 of line 4 of the config */
    cr_expect_eq(expr_compile(&a, c->text, (mark_t){"c.yaml", 4, 20}, &e, &dim, &names, &err), ERR_CONFIG);
    cr_expect(strstr(err.msg, c->expect), "'%s': message '%s' lacks '%s'", c->text, err.msg, c->expect);
    cr_expect_eq(err.mark.line, 4);
    cr_expect_eq(err.mark.col, 19 + c->col, "'%s': col %d, expected %d", c->text, err.mark.col, 19 + c->col);
    arena_free(&a);
}

Test(expr, too_long_is_an_error_not_a_crash)
{
    char text[4000] = "x";
    for (int i = 0; i < 300; i++) strcat(text, "+x");
    arena_t a;
    arena_init(&a);
    expr_t *e;
    size_t dim;
    const char **names;
    err_t err;
    cr_expect_eq(expr_compile(&a, text, (mark_t){0}, &e, &dim, &names, &err), ERR_CONFIG);
    cr_expect(strstr(err.msg, "too long"), "%s", err.msg);
    char deep[400] = "";
    for (int i = 0; i < 100; i++) strcat(deep, "(");
    strcat(deep, "x");
    cr_expect_eq(expr_compile(&a, deep, (mark_t){0}, &e, &dim, &names, &err), ERR_CONFIG);
    arena_free(&a);
}
