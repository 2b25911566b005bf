/*
 * test_hostile.c: the corpus of bad configs in tests/hostile/. Each must
 * give its own `FILE:LINE:COL: error: MESSAGE` on stderr, exit 2, write no
 * output, and not crash (under the sanitizer build: no leak either, since
 * LeakSanitizer changes the exit status). Plus inputs that are not config
 * files at all: a directory, a missing file, a file over the size cap.
 */
#include "e2e_helpers.h"

static void setup(void)
{
    e2e_make_dir("hostile");
}
static void teardown(void)
{
    e2e_remove_dir();
}
TestSuite(hostile, .init = setup, .fini = teardown, .timeout = 60);

typedef struct {
    const char *file, *args, *at, *message;
} bad_config_t;

/* file, extra arguments, LINE:COL, the start of the message */
static const bad_config_t corpus[] = {
    /* malformed YAML */
    {"anchor_alias.yaml", "", "3:8", "YAML aliases (*name) are not supported; write the value out"},
    {"bad_indentation.yaml", "", "4:2", "malformed YAML: did not find expected key while parsing a block mapping"},
    {"deep_block_nesting.yaml", "", "68:129", "nesting deeper than 64 levels"},
    {"deep_nesting.yaml", "", "4:67", "nesting deeper than 64 levels"},
    {"duplicate_key.yaml", "", "2:1", "duplicate key 'steps' (first given at line 1)"},
    {"duplicate_nested_key.yaml", "", "3:33", "duplicate key 'lr' (first given at line 3)"},
    {"empty.yaml", "", "1:1", "the config is empty; expected a mapping of settings"},
    {"non_utf8.yaml", "", "4:10", "invalid UTF-8 (incomplete UTF-8 octet sequence, byte 0xE9)"},
    {"nul_byte.yaml", "", "2:47", "NUL byte; a config must be a text file"},
    {"only_comments.yaml", "", "1:1", "the config is empty; expected a mapping of settings"},
    {"tab_indentation.yaml", "", "3:1", "tab character used for indentation (YAML needs spaces)"},
    {"top_level_list.yaml", "", "1:1", "expected a mapping of settings (steps:, problem:, optimizer:, ...) at the top, got a list"},
    {"top_level_scalar.yaml", "", "1:1", "expected a mapping of settings (steps:, problem:, optimizer:, ...) at the top, got a string"},
    {"two_documents.yaml", "", "4:1", "a second YAML document ('---'); a config is one document"},
    {"merge_key.yaml", "", "5:3", "YAML merge keys (<<:) are not supported; write the keys out"},
    {"yaml_tag.yaml", "", "2:8", "YAML tags are not supported (this one is tag:yaml.org,2002:python/object:os.system)"},
    {"unclosed_flow_mapping.yaml", "", "4:1", "malformed YAML: did not find expected ',' or '}' while parsing a flow mapping (line 3)"},
    {"unclosed_flow_sequence.yaml", "", "2:45", "malformed YAML: did not find expected ',' or ']' while parsing a flow sequence"},
    {"unterminated_string.yaml", "", "4:1", "malformed YAML: found unexpected end of stream while scanning a quoted scalar (line 2)"},
    {"utf16_bom.yaml", "", "1:1", "the file is UTF-16 (it starts with a UTF-16 byte order mark); save it as UTF-8"},
    /* wrong types and values */
    {"beta1_out_of_bounds.yaml", "", "3:41", "adam.beta1: 1 is out of bounds: must be in [0, 1)"},
    {"bool_given_a_number.yaml", "", "3:43", "expected true or false for sgd.nesterov, got an integer '3'"},
    {"lr_infinite.yaml", "", "3:28", "number '1e400' for sgd.lr is out of range"},
    {"lr_nan.yaml", "", "3:28", "expected a finite number for sgd.lr, got '.nan'"},
    {"lr_negative.yaml", "", "3:28", "sgd.lr: -0.1 is out of bounds: must be in [0, 1e+06]"},
    {"lr_string.yaml", "", "3:28", "expected a number for sgd.lr, got a string 'fast'"},
    {"seeds_not_integers.yaml", "", "4:12", "expected an integer for a seed, got a string 'two'"},
    {"start_empty.yaml", "", "2:37", "problem.start needs at least 1 value, got 0"},
    {"start_not_numbers.yaml", "", "2:40", "expected a number for problem.start, got a string 'a'"},
    {"start_wrong_dimension.yaml", "", "2:39", "start has 1 value but objective 'elliptic' has 2 dimensions"},
    {"steps_fractional.yaml", "", "1:8", "expected an integer for steps, got a number '2.5'"},
    {"steps_huge.yaml", "", "1:8", "steps must be between 1 and 100000000, got 1e12"},
    {"steps_list.yaml", "", "1:8", "expected an integer for steps, got a list"},
    {"steps_negative.yaml", "", "1:8", "steps must be between 1 and 100000000, got -5"},
    {"steps_not_a_number.yaml", "", "1:8", "expected an integer for steps, got a string 'many'"},
    {"steps_overflow_integer.yaml", "", "1:8", "steps must be between 1 and 100000000, got 99999999999999999999999999"},
    {"steps_zero.yaml", "", "1:8", "steps must be between 1 and 100000000, got 0"},
    {"linear_regression_mismatched.yaml", "", "5:27", "problem.data.y has 2 values but problem.data.x has 3"},
    /* unknown and missing keys */
    {"unknown_top_level_key.yaml", "", "4:1", "unknown key 'stepz' (did you mean 'steps'?)"},
    {"unknown_problem_key.yaml", "", "2:48", "unknown key 'strat' in problem (did you mean 'start'?)"},
    {"unknown_optimizer_key.yaml", "", "3:33", "unknown key 'lerning_rate' in optimizer 'sgd' (did you mean 'lr'?)"},
    {"unknown_optimizer_name.yaml", "", "3:19", "unknown optimizer 'sgdd' (did you mean 'sgd'?)"},
    {"unknown_objective.yaml", "", "2:22", "unknown objective 'rosenbrok' (did you mean 'rosenbrock'?)"},
    {"runs_entry_unknown_key.yaml", "", "4:19", "unknown key 'optimzer' in a run (did you mean 'optimizer'?)"},
    {"grid_unknown_path.yaml", "", "4:8", "optimizer parameter 'lrr' applies to no cell"},
    {"optimizer_missing.yaml", "", "1:1", "missing 'optimizer', e.g. optimizer: {name: sgd, lr: 0.1}"},
    {"problem_missing.yaml", "", "1:1", "missing 'problem', e.g. problem: {objective: elliptic, start: [-7, 2]}"},
    {"objective_and_expression.yaml", "", "2:32", "problem has both objective and expression; give one"},
    /* expressions */
    {"expression_huge.yaml", "", "2:281", "expression too long (more than 256 operations)"},
    {"expression_syntax_error.yaml", "", "2:30", "unexpected '*' where a value was expected"},
    {"expression_unbalanced.yaml", "", "2:32", "expected ')' to close the '(' here"},
    {"expression_unknown_function.yaml", "", "2:24", "unknown name 'foo' in expression"},
    /* axes */
    {"grid_empty_list.yaml", "", "4:22", "grid axis 'optimizer.lr' has no values"},
    {"grid_empty_mapping.yaml", "", "4:22", "a grid axis is a list of values, {linspace: [a, b, n]} or {logspace: [a, b, n]}"}, /* found by fuzz_config: crashed */
    {"grid_linspace_missing_count.yaml", "", "4:33", "linspace takes [start, stop, count], got a list of another length"},
    {"grid_logspace_zero_count.yaml", "", "4:41", "the count must be between 1 and 10000000, got 0"},
    {"grid_not_a_mapping.yaml", "", "4:7", "grid must be a mapping of dotted paths to value lists"},
    {"grid_values_wrong_type.yaml", "", "4:28", "expected a number for sgd.lr, got a string 'fast' (in cell 1: optimizer.lr=fast)"},
    {"runs_empty.yaml", "", "4:7", "runs is an empty list"},
    {"runs_not_a_list.yaml", "", "4:7", "runs must be a list of overlays"},
    {"repeat_zero.yaml", "", "4:9", "repeat must be between 1 and 10000000, got 0"},
    /* studies (issue 19): search, zipped axes, vars, include, exclude, per-run axes, select */
    {"search_unknown_method.yaml", "", "4:18", "unknown search method 'grid' (random or sobol)"},
    {"search_unknown_distribution.yaml", "", "4:61", "unknown distribution 'normal' (uniform, loguniform, intuniform or choice)"},
    {"search_lo_not_below_hi.yaml", "", "4:70", "uniform needs lo < hi, got [1, 0.5]"},
    {"search_loguniform_zero.yaml", "", "4:74", "loguniform needs lo > 0 (it draws log values), got 0"},
    {"zip_mismatched_length.yaml", "", "5:49", "grid axis 'optimizer.lr+optimizer.momentum' sets 2 paths together"},
    {"vars_undefined.yaml", "", "4:28", "${rate} names no variable: vars has w"},
    {"include_cycle.yaml", "", "1:11", "include cycle: "},
    {"include_missing.yaml", "", "1:11", "cannot include 'no_such_base.yaml': no such file"},
    {"exclude_not_a_list.yaml", "", "5:10", "exclude: is a list of partial assignments"},
    {"exclude_everything.yaml", "", "5:10", "exclude: leaves no cell to run"},
    {"run_grid_repeats_sweep_axis.yaml", "", "6:23", "grid axis 'optimizer.lr' is sweep-wide already"},
    {"axis_changes_nothing.yaml", "", "4:37", "grid axis 'optimizer.momentum' changes nothing in cells 2"},
    {"select_unknown_metric.yaml", "", "5:18", "unknown select.metric 'final_los'; did you mean 'final_loss'?"},
    {"select_by_unknown_axis.yaml", "", "5:34", "select.by: no such axis; the study's axes are: optimizer.lr"},
    {"select_validation_without_split.yaml", "", "7:18",
     "select.metric 'validation_accuracy' needs 'validation_accuracy', which these cells do not record"},
    {"lbfgs_in_training.yaml", "", "6:19", "optimizer 'lbfgs' evaluates the objective at points of its own choosing"},
    /* resource guards */
    {"grid_billion_cells.yaml", "", "5:3",
     "the sweep has 1000 x 1000 x 1000 = 1000000000 cells (optimizer.lr x optimizer.momentum x optimizer.dampening), "
     "more than the limit of 10000000 cells; use fewer values or split the sweep, or raise the limit with --max-cells N"},
    {"grid_billion_cells.yaml", "--max-cells 999999", "5:3", "the sweep has 1000 x 1000 x 1000 = 1000000000 cells"},
    {"output_huge.yaml", "", "1:1", "the output would take 40.8 TB (1000 cells x 10200000102 values x 4 bytes"},
    {"output_over_max_output.yaml", "--max-output 1G", "1:1",
     "the output would take 2.4 GB (1000 cells x 600006 values x 4 bytes, and per-cell records), more than "
     "--max-output 1.0 GB"},
    {"buffers_too_large.yaml", "--max-output 1P", "1:1", "the sweep's buffers would take 12.0 TB"},
};
INDEX_PARAMS(hostile, each_bad_config_has_its_own_message, corpus)

