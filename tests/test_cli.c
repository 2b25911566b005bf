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

/* The man page as groff source, with its escaped minus signs plain. */
static char *man_page(void)
{
    FILE *f = fopen(RUNNER_SOURCE_DIR "/docs/runner.1", "r");
    cr_assert(f, "docs/runner.1");
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof text - 1, f), w = 0;
    fclose(f);
    for (size_t i = 0; i < n; i++)
        if (!(text[i] == '\\' && i + 1 < n && text[i + 1] == '-')) text[w++] = text[i];
    text[w] = 0;
    return text;
}

/* Each command of the table, and each of its options, is in the man page's
 * synopsis and in --help: a new command or option without them fails here. */
Test(cli, the_man_page_and_help_list_every_command_and_option)
{
    const char *man = man_page();
    char help[8192];
    FILE *h = fmemopen(help, sizeof help, "w");
    commands_print_usage(h);
    fclose(h);
    size_t n;
    const command_t *all = commands_all(&n);
    for (size_t i = 0; i < n; i++) {
        char want[64];
        if (all[i].name) { /* the default, runner CONFIG, opens both */
            snprintf(want, sizeof want, ".B runner %s", all[i].name);
            cr_expect(strstr(man, want), "the man page's synopsis lacks '%s'", want);
            snprintf(want, sizeof want, "runner %s", all[i].name);
            cr_expect(strstr(help, want), "--help lacks '%s'", want);
        }
        for (size_t k = 0; all[i].options && k < all[i].options->n; k++) {
            const char *opt = all[i].options->list[k].name;
            cr_expect(strstr(man, opt), "the man page lacks %s (runner %s)", opt, all[i].name ? all[i].name : "CONFIG");
            cr_expect(strstr(help, opt), "--help lacks %s", opt);
        }
    }
    const char *globals[] = {"--plugin-path", "--allow-insecure-plugins", "--version", "--help"};
    for (size_t i = 0; i < 4; i++) cr_expect(strstr(help, globals[i]), "--help lacks %s", globals[i]);
    for (size_t i = 0; i < 2; i++) {
        char want[64];
        snprintf(want, sizeof want, ".RB [ %s", globals[i]);
        cr_expect(strstr(man, want), "the man page's synopsis lacks %s", globals[i]);
    }
}
