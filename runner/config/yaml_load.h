/*
 * yaml_load.h: YAML text -> node tree, strictly. One document; duplicate
 * keys, aliases, non-scalar keys, nesting deeper than YAML_MAX_DEPTH and
 * files over YAML_MAX_BYTES are errors with the position they occur at.
 * (libyaml's parse time grows with the square of the nesting depth, so the
 * depth cap is what keeps a hostile file from taking minutes.)
 */
#ifndef RUNNER_YAML_LOAD_H
#define RUNNER_YAML_LOAD_H

#include "config/node.h"

#define YAML_MAX_DEPTH 64
#define YAML_MAX_BYTES (16u << 20)

/* Parse text[len] (NUL-terminated) named `file` for marks. Nodes get
 * origin ORIGIN_BASE. An empty document gives an error. */
err_code_t yaml_load(arena_t *a, const char *text, size_t len, const char *file, node_t **root, err_t *err);

/* Read a whole file (regular file, at most YAML_MAX_BYTES, no NUL bytes)
 * into a malloc'ed, NUL-terminated buffer. */
err_code_t read_text_file(const char *path, char **text, size_t *len, err_t *err);

#endif
