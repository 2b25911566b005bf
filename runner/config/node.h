/*
 * node.h: the config tree. YAML is loaded into immutable nodes that keep
 * their source mark, so checks made long after parsing (a plugin schema, a
 * grid axis) can still point at the line and column the user wrote.
 *
 * Trees are persistent: merging a run overlay or setting a grid value copies
 * only the maps on the way to the change and shares every other subtree.
 * A cell's `problem` node is therefore the very same pointer as the base's
 * unless something changed it, which lets the host compile each distinct
 * problem once.
 *
 * `origin` says which layer of the experiment wrote a value: the base
 * config, a `runs:` entry, or grid axis k. The optimizer-parameter rule
 * (config/experiment.c, "conditional parameter") depends on it.
 */
#ifndef RUNNER_NODE_H
#define RUNNER_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/error.h"
#include "base/number_text.h"

typedef enum { NODE_SCALAR, NODE_SEQ, NODE_MAP } node_kind_t;

enum { ORIGIN_BASE = 0, ORIGIN_RUN = 1, ORIGIN_GRID = 2 /* + axis index */ };

typedef struct node node_t;

typedef struct {
    const char *key;
    mark_t key_mark;
    node_t *value;
} node_pair_t;

struct node {
    node_kind_t kind;
    mark_t mark;
    int origin;
    bool quoted;      /* scalar written in quotes: always a string */
    const char *text; /* NODE_SCALAR */
    size_t n;         /* items in a sequence, pairs in a map */
    node_t **items;   /* NODE_SEQ */
    node_pair_t *pairs; /* NODE_MAP, in the order written */
};

/* What a scalar means under YAML 1.2's core schema. */
typedef enum { SCALAR_NULL, SCALAR_BOOL, SCALAR_INT, SCALAR_FLOAT, SCALAR_STRING } scalar_type_t;

node_t *node_new(arena_t *a, node_kind_t kind, mark_t mark, int origin);
node_t *node_scalar(arena_t *a, const char *text, mark_t mark, int origin);
const char *node_kind_name(const node_t *n);

/* Map lookup; NULL when absent or when `map` is not a map. */
node_t *node_get(const node_t *map, const char *key);
const node_pair_t *node_get_pair(const node_t *map, const char *key);

/* Overlay onto base: maps merge key by key, anything else replaces.
 * Returns a new tree sharing unchanged subtrees; NULL on out-of-memory. */
node_t *node_merge(arena_t *a, node_t *base, node_t *overlay);

/* A copy of root with the value at the dotted path replaced (maps on the way
 * are created when missing, marked with `mark`). Fails when the path runs
 * through a scalar or list. */
err_code_t node_set_path(arena_t *a, node_t *root, const char *path, node_t *value, mark_t mark,
                         node_t **out, err_t *err);

/* The same tree with every node's origin set to `origin` (copying). */
node_t *node_with_origin(arena_t *a, const node_t *n, int origin);

/* "unknown key 'k' WHERE (did you mean 'x'?)" or "... (expected one of: a, b)",
 * at the key's mark. */
err_code_t node_unknown_key(const node_pair_t *p, const char *where, const char *const *keys, size_t n, err_t *err);

/* Scalar typing and strict conversion. */
scalar_type_t scalar_type(const node_t *n);
const char *scalar_type_name(scalar_type_t t);
err_code_t node_to_double(const node_t *n, const char *what, double *out, err_t *err);
err_code_t node_to_int64(const node_t *n, const char *what, int64_t min, int64_t max, int64_t *out, err_t *err);
err_code_t node_to_bool(const node_t *n, const char *what, bool *out, err_t *err);
err_code_t node_to_string(const node_t *n, const char *what, const char **out, err_t *err);


/* YAML text of a tree in flow style, single line (for records and tables). */
char *node_to_flow(arena_t *a, const node_t *n);
/* YAML text in block style, for the resolved-config record. */
char *node_to_block(arena_t *a, const node_t *n);

#endif
