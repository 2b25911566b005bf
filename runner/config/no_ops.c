/* no_ops.c: overlapping axes, --set values no cell sees, overridden base values checked. */
#include "config/no_ops.h"
#include "config/vars.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/schema.h"

#define MAX_PARTS 32

/* A dotted path split into components, list indices in one spelling
 * ("01" and "1" are the same index). */
typedef struct {
    char parts[MAX_PARTS][64];
    size_t n;
} path_t;

static void split_path(const char *path, path_t *p)
{
    p->n = 0;
    while (*path && p->n < MAX_PARTS) {
        size_t len = strcspn(path, ".");
        char *part = p->parts[p->n++];
        snprintf(part, sizeof p->parts[0], "%.*s", (int)(len < 63 ? len : 63), path);
        if (strspn(part, "0123456789") == strlen(part) && *part) {
            char *digits = part;
            while (digits[0] == '0' && digits[1]) digits++;
            memmove(part, digits, strlen(digits) + 1);
        }
        path += len;
        if (*path == '.') path++;
    }
}

/* Whether a's components begin b's (a == b included). */
static bool is_prefix(const path_t *a, const path_t *b)
{
    if (a->n > b->n) return false;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->parts[i], b->parts[i])) return false;
    return true;
}

err_code_t no_ops_check_axes(const axis_t *axes, size_t n_axes, err_t *err)
{
    /* every path of every grid axis (a zipped axis has several) */
    size_t n = 0;
    for (size_t i = 0; i < n_axes; i++) n += axes[i].kind == AXIS_GRID ? axes[i].n_paths : 0;
    path_t *paths = malloc((n + 1) * sizeof *paths);
    const axis_t **owner = malloc((n + 1) * sizeof *owner);
    const char **names = malloc((n + 1) * sizeof *names);
    err_code_t rc = ERR_OK;
    if (!paths || !owner || !names) rc = err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
    size_t m = 0;
    for (size_t i = 0; i < n_axes && !rc; i++) {
        const axis_t *ax = &axes[i];
        for (size_t q = 0; ax->kind == AXIS_GRID && q < ax->n_paths && !rc; q++) {
            split_path(ax->paths[q], &paths[m]);
            owner[m] = ax, names[m] = ax->paths[q];
            for (size_t j = 0; j < m && !rc; j++) {
                const char *what = owner[j] == ax ? "paths" : "grid axes";
                if (paths[m].n == paths[j].n && is_prefix(&paths[m], &paths[j]))
                    rc = err_set(err, ERR_CONFIG, ax->mark,
                                 "%s '%s' and '%s' set the same value, so one of them would do nothing; keep one", what,
                                 names[j], names[m]);
                else if (is_prefix(&paths[j], &paths[m]) || is_prefix(&paths[m], &paths[j]))
                    rc = err_set(err, ERR_CONFIG, ax->mark,
                                 "%s '%s' lies inside %s '%s': every cell sets both, so one would override the other; "
                                 "put the values in one (a list of mappings for '%s')",
                                 owner[j] == ax ? "path" : "grid axis", paths[m].n > paths[j].n ? names[m] : names[j],
                                 owner[j] == ax ? "path" : "grid axis", paths[m].n > paths[j].n ? names[j] : names[m],
                                 paths[m].n > paths[j].n ? names[j] : names[m]);
            }
            m++;
        }
    }
    free(paths), free(owner), free(names);
    return rc;
}

/* The node at a dotted path (list items by index), or NULL. */
static const node_t *node_at(const node_t *n, const path_t *p)
{
    for (size_t i = 0; n && i < p->n; i++) {
        if (n->kind == NODE_MAP) {
            n = node_get(n, p->parts[i]);
        } else if (n->kind == NODE_SEQ) {
            char *end;
            unsigned long k = strtoul(p->parts[i], &end, 10);
            n = *end || k >= n->n ? NULL : n->items[k];
        } else {
            n = NULL;
        }
    }
    return n;
}

/* Whether n, or a node inside it, came from the text named file. */
static bool has_mark_of(const node_t *n, const char *file)
{
    if (!n) return false;
    if (n->mark.file && !strcmp(n->mark.file, file)) return true;
    for (size_t i = 0; n->kind == NODE_MAP && i < n->n; i++)
        if (has_mark_of(n->pairs[i].value, file)) return true;
    for (size_t i = 0; n->kind == NODE_SEQ && i < n->n; i++)
        if (has_mark_of(n->items[i], file)) return true;
    return false;
}

