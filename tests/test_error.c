/* test_error.c: suggestions and the printed form of an error. */
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
