/*
 * schema.h: config values checked against a plugin's parameter schema, for
 * optimizers and layers alike: the type, the bounds, a choice's names, an
 * unknown key with the nearest name, and the record text of a resolved
 * plugin ("adam(lr=0.001, beta1=0.9, ...)") stored in results.
 */
#ifndef RUNNER_SCHEMA_H
#define RUNNER_SCHEMA_H

#include <runner/plugin.h>

#include "base/arena.h"
#include "config/node.h"
#include "plugin_host/registry.h"

/* Parameter i of d from a config value. what names it in errors
 * ("adam.lr"). A choice is stored as its index; *text gets the value as
 * written (it parses to exactly *out), for the record. */
err_code_t schema_value(const runner_plugin_t *d, uint32_t i, const node_t *v, const char *what, double *out,
                        const char **text, err_t *err);

/* Value v of parameter i as text: "0.01", "true", "he" (shortest exact number). */
void schema_value_text(const runner_plugin_t *d, uint32_t i, double v, char *buf, size_t len);
/* The default of parameter i as text. */
void schema_default_text(const runner_plugin_t *d, uint32_t i, char *buf, size_t len);

/* Let the plugin replace marker values with the values it will use (its
 * RUNNER_EXT_RESOLVE extension, if it has one); texts[i] of each changed
 * value becomes the new value's text, so the record says what ran. */
err_code_t schema_resolve(arena_t *a, const runner_plugin_t *d, double *hp, const char **texts, err_t *err);

/* An error for key p, unknown to d (kind_word: "optimizer", "layer"). */
err_code_t schema_unknown_key(const runner_plugin_t *d, const char *kind_word, const node_pair_t *p, err_t *err);

/* An error for a plugin name no plugin of that kind has: the nearest name,
 * or the list, and the first file that failed to load, if any. */
err_code_t schema_unknown_plugin(const registry_t *reg, runner_kind_t kind, mark_t at, const char *name, err_t *err);

/* For the resolved config: the mapping {name_key: d's name, each parameter:
 * its value in given (a mapping, or NULL) as written, else its default};
 * a required parameter not given is left out. Values are what the config
 * gives, before the plugin's resolve hook, so loading the mapping again
 * resolves to the same values. NULL when out of memory. */
node_t *schema_full_mapping(arena_t *a, const runner_plugin_t *d, const char *name_key, const node_t *given);

/* "name(a=1, b=true)" from each parameter's text, into the arena. */
const char *schema_record(arena_t *a, const runner_plugin_t *d, const char *const *texts);

#endif