/* The axis that hides path p in every cell (p inside it), or NULL. */
static const axis_t *hiding_axis(const experiment_t *exp, const path_t *p, size_t *which)
{
    for (size_t k = 0; k < exp->n_axes; k++) {
        const axis_t *ax = &exp->axes[k];
        if (ax->kind == AXIS_RUN || !ax->everywhere) continue; /* a run's own axis hides nothing in the others */
        if (ax->kind == AXIS_SEED && node_get(exp->root, "repeat")) continue; /* repeat: counts up from seed */
        size_t n = ax->kind == AXIS_SEED ? 1 : ax->n_paths;
        for (size_t q = 0; q < n; q++) {
            path_t ap;
            split_path(ax->kind == AXIS_SEED ? "seed" : ax->paths[q], &ap);
            if (is_prefix(&ap, p)) {
                if (which) *which = q;
                return ax;
            }
        }
    }
    return NULL;
}

static err_code_t check_override_seen(experiment_t *exp, const override_t *ov, err_t *err)
{
    static const char *const meta[] = {"grid", "runs", "repeat", "seeds", "exclude", "select"};
    for (size_t i = 0; i < sizeof meta / sizeof meta[0]; i++)
        if (!strncmp(ov->path, meta[i], strlen(meta[i])) &&
            (ov->path[strlen(meta[i])] == '.' || !ov->path[strlen(meta[i])]))
            return ERR_OK; /* defines axes: checked as axes */
    char file[512];
    snprintf(file, sizeof file, "--set %s", ov->path);
    path_t p;
    split_path(ov->path, &p);
    const node_t *mine = node_at(exp->root, &p);
    mark_t at = mine ? mine->mark : (mark_t){NULL, 0, 0};
    const axis_t *ax = hiding_axis(exp, &p, NULL);
    if (ax)
        return err_set(err, ERR_CONFIG, at,
                       "--set %s=%s applies to no cell: grid axis '%s' sets it in every cell; use --set grid.%s=[...] "
                       "to change the axis",
                       ov->path, ov->value, ax->name, ax->kind == AXIS_SEED ? "seed" : ax->name);
    const axis_t *run_axis = exp->n_axes && exp->axes[0].kind == AXIS_RUN ? &exp->axes[0] : NULL;
    if (!run_axis) return ERR_OK; /* the base is every cell's tree */
    const node_t *first_override = NULL;
    for (size_t r = 0; r < run_axis->n; r++) {
        node_t *tree = node_merge(&exp->arena, exp->base, run_axis->values[r]);
        if (!tree) return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
        const node_t *n = node_at(tree, &p);
        if (has_mark_of(n, file)) return ERR_OK;
        if (!first_override) first_override = node_at(run_axis->values[r], &p);
    }
    err_set(err, ERR_CONFIG, at, "--set %s=%s applies to no cell: every run sets %s itself", ov->path, ov->value,
            ov->path);
    if (first_override && first_override->mark.file)
        err_append(err, " (the first at %s:%d:%d)", first_override->mark.file, first_override->mark.line,
                   first_override->mark.col);
    err_append(err, "; set it in the runs (--set runs.N.%s=...), or remove it from them", ov->path);
    return ERR_CONFIG;
}

/* ---- base values every cell overrides ----------------------------------- */

typedef enum { CLASS_NUMBER, CLASS_BOOL, CLASS_TEXT, CLASS_NULL, CLASS_LIST, CLASS_MAP } value_class_t;
static const char *const class_names[] = {"a number", "true/false", "text", "null", "a list", "a mapping"};

static value_class_t class_of(const node_t *n)
{
    if (n->kind == NODE_SEQ) return CLASS_LIST;
    if (n->kind == NODE_MAP) return CLASS_MAP;
    switch (scalar_type(n)) {
    case SCALAR_INT:
    case SCALAR_FLOAT: return CLASS_NUMBER;
    case SCALAR_BOOL: return CLASS_BOOL;
    case SCALAR_NULL: return CLASS_NULL;
    default: return CLASS_TEXT;
    }
}

/* What an overlay (a run) puts at path p: the node there, or a list or
 * value that replaces a mapping above it; NULL when it leaves p alone. */
static const node_t *overlay_at(const node_t *overlay, const path_t *p)
{
    const node_t *n = overlay;
    for (size_t i = 0; n && i < p->n; i++) {
        if (n->kind != NODE_MAP) return n; /* replaces everything below */
        n = node_get(n, p->parts[i]);
    }
    return n;
}

typedef struct {
    experiment_t *exp;
    err_t *err;
    err_code_t rc;
} leaf_walk_t;

/* A base value no cell sees (the grid or every run sets it) is still
 * checked: it must be of the kind of value that replaces it (a number
 * where cells have numbers), so `steps: abc` under a grid of steps is an
 * error. Optimizer values get their full schema check below. */
