/*
 * fuzz_config.c: libFuzzer target for the config path: the YAML loader and
 * the whole experiment expansion (axes, overrides, optimizer schemas,
 * objectives, formulas). Any input must give ERR_OK or an error value with
 * a message, never a crash, a sanitizer report or a hang. Loaded as for
 * --dry-run: data sets are read for their sizes only (the IDX reader has
 * its own target, fuzz_idx), so a corpus config naming Fashion-MNIST costs
 * milliseconds, not an inflated 47 MB.
 *
 *   make fuzz                      # every target for FUZZ_SECONDS (60) each
 *   build-fuzz/tests/fuzz/fuzz_config tests/fuzz/corpus/config   # by hand
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/experiment.h"
#include "plugin_host/registry.h"

static registry_t reg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    registry_init(&reg);
    err_t err;
    registry_scan_dir(&reg, RUNNER_BUILD_DIR "/plugins", &err);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* the loader gets what read_text_file gives it: NUL-terminated text */
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    if (memchr(text, 0, size) == NULL) {
        experiment_t exp;
        err_t err = {0};
        /* a small cell limit keeps every input fast; the guard itself is what is exercised */
        err_code_t rc = experiment_load(&exp, "fuzz.yaml", text, size, 
                                         &(experiment_options_t){.max_cells = 1000, .dry_run = true}, &reg, &err);
        if (rc != ERR_OK && err.msg[0] == 0) abort(); /* an error must say what is wrong */
        experiment_free(&exp);
    }
    free(text);
    return 0;
}
