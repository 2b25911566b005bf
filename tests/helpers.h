/* helpers.h: shared by the test files. Test-only. */
#ifndef RUNNER_TEST_HELPERS_H
#define RUNNER_TEST_HELPERS_H

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/experiment.h"
#include "config/yaml_load.h"
#include "plugin_host/registry.h"

/* The registry of the build's own plugins (build/plugins). */
static inline void load_build_plugins(registry_t *reg)
{
    registry_init(reg);
    err_t err = {0};
    cr_assert_eq(registry_scan_dir(reg, RUNNER_BUILD_DIR "/plugins", &err), ERR_OK);
    cr_assert_gt(reg->n_plugins, 0, "no plugins in %s/plugins", RUNNER_BUILD_DIR);
}

/* Load an experiment from text; returns the error code, the message in err. */
static inline err_code_t load_text(experiment_t *exp, const registry_t *reg, const char *text, err_t *err)
{
    memset(err, 0, sizeof *err);
    return experiment_load(exp, "test.yaml", text, strlen(text), NULL, reg, err);
}

/* A config that must fail to load (ERR_CONFIG) with `expect` in its
 * "LINE:COL: error: MSG". */
static inline void expect_load_error(const registry_t *reg, const char *text, const char *expect)
{
    experiment_t exp;
    err_t err = {0};
    cr_expect_eq(load_text(&exp, reg, text, &err), ERR_CONFIG, "%s", text);
    char full[1024];
    snprintf(full, sizeof full, "%d:%d: error: %s", err.mark.line, err.mark.col, err.msg);
    cr_expect(strstr(full, expect), "%s\ngot '%s'\nwant '%s'", text, full, expect);
    experiment_free(&exp);
}

/* Criterion runs each parameterized case in its own process, where pointers
 * inside a parameter struct are not valid: parameterize by index into a
 * static table instead (the table is the same in every process). */
#define INDEX_PARAMS(suite, name, table)                                              \
    ParameterizedTestParameters(suite, name)                                          \
    {                                                                                 \
        static size_t idx[sizeof table / sizeof table[0]];                            \
        for (size_t i = 0; i < sizeof idx / sizeof idx[0]; i++) idx[i] = i;           \
        return cr_make_param_array(size_t, idx, sizeof idx / sizeof idx[0]);          \
    }

#endif
