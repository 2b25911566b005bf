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

void experiment_fingerprint(const experiment_t *exp, const char *runner_version, char out[FINGERPRINT_LEN])
{
    sha256_t s;
    sha256_init(&s);
    add_text(&s, "runner results 2");
    add_text(&s, runner_version);
    add_text(&s, exp->kind->name);
    add_u64(&s, exp->n_axes);
    for (size_t k = 0; k < exp->n_axes; k++) {
        const axis_t *ax = &exp->axes[k];
        add_text(&s, ax->name);
        add_u64(&s, ax->n);
        for (size_t i = 0; i < ax->n; i++) add_text(&s, ax->labels[i]);
    }
    const cell_kind_t *kind = exp->kind;
    for (size_t c = 0; c < exp->n_cells; c++) {
        const cell_t *cell = &exp->cells[c];
        add_u64(&s, cell->seed);
        add_u64(&s, cell->steps);
        add_text(&s, cell->opt->text);
        for (size_t i = 0; i < kind->n_records; i++) add_text(&s, kind->record(cell, i));
    }
    add_u64(&s, exp->n_plugins_used);
    for (size_t i = 0; i < exp->n_plugins_used; i++) {
        const plugin_entry_t *pe = exp->plugins_used[i];
        add_text(&s, pe->desc->name);
        add_text(&s, pe->desc->version);
        sha256_update(&s, pe->sha256, SHA256_BYTES);
    }
    add_u64(&s, exp->n_inputs);
    for (size_t i = 0; i < exp->n_inputs; i++) sha256_update(&s, exp->inputs[i].sha256, SHA256_BYTES);
    uint8_t d[SHA256_BYTES];
    char hex[SHA256_HEX_LEN];
    sha256_final(&s, d);
    sha256_hex(d, hex);
    snprintf(out, FINGERPRINT_LEN, "sha256:%s", hex);
}
