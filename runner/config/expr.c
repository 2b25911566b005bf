/* expr.c: recursive-descent parser to a tape; forward value, reverse gradient. */
#include "config/expr.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <runner/fixed_math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
    OP_CONST, OP_VAR, OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_POW, OP_NEG,
    OP_SIN, OP_COS, OP_TAN, OP_EXP, OP_LOG, OP_SQRT, OP_ABS, OP_TANH,
} op_t;

typedef struct {
    op_t op;
    int a, b;     /* operand slots (earlier on the tape) */
    double c;     /* OP_CONST value / OP_VAR index */
} tape_op_t;

struct expr {
    tape_op_t ops[EXPR_MAX_OPS];
    int n;
};

static const struct {
    const char *name;
    op_t op;
} functions[] = {
    {"sin", OP_SIN}, {"cos", OP_COS}, {"tan", OP_TAN}, {"exp", OP_EXP},
    {"log", OP_LOG}, {"sqrt", OP_SQRT}, {"abs", OP_ABS}, {"tanh", OP_TANH},
};
#define N_FUNCTIONS (sizeof functions / sizeof functions[0])

typedef struct {
    const char *text, *p;
    mark_t at;
    expr_t *e;
    int max_var;
    bool used_xn, used_xyz;
    int depth;
    err_t *err;
} parser_t;

static err_code_t fail(parser_t *P, const char *where, const char *fmt, const char *detail)
{
    mark_t m = P->at;
    m.col += (int)(where - P->text);
    return err_set(P->err, ERR_CONFIG, m, fmt, detail);
}

static void skip_space(parser_t *P)
{
    while (*P->p == ' ' || *P->p == '\t' || *P->p == '\n') P->p++;
}

static err_code_t emit(parser_t *P, op_t op, int a, int b, double c, int *slot)
{
    if (P->e->n >= EXPR_MAX_OPS) return fail(P, P->p, "expression too long (more than %s operations)", "256");
    P->e->ops[P->e->n] = (tape_op_t){op, a, b, c};
    *slot = P->e->n++;
    return ERR_OK;
}

static err_code_t parse_sum(parser_t *P, int *slot);
static err_code_t parse_unary(parser_t *P, int *slot);

static err_code_t parse_primary(parser_t *P, int *slot)
{
    skip_space(P);
    const char *start = P->p;
    if (*P->p == '(') {
        P->p++;
        if (++P->depth > 64) return fail(P, start, "expression nested too deeply%s", "");
        err_code_t rc = parse_sum(P, slot);
        P->depth--;
        if (rc) return rc;
        skip_space(P);
        if (*P->p != ')') return fail(P, P->p, "expected ')' to close the '(' %s", "here");
        P->p++;
        return ERR_OK;
    }
    if (isdigit((unsigned char)*P->p) || (*P->p == '.' && isdigit((unsigned char)P->p[1]))) {
        char *end;
        errno = 0;
        double v = strtod(P->p, &end);
        if (errno == ERANGE && fabs(v) > 1.0) return fail(P, start, "number out of range%s", "");
        P->p = end;
        return emit(P, OP_CONST, -1, -1, v, slot);
    }
    if (isalpha((unsigned char)*P->p) || *P->p == '_') {
        while (isalnum((unsigned char)*P->p) || *P->p == '_') P->p++;
        size_t len = (size_t)(P->p - start);
        char name[32];
        if (len >= sizeof name) return fail(P, start, "unknown name (too long)%s", "");
        memcpy(name, start, len);
        name[len] = 0;
        if (strcmp(name, "pi") == 0) return emit(P, OP_CONST, -1, -1, M_PI, slot);
        if (strcmp(name, "e") == 0) return emit(P, OP_CONST, -1, -1, M_E, slot);
        int var = -1;
        if (len == 1 && strchr("xyz", name[0])) {
            var = name[0] == 'x' ? 0 : name[0] == 'y' ? 1 : 2;
            P->used_xyz = true;
        } else if (name[0] == 'x' && len <= 3 && isdigit((unsigned char)name[1]) && (len == 2 || isdigit((unsigned char)name[2]))) {
            var = atoi(name + 1);
            P->used_xn = true;
        }
        if (var >= 0) {
            if (var > P->max_var) P->max_var = var;
            return emit(P, OP_VAR, -1, -1, var, slot);
        }
        for (size_t i = 0; i < N_FUNCTIONS; i++) {
            if (strcmp(name, functions[i].name) != 0) continue;
            skip_space(P);
            if (*P->p != '(') return fail(P, P->p, "expected '(' after function '%s'", functions[i].name);
            int arg;
            err_code_t rc = parse_primary(P, &arg);
            if (rc) return rc;
            return emit(P, functions[i].op, arg, -1, 0, slot);
        }
        const char *cands[N_FUNCTIONS + 5] = {"x", "y", "z", "pi", "e"};
        for (size_t i = 0; i < N_FUNCTIONS; i++) cands[5 + i] = functions[i].name;
        const char *near = closest_match(name, cands, N_FUNCTIONS + 5);
        if (near) {
            mark_t m = P->at;
            m.col += (int)(start - P->text);
            return err_set(P->err, ERR_CONFIG, m, "unknown name '%s' in expression (did you mean '%s'?)", name, near);
        }
        return fail(P, start,
                    "unknown name '%s' in expression (variables: x y z or x0..x99; functions: sin cos tan exp log "
                    "sqrt abs tanh; constants: pi e)",
                    name);
    }
    if (!*P->p) return fail(P, P->p, "expression ends where a value was expected%s", "");
    char tok[2] = {*P->p, 0};
    return fail(P, P->p, "unexpected '%s' where a value was expected", tok);
}

