/* test_registry.c: plugin discovery, and every kind of broken plugin refused with its own message. */
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"

TestSuite(registry);

Test(registry, bundled_optimizers)
{
    registry_t reg;
    load_build_plugins(&reg);
    const char *names[] = {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw", "adamax", "nadam", "radam", "adadelta", "asgd", "rprop"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const plugin_entry_t *p = registry_find(&reg, RUNNER_KIND_OPTIMIZER, names[i]);
        cr_assert(p, "optimizer %s not found", names[i]);
        char msg[256];
        cr_expect(plugin_descriptor_valid(p->desc, msg, sizeof msg), "%s: %s", names[i], msg);
    }
    cr_expect_eq(reg.n_failures, 0);
    cr_expect_null(registry_find(&reg, RUNNER_KIND_OPTIMIZER, "lion"));
    registry_free(&reg);
}

typedef struct {
    const char *file, *expect;
} broken_t;

static const broken_t broken_cases[] = {
    {"bad_magic.so", "bad magic 0xdeadbeef"},
    {"wrong_major.so", "built for plugin ABI 2.3 but this runner speaks ABI 1.5"},
    {"short_size.so", "descriptor is 16 bytes, smaller than"},
    {"bad_schema.so", "default of parameter 'lr' is invalid: 5 is out of bounds"},
    {"no_entry.so", "defines no function 'runner_plugin_get': not a runner plugin (not loaded"},
    {"constructor_no_entry.so", "not loaded, so none of its code ran"},
    {"escape_version.so", "plugin 'escape_version': its version holds a control character or invalid UTF-8 (byte 3)"},
    {"no_descriptors.so", "exports no descriptors"},
    {"not_elf.so", "not an ELF shared object"},
    {"layer_no_ops.so", "layer 'layer_no_ops' lacks its operations"},
    {"bad_choice.so", "choice parameter 'mode' needs a list of names"},
    {"overclaimed_size.so", "bytes, but an ABI 1.0 descriptor has at most 64; rebuild the plugin"},
    {"overclaimed_ops.so", "optimizer 'overclaimed_ops': operations claim 48 bytes, but ABI 1.0's have at most 40"},
};
INDEX_PARAMS(registry, broken_plugins_refused, broken_cases)

ParameterizedTest(size_t *i, registry, broken_plugins_refused)
{
    const broken_t *c = &broken_cases[*i];
    registry_t reg;
    registry_init(&reg);
    char path[512];
    snprintf(path, sizeof path, "%s/%s", RUNNER_BROKEN_DIR, c->file);
    err_t err = {0};
    cr_expect_eq(registry_load_file(&reg, path, &err), ERR_CONFIG, "%s was accepted", c->file);
    cr_expect(strstr(err.msg, c->expect), "%s: '%s' lacks '%s'", c->file, err.msg, c->expect);
    cr_expect_eq(reg.n_plugins, 0);
    cr_assert_eq(reg.n_failures, 1);
    cr_expect(strstr(reg.failures[0].reason, c->expect));
    registry_free(&reg);
}

Test(registry, a_directory_with_broken_plugins_still_loads_the_good_ones)
{
    registry_t reg;
    registry_init(&reg);
    err_t err = {0};
    cr_assert_eq(registry_scan_dir(&reg, RUNNER_BROKEN_DIR, &err), ERR_OK);
    cr_expect_eq(reg.n_failures, 13); /* each file of broken_cases */
    cr_expect(registry_find(&reg, RUNNER_KIND_OPTIMIZER, "failing_init"));
    cr_expect(registry_find(&reg, RUNNER_KIND_OPTIMIZER, "abi_1_0"), "an ABI 1.0 optimizer still loads");
    cr_expect(registry_find(&reg, RUNNER_KIND_LAYER, "older_layout"), "a descriptor that ends before its last field loads");
    cr_expect(registry_find(&reg, RUNNER_KIND_OPTIMIZER, "failing_step"));
    cr_expect_eq(registry_scan_dir(&reg, "/nonexistent", &err), ERR_OK, "a missing directory is not an error");
    registry_free(&reg);
}

