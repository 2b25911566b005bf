/* test_cli.c: the option-table parser every command uses (cli/options.h)
 * and the command table (cli/commands.c): forms of options, errors that
 * name the command an option belongs to, positional limits. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "cli/commands.h"

TestSuite(cli);

typedef struct {
    const char *name;
    double tol;
    bool flag;
} opts_t;

static err_code_t set_name(void *o, const char *v, err_t *err)
{
    (void)err;
    ((opts_t *)o)->name = v;
    return ERR_OK;
}
static err_code_t set_tol(void *o, const char *v, err_t *err)
{
    if (!cli_parse_finite(v, &((opts_t *)o)->tol))
        return err_set(err, ERR_USAGE, (mark_t){0}, "--tol needs a number, got '%s'", v);
    return ERR_OK;
}
static err_code_t set_flag(void *o, const char *v, err_t *err)
{
    (void)v, (void)err;
    ((opts_t *)o)->flag = true;
    return ERR_OK;
}
static const cli_option_t list[] = {
    {"--name", "-n", "a name", set_name}, {"--tol", NULL, "a number", set_tol}, {"--flag", "-f", NULL, set_flag}};
static const cli_options_t table = {list, 3};

static err_code_t parse(int argc, char **argv, opts_t *o, const char **pos, size_t *n_pos, err_t *err)
{
    *o = (opts_t){NULL, NAN, false};
    return cli_parse_options(argc, argv, &table, o, pos, 2, n_pos, err);
}

Test(cli, every_form_of_an_option)
{
    const char *forms[][3] = {{"--name", "x", NULL}, {"--name=x", NULL, NULL}, {"-n", "x", NULL}, {"-nx", NULL, NULL}};
    for (size_t i = 0; i < 4; i++) {
        char *argv[4] = {(char *)forms[i][0], (char *)forms[i][1], "file", NULL};
        int argc = forms[i][1] ? 3 : 2;
        if (!forms[i][1]) argv[1] = "file";
        opts_t o;
        const char *pos[2];
        size_t n;
        err_t err = {0};
        cr_assert_eq(parse(argc, argv, &o, pos, &n, &err), ERR_OK, "form %zu: %s", i, err.msg);
        cr_expect_str_eq(o.name, "x", "form %zu", i);
        cr_expect_eq(n, 1, "form %zu", i);
        cr_expect_str_eq(pos[0], "file");
    }
}

Test(cli, flags_values_and_positionals_in_any_order)
{
    char *argv[] = {"a", "--tol", "1e-3", "-f", "b"};
    opts_t o;
    const char *pos[2];
    size_t n;
    err_t err = {0};
    cr_assert_eq(parse(5, argv, &o, pos, &n, &err), ERR_OK, "%s", err.msg);
    cr_expect(o.flag);
    cr_expect_eq(o.tol, 1e-3);
    cr_assert_eq(n, 2);
    cr_expect_str_eq(pos[0], "a");
    cr_expect_str_eq(pos[1], "b");
}

typedef struct {
    int argc;
    char *argv[4];
    const char *expect;
} bad_args_t;

Test(cli, each_bad_argument_has_its_message)
{
    static const bad_args_t cases[] = {
        {1, {"--tol"}, "--tol needs a number"},
        {1, {"--tol=abc"}, "--tol needs a number, got 'abc'"},
        {1, {"--frobnicate"}, "unknown option '--frobnicate' (see runner --help)"},
        {1, {"--csv"}, "--csv goes with runner report"},
        {1, {"--cell=3"}, "--cell=3 goes with runner surface"},
        {1, {"--max-cells"}, "--max-cells goes with runner CONFIG"},
        {3, {"a", "b", "c"}, "unexpected argument 'c'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        opts_t o;
        const char *pos[2];
        size_t n;
        err_t err = {0};
        cr_expect_eq(parse(cases[i].argc, (char **)cases[i].argv, &o, pos, &n, &err), ERR_USAGE, "case %zu accepted", i);
        cr_expect(strstr(err.msg, cases[i].expect), "case %zu: '%s' lacks '%s'", i, err.msg, cases[i].expect);
    }
}

Test(cli, command_words_find_their_rows)
{
    const char *words[] = {"report", "check", "surface", "plugins", "describe"};
    for (size_t i = 0; i < 5; i++) {
        const command_t *c = commands_find(words[i]);
        cr_assert(c->name, "%s", words[i]);
        cr_expect_str_eq(c->name, words[i]);
        cr_expect(c->usage && strstr(c->usage, words[i]), "%s has its usage line", words[i]);
    }
    cr_expect_null(commands_find("configs/x.yaml")->name, "anything else is a config: the default row");
    cr_expect_null(commands_find(NULL)->name);
    cr_expect(strstr(commands_find(NULL)->usage, "runner CONFIG"));
    cr_expect(commands_find("report")->flags == 0, "report needs no plugins");
    cr_expect(commands_find("check")->flags & NEEDS_PLUGINS);
}
