/* experiment.c: config tree -> axes -> validated cells. */
#include "config/experiment.h"

#include <inttypes.h>
#include <math.h>
#include <runner/fixed_math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/text_safety.h"
#include "cells/kind.h"
#include "config/include.h"
#include "config/duplicates.h"
#include "config/no_ops.h"
#include "config/ragged.h"
#include "config/select.h"
#include "config/search.h"
#include "config/vars.h"
#include "config/schema.h"
#include "config/yaml_load.h"

/* ---- the top-level keys ---------------------------------------------- */

/* Where a key may be written (a bit set). */
enum {
    AT_TOP = 1u << 0,  /* the top level of the config */
    AT_RUN = 1u << 1,  /* inside an entry of runs: */
    AT_AXIS = 1u << 2, /* at the head of a grid axis path */
    AT_META = 1u << 3, /* defines axes: not part of the base every cell starts from */
    AT_CELL = 1u << 4, /* in a cell's merged tree */
};
#define AT_SETTING (AT_TOP | AT_RUN | AT_AXIS | AT_CELL) /* a per-cell setting */

/* A sweep-wide setting's reader: from the top level into exp. */
typedef err_code_t (*key_handler_f)(experiment_t *exp, const node_t *value, err_t *err);

typedef struct {
    const char *key;
    unsigned where;
    key_handler_f read; /* sweep-wide settings, read in table order; NULL: read per cell */
} config_key_t;

static err_code_t read_name(experiment_t *exp, const node_t *n, err_t *err);
static err_code_t read_output(experiment_t *exp, const node_t *n, err_t *err);
static err_code_t read_description(experiment_t *exp, const node_t *n, err_t *err);
static err_code_t read_seed(experiment_t *exp, const node_t *n, err_t *err);

/* Every key of a config, besides the cell kinds' own (cells/kind.h:
 * cell_keys, each a per-cell setting like optimizer). The "did you mean"
 * lists come from this table, so they cannot drift from what is accepted. */
static const config_key_t config_keys[] = {
    {"name", AT_TOP | AT_CELL, read_name},
    {"output", AT_TOP | AT_CELL, read_output},
    {"description", AT_TOP | AT_RUN | AT_CELL, read_description},
    {"seed", AT_SETTING, read_seed},
    {"optimizer", AT_SETTING, NULL},
    {"vars", AT_SETTING, NULL}, /* ${NAME} values (vars.h); dropped before a kind builds the cell */
    {"label", AT_RUN, NULL}, /* the run's coordinate, not part of its overlay */
    /* axes: sweep-wide at the top, or a run's own inside its entry (ragged.h) */
    {"grid", AT_TOP | AT_RUN | AT_META, NULL},
    {"runs", AT_TOP | AT_META, NULL},
    {"repeat", AT_TOP | AT_RUN | AT_META, NULL},
    {"seeds", AT_TOP | AT_RUN | AT_META, NULL},
    {"exclude", AT_TOP | AT_META, NULL},
    {"select", AT_TOP | AT_META, NULL}, /* the tune -> select -> rerun protocol (select.h) */
    /* resolved before anything reads the config (include.c, search.c); listed
     * so that a misspelling of them gets its "did you mean" */
    {"include", AT_TOP | AT_META, NULL},
    {"search", AT_TOP | AT_RUN | AT_META, NULL},
};
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_KEYS 64

/* Where key may be written: the table's places, or AT_SETTING for a cell
 * kind's key; 0 for an unknown key. */
static unsigned key_places(const char *key)
{
    for (size_t i = 0; i < N_OF(config_keys); i++)
        if (!strcmp(key, config_keys[i].key)) return config_keys[i].where;
    for (size_t k = 0; cell_kinds[k]; k++)
        for (const char *const *ck = cell_kinds[k]->cell_keys; *ck; ck++)
            if (!strcmp(key, *ck)) return AT_SETTING;
    return 0;
}

static bool key_allowed(const char *key, unsigned place) { return (key_places(key) & place) != 0; }

/* The error for a key not allowed at place, suggesting the keys that are. */
static err_code_t key_unknown(const node_pair_t *p, const char *where, unsigned place, err_t *err)
{
    const char *keys[MAX_KEYS];
    size_t n = 0;
    for (size_t i = 0; i < N_OF(config_keys) && n < MAX_KEYS; i++)
        if (config_keys[i].where & place) keys[n++] = config_keys[i].key;
    for (size_t k = 0; cell_kinds[k]; k++)
        for (const char *const *ck = cell_kinds[k]->cell_keys; *ck && n < MAX_KEYS; ck++)
            if (AT_SETTING & place) keys[n++] = *ck;
    return node_unknown_key(p, where, keys, n, err);
}