ParameterizedTest(size_t *i, hostile, each_bad_config_has_its_own_message)
{
    const bad_config_t *c = &corpus[*i];
    char cmd[2048], err[8192];
    /* run from the corpus directory so messages name the file as given */
    snprintf(cmd, sizeof cmd, "cd %s/tests/hostile && %s %s/runner %s %s -o %s >%s 2>%s", RUNNER_SOURCE_DIR,
             runner_wrapper(), RUNNER_BUILD_DIR, c->file, c->args, in_dir("out.h5"), in_dir("stdout"),
             in_dir("stderr"));
    int st = system(cmd);
    slurp("stderr", err, sizeof err);
    cr_assert(WIFEXITED(st), "%s: the runner did not exit normally (crash?)", c->file);
    cr_expect_eq(WEXITSTATUS(st), 2, "%s: exit %d\n%s", c->file, WEXITSTATUS(st), err);
    char head[1024];
    snprintf(head, sizeof head, "%s:%s: error: %s", c->file, c->at, c->message);
    cr_expect_eq(strncmp(err, head, strlen(head)), 0, "stderr:\n%s\nshould start with:\n%s", err, head);
    cr_expect(strstr(err, "AddressSanitizer") == NULL && strstr(err, "runtime error") == NULL, "%s", err);
    cr_expect_not(exists("out.h5"), "%s: output written despite the error", c->file);
    char listing[4096];
    snprintf(cmd, sizeof cmd, "ls %s > %s", dir, in_dir("listing"));
    cr_assert_eq(system(cmd), 0);
    slurp("listing", listing, sizeof listing);
    cr_expect_not(strstr(listing, "out.h5"), "%s: a temporary output was left: %s", c->file, listing);
}