/* Only regular files are opened: a FIFO named like a plugin used to block
 * every command in dlopen (issue 18, item 6). */
Test(registry, a_fifo_named_like_a_plugin_is_refused_unopened, .timeout = 10)
{
    char dir[] = "/tmp/runner_fifo_XXXXXX", fifo[64];
    cr_assert(mkdtemp(dir));
    chmod(dir, 0755);
    snprintf(fifo, sizeof fifo, "%s/x.so", dir);
    cr_assert_eq(mkfifo(fifo, 0644), 0);
    registry_t reg;
    registry_init(&reg);
    err_t err = {0};
    cr_expect_eq(registry_scan_dir(&reg, dir, &err), ERR_OK);
    cr_assert_eq(reg.n_failures, 1);
    cr_expect(strstr(reg.failures[0].reason, "not a regular file"), "%s", reg.failures[0].reason);
    registry_free(&reg);
    unlink(fifo);
    rmdir(dir);
}

Test(registry, first_of_a_name_wins)
{
    registry_t reg;
    registry_init(&reg);
    err_t err = {0};
    registry_scan_dir(&reg, RUNNER_BUILD_DIR "/plugins", &err);
    registry_load_file(&reg, RUNNER_BUILD_DIR "/plugins/sgd.so", &err);
    const plugin_entry_t *p = registry_find(&reg, RUNNER_KIND_OPTIMIZER, "sgd");
    cr_assert(p);
    cr_expect_not(p->shadowed);
    size_t shadowed = 0;
    for (size_t i = 0; i < reg.n_plugins; i++) shadowed += reg.plugins[i].shadowed;
    cr_expect_eq(shadowed, 3, "sgd.so's second load shadows sgd, momentum and nesterov");
    registry_free(&reg);
}

Test(registry, parameter_bounds)
{
    runner_param_t p = {"beta1", RUNNER_PARAM_FLOAT, RUNNER_PARAM_MAX_EXCLUSIVE, 0.9, 0.0, 1.0, "d"};
    char msg[200];
    cr_expect(param_value_valid(&p, 0.0, msg, sizeof msg));
    cr_expect_not(param_value_valid(&p, 1.0, msg, sizeof msg));
    cr_expect(strstr(msg, "[0, 1)"), "%s", msg);
    cr_expect_not(param_value_valid(&p, -0.1, msg, sizeof msg));
    runner_param_t q = {"n", RUNNER_PARAM_INT, 0, 1, 0, 10, "d"};
    cr_expect_not(param_value_valid(&q, 2.5, msg, sizeof msg));
    cr_expect(strstr(msg, "integer"), "%s", msg);
}

/* Loading runs the plugin's code: a file anyone could have written is
 * refused before dlopen, unless explicitly allowed. */
Test(registry, world_writable_places_are_refused)
{
    char dir[128], file[256], cmd[512];
    snprintf(dir, sizeof dir, "/tmp/runner_ww_%d", (int)getpid());
    snprintf(file, sizeof file, "%s/failing_step.so", dir);
    snprintf(cmd, sizeof cmd, "mkdir -p %s && cp %s/failing_step.so %s && chmod 777 %s", dir, RUNNER_BROKEN_DIR, dir, dir);
    cr_assert_eq(system(cmd), 0);
    registry_t reg;
    registry_init(&reg);
    err_t err = {0};
    cr_assert_eq(registry_scan_dir(&reg, dir, &err), ERR_OK);
    cr_expect_null(registry_find(&reg, RUNNER_KIND_OPTIMIZER, "failing_step"));
    cr_assert_eq(reg.n_failures, 1);
    cr_expect(strstr(reg.failures[0].reason, "is world-writable, so anyone could have put or replaced"), "%s",
              reg.failures[0].reason);
    cr_expect(strstr(reg.failures[0].reason, "--allow-insecure-plugins"), "%s", reg.failures[0].reason);
    registry_free(&reg);

    /* the directory fixed, but the file itself writable by anyone */
    snprintf(cmd, sizeof cmd, "chmod 755 %s && chmod 666 %s", dir, file);
    cr_assert_eq(system(cmd), 0);
    registry_init(&reg);
    cr_expect_eq(registry_load_file(&reg, file, &err), ERR_CONFIG);
    cr_expect(strstr(err.msg, "failing_step.so is world-writable"), "%s", err.msg);
    registry_free(&reg);

    registry_init(&reg);
    reg.allow_insecure = true;
    cr_expect_eq(registry_load_file(&reg, file, &err), ERR_OK, "%s", err.msg);
    cr_expect(registry_find(&reg, RUNNER_KIND_OPTIMIZER, "failing_step"));
    registry_free(&reg);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_expect_eq(system(cmd), 0);
}