static err_code_t nomem(err_t *err) { return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory"); }

uint64_t derive_cell_seed(int64_t seed, uint64_t index)
{
    /* splitmix64 finaliser over both inputs: nearby seeds and indices give unrelated streams. */
    uint64_t z = (uint64_t)seed * 0x9E3779B97F4A7C15ull + (index + 1) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* ---- --set overrides ------------------------------------------------- */

static err_code_t apply_overrides(experiment_t *exp, const override_t *ov, size_t n, err_t *err)
{
    arena_t *a = &exp->arena;
    for (size_t i = 0; i < n; i++) {
        const char *file = arena_printf(a, "--set %s", ov[i].path);
        node_t *value;
        err_code_t rc = yaml_load(a, ov[i].value, strlen(ov[i].value), file, &value, err);
        if (rc == ERR_CONFIG && strstr(err->msg, "empty"))
            rc = err_set(err, ERR_USAGE, (mark_t){0}, "--set %s= has no value", ov[i].path);
        if (rc) return rc;
        mark_t m = {file, 0, 0};
        /* Grid axis names contain dots themselves: grid.optimizer.lr is the axis 'optimizer.lr'. */
        if (strncmp(ov[i].path, "grid.", 5) == 0) {
            node_t *grid = node_get(exp->root, "grid");
            node_t *g = grid ? grid : node_new(a, NODE_MAP, m, ORIGIN_BASE);
            if (!g) return nomem(err);
            if (g->kind != NODE_MAP) return err_set(err, ERR_CONFIG, g->mark, "grid must be a mapping");
            node_t *one = node_new(a, NODE_MAP, m, ORIGIN_BASE);
            if (!one || !(one->pairs = arena_alloc(a, sizeof *one->pairs))) return nomem(err);
            one->pairs[0] = (node_pair_t){ov[i].path + 5, m, value};
            one->n = 1;
            node_t *merged = node_merge(a, g, one), *root;
            if (!merged) return nomem(err);
            if ((rc = node_set_path(a, exp->root, "grid", merged, m, &root, err))) return rc;
            exp->root = root;
        } else {
            node_t *root;
            if ((rc = node_set_path(a, exp->root, ov[i].path, value, m, &root, err))) return rc;
            exp->root = root;
        }
    }
    return ERR_OK;
}

/* ---- axes ------------------------------------------------------------ */

/* The coordinate of each value: numbers when all are numbers, else text. */
static err_code_t axis_coordinates(arena_t *a, axis_t *ax, err_t *err)
{
    ax->labels = arena_alloc(a, ax->n * sizeof *ax->labels);
    ax->numbers = arena_alloc(a, ax->n * sizeof *ax->numbers);
    if (!ax->labels || !ax->numbers) return nomem(err);
    ax->numeric = true;
    for (size_t i = 0; i < ax->n; i++) {
        const node_t *v = ax->values[i];
        scalar_type_t t = scalar_type(v);
        if (v->kind != NODE_SCALAR || (t != SCALAR_INT && t != SCALAR_FLOAT)) ax->numeric = false;
        else if (node_to_double(v, ax->name, &ax->numbers[i], err)) ax->numeric = false;
        ax->labels[i] = v->kind == NODE_SCALAR ? v->text : node_to_flow(a, v);
        if (!ax->labels[i]) return nomem(err);
    }
    return ERR_OK;
}

/* {linspace: [a, b, n]} or {logspace: [a, b, n]} -> generated values. */
static err_code_t generated_values(arena_t *a, const node_t *spec, axis_t *ax, int origin, uint64_t max_n, err_t *err)
{
    const node_pair_t *p = spec->n ? &spec->pairs[0] : NULL;
    bool lin = p && strcmp(p->key, "linspace") == 0;
    if (spec->n != 1 || (!lin && strcmp(p->key, "logspace") != 0))
        return err_set(err, ERR_CONFIG, spec->n ? spec->pairs[spec->n > 1].key_mark : spec->mark,
                       "a grid axis is a list of values, {linspace: [a, b, n]} or {logspace: [a, b, n]}");
    const node_t *args = p->value;
    if (args->kind != NODE_SEQ || args->n != 3)
        return err_set(err, ERR_CONFIG, args->mark, "%s takes [start, stop, count], got %s", p->key,
                       args->kind == NODE_SEQ ? "a list of another length" : node_kind_name(args));
    double lo, hi;
    int64_t n;
    err_code_t rc;
    if ((rc = node_to_double(args->items[0], "the start", &lo, err)) ||
        (rc = node_to_double(args->items[1], "the stop", &hi, err)) ||
        (rc = node_to_int64(args->items[2], "the count", 1, (int64_t)max_n, &n, err)))
        return rc;
    ax->n = (size_t)n;
    ax->values = arena_alloc(a, ax->n * sizeof *ax->values);
    if (!ax->values) return nomem(err);
    for (int64_t i = 0; i < n; i++) {
        /* numpy's formula, so sweeps line up with numpy-made grids */
        double t = n == 1 ? lo : lo + (hi - lo) * (double)i / (double)(n - 1);
        if (i == n - 1 && n > 1) t = hi;
        double v = lin ? t : runner_pow(10.0, t);
        if (!isfinite(v)) return err_set(err, ERR_CONFIG, args->mark, "logspace value 10^%g overflows", t);
        char buf[40];
        format_double(buf, sizeof buf, v); /* shortest exact text: readable labels */
        char *text = arena_strdup(a, buf);
        if (!text || !(ax->values[i] = node_scalar(a, text, args->mark, origin))) return nomem(err);
    }
    return ERR_OK;
}

/* A grid axis's paths ('+' joins those of a zipped axis), each of whose
 * heads must be a key an axis may set. */
static err_code_t split_axis_paths(arena_t *a, axis_t *ax, err_t *err)
{
    size_t n = 1;
    for (const char *c = ax->name; *c; c++) n += *c == '+';
    ax->paths = arena_alloc(a, n * sizeof *ax->paths);
    if (!ax->paths) return nomem(err);
    ax->n_paths = 0;
    for (const char *at = ax->name;;) {
        size_t len = strcspn(at, "+");
        if (len == 0)
            return err_set(err, ERR_CONFIG, ax->mark, "grid axis '%s' has an empty path: join dotted paths with '+', "
                           "like optimizer.lr+optimizer.momentum", ax->name);
        char *path = arena_alloc(a, len + 1);
        if (!path) return nomem(err);
        memcpy(path, at, len);
        path[len] = 0;
        size_t head_len = strcspn(path, ".");
        char head[64];
        snprintf(head, sizeof head, "%.*s", (int)(head_len < 63 ? head_len : 63), path);
        if (key_places(head) && !key_allowed(head, AT_AXIS))
            return err_set(err, ERR_CONFIG, ax->mark, "'%s' cannot be a grid axis", head);
        if (!key_allowed(head, AT_AXIS)) {
            node_pair_t probe = {head, ax->mark, NULL};
            return key_unknown(&probe, " at the start of grid axis", AT_AXIS, err);
        }
        if (n > 1 && !strcmp(head, "seed"))
            return err_set(err, ERR_CONFIG, ax->mark, "seed cannot be zipped with other paths: it is its own axis");
        ax->paths[ax->n_paths++] = path;
        at += len;
        if (!*at) break;
        at++;
    }
    return ERR_OK;
}

/* grid's axes into out[0..grid->n), their values of origins origin0 + k. */
static err_code_t build_grid_axes(experiment_t *exp, const node_t *grid, axis_t *out, int origin0, err_t *err)
{
    arena_t *a = &exp->arena;
    for (size_t k = 0; k < grid->n; k++) {
        const node_pair_t *p = &grid->pairs[k];
        axis_t *ax = &out[k];
        int origin = origin0 + (int)k;
        ax->everywhere = true;
        ax->kind = AXIS_GRID;
        ax->name = p->key;
        ax->mark = p->key_mark;
        err_code_t rc;
        if ((rc = split_axis_paths(a, ax, err))) return rc;
        for (size_t j = 0; j < k; j++)
            if (!strcmp(grid->pairs[j].key, p->key))
                return err_set(err, ERR_CONFIG, p->key_mark, "grid axis '%s' given twice", p->key);
        if (p->value->kind == NODE_SEQ) {
            if (p->value->n == 0)
                return err_set(err, ERR_CONFIG, p->value->mark, "grid axis '%s' has no values", p->key);
            for (size_t i = 0; ax->n_paths > 1 && i < p->value->n; i++) {
                const node_t *item = p->value->items[i];
                if (item->kind != NODE_SEQ || item->n != ax->n_paths)
                    return err_set(err, ERR_CONFIG, item->mark,
                                   "grid axis '%s' sets %zu paths together: each value is a list of %zu (one per "
                                   "path, in order), like [%s]; this one %s %zu%s",
                                   p->key, ax->n_paths, ax->n_paths, ax->n_paths == 2 ? "0.1, 0.9" : "...",
                                   item->kind == NODE_SEQ ? "has" : "is one value, not a list:",
                                   item->kind == NODE_SEQ ? item->n : (size_t)1, item->kind == NODE_SEQ ? "" : " of them");
            }
            ax->n = p->value->n;
            ax->values = arena_alloc(a, ax->n * sizeof *ax->values);
            if (!ax->values) return nomem(err);
            for (size_t i = 0; i < ax->n; i++)
                if (!(ax->values[i] = node_with_origin(a, p->value->items[i], origin))) return nomem(err);
        } else if (p->value->kind == NODE_MAP && ax->n_paths == 1) {
            if ((rc = generated_values(a, p->value, ax, origin, exp->max_cells, err))) return rc;
        } else if (p->value->kind == NODE_MAP) {
            return err_set(err, ERR_CONFIG, p->value->mark,
                           "grid axis '%s' sets %zu paths together: its values are a list of lists, like "
                           "[[0.1, 0.9], [0.01, 0.5]] (linspace and logspace make one path's values)",
                           p->key, ax->n_paths);
        } else {
            return err_set(err, ERR_CONFIG, p->value->mark,
                           "grid axis '%s' needs a list of values, {linspace: [a, b, n]} or {logspace: [a, b, n]}; "
                           "got %s (write [%s] for a single value)",
                           p->key, node_kind_name(p->value), p->value->text);
        }
        if ((rc = axis_coordinates(a, ax, err))) return rc;
    }
    return ERR_OK;
}

typedef struct {
    const char *label;
    size_t index;
} label_at_t;

static int by_label_then_index(const void *x, const void *y)
{
    const label_at_t *a = x, *b = y;
    int c = strcmp(a->label, b->label);
    return c ? c : a->index < b->index ? -1 : a->index > b->index;
}

/* Labels name the run axis: two alike is an error, at the later run.
 * Sorting, not comparing all pairs: 100,000 runs took 30 s that way. */
static err_code_t check_run_labels_differ(const axis_t *ax, const node_t *runs, err_t *err)
{
    label_at_t *v = malloc(ax->n * sizeof *v);
    if (!v) return nomem(err);
    for (size_t i = 0; i < ax->n; i++) v[i] = (label_at_t){ax->labels[i], i};
    qsort(v, ax->n, sizeof *v, by_label_then_index);
    size_t dup = ax->n;
    for (size_t i = 1; i < ax->n; i++)
        if (!strcmp(v[i].label, v[i - 1].label) && v[i].index < dup) dup = v[i].index;
    free(v);
    if (dup == ax->n) return ERR_OK;
    return err_set(err, ERR_CONFIG, runs->items[dup]->mark,
                   "two runs are labelled '%s'; labels name the run axis and must differ", ax->labels[dup]);
}

/* The run axis; own[i]: run i's own axes' keys (grid:, seeds:, repeat:) as
 * a mapping, NULL when it has none. */
static err_code_t build_run_axis(experiment_t *exp, const node_t *runs, axis_t *ax, node_t **own, err_t *err)
{
    arena_t *a = &exp->arena;
    if (runs->kind != NODE_SEQ)
        return err_set(err, ERR_CONFIG, runs->mark, "runs must be a list of overlays like - {label: Adam, optimizer: {name: adam}}, got %s",
                       node_kind_name(runs));
    if (runs->n == 0) return err_set(err, ERR_CONFIG, runs->mark, "runs is an empty list");
    ax->kind = AXIS_RUN;
    ax->name = "run";
    ax->mark = runs->mark;
    ax->everywhere = true;
    ax->n = runs->n;
    ax->values = arena_alloc(a, ax->n * sizeof *ax->values);
    ax->labels = arena_alloc(a, ax->n * sizeof *ax->labels);
    if (!ax->values || !ax->labels) return nomem(err);
    for (size_t i = 0; i < runs->n; i++) {
        const node_t *r = runs->items[i];
        if (r->kind != NODE_MAP)
            return err_set(err, ERR_CONFIG, r->mark, "each run is a mapping (an overlay on the base config), got %s",
                           node_kind_name(r));
        node_t *overlay = node_with_origin(a, r, ORIGIN_RUN);
        if (!overlay) return nomem(err);
        /* the label is the coordinate, not part of the overlay */
        const char *label = NULL;
        size_t kept = 0;
        for (size_t j = 0; j < overlay->n; j++) {
            node_pair_t *p = &overlay->pairs[j];
            if (!strcmp(p->key, "label")) {
                err_code_t rc = node_to_string(p->value, "a run's label", &label, err);
                if (rc) return rc;
                continue;
            }
            if (key_places(p->key) && !key_allowed(p->key, AT_RUN))
                return err_set(err, ERR_CONFIG, p->key_mark, "'%s' is a sweep-wide setting; it cannot be set inside runs",
                               p->key);
            if (!key_allowed(p->key, AT_RUN)) return key_unknown(p, " in a run", AT_RUN, err);
            if (key_allowed(p->key, AT_META)) { /* the run's own axes, not part of its overlay */
                if (!own[i] && !(own[i] = node_new(a, NODE_MAP, r->mark, ORIGIN_RUN))) return nomem(err);
                node_pair_t *grown = arena_alloc(a, (own[i]->n + 1) * sizeof *grown);
                if (!grown) return nomem(err);
                if (own[i]->n) memcpy(grown, own[i]->pairs, own[i]->n * sizeof *grown);
                grown[own[i]->n++] = *p;
                own[i]->pairs = grown;
                continue;
            }
            overlay->pairs[kept++] = *p;
        }
        overlay->n = kept;
        if (!label) label = arena_printf(a, "run%zu", i);
        ax->labels[i] = label;
        ax->values[i] = overlay;
    }
    return check_run_labels_differ(ax, runs, err);
}

typedef struct {
    int64_t seed;
    size_t index;
} seed_at_t;

static int by_seed_then_index(const void *x, const void *y)
{
    const seed_at_t *a = x, *b = y;
    if (a->seed != b->seed) return a->seed < b->seed ? -1 : 1;
    return a->index < b->index ? -1 : a->index > b->index;
}

/* The index of the first repeat of a seed listed earlier, or n when all
 * differ. Sorting, not comparing all pairs: a list may be long. */
static err_code_t find_duplicate_seed(const int64_t *seeds, size_t n, size_t *dup, err_t *err)
{
    seed_at_t *v = malloc(n * sizeof *v);
    if (!v) return nomem(err);
    for (size_t i = 0; i < n; i++) v[i] = (seed_at_t){seeds[i], i};
    qsort(v, n, sizeof *v, by_seed_then_index);
    *dup = n;
    for (size_t i = 1; i < n; i++)
        if (v[i].seed == v[i - 1].seed && v[i].index < *dup) *dup = v[i].index;
    free(v);
    return ERR_OK;
}

/* The seed axis of holder's repeat: (counting up from base_seed) or seeds:
 * (holder: the config, or a run's own axes). */
static err_code_t build_seed_axis(experiment_t *exp, const node_t *holder, int64_t base_seed, axis_t *ax, err_t *err)
{
    arena_t *a = &exp->arena;
    const node_pair_t *rep = node_get_pair(holder, "repeat"), *seeds = node_get_pair(holder, "seeds");
    if (rep && seeds) return err_set(err, ERR_CONFIG, seeds->key_mark, "give either repeat: or seeds:, not both");
    ax->kind = AXIS_SEED;
    ax->name = "seed";
    ax->numeric = true;
    ax->everywhere = true;
    err_code_t rc;
    if (rep) {
        int64_t n;
        if ((rc = node_to_int64(rep->value, "repeat", 1, (int64_t)exp->max_cells, &n, err))) return rc;
        if (base_seed > INT64_MAX - (n - 1))
            return err_set(err, ERR_CONFIG, rep->value->mark, "seed %" PRId64 " + repeat %" PRId64 " overflows a 64-bit seed",
                           base_seed, n);
        ax->n = (size_t)n;
        ax->mark = rep->key_mark;
    } else {
        if (seeds->value->kind != NODE_SEQ || seeds->value->n == 0)
            return err_set(err, ERR_CONFIG, seeds->value->mark, "seeds must be a non-empty list of integers");
        ax->n = seeds->value->n;
        ax->mark = seeds->key_mark;
    }
    ax->seeds = arena_alloc(a, ax->n * sizeof *ax->seeds);
    ax->numbers = arena_alloc(a, ax->n * sizeof *ax->numbers);
    ax->labels = arena_alloc(a, ax->n * sizeof *ax->labels);
    if (!ax->seeds || !ax->numbers || !ax->labels) return nomem(err);
    for (size_t i = 0; i < ax->n; i++) {
        if (rep) {
            ax->seeds[i] = base_seed + (int64_t)i;
        } else if ((rc = node_to_int64(seeds->value->items[i], "a seed", INT64_MIN, INT64_MAX, &ax->seeds[i], err))) {
            return rc;
        }
        ax->numbers[i] = (double)ax->seeds[i];
        ax->labels[i] = arena_printf(a, "%" PRId64, ax->seeds[i]);
    }
    size_t dup = ax->n;
    if (!rep && (rc = find_duplicate_seed(ax->seeds, ax->n, &dup, err))) return rc;
    if (!rep && dup < ax->n)
        return err_set(err, ERR_CONFIG, seeds->value->items[dup]->mark, "seed %" PRId64 " is listed twice",
                       ax->seeds[dup]);
    return ERR_OK;
}

/* ---- optimizer resolution --------------------------------------------- */

/* Every optimizer parameter seen, by (layer, key): whether it applied to
 * some cell, and an optimizer that lacked it (set only when another layer
 * wrote it, so leaving it out was allowed). */
typedef struct {
    int origin;
    const char *key;
    mark_t mark;
    bool applied;
    const runner_plugin_t *skipped_for;
} lenient_t;

/* What resolving optimizers across all cells remembers: the parameters seen
 * (for the cross-layer rule) and each plugin's defaults as text, formatted
 * once (records are built for every cell; formatting numbers dominated). */
typedef struct {
    const runner_plugin_t *desc;
    const char **texts;
} default_texts_t;

typedef struct {
    lenient_t *items;
    size_t n, cap;
    default_texts_t defaults[64];
    size_t n_defaults;
} lenient_set_t;

static const char **default_texts(arena_t *a, lenient_set_t *s, const runner_plugin_t *d)
{
    for (size_t i = 0; i < s->n_defaults; i++)
        if (s->defaults[i].desc == d) return s->defaults[i].texts;
    const char **t = arena_alloc(a, (d->n_params + 1) * sizeof *t);
    if (!t) return NULL;
    for (uint32_t i = 0; i < d->n_params; i++) {
        char buf[40];
        schema_default_text(d, i, buf, sizeof buf);
        if (!(t[i] = arena_strdup(a, buf))) return NULL;
    }
    if (s->n_defaults < sizeof s->defaults / sizeof s->defaults[0]) s->defaults[s->n_defaults++] = (default_texts_t){d, t};
    return t;
}

static lenient_t *lenient_note(lenient_set_t *s, int origin, const char *key, mark_t mark)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->items[i].origin == origin && !strcmp(s->items[i].key, key)) return &s->items[i];
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        lenient_t *p = realloc(s->items, cap * sizeof *p);
        if (!p) return NULL;
        s->items = p, s->cap = cap;
    }
    s->items[s->n] = (lenient_t){origin, key, mark, false, NULL};
    return &s->items[s->n++];
}