/* power := primary ('^' unary)? : right-associative, and 2^-x works. */
static err_code_t parse_power(parser_t *P, int *slot)
{
    err_code_t rc = parse_primary(P, slot);
    if (rc) return rc;
    skip_space(P);
    bool pow2 = P->p[0] == '*' && P->p[1] == '*';
    if (*P->p != '^' && !pow2) return ERR_OK;
    P->p += pow2 ? 2 : 1;
    int rhs;
    if (++P->depth > 64) return fail(P, P->p, "expression nested too deeply%s", "");
    rc = parse_unary(P, &rhs);
    P->depth--;
    if (rc) return rc;
    return emit(P, OP_POW, *slot, rhs, 0, slot);
}

static err_code_t parse_unary(parser_t *P, int *slot)
{
    skip_space(P);
    if (*P->p == '-' || *P->p == '+') {
        bool neg = *P->p == '-';
        P->p++;
        if (++P->depth > 64) return fail(P, P->p, "expression nested too deeply%s", "");
        err_code_t rc = parse_unary(P, slot);
        P->depth--;
        if (rc || !neg) return rc;
        return emit(P, OP_NEG, *slot, -1, 0, slot);
    }
    return parse_power(P, slot);
}

static err_code_t parse_product(parser_t *P, int *slot)
{
    err_code_t rc = parse_unary(P, slot);
    for (;;) {
        if (rc) return rc;
        skip_space(P);
        char c = *P->p;
        if ((c != '*' && c != '/') || P->p[1] == '*') return ERR_OK;
        P->p++;
        int rhs;
        if ((rc = parse_unary(P, &rhs))) return rc;
        rc = emit(P, c == '*' ? OP_MUL : OP_DIV, *slot, rhs, 0, slot);
    }
}

static err_code_t parse_sum(parser_t *P, int *slot)
{
    err_code_t rc = parse_product(P, slot);
    for (;;) {
        if (rc) return rc;
        skip_space(P);
        char c = *P->p;
        if (c != '+' && c != '-') return ERR_OK;
        P->p++;
        int rhs;
        if ((rc = parse_product(P, &rhs))) return rc;
        rc = emit(P, c == '+' ? OP_ADD : OP_SUB, *slot, rhs, 0, slot);
    }
}