/* The corpus really is 40+ distinct files, each with its own expectation. */
Test(hostile, corpus_covers_every_file)
{
    char cmd[1024], listing[16384];
    snprintf(cmd, sizeof cmd, "ls %s/tests/hostile > %s", RUNNER_SOURCE_DIR, in_dir("files"));
    cr_assert_eq(system(cmd), 0);
    slurp("files", listing, sizeof listing);
    size_t n_files = 0;
    for (char *save, *f = strtok_r(listing, "\n", &save); f; f = strtok_r(NULL, "\n", &save)) {
        n_files++;
        bool listed = false;
        for (size_t i = 0; i < sizeof corpus / sizeof corpus[0]; i++) listed |= !strcmp(corpus[i].file, f);
        cr_expect(listed, "tests/hostile/%s has no expected message in test_hostile.c", f);
    }
    cr_expect_geq(n_files, 40);
}

typedef struct {
    const char *what, *expect;
} not_a_config_t;

/* Inputs that are not YAML files at all; `%s` is the test's directory. */
static const not_a_config_t not_configs[] = {
    {"directory", ": error: is a directory, expected a YAML file"},
    {"missing", ": error: cannot open: No such file or directory"},
    {"too_big", ": error: file is 16777217 bytes; configs are limited to 16777216"},
    {"fifo", ": error: is not a regular file"},
};
INDEX_PARAMS(hostile, inputs_that_are_not_config_files, not_configs)