static err_code_t resolve_optimizer(arena_t *a, const node_t *node, const registry_t *reg, lenient_set_t *lenient,
                                    opt_config_t **out, err_t *err)
{
    if (node->kind != NODE_MAP)
        return err_set(err, ERR_CONFIG, node->mark, "expected a mapping for optimizer, like {name: sgd, lr: 0.1}, got %s",
                       node_kind_name(node));
    const node_pair_t *name_pair = node_get_pair(node, "name");
    if (!name_pair) return err_set(err, ERR_CONFIG, node->mark, "optimizer needs a name, e.g. {name: sgd, lr: 0.1}");
    const char *name;
    err_code_t rc;
    if ((rc = node_to_string(name_pair->value, "optimizer.name", &name, err))) return rc;
    const plugin_entry_t *pe = registry_find(reg, RUNNER_KIND_OPTIMIZER, name);
    if (!pe) return schema_unknown_plugin(reg, RUNNER_KIND_OPTIMIZER, name_pair->value->mark, name, err);
    const runner_plugin_t *d = pe->desc;
    opt_config_t *oc = arena_alloc(a, sizeof *oc);
    double *hp = arena_alloc(a, (d->n_params + 1) * sizeof *hp);
    bool *given = calloc(d->n_params + 1, 1);
    if (!oc || !hp || !given) {
        free(given);
        return nomem(err);
    }
    const char *texts[64] = {0}; /* the value as written, for the record */
    for (uint32_t i = 0; i < d->n_params; i++) hp[i] = d->params[i].default_value;
    int name_origin = name_pair->value->origin;
    for (size_t j = 0; j < node->n; j++) {
        const node_pair_t *p = &node->pairs[j];
        if (p == name_pair) continue;
        uint32_t i = 0;
        while (i < d->n_params && strcmp(d->params[i].name, p->key)) i++;
        if (i == d->n_params) {
            if (p->value->origin != name_origin) {
                /* written for another optimizer by another layer: left out here */
                lenient_t *l = lenient_note(lenient, p->value->origin, p->key, p->key_mark);
                if (!l) {
                    rc = nomem(err);
                    goto out;
                }
                if (!l->skipped_for) l->skipped_for = d;
                continue;
            }
            rc = schema_unknown_key(d, "optimizer", p, err);
            goto out;
        }
        lenient_t *l = lenient_note(lenient, p->value->origin, p->key, p->key_mark);
        if (!l) {
            rc = nomem(err);
            goto out;
        }
        l->applied = true;
        char what[160];
        snprintf(what, sizeof what, "%s.%s", d->name, d->params[i].name);
        if ((rc = schema_value(d, i, p->value, what, &hp[i], &texts[i], err))) goto out;
        given[i] = true;
    }
    for (uint32_t i = 0; i < d->n_params; i++)
        if ((d->params[i].flags & RUNNER_PARAM_REQUIRED) && !given[i]) {
            rc = err_set(err, ERR_CONFIG, node->mark, "optimizer '%s' needs '%s' (%s; it has no default)", d->name,
                         d->params[i].name, d->params[i].doc);
            goto out;
        }
    if (d->optimizer->check) {
        runner_err_t perr = {{0}};
        if (d->optimizer->check(hp, &perr) != RUNNER_OK) {
            perr.msg[RUNNER_ERR_MAX - 1] = 0;
            text_make_safe(perr.msg);
            rc = err_set(err, ERR_CONFIG, node->mark, "optimizer '%s': %s", d->name,
                         perr.msg[0] ? perr.msg : "invalid combination of parameters");
            goto out;
        }
    }
    /* the record: sgd(lr=0.1, momentum=0.9, ...) with every value, defaults
     * included; given values as written (they parse to exactly hp[i]) */
    const char **defaults = default_texts(a, lenient, d);
    if (!defaults) {
        rc = nomem(err);
        goto out;
    }
    for (uint32_t i = 0; i < d->n_params; i++)
        if (!texts[i]) texts[i] = defaults[i];
    if ((rc = schema_resolve(a, d, hp, texts, err))) goto out;
    oc->plugin = pe;
    oc->hp = hp;
    oc->text = schema_record(a, d, texts);
    *out = oc;
    rc = oc->text ? ERR_OK : nomem(err);
out:
    free(given);
    return rc;
}

