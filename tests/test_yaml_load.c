/* test_yaml_load.c: strict YAML loading, every refusal with its position. */

#include "helpers.h"

TestSuite(yaml_load);

typedef struct {
    const char *text;
    int line, col;
    const char *expect;
} bad_yaml_t;

static const bad_yaml_t refusals_cases[] = {
    {"", 1, 1, "the config is empty"},
    {"# only a comment\n", 1, 1, "the config is empty"},
    {"a: 1\na: 2\n", 2, 1, "duplicate key 'a' (first given at line 1)"},
    {"a:\n\tb: 1\n", 2, 1, "tab character"},
    {"a: [1, 2\n", 0, 0, "malformed YAML"},
    {"a: &x 1\nb: *x\n", 2, 4, "aliases"},
    {"? [1, 2]\n: 3\n", 1, 3, "mapping keys must be plain names"},
    {"a: 1\n---\nb: 2\n", 2, 1, "second YAML document"},
    {"a: \"unterminated\n", 0, 0, "malformed YAML"},
    {"a: b: c\n", 1, 5, "malformed YAML"},
    {"a: \xff\xfe\n", 1, 4, "invalid UTF-8 (invalid leading UTF-8 octet, byte 0xFF)"},
};
INDEX_PARAMS(yaml_load, refusals, refusals_cases)

ParameterizedTest(size_t *i, yaml_load, refusals)
{
    const bad_yaml_t *c = &refusals_cases[*i];
    arena_t a;
    arena_init(&a);
    node_t *root;
    err_t err = {0};
    cr_expect_eq(yaml_load(&a, c->text, strlen(c->text), "bad.yaml", &root, &err), ERR_CONFIG, "accepted: %s", c->text);
    cr_expect(strstr(err.msg, c->expect), "message '%s' lacks '%s'", err.msg, c->expect);
    if (c->line) {
        cr_expect_eq(err.mark.line, c->line, "line %d, expected %d (%s)", err.mark.line, c->line, err.msg);
        cr_expect_eq(err.mark.col, c->col, "col %d, expected %d (%s)", err.mark.col, c->col, err.msg);
    } else {
        cr_expect_gt(err.mark.line, 0, "no position for: %s", err.msg);
    }
    cr_expect_str_eq(err.mark.file, "bad.yaml");
    arena_free(&a);
}

Test(yaml_load, depth_is_capped_quickly)
{
    /* 200 KB of [[[...]]] took libyaml 39 s unguarded; the cap stops it at depth 64 */
    size_t n = 100000;
    char *text = malloc(2 * n + 1);
    memset(text, '[', n);
    memset(text + n, ']', n);
    text[2 * n] = 0;
    arena_t a;
    arena_init(&a);
    node_t *root;
    err_t err;
    cr_expect_eq(yaml_load(&a, text, 2 * n, "deep.yaml", &root, &err), ERR_CONFIG);
    cr_expect(strstr(err.msg, "nesting deeper than 64"), "%s", err.msg);
    arena_free(&a);
    free(text);
}

Test(yaml_load, marks_and_styles)
{
    const char *text = "steps: 6\nproblem: {objective: parabola, start: [-5.0]}\nname: \"42\"\n";
    arena_t a;
    arena_init(&a);
    node_t *root;
    err_t err;
    cr_assert_eq(yaml_load(&a, text, strlen(text), "ok.yaml", &root, &err), ERR_OK, "%s", err.msg);
    const node_pair_t *p = node_get_pair(root, "problem");
    cr_expect_eq(p->key_mark.line, 2);
    cr_expect_eq(p->key_mark.col, 1);
    const node_t *start = node_get(p->value, "start");
    cr_expect_eq(start->mark.col, 39);
    cr_expect_eq(start->n, 1);
    cr_expect(node_get(root, "name")->quoted);
    cr_expect_not(node_get(root, "steps")->quoted);
    arena_free(&a);
}

Test(yaml_load, files)
{
    char *text;
    size_t len;
    err_t err;
    cr_expect_eq(read_text_file("/nonexistent/x.yaml", &text, &len, &err), ERR_IO);
    cr_expect(strstr(err.msg, "cannot open"), "%s", err.msg);
    cr_expect_eq(read_text_file(RUNNER_SOURCE_DIR "/configs", &text, &len, &err), ERR_IO);
    cr_expect(strstr(err.msg, "is a directory"), "%s", err.msg);
    cr_assert_eq(read_text_file(RUNNER_SOURCE_DIR "/configs/momentum_sweep.yaml", &text, &len, &err), ERR_OK);
    cr_expect_eq(strlen(text), len);
    free(text);
}

/* Past KEY_SCAN_MAX keys the duplicate check uses a hash table: still exact,
 * and a 100,000-key mapping loads in linear time. */
Test(yaml_load, duplicates_in_large_mappings)
{
    size_t n = 100000, len = n * 16 + 64;
    char *text = malloc(len), *p = text;
    for (size_t i = 0; i < n; i++) p += sprintf(p, "k%zu: %zu\n", i, i);
    arena_t a;
    arena_init(&a);
    node_t *root;
    err_t err = {0};
    cr_assert_eq(yaml_load(&a, text, strlen(text), "big.yaml", &root, &err), ERR_OK, "%s", err.msg);
    cr_expect_eq(root->n, n);
    arena_free(&a);
    sprintf(p, "k77777: again\n");
    arena_init(&a);
    cr_expect_eq(yaml_load(&a, text, strlen(text), "big.yaml", &root, &err), ERR_CONFIG);
    cr_expect_str_eq(err.msg, "duplicate key 'k77777' (first given at line 77778)");
    cr_expect_eq(err.mark.line, (int)n + 1);
    arena_free(&a);
    free(text);
}
