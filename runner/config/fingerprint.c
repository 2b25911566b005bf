/* fingerprint.c: a hash of everything that determines a sweep's numbers. */
#include "config/fingerprint.h"

#include <stdio.h>
#include <string.h>

#include "base/sha256.h"
#include "cells/kind.h"

/* Each piece is hashed with its terminating NUL, so "ab"+"c" != "a"+"bc". */
static void add_text(sha256_t *s, const char *text) { sha256_update(s, text, strlen(text) + 1); }

static void add_u64(sha256_t *s, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
    sha256_update(s, b, sizeof b);
}

static void add_cells(sha256_t *s, const experiment_t *exp)
{
    add_text(s, exp->kind->name);
    add_u64(s, exp->n_axes);
    for (size_t k = 0; k < exp->n_axes; k++) {
        const axis_t *ax = &exp->axes[k];
        add_text(s, ax->name);
        add_u64(s, ax->n);
        for (size_t i = 0; i < ax->n; i++) add_text(s, ax->labels[i]);
    }
    /* a ragged study: which values each cell has (ragged.h) */
    for (size_t i = 0; exp->coords && i < exp->n_cells * exp->n_axes; i++) add_u64(s, exp->coords[i]);
    const cell_kind_t *kind = exp->kind;
    for (size_t c = 0; c < exp->n_cells; c++) {
        const cell_t *cell = &exp->cells[c];
        add_u64(s, cell->seed);
        add_u64(s, cell->steps);
        add_text(s, cell->opt->text);
        for (size_t i = 0; i < kind->n_records; i++) add_text(s, kind->record(cell, i));
    }
}

static void add_plugins(sha256_t *s, const experiment_t *exp)
{
    add_u64(s, exp->n_plugins_used);
    for (size_t i = 0; i < exp->n_plugins_used; i++) {
        const plugin_entry_t *pe = exp->plugins_used[i];
        add_text(s, pe->desc->name);
        add_text(s, pe->desc->version);
        sha256_update(s, pe->sha256, SHA256_BYTES);
    }
}

static void add_data(sha256_t *s, const experiment_t *exp)
{
    add_u64(s, exp->n_inputs);
    for (size_t i = 0; i < exp->n_inputs; i++) sha256_update(s, exp->inputs[i].sha256, SHA256_BYTES);
}

static void finish(sha256_t *s, char out[FINGERPRINT_LEN])
{
    uint8_t d[SHA256_BYTES];
    char hex[SHA256_HEX_LEN];
    sha256_final(s, d);
    sha256_hex(d, hex);
    snprintf(out, FINGERPRINT_LEN, "sha256:%s", hex);
}

void experiment_fingerprint(const experiment_t *exp, const char *runner_version, char out[FINGERPRINT_LEN])
{
    sha256_t s;
    sha256_init(&s);
    add_text(&s, "runner results 2");
    add_text(&s, runner_version);
    add_cells(&s, exp);
    add_plugins(&s, exp);
    add_data(&s, exp);
    finish(&s, out);
}

const char *const fingerprint_part_names[FP__COUNT] = {
    "runner version", "cells (a cell's seed, steps, optimizer, model, training or data settings)",
    "plugin files (by content)", "data files (by content)"};

void experiment_fingerprint_parts(const experiment_t *exp, const char *runner_version,
                                  char out[FP__COUNT][FINGERPRINT_LEN])
{
    for (int p = 0; p < FP__COUNT; p++) {
        sha256_t s;
        sha256_init(&s);
        if (p == FP_VERSION) add_text(&s, runner_version);
        else if (p == FP_CELLS) add_cells(&s, exp);
        else if (p == FP_PLUGINS) add_plugins(&s, exp);
        else add_data(&s, exp);
        finish(&s, out[p]);
    }
}
