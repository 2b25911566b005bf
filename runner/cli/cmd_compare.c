/* cmd_compare.c: `runner compare FILE... [--tol T] [--tau LIST] [--target-accuracy A] [--csv]` (results/compare.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "results/compare.h"

#define MAX_TAUS 1024 /* runner-plot --profile asks for a fine grid */

typedef struct {
    double tol, target;
    double taus[MAX_TAUS];
    size_t n_taus;
    bool csv;
} compare_options_t;

static err_code_t set_tol(void *o, const char *v, err_t *err)
{
    if (!cli_parse_finite(v, &((compare_options_t *)o)->tol))
        return err_set(err, ERR_USAGE, (mark_t){0}, "--tol needs a finite number such as 1e-6, got '%s'", v);
    return ERR_OK;
}

static err_code_t set_target(void *o, const char *v, err_t *err)
{
    double a;
    if (!cli_parse_finite(v, &a) || a <= 0 || a > 1)
        return err_set(err, ERR_USAGE, (mark_t){0}, "--target-accuracy needs a number in (0, 1], like 0.85, got '%s'", v);
    ((compare_options_t *)o)->target = a;
    return ERR_OK;
}

/* --tau 1,2,4,8,16: ascending numbers >= 1. */
static err_code_t set_taus(void *o, const char *v, err_t *err)
{
    compare_options_t *c = o;
    c->n_taus = 0;
    char *copy = strdup(v);
    if (!copy) return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
    err_code_t rc = ERR_OK;
    char *save;
    for (char *t = strtok_r(copy, ",", &save); t && !rc; t = strtok_r(NULL, ",", &save)) {
        double x;
        if (c->n_taus == MAX_TAUS) rc = err_set(err, ERR_USAGE, (mark_t){0}, "--tau takes at most %d values", MAX_TAUS);
        else if (!cli_parse_finite(t, &x) || x < 1)
            rc = err_set(err, ERR_USAGE, (mark_t){0}, "--tau takes numbers >= 1 separated by commas, like 1,2,4,8; got '%s'", t);
        else if (c->n_taus && x <= c->taus[c->n_taus - 1])
            rc = err_set(err, ERR_USAGE, (mark_t){0}, "--tau values must increase, got %s after %g", t, c->taus[c->n_taus - 1]);
        else c->taus[c->n_taus++] = x;
    }
    free(copy);
    if (!rc && !c->n_taus) rc = err_set(err, ERR_USAGE, (mark_t){0}, "--tau needs at least one value, like 1,2,4");
    return rc;
}

static err_code_t set_csv(void *o, const char *v, err_t *err)
{
    (void)v, (void)err;
    ((compare_options_t *)o)->csv = true;
    return ERR_OK;
}

static const cli_option_t compare_option_list[] = {
    {"--tol", NULL, "a number", set_tol},
    {"--tau", NULL, "a list like 1,2,4,8,16", set_taus},
    {"--target-accuracy", NULL, "an accuracy in (0, 1]", set_target},
    {"--csv", NULL, NULL, set_csv},
};
const cli_options_t cmd_compare_options = {compare_option_list, sizeof compare_option_list / sizeof compare_option_list[0]};

COMMAND(compare)
{
    (void)g, (void)reg, (void)ctx;
    *exit_status = 2;
    compare_options_t o = {.tol = NAN, .target = NAN, .taus = {1, 2, 4, 8, 16}, .n_taus = 5};
    const char **pos = calloc((size_t)argc + 1, sizeof *pos);
    if (!pos) return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
    size_t n_pos;
    err_code_t rc = cli_parse_options(argc, argv, &cmd_compare_options, &o, pos, (size_t)argc, &n_pos, err);
    if (!rc && n_pos == 0)
        rc = err_set(err, ERR_USAGE, (mark_t){0}, "compare needs results files, one per problem: runner compare A.h5 B.h5 ...");
    compare_t c = {0};
    if (!rc) rc = compare_read(pos, n_pos, o.tol, o.target, &c, err);
    if (!rc) {
        compare_print(stdout, &c, o.taus, o.n_taus, o.csv);
        *exit_status = 0;
    }
    compare_free(&c);
    free(pos);
    return rc;
}