/* Issue 18, item 6: every directory up to the root counts, and owners too
 * (as ssh checks authorized_keys): a world-writable parent further up let
 * another user swap the plugin directory. */
Test(registry, the_whole_directory_chain_and_owners_are_checked)
{
    char top[128], file[256], cmd[1024];
    snprintf(top, sizeof top, "/tmp/runner_chain_%d", (int)getpid());
    snprintf(file, sizeof file, "%s/a/b/failing_step.so", top);
    snprintf(cmd, sizeof cmd, "mkdir -p %s/a/b && cp %s/failing_step.so %s && chmod 755 %s/a/b && chmod 777 %s/a", top,
             RUNNER_BROKEN_DIR, file, top, top);
    cr_assert_eq(system(cmd), 0);
    registry_t reg;
    err_t err = {0};
    registry_init(&reg);
    cr_expect_eq(registry_load_file(&reg, file, &err), ERR_CONFIG);
    char expect[256];
    snprintf(expect, sizeof expect, "%s/a is world-writable", top);
    cr_expect(strstr(err.msg, expect), "%s", err.msg);
    registry_free(&reg);
    /* sticky (like /tmp) above the plugin's own directory: only owners may rename there */
    snprintf(cmd, sizeof cmd, "chmod 1777 %s/a", top);
    cr_assert_eq(system(cmd), 0);
    registry_init(&reg);
    cr_expect_eq(registry_load_file(&reg, file, &err), ERR_OK, "%s", err.msg);
    registry_free(&reg);
    if (geteuid() == 0) { /* another owner can be made only as root */
        snprintf(cmd, sizeof cmd, "chown 65534 %s/a/b", top);
        cr_assert_eq(system(cmd), 0);
        registry_init(&reg);
        cr_expect_eq(registry_load_file(&reg, file, &err), ERR_CONFIG);
        snprintf(expect, sizeof expect, "%s/a/b is owned by uid 65534, neither you nor root", top);
        cr_expect(strstr(err.msg, expect), "%s", err.msg);
        registry_free(&reg);
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", top);
    cr_expect_eq(system(cmd), 0);
}

/* A file that is no runner plugin is refused before dlopen: its
 * constructor never runs. */
Test(registry, a_file_that_is_no_plugin_runs_no_code)
{
    char marker[128], path[512];
    snprintf(marker, sizeof marker, "/tmp/runner_marker_%d", (int)getpid());
    unlink(marker);
    setenv("RUNNER_TEST_MARKER", marker, 1);
    snprintf(path, sizeof path, "%s/constructor_no_entry.so", RUNNER_BROKEN_DIR);
    registry_t reg;
    registry_init(&reg);
    err_t err = {0};
    cr_expect_eq(registry_load_file(&reg, path, &err), ERR_CONFIG);
    cr_expect_neq(access(marker, F_OK), 0, "the constructor of a refused file ran");
    registry_free(&reg);
    unsetenv("RUNNER_TEST_MARKER");
}
