/* search.c: search: as a grid axis of drawn values (search.h). */
#include "config/search.h"

#include <math.h>
#include <runner/fixed_math.h>
#include <runner/plugin.h>
#include <stdio.h>
#include <string.h>

#include "base/number_text.h"
#include "base/sobol.h"

typedef enum { D_UNIFORM, D_LOGUNIFORM, D_INTUNIFORM, D_CHOICE } dist_kind_t;
static const char *const dist_names[] = {"uniform", "loguniform", "intuniform", "choice"};
static const char *const search_keys[] = {"method", "samples", "seed", "space"};

typedef struct {
    dist_kind_t kind;
    double lo, hi;
    const node_t *choices;
} dist_t;

static err_code_t nomem(err_t *err) { return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory"); }

static err_code_t parse_dist(const char *path, const node_t *v, dist_t *d, err_t *err)
{
    if (v->kind != NODE_MAP || v->n != 1)
        return err_set(err, ERR_CONFIG, v->mark, "search.space.%s is one of {uniform: [lo, hi]}, {loguniform: [lo, hi]}, "
                       "{intuniform: [lo, hi]} or {choice: [...]}", path);
    const node_pair_t *p = &v->pairs[0];
    size_t k = 0;
    while (k < 4 && strcmp(p->key, dist_names[k])) k++;
    if (k == 4) {
        const char *near = closest_match(p->key, dist_names, 4);
        return err_set(err, ERR_CONFIG, p->key_mark, "unknown distribution '%s' (%s%s%s)", p->key,
                       near ? "did you mean '" : "uniform, loguniform, intuniform or choice", near ? near : "",
                       near ? "'?" : "");
    }
    d->kind = (dist_kind_t)k;
    const node_t *args = p->value;
    if (d->kind == D_CHOICE) {
        if (args->kind != NODE_SEQ || args->n == 0)
            return err_set(err, ERR_CONFIG, args->mark, "choice takes a non-empty list of values, like [sgd, adam]");
        d->choices = args;
        return ERR_OK;
    }
    if (args->kind != NODE_SEQ || args->n != 2)
        return err_set(err, ERR_CONFIG, args->mark, "%s takes [lo, hi]", p->key);
    err_code_t rc;
    if ((rc = node_to_double(args->items[0], "lo", &d->lo, err)) || (rc = node_to_double(args->items[1], "hi", &d->hi, err)))
        return rc;
    if (!(d->lo < d->hi) || !isfinite(d->hi - d->lo))
        return err_set(err, ERR_CONFIG, args->mark, "%s needs lo < hi, got [%g, %g]", p->key, d->lo, d->hi);
    if (d->kind == D_LOGUNIFORM && !(d->lo > 0))
        return err_set(err, ERR_CONFIG, args->items[0]->mark, "loguniform needs lo > 0 (it draws log values), got %g",
                       d->lo);
    if (d->kind == D_INTUNIFORM && (d->lo != floor(d->lo) || d->hi != floor(d->hi) || fabs(d->lo) > 9e15 || fabs(d->hi) > 9e15))
        return err_set(err, ERR_CONFIG, args->mark, "intuniform takes whole numbers, got [%g, %g]", d->lo, d->hi);
    return ERR_OK;
}

/* The value of one draw u in [0, 1). */
static node_t *draw(arena_t *a, const dist_t *d, double u, mark_t mark)
{
    if (d->kind == D_CHOICE) {
        size_t i = (size_t)(u * (double)d->choices->n);
        return d->choices->items[i < d->choices->n ? i : d->choices->n - 1];
    }
    double v = u == 0.0                  ? d->lo /* exactly: exp(log(lo)) is not always lo */
               : d->kind == D_UNIFORM    ? d->lo + (d->hi - d->lo) * u
               : d->kind == D_LOGUNIFORM ? runner_exp(runner_log(d->lo) + (runner_log(d->hi) - runner_log(d->lo)) * u)
                                         : d->lo + floor(u * (d->hi - d->lo + 1));
    if (d->kind == D_INTUNIFORM && v > d->hi) v = d->hi;
    char buf[40];
    if (d->kind == D_INTUNIFORM) snprintf(buf, sizeof buf, "%.0f", v);
    else format_double(buf, sizeof buf, v);
    char *text = arena_strdup(a, buf);
    return text ? node_scalar(a, text, mark, 0) : NULL;
}

err_code_t search_expand(arena_t *a, node_t *root, const node_t *outer_seed, uint64_t max_samples, node_t **out,
                         err_t *err)
{
    *out = root;
    const node_t *s = node_get(root, "search");
    if (!s) return ERR_OK;
    if (s->kind != NODE_MAP)
        return err_set(err, ERR_CONFIG, s->mark, "search is a mapping: {method: random, samples: 50, space: {PATH: "
                       "{loguniform: [1e-4, 1e-1]}}}");
    for (size_t i = 0; i < s->n; i++) {
        size_t k = 0;
        while (k < 4 && strcmp(s->pairs[i].key, search_keys[k])) k++;
        if (k == 4) return node_unknown_key(&s->pairs[i], " in search", search_keys, 4, err);
    }
    const node_t *method = node_get(s, "method"), *samples = node_get(s, "samples"), *space = node_get(s, "space"),
                 *seed_node = node_get(s, "seed");
    if (!method || !samples || !space)
        return err_set(err, ERR_CONFIG, s->mark, "search needs method (random or sobol), samples and space");
    const char *m;
    err_code_t rc;
    if ((rc = node_to_string(method, "search.method", &m, err))) return rc;
    bool sobol = !strcmp(m, "sobol");
    if (!sobol && strcmp(m, "random"))
        return err_set(err, ERR_CONFIG, method->mark, "unknown search method '%s' (random or sobol)", m);
    int64_t n, seed = 0;
    if ((rc = node_to_int64(samples, "search.samples", 1, (int64_t)(max_samples < INT64_MAX ? max_samples : INT64_MAX), &n,
                            err)))
        return rc;
    if (seed_node && sobol)
        return err_set(err, ERR_CONFIG, seed_node->mark, "search.seed is for method random; the Sobol sequence is fixed");
    const node_t *top_seed = node_get(root, "seed");
    if (!top_seed) top_seed = outer_seed;
    if (seed_node) rc = node_to_int64(seed_node, "search.seed", INT64_MIN, INT64_MAX, &seed, err);
    else if (top_seed && top_seed->kind == NODE_SCALAR) rc = node_to_int64(top_seed, "seed", INT64_MIN, INT64_MAX, &seed, err);
    if (rc) return rc;
    if (space->kind != NODE_MAP || space->n == 0)
        return err_set(err, ERR_CONFIG, space->mark, "search.space maps dotted paths to distributions, like "
                       "{optimizer.lr: {loguniform: [1e-4, 1e-1]}}");
    size_t dims = space->n;
    if (sobol && dims > SOBOL_MAX_DIMS)
        return err_set(err, ERR_CONFIG, space->mark, "a Sobol search takes at most %d paths, got %zu", SOBOL_MAX_DIMS, dims);
    dist_t *d = arena_alloc(a, dims * sizeof *d);
    if (!d) return nomem(err);
    size_t name_len = 1;
    for (size_t j = 0; j < dims; j++) {
        if ((rc = parse_dist(space->pairs[j].key, space->pairs[j].value, &d[j], err))) return rc;
        if (strchr(space->pairs[j].key, '+'))
            return err_set(err, ERR_CONFIG, space->pairs[j].key_mark, "a search path is one dotted path, without '+'");
        name_len += strlen(space->pairs[j].key) + 1;
    }
    /* the axis: name a+b+..., values [v_a, v_b, ...] (one path: v) */
    char *name = arena_alloc(a, name_len);
    if (!name) return nomem(err);
    name[0] = 0;
    for (size_t j = 0; j < dims; j++) strcat(strcat(name, j ? "+" : ""), space->pairs[j].key);
    node_t *values = node_new(a, NODE_SEQ, s->mark, 0);
    if (!values || !(values->items = arena_alloc(a, (size_t)n * sizeof *values->items))) return nomem(err);
    runner_rng_t rng = {(uint64_t)seed ^ 0x7365617263680000ull}; /* "search" */
    for (int64_t i = 0; i < n; i++) {
        node_t *item = dims == 1 ? NULL : node_new(a, NODE_SEQ, s->mark, 0);
        if (dims > 1 && (!item || !(item->items = arena_alloc(a, dims * sizeof *item->items)))) return nomem(err);
        for (size_t j = 0; j < dims; j++) {
            double u = sobol ? sobol_point((uint32_t)i, j) : runner_rng_uniform(&rng);
            node_t *v = draw(a, &d[j], u, space->pairs[j].key_mark);
            if (!v) return nomem(err);
            if (dims == 1) item = v;
            else item->items[item->n++] = v;
        }
        values->items[values->n++] = item;
    }
    /* root: search: gone, the axis appended to grid: (made when absent) */
    const node_t *grid = node_get(root, "grid");
    if (grid && grid->kind != NODE_MAP) return ERR_OK; /* the grid's own error comes later */
    node_t *g = node_new(a, NODE_MAP, grid ? grid->mark : s->mark, grid ? grid->origin : 0);
    if (!g || !(g->pairs = arena_alloc(a, ((grid ? grid->n : 0) + 1) * sizeof *g->pairs))) return nomem(err);
    for (size_t i = 0; grid && i < grid->n; i++) g->pairs[g->n++] = grid->pairs[i];
    g->pairs[g->n++] = (node_pair_t){name, space->mark, values};
    node_t *r = node_new(a, NODE_MAP, root->mark, root->origin);
    if (!r || !(r->pairs = arena_alloc(a, (root->n + 1) * sizeof *r->pairs))) return nomem(err);
    for (size_t i = 0; i < root->n; i++) {
        if (!strcmp(root->pairs[i].key, "search") || !strcmp(root->pairs[i].key, "grid")) continue;
        r->pairs[r->n++] = root->pairs[i];
    }
    r->pairs[r->n++] = (node_pair_t){"grid", grid ? node_get_pair(root, "grid")->key_mark : s->mark, g};
    *out = r;
    return ERR_OK;
}
