/* vars.c: ${NAME} from the cell's vars: mapping (vars.h). */
#include "config/vars.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* "${NAME}" with NAME an identifier: NAME's length, else 0. */
static size_t var_reference(const node_t *n, const char **name)
{
    if (n->kind != NODE_SCALAR || !n->text) return 0;
    const char *t = n->text;
    size_t len = strlen(t);
    if (len < 4 || t[0] != '$' || t[1] != '{' || t[len - 1] != '}') return 0;
    if (!(isalpha((unsigned char)t[2]) || t[2] == '_')) return 0;
    for (size_t i = 3; i + 1 < len; i++)
        if (!(isalnum((unsigned char)t[i]) || t[i] == '_')) return 0;
    *name = t + 2;
    return len - 3;
}

static err_code_t unknown(const node_t *at, const char *name, size_t len, const node_t *vars, err_t *err)
{
    char names[256] = "";
    for (size_t i = 0; vars && vars->kind == NODE_MAP && i < vars->n; i++) {
        size_t used = strlen(names);
        snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "", vars->pairs[i].key);
    }
    return err_set(err, ERR_CONFIG, at->mark, "${%.*s} names no variable: %s%s%s", (int)len, name,
                   vars ? "vars has " : "there is no vars: mapping (write vars: {", vars ? names : "",
                   vars ? "" : "NAME: value} at the top)");
}

/* n with its references replaced: n itself when none, else a copy. */
static err_code_t substitute(arena_t *a, node_t *n, const node_t *vars, node_t **out, err_t *err)
{
    *out = n;
    const char *name;
    size_t len = var_reference(n, &name);
    if (len) {
        for (size_t i = 0; vars && vars->kind == NODE_MAP && i < vars->n; i++)
            if (strlen(vars->pairs[i].key) == len && !strncmp(vars->pairs[i].key, name, len)) {
                *out = vars->pairs[i].value;
                return ERR_OK;
            }
        return unknown(n, name, len, vars, err);
    }
    if (n->kind == NODE_SCALAR) return ERR_OK;
    size_t count = n->n;
    node_t *copy = NULL;
    for (size_t i = 0; i < count; i++) {
        node_t *child = n->kind == NODE_SEQ ? n->items[i] : n->pairs[i].value, *sub;
        err_code_t rc = substitute(a, child, vars, &sub, err);
        if (rc) return rc;
        if (sub == child) continue;
        if (!copy) { /* copy on first change: unchanged trees stay shared */
            copy = node_new(a, n->kind, n->mark, n->origin);
            if (!copy) return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
            copy->n = count;
            if (n->kind == NODE_SEQ) {
                if (!(copy->items = arena_alloc(a, count * sizeof *copy->items)))
                    return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
                memcpy(copy->items, n->items, count * sizeof *copy->items);
            } else {
                if (!(copy->pairs = arena_alloc(a, count * sizeof *copy->pairs)))
                    return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
                memcpy(copy->pairs, n->pairs, count * sizeof *copy->pairs);
            }
        }
        if (n->kind == NODE_SEQ) copy->items[i] = sub;
        else copy->pairs[i].value = sub;
    }
    if (copy) *out = copy;
    return ERR_OK;
}

bool vars_is_reference(const node_t *n)
{
    const char *name;
    return var_reference(n, &name) > 0;
}

err_code_t vars_substitute(arena_t *a, node_t *tree, node_t **out, err_t *err)
{
    *out = tree;
    const node_t *vars = node_get(tree, "vars");
    if (vars && vars->kind != NODE_MAP)
        return err_set(err, ERR_CONFIG, vars->mark, "vars is a mapping of names to values, like vars: {w: 0.01}; got %s",
                       node_kind_name(vars));
    /* everything but vars itself, into a new top level */
    node_t *top = node_new(a, NODE_MAP, tree->mark, tree->origin);
    if (!top || !(top->pairs = arena_alloc(a, (tree->n + 1) * sizeof *top->pairs)))
        return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
    bool changed = vars != NULL;
    for (size_t i = 0; i < tree->n; i++) {
        if (!strcmp(tree->pairs[i].key, "vars")) continue;
        node_t *sub;
        err_code_t rc = substitute(a, tree->pairs[i].value, vars, &sub, err);
        if (rc) return rc;
        changed |= sub != tree->pairs[i].value;
        top->pairs[top->n] = tree->pairs[i];
        top->pairs[top->n++].value = sub;
    }
    if (changed) *out = top;
    return ERR_OK;
}
