/*
 * shipped_configs.h: the list of configs/ in tests/shipped_configs.txt,
 * with the --set options that shorten each for the tests (check_rerun.py
 * reads the same file). Run from the project root, as CTest does.
 * Test-only.
 */
#ifndef RUNNER_TEST_SHIPPED_CONFIGS_H
#define RUNNER_TEST_SHIPPED_CONFIGS_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    char name[64], shorten[256]; /* shorten: empty for configs that run whole */
} shipped_config_t;

static inline size_t read_shipped_configs(shipped_config_t *out, size_t max)
{
    FILE *f = fopen("tests/shipped_configs.txt", "r");
    cr_assert(f, "tests/shipped_configs.txt: run from the project root");
    char line[512];
    size_t n = 0;
    while (fgets(line, sizeof line, f) && n < max) {
        if (line[0] == '#' || line[0] == '\n') continue;
        line[strcspn(line, "\n")] = 0;
        char *space = strchr(line, ' ');
        snprintf(out[n].shorten, sizeof out[n].shorten, "%.255s", space ? space + 1 : "");
        if (space) *space = 0;
        snprintf(out[n].name, sizeof out[n].name, "%.63s", line);
        n++;
    }
    fclose(f);
    return n;
}

#endif