static void check_leaf(leaf_walk_t *w, const node_t *leaf, const path_t *p, const char *dotted)
{
    const experiment_t *exp = w->exp;
    const node_t *by = NULL;
    const char *by_what = NULL;
    size_t q = 0;
    const axis_t *ax = hiding_axis(exp, p, &q);
    if (ax && ax->kind == AXIS_GRID) {
        path_t ap;
        split_path(ax->paths[q], &ap);
        if (ap.n != p->n) return; /* a subtree axis: its values are checked as cells */
        by = ax->n_paths == 1 ? ax->values[0] : ax->values[0]->items[q], by_what = ax->name;
    } else if (!ax) {
        const axis_t *run_axis = exp->n_axes && exp->axes[0].kind == AXIS_RUN ? &exp->axes[0] : NULL;
        if (!run_axis) return; /* every cell sees the base */
        for (size_t r = 0; r < run_axis->n; r++) {
            const node_t *o = overlay_at(run_axis->values[r], p);
            if (!o) return; /* this run's cells see it */
            if (!by) by = o, by_what = run_axis->labels[r];
        }
    } else {
        return; /* the seed axis: seeds are checked as seeds */
    }
    if (!by || by->kind == NODE_MAP || leaf->kind == NODE_MAP || vars_is_reference(leaf) || vars_is_reference(by)) return;
    value_class_t want = class_of(by), have = class_of(leaf);
    if (want == have) return;
    w->rc = err_set(w->err, ERR_CONFIG, leaf->mark,
                    "%s is %s here, where every cell has %s instead (%s %s sets it); a value no cell uses must "
                    "still be valid: fix it or remove it",
                    dotted, class_names[have], class_names[want], ax ? "grid axis" : "run", by_what);
}

static void walk_leaves(leaf_walk_t *w, const node_t *n, path_t *p, char *dotted, size_t len)
{
    for (size_t i = 0; n->kind == NODE_MAP && i < n->n && w->rc == ERR_OK && p->n < MAX_PARTS; i++) {
        const node_pair_t *pair = &n->pairs[i];
        snprintf(p->parts[p->n++], sizeof p->parts[0], "%.63s", pair->key);
        size_t l = strlen(dotted);
        snprintf(dotted + l, len - l, "%s%s", l ? "." : "", pair->key);
        if (pair->value->kind == NODE_MAP) walk_leaves(w, pair->value, p, dotted, len);
        else check_leaf(w, pair->value, p, dotted);
        dotted[l] = 0;
        p->n--;
    }
}

static err_code_t check_overridden_base(experiment_t *exp, err_t *err)
{
    if (exp->n_axes == 0) return ERR_OK;
    leaf_walk_t w = {exp, err, ERR_OK};
    path_t p = {.n = 0};
    char dotted[1024] = "";
    walk_leaves(&w, exp->base, &p, dotted, sizeof dotted);
    return w.rc;
}

/* The base optimizer's given values, each against its schema. */
static err_code_t check_base_optimizer(const experiment_t *exp, const registry_t *reg, err_t *err)
{
    const node_t *opt = node_get(exp->base, "optimizer");
    const node_t *name = node_get(opt, "name");
    if (!opt || opt->kind != NODE_MAP || !name || name->kind != NODE_SCALAR) return ERR_OK;
    const plugin_entry_t *pe = registry_find(reg, RUNNER_KIND_OPTIMIZER, name->text);
    if (!pe) return ERR_OK; /* an unknown name is reported where a cell uses it */
    const runner_plugin_t *d = pe->desc;
    for (size_t j = 0; j < opt->n; j++) {
        const node_pair_t *p = &opt->pairs[j];
        if (vars_is_reference(p->value)) continue; /* checked in each cell, as its value */
        for (uint32_t i = 0; i < d->n_params; i++) {
            if (strcmp(d->params[i].name, p->key)) continue;
            char what[160];
            double v;
            const char *text;
            snprintf(what, sizeof what, "%s.%s", d->name, p->key);
            err_code_t rc = schema_value(d, i, p->value, what, &v, &text, err);
            if (rc) return rc;
        }
    }
    return ERR_OK;
}

err_code_t no_ops_check_settings(experiment_t *exp, const override_t *ov, size_t n_ov, const registry_t *reg,
                                 err_t *err)
{
    err_code_t rc;
    for (size_t i = 0; i < n_ov; i++)
        if ((rc = check_override_seen(exp, &ov[i], err))) return rc;
    /* the optimizer's schema first: its message is the more precise */
    if (!exp->objectives_only && (rc = check_base_optimizer(exp, reg, err))) return rc;
    return check_overridden_base(exp, err);
}