ParameterizedTest(size_t *i, hostile, inputs_that_are_not_config_files)
{
    const not_a_config_t *c = &not_configs[*i];
    const char *path = in_dir(c->what);
    if (!strcmp(c->what, "directory")) {
        cr_assert_eq(mkdir(path, 0755), 0);
    } else if (!strcmp(c->what, "too_big")) {
        FILE *f = fopen(path, "w");
        cr_assert(f);
        cr_assert_eq(fseek(f, 16777216, SEEK_SET), 0);
        fputc('\n', f);
        fclose(f);
    } else if (!strcmp(c->what, "fifo")) {
        cr_assert_eq(mkfifo(path, 0644), 0);
    }
    char args[1024], err[4096], expect[1024];
    snprintf(args, sizeof args, "%s -o %s", path, in_dir("out.h5"));
    snprintf(expect, sizeof expect, "%s%s", path, c->expect);
    cr_expect_eq(run(args, NULL, 0, err, sizeof err), 2, "%s", err);
    cr_expect_eq(strncmp(err, expect, strlen(expect)), 0, "stderr:\n%s\nshould start with:\n%s", err, expect);
    cr_expect_not(exists("out.h5"));
}

/* Issue 18, item 4: plugin code that calls exit() never ends the runner
 * with status 0: from a step (the file keeps the cells before it), and from
 * a constructor while the plugins load (no command survives it). */
