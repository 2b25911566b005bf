/* include.c: include: [FILE, ...] merged under the including file (include.h). */
#include "config/include.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/yaml_load.h"

typedef struct {
    const char *chain[INCLUDE_MAX_DEPTH + 1]; /* real paths, outermost first */
    size_t depth;
} chain_t;

/* dir of `from` + name, unless name is absolute. */
static char *relative_to(arena_t *a, const char *from, const char *name)
{
    if (name[0] == '/') return arena_strdup(a, name);
    const char *slash = strrchr(from, '/');
    if (!slash) return arena_strdup(a, name);
    return arena_printf(a, "%.*s/%s", (int)(slash - from), from, name);
}

static err_code_t resolve(arena_t *a, const char *path, node_t *root, chain_t *c, node_t **out, err_t *err);

/* Read, parse and resolve one included file. */
static err_code_t load_one(arena_t *a, const char *from, const node_t *item, chain_t *c, node_t **out, err_t *err)
{
    const char *name;
    err_code_t rc = node_to_string(item, "an include", &name, err);
    if (rc) return rc;
    char *path = relative_to(a, from, name);
    if (!path) return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
    char real[PATH_MAX];
    if (!realpath(path, real))
        return err_set(err, ERR_CONFIG, item->mark, "cannot include '%s': no such file (looked for %s, relative to the "
                       "file that includes it)", name, path);
    for (size_t i = 0; i < c->depth; i++)
        if (!strcmp(c->chain[i], real)) {
            const char *chain = "";
            for (size_t j = i; j < c->depth && chain; j++) chain = arena_printf(a, "%s%s -> ", chain, c->chain[j]);
            if (chain) chain = arena_printf(a, "%s%s", chain, real);
            if (!chain) return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
            return err_set(err, ERR_CONFIG, item->mark, "include cycle: %s", chain);
        }
    if (c->depth >= INCLUDE_MAX_DEPTH)
        return err_set(err, ERR_CONFIG, item->mark, "includes nest deeper than %d files", INCLUDE_MAX_DEPTH);
    char *text;
    size_t len;
    err_t why = {0};
    if ((rc = read_text_file(path, &text, &len, &why)))
        return err_set(err, ERR_CONFIG, item->mark, "cannot include '%s': %s", name, why.msg);
    node_t *sub;
    rc = yaml_load(a, text, len, path, &sub, err); /* nodes and marks live in the arena; the text is copied */
    free(text);
    if (rc) return rc;
    if (sub->kind != NODE_MAP)
        return err_set(err, ERR_CONFIG, sub->mark, "an included file is a mapping of settings, like the config; got %s",
                       node_kind_name(sub));
    return resolve(a, path, sub, c, out, err);
}

static err_code_t resolve(arena_t *a, const char *path, node_t *root, chain_t *c, node_t **out, err_t *err)
{
    *out = root;
    const node_t *inc = node_get(root, "include");
    if (!inc) return ERR_OK;
    char real[PATH_MAX];
    c->chain[c->depth++] = realpath(path, real) ? arena_strdup(a, real) : path;
    size_t n = inc->kind == NODE_SEQ ? inc->n : 1;
    if (inc->kind == NODE_MAP || (inc->kind == NODE_SEQ && inc->n == 0))
        return err_set(err, ERR_CONFIG, inc->mark, "include is a file name or a list of them, like include: [base.yaml]");
    node_t *merged = NULL;
    for (size_t i = 0; i < n; i++) {
        node_t *sub;
        err_code_t rc = load_one(a, path, inc->kind == NODE_SEQ ? inc->items[i] : inc, c, &sub, err);
        if (rc) return rc;
        merged = merged ? node_merge(a, merged, sub) : sub;
        if (!merged) return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
    }
    c->depth--;
    /* the file itself on top, without its include key */
    node_t *top = node_new(a, NODE_MAP, root->mark, root->origin);
    if (!top || !(top->pairs = arena_alloc(a, (root->n + 1) * sizeof *top->pairs)))
        return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
    for (size_t i = 0; i < root->n; i++)
        if (strcmp(root->pairs[i].key, "include")) top->pairs[top->n++] = root->pairs[i];
    /* merge keeps the included file's key order; the includer's keys win */
    if (!(*out = node_merge(a, merged, top))) return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
    (*out)->mark = root->mark;
    return ERR_OK;
}

err_code_t include_resolve(arena_t *a, const char *path, node_t *root, node_t **out, err_t *err)
{
    chain_t c = {.depth = 0};
    return resolve(a, path, root, &c, out, err);
}
