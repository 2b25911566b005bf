/*
 * include.h: `include: [FILE, ...]` (issue 19).
 *
 * A config may begin from others: each included file (a path relative to
 * the file that names it) is read and its own includes resolved first, the
 * files merged in the order listed (mappings key by key, anything else
 * replaced, as runs merge), and the including file merged on top. A file
 * that includes itself, directly or through others, is an error naming
 * the chain; so is a missing file, at its place in the include list.
 * The result has no include key: the resolved config is self-contained.
 */
#ifndef RUNNER_CONFIG_INCLUDE_H
#define RUNNER_CONFIG_INCLUDE_H

#include "base/arena.h"
#include "base/error.h"
#include "config/node.h"

#define INCLUDE_MAX_DEPTH 16

/* root (parsed from path) with its includes merged under it; root itself
 * when it has none. */
err_code_t include_resolve(arena_t *a, const char *path, node_t *root, node_t **out, err_t *err);

#endif
