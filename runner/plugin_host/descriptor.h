/*
 * descriptor.h: a plugin descriptor checked and read: the ABI rules (a
 * field read only when the size covers it, sizes bounded by the minor
 * version: include/runner/plugin.h), the required operations, and the
 * parameter schema (names, types, bounds, choices, defaults). The registry
 * keeps only descriptors that pass; config/schema.c checks configs
 * against their parameters with the functions below.
 */
#ifndef RUNNER_DESCRIPTOR_H
#define RUNNER_DESCRIPTOR_H

#include <runner/plugin.h>
#include <stdbool.h>
#include <stddef.h>

/* Check a descriptor against the ABI and its schema. Writes why not into msg. */
bool plugin_descriptor_valid(const runner_plugin_t *d, char *msg, size_t len);

/* The plugin's implementation of extension `name` (RUNNER_EXT_*), or NULL:
 * also for descriptors older than ABI 1.3, which have no extension field. */
const void *plugin_extension(const runner_plugin_t *d, const char *name);

/* The names of choice parameter i (NULL-terminated), or NULL when it is not a choice. */
const char *const *param_choices(const runner_plugin_t *d, uint32_t i);
/* "optimizer", "layer": a descriptor's kind for messages and listings. */
const char *plugin_kind_name(uint32_t kind);
size_t param_choice_count(const runner_plugin_t *d, uint32_t i);

/* Is v acceptable for parameter p? Writes why not into msg. */
bool param_value_valid(const runner_param_t *p, double v, char *msg, size_t len);
/* "0.01 in [0, 1e+06]" style summary of a parameter's range. */
void param_range_text(const runner_param_t *p, char *buf, size_t len);

#endif
