/*
 * vars.h: `vars:` and `${NAME}` (issue 19).
 *
 * A config's `vars:` mapping names values; any scalar written exactly
 * `${NAME}` anywhere else in a cell's tree takes vars.NAME (a number, a
 * string, a list or a mapping alike). vars is a per-cell setting like any
 * other: the base gives it, a run may change it, and a grid axis `vars.w`
 * sweeps one, so one axis sets every layer's weight scale:
 *
 *   vars: {w: 0.01}
 *   model: [{layer: affine, out: 100, init: std, scale: "${w}"}, ...]
 *   grid: {vars.w: {logspace: [-4, 0, 16]}}
 *
 * (Quote `${w}` inside a flow mapping `{...}`: YAML reads its braces there.)
 * Substitution happens once the cell's tree is complete, before its kind
 * builds it; the vars key itself is then dropped. Values are not expanded
 * again (a var holding `${x}` keeps that text).
 */
#ifndef RUNNER_CONFIG_VARS_H
#define RUNNER_CONFIG_VARS_H

#include "base/arena.h"
#include "base/error.h"
#include "config/node.h"

/* The cell tree with every ${NAME} replaced and vars removed (tree itself
 * when it has neither); new nodes in a. An unknown name is an error at
 * its scalar, with the names vars has. */
err_code_t vars_substitute(arena_t *a, node_t *tree, node_t **out, err_t *err);

/* Whether n is a scalar ${NAME}: checked as the value it stands for, in
 * each cell, not as written. */
bool vars_is_reference(const node_t *n);

#endif
