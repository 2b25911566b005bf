/* test_node.c: scalar typing, strict conversion, persistent merge/set, emission. */
#include <math.h>

#include "helpers.h"

static arena_t A;
static void setup(void) { arena_init(&A); }
static void teardown(void) { arena_free(&A); }
TestSuite(node, .init = setup, .fini = teardown);

static node_t *scalar(const char *text, bool quoted)
{
    node_t *n = node_scalar(&A, text, (mark_t){"t", 1, 1}, ORIGIN_BASE);
    n->quoted = quoted;
    return n;
}

static node_t *parse(const char *text)
{
    node_t *root;
    err_t err;
    cr_assert_eq(yaml_load(&A, text, strlen(text), "t.yaml", &root, &err), ERR_OK, "%s", err.msg);
    return root;
}

typedef struct {
    const char *text;
    scalar_type_t type;
} typing_case_t;

static const typing_case_t scalar_typing_cases[] = {
    {"", SCALAR_NULL},       {"~", SCALAR_NULL},       {"null", SCALAR_NULL},    {"true", SCALAR_BOOL},
    {"False", SCALAR_BOOL},  {"42", SCALAR_INT},       {"-7", SCALAR_INT},       {"0x1F", SCALAR_INT},
    {"0o17", SCALAR_INT},    {"0.5", SCALAR_FLOAT},    {"1e-3", SCALAR_FLOAT},   {".5", SCALAR_FLOAT},
    {"-1.5E+2", SCALAR_FLOAT}, {".inf", SCALAR_FLOAT}, {".nan", SCALAR_FLOAT},   {"1e", SCALAR_STRING},
    {"sgd", SCALAR_STRING},  {"yes", SCALAR_STRING},   {"0x", SCALAR_STRING},    {"1.2.3", SCALAR_STRING},
};
INDEX_PARAMS(node, scalar_typing, scalar_typing_cases)

ParameterizedTest(size_t *i, node, scalar_typing)
{
    const typing_case_t *c = &scalar_typing_cases[*i];
    arena_t a;
    arena_init(&a);
    node_t *n = node_scalar(&a, c->text, (mark_t){0}, 0);
    cr_expect_eq(scalar_type(n), c->type, "'%s' typed as %s", c->text, scalar_type_name(scalar_type(n)));
    arena_free(&a);
}

Test(node, quoted_scalars_are_strings)
{
    cr_expect_eq(scalar_type(scalar("42", true)), SCALAR_STRING);
    cr_expect_eq(scalar_type(scalar("true", true)), SCALAR_STRING);
}

Test(node, strict_numbers)
{
    double v;
    int64_t i;
    err_t err;
    cr_expect_eq(node_to_double(scalar("1e-3", false), "x", &v, &err), ERR_OK);
    cr_expect_eq(v, 1e-3);
    cr_expect_eq(node_to_double(scalar("0x10", false), "x", &v, &err), ERR_OK);
    cr_expect_eq(v, 16.0);
    cr_expect_eq(node_to_double(scalar("1e999", false), "x", &v, &err), ERR_CONFIG);
    cr_expect(strstr(err.msg, "out of range"), "%s", err.msg);
    cr_expect_eq(node_to_double(scalar(".inf", false), "x", &v, &err), ERR_CONFIG);
    cr_expect(strstr(err.msg, "finite"), "%s", err.msg);
    cr_expect_eq(node_to_double(scalar("0.1", true), "lr", &v, &err), ERR_CONFIG);
    cr_expect(strstr(err.msg, "expected a number for lr, got a string '0.1'"), "%s", err.msg);
    cr_expect_eq(node_to_int64(scalar("1e3", false), "steps", 1, 10000, &i, &err), ERR_OK);
    cr_expect_eq(i, 1000);
    cr_expect_eq(node_to_int64(scalar("2.5", false), "steps", 1, 10000, &i, &err), ERR_CONFIG);
    cr_expect_eq(node_to_int64(scalar("0", false), "steps", 1, 10000, &i, &err), ERR_CONFIG);
    cr_expect(strstr(err.msg, "between 1 and 10000"), "%s", err.msg);
    cr_expect_eq(node_to_int64(scalar("99999999999999999999", false), "n", 0, INT64_MAX, &i, &err), ERR_CONFIG);
    bool b;
    cr_expect_eq(node_to_bool(scalar("1", false), "nesterov", &b, &err), ERR_CONFIG);
    cr_expect_eq(node_to_bool(scalar("TRUE", false), "nesterov", &b, &err), ERR_OK);
    cr_expect(b);
}