/* ---- cells ------------------------------------------------------------ */

void experiment_cell_coords(const experiment_t *exp, size_t cell, size_t *idx)
{
    if (exp->coords) {
        const uint32_t *row = exp->coords + cell * exp->n_axes;
        for (size_t k = 0; k < exp->n_axes; k++) idx[k] = row[k] == UINT32_MAX ? AXIS_ABSENT : row[k];
        return;
    }
    for (size_t k = exp->n_axes; k-- > 0;) {
        idx[k] = cell % exp->axes[k].n;
        cell /= exp->axes[k].n;
    }
}

void experiment_cell_label(const experiment_t *exp, size_t cell, char *buf, size_t len)
{
    size_t idx[64];
    experiment_cell_coords(exp, cell, idx);
    size_t used = 0;
    buf[0] = 0;
    for (size_t k = 0; k < exp->n_axes && used < len; k++)
        if (idx[k] != AXIS_ABSENT)
            used += (size_t)snprintf(buf + used, len - used, "%s%s=%s", used ? " " : "", exp->axes[k].name,
                                     exp->axes[k].labels[idx[k]]);
}

static err_code_t in_cell(const experiment_t *exp, size_t cell, err_t *err)
{
    if (exp->n_cells > 1 || exp->n_axes > 0) {
        char label[512];
        experiment_cell_label(exp, cell, label, sizeof label);
        err_append(err, " (in cell %zu: %s)", cell, label);
    }
    return err->code;
}

/* Per run: the merged tree, its resolved optimizer and what its cells'
 * kind compiled for it, when no grid axis changes them. */
typedef struct {
    cell_run_cache_t k;
    opt_config_t *opt;
} run_cache_t;

