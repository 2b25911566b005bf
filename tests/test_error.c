/* test_error.c: suggestions and the printed form of an error. */
#include "base/text_safety.h"
#include "helpers.h"

TestSuite(error);

Test(error, suggestions)
{
    const char *opt[] = {"lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize"};
    cr_expect_str_eq(closest_match("momentun", opt, 6), "momentum");
    cr_expect_str_eq(closest_match("lerning_rate", opt, 6), "lr");
    cr_expect_str_eq(closest_match("learning_rate", opt, 6), "lr");
    cr_expect_str_eq(closest_match("weightdecay", opt, 6), "weight_decay");
    cr_expect_null(closest_match("banana", opt, 6));
    cr_expect_eq(edit_distance("kitten", "sitting"), 3);
}

Test(error, printed_with_source_line_and_caret, .init = cr_redirect_stderr)
{
    err_t err;
    err_set(&err, ERR_CONFIG, (mark_t){"x.yaml", 2, 13}, "unknown key '%s' (did you mean 'lr'?)", "lerning_rate");
    err_print(&err, "steps: 3\noptimizer: {lerning_rate: 0.1}\n", "runner");
    fflush(stderr);
    cr_assert_stderr_eq_str("x.yaml:2:13: error: unknown key 'lerning_rate' (did you mean 'lr'?)\n"
                            "  optimizer: {lerning_rate: 0.1}\n"
                            "              ^\n");
}

Test(error, append_context)
{
    err_t err;
    err_set(&err, ERR_CONFIG, (mark_t){0}, "bad");
    err_append(&err, " (in cell %d)", 3);
    cr_expect_str_eq(err.msg, "bad (in cell 3)");
}

/* Text from plugins: printable UTF-8 only (issue 18, polish). */
Test(error, plugin_text_is_made_safe)
{
    size_t at = 99;
    cr_expect(text_is_safe("adam 1.0 \xc3\xa9t\xc3\xa9\t\xe2\x82\xac \xf0\x9f\x98\x80", &at));
    cr_expect_not(text_is_safe("1.0\x1b[2J", &at));
    cr_expect_eq(at, 3);
    cr_expect_not(text_is_safe("ok\xff", &at));
    cr_expect_eq(at, 2);
    cr_expect_not(text_is_safe("\xc0\xaf", &at), "an overlong '/'");
    cr_expect_not(text_is_safe("\xed\xa0\x80", &at), "a surrogate");
    cr_expect_not(text_is_safe("\xe2\x82", &at), "a sequence cut short");
    char msg[] = "bad \x1b[31mred\xff end\n\xe2\x82\xac";
    text_make_safe(msg);
    cr_expect_str_eq(msg, "bad ?[31mred? end?\xe2\x82\xac");
}