err_code_t expr_compile(arena_t *a, const char *text, mark_t at, expr_t **out, size_t *dim,
                        const char ***names, err_t *err)
{
    expr_t *e = arena_alloc(a, sizeof *e);
    if (!e) return err_set(err, ERR_NOMEM, at, "out of memory");
    parser_t P = {.text = text, .p = text, .at = at, .e = e, .max_var = -1, .err = err};
    int root;
    err_code_t rc = parse_sum(&P, &root);
    if (rc) return rc;
    skip_space(&P);
    if (*P.p) {
        char tok[2] = {*P.p, 0};
        return fail(&P, P.p, "unexpected '%s' after the end of the expression", tok);
    }
    if (P.max_var < 0) return fail(&P, text, "expression has no variables (use x, y, z or x0..x99)%s", "");
    if (P.max_var >= EXPR_MAX_VARS) return fail(&P, text, "too many variables (at most x99)%s", "");
    *dim = (size_t)P.max_var + 1;
    const char **nm = arena_alloc(a, *dim * sizeof *nm);
    if (!nm) return err_set(err, ERR_NOMEM, at, "out of memory");
    for (size_t i = 0; i < *dim; i++)
        nm[i] = (!P.used_xn && i < 3) ? (const char *[]){"x", "y", "z"}[i] : arena_printf(a, "x%zu", i);
    *names = nm;
    *out = e;
    return ERR_OK;
}

double expr_eval(const void *expr, size_t n, const double *x, double *grad)
{
    (void)n;
    const expr_t *e = expr;
    double v[EXPR_MAX_OPS];
    for (int i = 0; i < e->n; i++) {
        const tape_op_t *o = &e->ops[i];
        double a = o->a >= 0 ? v[o->a] : 0.0, b = o->b >= 0 ? v[o->b] : 0.0;
        switch (o->op) {
        case OP_CONST: v[i] = o->c; break;
        case OP_VAR: v[i] = x[(int)o->c]; break;
        case OP_ADD: v[i] = a + b; break;
        case OP_SUB: v[i] = a - b; break;
        case OP_MUL: v[i] = a * b; break;
        case OP_DIV: v[i] = a / b; break;
        case OP_POW: v[i] = runner_pow(a, b); break;
        case OP_NEG: v[i] = -a; break;
        case OP_SIN: v[i] = runner_sin(a); break;
        case OP_COS: v[i] = runner_cos(a); break;
        case OP_TAN: v[i] = runner_tan(a); break;
        case OP_EXP: v[i] = runner_exp(a); break;
        case OP_LOG: v[i] = runner_log(a); break;
        case OP_SQRT: v[i] = sqrt(a); break;
        case OP_ABS: v[i] = fabs(a); break;
        case OP_TANH: v[i] = runner_tanh(a); break;
        }
    }
    double f = v[e->n - 1];
    if (!grad) return f;
    double d[EXPR_MAX_OPS];
    memset(d, 0, (size_t)e->n * sizeof d[0]);
    memset(grad, 0, n * sizeof *grad);
    d[e->n - 1] = 1.0;
    for (int i = e->n - 1; i >= 0; i--) {
        const tape_op_t *o = &e->ops[i];
        double g = d[i];
        if (g == 0.0) continue;
        double a = o->a >= 0 ? v[o->a] : 0.0, b = o->b >= 0 ? v[o->b] : 0.0;
        switch (o->op) {
        case OP_CONST: break;
        case OP_VAR: grad[(int)o->c] += g; break;
        case OP_ADD: d[o->a] += g, d[o->b] += g; break;
        case OP_SUB: d[o->a] += g, d[o->b] -= g; break;
        case OP_MUL: d[o->a] += g * b, d[o->b] += g * a; break;
        case OP_DIV: d[o->a] += g / b, d[o->b] -= g * a / (b * b); break;
        case OP_POW:
            /* d/da a^b = b a^(b-1), exact for integer b at a <= 0 too;
             * d/db a^b = a^b log a, only defined (and only needed) for a > 0. */
            d[o->a] += g * b * runner_pow(a, b - 1.0);
            if (e->ops[o->b].op != OP_CONST && a > 0.0) d[o->b] += g * v[i] * runner_log(a);
            break;
        case OP_NEG: d[o->a] -= g; break;
        case OP_SIN: d[o->a] += g * runner_cos(a); break;
        case OP_COS: d[o->a] -= g * runner_sin(a); break;
        case OP_TAN: d[o->a] += g / (runner_cos(a) * runner_cos(a)); break;
        case OP_EXP: d[o->a] += g * v[i]; break;
        case OP_LOG: d[o->a] += g / a; break;
        case OP_SQRT: d[o->a] += g * 0.5 / v[i]; break;
        case OP_ABS: d[o->a] += a > 0.0 ? g : a < 0.0 ? -g : 0.0; break;
        case OP_TANH: d[o->a] += g * (1.0 - v[i] * v[i]); break;
        }
    }
    return f;
}