static err_code_t build_cells(experiment_t *exp, const registry_t *reg, err_t *err)
{
    arena_t *a = &exp->arena, scratch;
    arena_init(&scratch);
    size_t n_axes = exp->n_axes, n_runs = 1;
    const axis_t *run_axis = n_axes && exp->axes[0].kind == AXIS_RUN ? &exp->axes[0] : NULL;
    const axis_t *seed_axis = n_axes && exp->axes[n_axes - 1].kind == AXIS_SEED ? &exp->axes[n_axes - 1] : NULL;
    if (run_axis) n_runs = run_axis->n;
    run_cache_t *runs = calloc(n_runs, sizeof *runs);
    lenient_set_t lenient = {0};
    cell_digest_t *digests = NULL;
    err_code_t rc = ERR_OK;
    if (!runs) return nomem(err);
    for (size_t r = 0; r < n_runs; r++) {
        runs[r].k.tree = run_axis ? node_merge(a, exp->base, run_axis->values[r]) : exp->base;
        if (!runs[r].k.tree) {
            rc = nomem(err);
            goto out;
        }
    }
    exp->cells = arena_alloc(a, exp->n_cells * sizeof *exp->cells);
    if (!exp->objectives_only) digests = malloc(exp->n_cells * sizeof *digests); /* duplicates.h */
    if (!exp->cells || (!exp->objectives_only && !digests)) {
        rc = nomem(err);
        goto out;
    }
    size_t idx[64], prev[64], setting = 0;
    for (size_t c = 0; c < exp->n_cells; c++) {
        experiment_cell_coords(exp, c, idx);
        size_t r = run_axis ? idx[0] : 0;
        /* the cell's setting (its values on every axis but seed), numbered
         * in order: cells of one setting differ only in their seed, which
         * varies fastest */
        if (!exp->coords) setting = seed_axis ? c / seed_axis->n : c;
        else if (c > 0 && memcmp(idx, prev, (n_axes - (seed_axis != NULL)) * sizeof *idx)) setting++;
        memcpy(prev, idx, n_axes * sizeof *idx);
        node_t *tree = runs[r].k.tree;
        arena_reset(&scratch);
        for (size_t k = 0; k < n_axes; k++) {
            const axis_t *ax = &exp->axes[k];
            if (ax->kind != AXIS_GRID || idx[k] == AXIS_ABSENT) continue;
            for (size_t j = 0; j < ax->n_paths; j++) {
                node_t *v = ax->n_paths == 1 ? ax->values[idx[k]] : ax->values[idx[k]]->items[j];
                if ((rc = node_set_path(&scratch, tree, ax->paths[j], v, ax->mark, &tree, err))) {
                    in_cell(exp, c, err);
                    goto out;
                }
            }
        }
        if ((rc = vars_substitute(&scratch, tree, &tree, err))) {
            in_cell(exp, c, err);
            goto out;
        }
        for (size_t i = 0; i < tree->n; i++)
            if (!key_allowed(tree->pairs[i].key, AT_CELL)) {
                key_unknown(&tree->pairs[i], "", AT_TOP, err);
                goto fail_cell;
            }
        cell_t *cell = &exp->cells[c];
        *cell = (cell_t){0};
        const cell_kind_t *kind = cell_kind_of(tree);
        if (c == 0) exp->kind = kind;
        if (kind != exp->kind) {
            rc = err_set(err, ERR_CONFIG, (mark_t){exp->path, 1, 1},
                         "cells mix kinds: cell 0 %s, this one %s; one sweep is either analytic problems or training",
                         exp->kind->does, kind->does);
            goto fail_cell;
        }
        int64_t seed = exp->seed;
        const node_t *seed_node = node_get(tree, "seed");
        if (seed_node && (rc = node_to_int64(seed_node, "seed", INT64_MIN, INT64_MAX, &seed, err))) goto fail_cell;
        if (seed_axis && idx[n_axes - 1] != AXIS_ABSENT) seed = seed_axis->seeds[idx[n_axes - 1]];
        cell->seed = derive_cell_seed(seed, setting);
        cell->seed_value = seed;
        rc = kind->build(exp, reg, tree, &runs[r].k, cell, err);
        if (rc) goto fail_cell;
        if (exp->objectives_only) continue; /* runner surface: the objective is all it needs */
        const node_t *onode = node_get(tree, "optimizer");
        if (!onode) {
            rc = err_set(err, ERR_CONFIG, (mark_t){exp->path, 1, 1}, "missing 'optimizer', e.g. optimizer: {name: sgd, lr: 0.1}");
            goto fail_cell;
        }
        bool shared_opt = onode == node_get(runs[r].k.tree, "optimizer");
        if (shared_opt && runs[r].opt) {
            cell->opt = runs[r].opt;
        } else {
            opt_config_t *oc = NULL;
            if ((rc = resolve_optimizer(a, onode, reg, &lenient, &oc, err))) goto fail_cell;
            if (shared_opt) runs[r].opt = oc;
            cell->opt = oc;
        }
        if (kind->check && (rc = kind->check(cell, tree, err))) goto fail_cell;
        if (cell->steps > exp->max_steps) exp->max_steps = cell->steps;
        cell_digest(&scratch, tree, cell->opt->text, seed, &digests[c]);
        continue;
    fail_cell:
        in_cell(exp, c, err);
        goto out;
    }
    for (size_t i = 0; i < lenient.n; i++) {
        const lenient_t *l = &lenient.items[i];
        if (l->applied || !l->skipped_for) continue;
        const runner_plugin_t *d = l->skipped_for;
        const char *names[64];
        for (uint32_t k = 0; k < d->n_params; k++) names[k] = d->params[k].name;
        const char *near = closest_match(l->key, names, d->n_params);
        rc = err_set(err, ERR_CONFIG, l->mark,
                     "optimizer parameter '%s' applies to no cell: no optimizer in this sweep has it ('%s' does not%s%s%s)",
                     l->key, d->name, near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
        goto out;
    }
    if (digests) rc = duplicates_check(exp, digests, err);
out:
    free(digests);
    free(lenient.items);
    free(runs);
    arena_free(&scratch);
    return rc;
}

typedef struct {
    experiment_t *exp;
    size_t cap;
} plugin_notes_t;

static void note_plugin(void *ctx, const plugin_entry_t *pe)
{
    plugin_notes_t *pn = ctx;
    experiment_t *exp = pn->exp;
    for (size_t i = 0; i < exp->n_plugins_used; i++)
        if (exp->plugins_used[i] == pe) return;
    if (exp->n_plugins_used < pn->cap) exp->plugins_used[exp->n_plugins_used++] = pe;
}

/* Every plugin a cell uses, once, in order of first use (the record and the fingerprint). */
static err_code_t collect_plugins(experiment_t *exp, const registry_t *reg, err_t *err)
{
    plugin_notes_t pn = {exp, reg->n_plugins};
    exp->plugins_used = arena_alloc(&exp->arena, (pn.cap + 1) * sizeof *exp->plugins_used);
    if (!exp->plugins_used) return nomem(err);
    const opt_config_t *last_opt = NULL;
    for (size_t c = 0; c < exp->n_cells; c++) {
        const cell_t *cell = &exp->cells[c];
        if (cell->opt && cell->opt != last_opt) note_plugin(&pn, cell->opt->plugin), last_opt = cell->opt;
        if (exp->kind->each_plugin) exp->kind->each_plugin(cell, note_plugin, &pn);
    }
    /* as files with their hashes: what the record lists and --resume compares */
    exp->plugin_files = arena_alloc(&exp->arena, (exp->n_plugins_used + 1) * sizeof *exp->plugin_files);
    if (!exp->plugin_files) return nomem(err);
    for (size_t i = 0; i < exp->n_plugins_used; i++) {
        exp->plugin_files[i].path = exp->plugins_used[i]->file;
        memcpy(exp->plugin_files[i].sha256, exp->plugins_used[i]->sha256, SHA256_BYTES);
    }
    return ERR_OK;
}

typedef struct {
    experiment_t *exp;
    size_t cap;
    bool nomem;
} input_notes_t;

static void note_input(void *ctx, const input_file_t *file)
{
    input_notes_t *in = ctx;
    experiment_t *exp = in->exp;
    for (size_t i = 0; i < exp->n_inputs; i++)
        if (!strcmp(exp->inputs[i].path, file->path) && !memcmp(exp->inputs[i].sha256, file->sha256, SHA256_BYTES))
            return;
    if (exp->n_inputs == in->cap) {
        size_t cap = in->cap ? 2 * in->cap : 8;
        input_file_t *grown = arena_alloc(&exp->arena, cap * sizeof *grown);
        if (!grown) {
            in->nomem = true;
            return;
        }
        if (exp->n_inputs) memcpy(grown, exp->inputs, exp->n_inputs * sizeof *grown);
        exp->inputs = grown, in->cap = cap;
    }
    exp->inputs[exp->n_inputs++] = *file;
}

/* Every data file the cells' kind read, once (the record and the fingerprint). */
static err_code_t collect_inputs(experiment_t *exp, err_t *err)
{
    input_notes_t in = {exp, 0, false};
    if (exp->kind->each_input) exp->kind->each_input(exp, note_input, &in);
    return in.nomem ? nomem(err) : ERR_OK;
}

/* ---- top level -------------------------------------------------------- */

static err_code_t build_resolved_text(experiment_t *exp, const registry_t *reg, err_t *err);

static const char *file_stem(arena_t *a, const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    return arena_strndup(a, base, dot && dot != base ? (size_t)(dot - base) : strlen(base));
}

/* How many values an axis spec asks for, read before anything is built;
 * 1 when the spec is malformed (building it reports why). */
static uint64_t planned_values(const node_t *v)
{
    if (v->kind == NODE_SEQ) return v->n ? v->n : 1;
    if (v->kind == NODE_MAP && v->n == 1 && v->pairs[0].value->kind == NODE_SEQ && v->pairs[0].value->n == 3) {
        int64_t n;
        err_t ignored;
        if (node_to_int64(v->pairs[0].value->items[2], "", 1, INT64_MAX, &n, &ignored) == ERR_OK) return (uint64_t)n;
    }
    if (v->kind == NODE_SCALAR) {
        int64_t n;
        err_t ignored;
        if (node_to_int64(v, "", 1, INT64_MAX, &n, &ignored) == ERR_OK) return (uint64_t)n; /* repeat: N */
    }
    return 1;
}

/* The resource guard on the sweep's size, before any axis is built: a
 * 10^9-cell grid is refused in microseconds, with its numbers. */
static err_code_t check_cell_count(const experiment_t *exp, const node_t *runs, const node_t *grid, bool seeded,
                                   err_t *err)
{
    const node_t *rep = node_get(exp->root, "repeat"), *seeds = node_get(exp->root, "seeds");
    uint64_t total = 1;
    char factors[256] = "", names[512] = "";
    size_t n_factors = 0;
    const node_t *sizes[34];
    const char *labels[34];
    if (runs) sizes[n_factors] = runs, labels[n_factors++] = "run";
    for (size_t i = 0; grid && i < grid->n && n_factors < 33; i++)
        sizes[n_factors] = grid->pairs[i].value, labels[n_factors++] = grid->pairs[i].key;
    if (seeded) sizes[n_factors] = rep ? rep : seeds, labels[n_factors++] = "seed";
    for (size_t i = 0; i < n_factors; i++) {
        uint64_t n = planned_values(sizes[i]);
        if (__builtin_mul_overflow(total, n, &total)) total = UINT64_MAX;
        size_t fl = strlen(factors), nl = strlen(names);
        snprintf(factors + fl, sizeof factors - fl, "%s%" PRIu64, i ? " x " : "", n);
        snprintf(names + nl, sizeof names - nl, "%s%s", i ? " x " : "", labels[i]);
    }
    if (total <= exp->max_cells) return ERR_OK;
    const node_t *at = grid ? grid : runs ? runs : rep ? rep : seeds;
    char count[32];
    if (total == UINT64_MAX) snprintf(count, sizeof count, "more than 1.8e19");
    else snprintf(count, sizeof count, "%" PRIu64, total);
    return err_set(err, ERR_CONFIG, at->mark,
                   "the sweep has %s = %s cells (%s), more than the limit of %" PRIu64
                   " cells; use fewer values or split the sweep, or raise the limit with --max-cells N",
                   factors, count, names, exp->max_cells);
}

/* grid: {seed: [...]} and seeds: [...] are one thing, the seed axis: the
 * grid entry is moved to seeds: (so it comes last, holds int64 seeds, and
 * reports average over it). Given together with repeat: or seeds:, it is
 * an error. */
static err_code_t seed_grid_axis_as_seeds(experiment_t *exp, err_t *err)
{
    node_t *grid = (node_t *)node_get(exp->root, "grid");
    const node_pair_t *seed = grid && grid->kind == NODE_MAP ? node_get_pair(grid, "seed") : NULL;
    if (!seed) return ERR_OK;
    if (node_get(exp->root, "repeat") || node_get(exp->root, "seeds"))
        return err_set(err, ERR_CONFIG, seed->key_mark,
                       "a grid axis 'seed' and repeat:/seeds: both define the seed axis; keep one");
    arena_t *a = &exp->arena;
    node_t *rest = node_new(a, NODE_MAP, grid->mark, grid->origin), *root = exp->root;
    if (!rest || !(rest->pairs = arena_alloc(a, grid->n * sizeof *rest->pairs))) return nomem(err);
    for (size_t i = 0; i < grid->n; i++)
        if (&grid->pairs[i] != seed) rest->pairs[rest->n++] = grid->pairs[i];
    node_t *fresh = node_new(a, NODE_MAP, root->mark, root->origin);
    if (!fresh || !(fresh->pairs = arena_alloc(a, (root->n + 1) * sizeof *fresh->pairs))) return nomem(err);
    for (size_t i = 0; i < root->n; i++) {
        if (strcmp(root->pairs[i].key, "grid")) fresh->pairs[fresh->n++] = root->pairs[i];
        else if (rest->n) fresh->pairs[fresh->n++] = (node_pair_t){"grid", root->pairs[i].key_mark, rest};
    }
    fresh->pairs[fresh->n++] = (node_pair_t){"seeds", seed->key_mark, seed->value};
    exp->root = fresh;
    return ERR_OK;
}

/* The sweep-wide settings' handlers (config_keys); n is NULL when absent. */
static err_code_t read_name(experiment_t *exp, const node_t *n, err_t *err)
{
    err_code_t rc;
    exp->name = file_stem(&exp->arena, exp->path);
    if (n && (rc = node_to_string(n, "name", &exp->name, err))) return rc;
    if (!*exp->name || strchr(exp->name, '/'))
        return err_set(err, ERR_CONFIG, n ? n->mark : (mark_t){exp->path, 1, 1},
                       "name must be non-empty and contain no '/'");
    return ERR_OK;
}

static err_code_t read_output(experiment_t *exp, const node_t *n, err_t *err)
{
    exp->output = arena_printf(&exp->arena, "results/%s.h5", exp->name); /* after read_name: table order */
    if (!exp->output) return nomem(err);
    return n ? node_to_string(n, "output", &exp->output, err) : ERR_OK;
}

static err_code_t read_description(experiment_t *exp, const node_t *n, err_t *err)
{
    (void)exp;
    if (n && n->kind != NODE_SCALAR) return err_set(err, ERR_CONFIG, n->mark, "description must be text");
    return ERR_OK;
}

static err_code_t read_seed(experiment_t *exp, const node_t *n, err_t *err)
{
    return n ? node_to_int64(n, "seed", INT64_MIN, INT64_MAX, &exp->seed, err) : ERR_OK;
}

/* A run's search: becomes an axis of its own grid, drawn from the run's
 * seed: or else the config's (search.h). */
static err_code_t expand_run_searches(experiment_t *exp, err_t *err)
{
    const node_t *runs = node_get(exp->root, "runs");
    if (!runs || runs->kind != NODE_SEQ) return ERR_OK; /* its error comes with the run axis */
    arena_t *a = &exp->arena;
    node_t *list = NULL;
    for (size_t i = 0; i < runs->n; i++) {
        node_t *run = runs->items[i], *expanded;
        if (run->kind != NODE_MAP || !node_get(run, "search")) continue;
        err_code_t rc = search_expand(a, run, node_get(exp->root, "seed"), exp->max_cells, &expanded, err);
        if (rc) return rc;
        if (!list) {
            if (!(list = node_new(a, NODE_SEQ, runs->mark, runs->origin)) ||
                !(list->items = arena_alloc(a, runs->n * sizeof *list->items)))
                return nomem(err);
            memcpy(list->items, runs->items, runs->n * sizeof *list->items);
            list->n = runs->n;
        }
        list->items[i] = expanded;
    }
    return list ? node_set_path(a, exp->root, "runs", list, runs->mark, &exp->root, err) : ERR_OK;
}

/* A run's own axes (own: its grid:, seeds:, repeat:; NULL: none). Their
 * values get origins from *origin on (one per axis: the conditional-
 * parameter rule tells layers apart by origin). */
static err_code_t build_own_axes(experiment_t *exp, const node_t *own, int64_t run_seed, int *origin, run_axes_t *out,
                                 err_t *err)
{
    *out = (run_axes_t){0};
    if (!own) return ERR_OK;
    arena_t *a = &exp->arena;
    err_code_t rc;
    const node_pair_t *g = node_get_pair(own, "grid");
    if (g && g->value->kind != NODE_MAP)
        return err_set(err, ERR_CONFIG, g->value->mark, "a run's grid is a mapping of dotted paths to value lists, "
                       "like grid: {optimizer.lr: [0.01, 0.1]}; got %s", node_kind_name(g->value));
    if (g) {
        const node_pair_t *seed = node_get_pair(g->value, "seed");
        if (seed)
            return err_set(err, ERR_CONFIG, seed->key_mark, "a run's seeds are its seeds: [...] or repeat: N, not a "
                           "grid axis 'seed'");
        if (!(out->grid = arena_alloc(a, (g->value->n + 1) * sizeof *out->grid))) return nomem(err);
        memset(out->grid, 0, (g->value->n + 1) * sizeof *out->grid);
        if ((rc = build_grid_axes(exp, g->value, out->grid, *origin, err))) return rc;
        out->n_grid = g->value->n;
        *origin += (int)g->value->n;
    }
    if (node_get(own, "repeat") || node_get(own, "seeds")) {
        if (!(out->seed = arena_alloc(a, sizeof *out->seed))) return nomem(err);
        *out->seed = (axis_t){0};
        if ((rc = build_seed_axis(exp, own, run_seed, out->seed, err))) return rc;
    }
    return ERR_OK;
}

/* The runs' own grids in the config as lists of plain values (a
 * logspace's numbers written out), so that resolved_config reads alone. */
static err_code_t write_own_grid_values(experiment_t *exp, const run_axes_t *own, size_t n_runs, err_t *err)
{
    arena_t *a = &exp->arena;
    const node_t *runs = node_get(exp->root, "runs");
    node_t *list = node_new(a, NODE_SEQ, runs->mark, runs->origin);
    if (!list || !(list->items = arena_alloc(a, (n_runs + 1) * sizeof *list->items))) return nomem(err);
    list->n = n_runs;
    for (size_t r = 0; r < n_runs; r++) {
        node_t *run = runs->items[r];
        list->items[r] = run;
        if (!own[r].n_grid) continue;
        node_t *g = node_new(a, NODE_MAP, run->mark, run->origin);
        if (!g || !(g->pairs = arena_alloc(a, own[r].n_grid * sizeof *g->pairs))) return nomem(err);
        for (size_t k = 0; k < own[r].n_grid; k++) {
            const axis_t *ax = &own[r].grid[k];
            node_t *values = node_new(a, NODE_SEQ, ax->mark, ORIGIN_BASE);
            if (!values) return nomem(err);
            values->items = ax->values;
            values->n = ax->n;
            g->pairs[g->n++] = (node_pair_t){ax->name, ax->mark, values};
        }
        err_code_t rc = node_set_path(a, run, "grid", g, run->mark, &list->items[r], err);
        if (rc) return rc;
    }
    return node_set_path(a, exp->root, "runs", list, runs->mark, &exp->root, err);
}

/* A ragged study's axes and cells: the sweep-wide axes, each run's own,
 * and exclude: (ragged.h). */
static err_code_t build_ragged(experiment_t *exp, const axis_t *run_axis, const node_t *grid, bool seeded, node_t **own,
                               const node_t *exclude, err_t *err)
{
    arena_t *a = &exp->arena;
    size_t n_grid = grid ? grid->n : 0, n_runs = run_axis ? run_axis->n : 1;
    axis_t *sweep = arena_alloc(a, (n_grid + 1) * sizeof *sweep), *sweep_seed = NULL;
    run_axes_t *own_axes = arena_alloc(a, n_runs * sizeof *own_axes);
    axis_t *scratch = malloc((n_grid + 33) * sizeof *scratch);
    err_code_t rc = !sweep || !own_axes || !scratch ? nomem(err) : ERR_OK;
    if (!rc) memset(sweep, 0, (n_grid + 1) * sizeof *sweep);
    if (!rc && grid) rc = build_grid_axes(exp, grid, sweep, ORIGIN_GRID, err);
    if (!rc && seeded) {
        if (!(sweep_seed = arena_alloc(a, sizeof *sweep_seed))) rc = nomem(err);
        else *sweep_seed = (axis_t){0}, rc = build_seed_axis(exp, exp->root, exp->seed, sweep_seed, err);
    }
    int origin = ORIGIN_GRID + (int)n_grid;
    for (size_t r = 0; r < n_runs && !rc; r++) {
        int64_t run_seed = exp->seed;
        const node_t *s = run_axis ? node_get(run_axis->values[r], "seed") : NULL;
        if (s) rc = node_to_int64(s, "seed", INT64_MIN, INT64_MAX, &run_seed, err);
        if (!rc) rc = build_own_axes(exp, own ? own[r] : NULL, run_seed, &origin, &own_axes[r], err);
        for (size_t k = 0; !rc && k < own_axes[r].n_grid; k++)
            for (size_t j = 0; !rc && j < n_grid; j++)
                if (!strcmp(own_axes[r].grid[k].name, sweep[j].name))
                    rc = err_set(err, ERR_CONFIG, own_axes[r].grid[k].mark,
                                 "grid axis '%s' is sweep-wide already (the top-level grid:); a run cannot give it "
                                 "again: keep it at the top, or move it into each run's own grid",
                                 sweep[j].name);
        /* the axes one run's cells meet, checked against each other */
        if (!rc && n_grid + own_axes[r].n_grid > 32)
            rc = err_set(err, ERR_CONFIG, run_axis->mark, "run '%s' has too many axes (at most 32)", run_axis->labels[r]);
        if (!rc) {
            if (n_grid) memcpy(scratch, sweep, n_grid * sizeof *scratch);
            if (own_axes[r].n_grid) memcpy(scratch + n_grid, own_axes[r].grid, own_axes[r].n_grid * sizeof *scratch);
            rc = no_ops_check_axes(scratch, n_grid + own_axes[r].n_grid, err);
        }
    }
    free(scratch);
    if (!rc) rc = ragged_expand(exp, run_axis, sweep, n_grid, sweep_seed, own_axes, exclude, err);
    if (!rc && exp->n_axes > 32)
        rc = err_set(err, ERR_CONFIG, run_axis ? run_axis->mark : grid->mark,
                     "the study has %zu axes (its runs' own axes by name); at most 32", exp->n_axes);
    if (!rc && run_axis) rc = write_own_grid_values(exp, own_axes, n_runs, err);
    return rc;
}

err_code_t experiment_load(experiment_t *exp, const char *path, const char *text, size_t len,
                           const experiment_options_t *opts, const registry_t *reg, err_t *err)
{
    static const experiment_options_t defaults = {0};
    if (!opts) opts = &defaults;
    memset(exp, 0, sizeof *exp);
    exp->max_cells = opts->max_cells ? opts->max_cells : EXPERIMENT_MAX_CELLS;
    exp->objectives_only = opts->objectives_only;
    exp->dry_run = opts->dry_run;
    arena_init(&exp->arena);
    arena_t *a = &exp->arena;
    exp->path = path;
    exp->text = text;
    err->code = ERR_OK;
    err_code_t rc;
    if ((rc = yaml_load(a, text, len, path, &exp->root, err))) return rc;
    if (exp->root->kind != NODE_MAP)
        return err_set(err, ERR_CONFIG, exp->root->mark,
                       "expected a mapping of settings (steps:, problem:, optimizer:, ...) at the top, got %s",
                       node_kind_name(exp->root));
    if ((rc = include_resolve(a, path, exp->root, &exp->root, err))) return rc;
    if ((rc = apply_overrides(exp, opts->overrides, opts->n_overrides, err))) return rc;
    if ((rc = search_expand(a, exp->root, NULL, exp->max_cells, &exp->root, err))) return rc;
    if ((rc = expand_run_searches(exp, err))) return rc;
    if ((rc = seed_grid_axis_as_seeds(exp, err))) return rc;
    const node_t *root = exp->root;
    for (size_t i = 0; i < root->n; i++)
        if (!key_allowed(root->pairs[i].key, AT_TOP)) return key_unknown(&root->pairs[i], "", AT_TOP, err);

    /* sweep-wide settings, each read by its handler (absent: NULL) */
    for (size_t i = 0; i < N_OF(config_keys); i++)
        if (config_keys[i].read && (rc = config_keys[i].read(exp, node_get(root, config_keys[i].key), err))) return rc;
    if (opts->output && !(exp->output = arena_strdup(a, opts->output))) return nomem(err);

    /* the base: everything but the meta keys */
    node_t *base = node_new(a, NODE_MAP, root->mark, ORIGIN_BASE);
    if (!base || !(base->pairs = arena_alloc(a, (root->n + 1) * sizeof *base->pairs))) return nomem(err);
    for (size_t i = 0; i < root->n; i++)
        if (!key_allowed(root->pairs[i].key, AT_META)) base->pairs[base->n++] = root->pairs[i];
    exp->base = base;

    /* axes: run, grid..., seed; or a ragged study's columns (ragged.h) */
    const node_t *runs = node_get(root, "runs"), *grid = node_get(root, "grid"), *exclude = node_get(root, "exclude");
    bool seeded = node_get(root, "repeat") || node_get(root, "seeds");
    if (grid && grid->kind != NODE_MAP)
        return err_set(err, ERR_CONFIG, grid->mark, "grid must be a mapping of dotted paths to value lists, e.g. "
                       "grid: {optimizer.lr: [0.01, 0.1]}; got %s", node_kind_name(grid));
    size_t n_grid = grid ? grid->n : 0;
    axis_t run_axis = {0};
    node_t **own = runs && runs->kind == NODE_SEQ ? arena_alloc(a, (runs->n + 1) * sizeof *own) : NULL;
    if (runs && runs->kind == NODE_SEQ && !own) return nomem(err);
    if (own) memset(own, 0, (runs->n + 1) * sizeof *own);
    if (runs && (rc = build_run_axis(exp, runs, &run_axis, own, err))) return rc;
    const node_t *select = node_get(root, "select");
    bool ragged = exclude || select; /* a study with a final phase is always ragged (select.h) */
    for (size_t r = 0; own && r < run_axis.n; r++) ragged |= own[r] != NULL;
    if (ragged) {
        if ((rc = build_ragged(exp, runs ? &run_axis : NULL, grid, seeded, own, exclude, err))) return rc;
    } else {
        exp->n_axes = (runs != NULL) + n_grid + seeded;
        if (exp->n_axes > 32) return err_set(err, ERR_CONFIG, grid->mark, "too many axes (%zu; at most 32)", exp->n_axes);
        if ((rc = check_cell_count(exp, runs, grid, seeded, err))) return rc;
        exp->axes = arena_alloc(a, (exp->n_axes + 1) * sizeof *exp->axes);
        if (!exp->axes) return nomem(err);
        size_t k = 0;
        if (runs) exp->axes[k++] = run_axis;
        if (grid && (rc = build_grid_axes(exp, grid, &exp->axes[k], ORIGIN_GRID, err))) return rc;
        k += n_grid;
        if (seeded && (rc = build_seed_axis(exp, exp->root, exp->seed, &exp->axes[k++], err))) return rc;
        exp->n_cells = 1;
        for (size_t i = 0; i < exp->n_axes; i++) exp->n_cells *= exp->axes[i].n; /* bounded by check_cell_count */
        if ((rc = no_ops_check_axes(exp->axes, exp->n_axes, err))) return rc;
    }
    if ((rc = build_cells(exp, reg, err)) ||
        (rc = no_ops_check_settings(exp, opts->overrides, opts->n_overrides, reg, err)))
        return rc;
    if (exp->kind->finish && (rc = exp->kind->finish(exp, err))) return rc;
    if (select && !exp->objectives_only && (rc = select_expand(exp, select, err))) return rc;
    if ((rc = collect_plugins(exp, reg, err)) || (rc = collect_inputs(exp, err))) return rc;
    return build_resolved_text(exp, reg, err);
}

/* ---- the resolved config -------------------------------------------- */

/* tree with its optimizer written out in full (schema_full_mapping), as it
 * reads merged onto under (when given); tree itself when it names no
 * optimizer plugin. */
static node_t *with_full_optimizer(arena_t *a, node_t *tree, node_t *under, const registry_t *reg)
{
    const node_t *merged = under ? node_merge(a, under, tree) : tree;
    const node_t *onode = merged ? node_get(merged, "optimizer") : NULL;
    const node_t *name = onode ? node_get(onode, "name") : NULL;
    const plugin_entry_t *pe = name && name->kind == NODE_SCALAR ? registry_find(reg, RUNNER_KIND_OPTIMIZER, name->text) : NULL;
    node_t *full = pe ? schema_full_mapping(a, pe->desc, "name", onode) : NULL, *out = tree;
    err_t ignored;
    if (full) node_set_path(a, tree, "optimizer", full, (mark_t){0}, &out, &ignored);
    return out;
}

static bool names_optimizer(const node_t *map) { return node_get(node_get(map, "optimizer"), "name") != NULL; }

/* Write each optimizer out in full (every parameter, defaults included)
 * where its name is set, so the record reads on its own and does not
 * depend on the plugin's defaults: in each run that names its optimizer
 * (merged onto the base, as its cells see it), and in the base when some
 * cell takes the base's optimizer. Never where another layer switches the
 * optimizer under it: the base's sgd defaults would then leak into a run
 * of momentum (momentum=0 for 0.9). When a grid axis sets the optimizer's
 * name, nothing is filled in: the per-cell optimizer_config holds every
 * value. */
static node_t *fill_optimizers(experiment_t *exp, node_t *tree, const registry_t *reg)
{
    arena_t *a = &exp->arena;
    err_t ignored;
    for (size_t k = 0; k < exp->n_axes; k++)
        for (size_t j = 0; exp->axes[k].kind == AXIS_GRID && j < exp->axes[k].n_paths; j++)
            if (!strcmp(exp->axes[k].paths[j], "optimizer") || !strcmp(exp->axes[k].paths[j], "optimizer.name"))
                return tree;
    const node_t *runs = node_get(tree, "runs");
    bool base_used = !runs || runs->kind != NODE_SEQ;
    if (runs && runs->kind == NODE_SEQ) {
        node_t *list = node_new(a, NODE_SEQ, runs->mark, ORIGIN_BASE);
        if (!list || !(list->items = arena_alloc(a, (runs->n + 1) * sizeof *list->items))) return tree;
        for (size_t i = 0; i < runs->n; i++) {
            node_t *run = runs->items[i];
            bool named = run->kind == NODE_MAP && names_optimizer(run);
            base_used |= !named;
            list->items[list->n++] = named ? with_full_optimizer(a, run, exp->base, reg) : run;
        }
        node_set_path(a, tree, "runs", list, (mark_t){0}, &tree, &ignored);
    }
    if (base_used && names_optimizer(exp->base)) {
        node_t *base = with_full_optimizer(a, exp->base, NULL, reg);
        node_set_path(a, tree, "optimizer", (node_t *)node_get(base, "optimizer"), (mark_t){0}, &tree, &ignored);
    }
    return tree;
}

/* The config as it ran, runnable on its own and computing the same cells
 * (test_experiment loads it back and compares every cell's record): after
 * --set, with name, output (-o's, when given) and seed explicit, generated
 * grid values written out, and optimizers in full (fill_optimizers). */
static err_code_t build_resolved_text(experiment_t *exp, const registry_t *reg, err_t *err)
{
    arena_t *a = &exp->arena;
    node_t *tree = exp->root, *v;
    mark_t m = {0};
    err_t ignored;
    if ((v = node_scalar(a, exp->name, m, ORIGIN_BASE))) v->quoted = true, node_set_path(a, tree, "name", v, m, &tree, &ignored);
    if ((v = node_scalar(a, exp->output, m, ORIGIN_BASE))) v->quoted = true, node_set_path(a, tree, "output", v, m, &tree, &ignored);
    if ((v = node_scalar(a, arena_printf(a, "%" PRId64, exp->seed), m, ORIGIN_BASE)))
        node_set_path(a, tree, "seed", v, m, &tree, &ignored);
    if (!exp->objectives_only) tree = fill_optimizers(exp, tree, reg);
    if (!exp->objectives_only && exp->kind->fill_defaults) tree = exp->kind->fill_defaults(exp, tree, reg);
    for (size_t i = 0; i < exp->n_axes; i++) {
        const axis_t *ax = &exp->axes[i];
        if (ax->kind != AXIS_GRID) continue;
        node_t *list = node_new(a, NODE_SEQ, m, ORIGIN_BASE);
        if (!list) return nomem(err);
        list->items = ax->values;
        list->n = ax->n;
        node_t *grid = node_get(tree, "grid");
        if (!grid || !node_get_pair(grid, ax->name)) continue; /* a run's own: written by write_own_grid_values */
        /* replace this axis' entry in a copy of the grid map */
        node_t *g = node_new(a, NODE_MAP, grid->mark, ORIGIN_BASE);
        if (!g || !(g->pairs = arena_alloc(a, grid->n * sizeof *g->pairs))) return nomem(err);
        for (size_t j = 0; j < grid->n; j++) {
            g->pairs[j] = grid->pairs[j];
            if (!strcmp(grid->pairs[j].key, ax->name)) g->pairs[j].value = list;
        }
        g->n = grid->n;
        node_set_path(a, tree, "grid", g, m, &tree, &ignored);
    }
    exp->resolved_text = node_to_block(a, tree);
    return exp->resolved_text ? ERR_OK : nomem(err);
}

void experiment_free(experiment_t *exp)
{
    if (exp->kind && exp->kind->release) exp->kind->release(exp);
    arena_free(&exp->arena);
}