/* The runner itself, not under the valgrind wrapper: an exit from plugin
 * code mid-sweep leaves threads and their memory behind by design. */
static int run_unwrapped(const char *args, char *out, size_t out_len, char *errtxt, size_t err_len)
{
    const char *w = getenv("RUNNER_TEST_WRAPPER");
    char *saved = w ? strdup(w) : NULL;
    unsetenv("RUNNER_TEST_WRAPPER");
    int rc = run(args, out, out_len, errtxt, err_len);
    if (saved) setenv("RUNNER_TEST_WRAPPER", saved, 1);
    free(saved);
    return rc;
}

Test(hostile, plugin_code_that_calls_exit_gives_a_nonzero_status)
{
    write_file("x.yaml", "steps: 5\nproblem: {objective: parabola, start: [3.0]}\noptimizer: {name: exit_in_step}\n");
    char args[1024], out[4096], err[4096];
    snprintf(args, sizeof args, "--plugin-path %s %s -o %s -j 1", RUNNER_BROKEN_DIR, in_dir("x.yaml"), in_dir("x.h5"));
    cr_expect_eq(run_unwrapped(args, out, sizeof out, err, sizeof err), 70, "%s", err);
    cr_expect(strstr(err, "runner: error: plugin code called exit() while running the command"), "%s", err);
    cr_expect(exists("x.h5"), "the file was created before the sweep");
    snprintf(args, sizeof args, "--plugin-path %s/exit_plugins plugins", RUNNER_BUILD_DIR "/tests");
    cr_expect_eq(run_unwrapped(args, out, sizeof out, err, sizeof err), 70, "%s", err);
    cr_expect(strstr(err, "plugin code called exit() while loading plugins"), "%s", err);
}

/* Issue 18, item 10: OMP_NUM_THREADS is bounded like -j. */
Test(hostile, omp_num_threads_beyond_the_thread_limit)
{
    write_file("t.yaml", "steps: 5\nproblem: {objective: parabola, start: [3.0]}\noptimizer: {name: sgd, lr: 0.1}\n");
    char args[1024], err[4096];
    snprintf(args, sizeof args, "%s -o %s", in_dir("t.yaml"), in_dir("t.h5"));
    setenv("OMP_NUM_THREADS", "100000", 1);
    int rc = run(args, NULL, 0, err, sizeof err);
    unsetenv("OMP_NUM_THREADS");
    cr_expect_eq(rc, 2, "%s", err);
    cr_expect(strstr(err, "OMP_NUM_THREADS asks for 100000 threads, more than 4096; give -j N"), "%s", err);
    cr_expect_not(exists("t.h5"));
}

/* Issue 18, polish: a plugin's message with a terminal escape and a byte
 * that is not UTF-8 reaches neither the terminal nor the file as it is. */
Test(hostile, a_plugin_message_is_made_printable)
{
    write_file("e.yaml", "steps: 5\nproblem: {objective: parabola, start: [3.0]}\noptimizer: {name: escape_message}\n");
    char args[1024], out[4096], err[4096];
    snprintf(args, sizeof args, "--plugin-path %s %s -o %s", RUNNER_BROKEN_DIR, in_dir("e.yaml"), in_dir("e.h5"));
    cr_expect_eq(run(args, out, sizeof out, err, sizeof err), 1, "%s", err);
    cr_expect(!strchr(out, '\x1b') && !strchr(err, '\x1b') && !strchr(out, '\xff'), "%s%s", out, err);
    cr_expect(strstr(out, "bad ?[31mred? end") || strstr(err, "bad ?[31mred? end"), "%s%s", out, err);
    hid_t f = H5Fopen(in_dir("e.h5"), H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, "failure", H5P_DEFAULT), t = H5Dget_type(d);
    char msg[RUNNER_ERR_MAX] = "";
    cr_assert_geq(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, msg), 0);
    H5Tclose(t), H5Dclose(d), H5Fclose(f);
    cr_expect(strstr(msg, "bad ?[31mred? end"), "stored: %s", msg);
}