Test(node, merge_maps_key_by_key_and_shares_the_rest)
{
    node_t *base = parse("a: {x: 1, y: 2}\nb: [1, 2]\nc: {k: v}\n");
    node_t *over = parse("a: {y: 3, z: 4}\nb: [9]\n");
    node_t *m = node_merge(&A, base, over);
    const node_t *a = node_get(m, "a");
    cr_assert_eq(a->n, 3);
    cr_expect_str_eq(node_get(a, "x")->text, "1");
    cr_expect_str_eq(node_get(a, "y")->text, "3");
    cr_expect_str_eq(node_get(a, "z")->text, "4");
    cr_expect_eq(node_get(m, "b")->n, 1, "lists replace, not merge");
    cr_expect_eq(node_get(m, "c"), node_get(base, "c"), "untouched subtrees are shared");
    cr_expect_eq(node_get(node_get(base, "a"), "y")->text[0], '2', "the base is unchanged");
}

Test(node, set_path_copies_only_the_spine)
{
    node_t *base = parse("optimizer: {name: sgd, lr: 0.1}\nproblem: {objective: parabola}\n");
    node_t *out;
    err_t err;
    cr_assert_eq(node_set_path(&A, base, "optimizer.momentum", scalar("0.9", false), (mark_t){0}, &out, &err), ERR_OK);
    cr_expect_str_eq(node_get(node_get(out, "optimizer"), "momentum")->text, "0.9");
    cr_expect_null(node_get(node_get(base, "optimizer"), "momentum"));
    cr_expect_eq(node_get(out, "problem"), node_get(base, "problem"));
    cr_assert_eq(node_set_path(&A, base, "new.deep.key", scalar("1", false), (mark_t){0}, &out, &err), ERR_OK);
    cr_expect_str_eq(node_get(node_get(node_get(out, "new"), "deep"), "key")->text, "1");
    cr_expect_eq(node_set_path(&A, base, "optimizer.name.x", scalar("1", false), (mark_t){0}, &out, &err), ERR_CONFIG);
    cr_expect(strstr(err.msg, "not a mapping"), "%s", err.msg);
}

Test(node, emission_reads_back)
{
    node_t *t = parse("a: {b: [1, 2.5, 'x y'], c: \"42\", d: true}\ne: hello\nf: \"a:b\"\n");
    char *flow = node_to_flow(&A, t);
    cr_expect_str_eq(flow, "{a: {b: [1, 2.5, \"x y\"], c: \"42\", d: true}, e: hello, f: \"a:b\"}");
    node_t *back = parse(flow);
    cr_expect_str_eq(node_to_flow(&A, back), flow);
    char *block = node_to_block(&A, t);
    cr_expect_str_eq(node_to_flow(&A, parse(block)), flow, "block text:\n%s", block);
}

Test(node, format_double_is_shortest_exact)
{
    char buf[40];
    format_double(buf, sizeof buf, 0.1);
    cr_expect_str_eq(buf, "0.1");
    format_double(buf, sizeof buf, 1.0 / 3.0);
    cr_expect_eq(strtod(buf, NULL), 1.0 / 3.0);
    format_double(buf, sizeof buf, 1e-300);
    cr_expect_str_eq(buf, "1e-300");
}
