/* duplicates.c: cells that compute the same thing twice (duplicates.h). */
#include "config/duplicates.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Two FNV-1a streams with different offsets: 128 bits, so that distinct
 * cells colliding is out of reach of any sweep's size. */
static void mix(cell_digest_t *d, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        d->h[0] = (d->h[0] ^ b[i]) * 0x100000001b3ull;
        d->h[1] = (d->h[1] ^ b[i]) * 0x100000001b3ull;
    }
}

static void mix_text(cell_digest_t *d, const char *s)
{
    mix(d, s ? s : "", s ? strlen(s) + 1 : 1);
}

void cell_digest(arena_t *scratch, const node_t *tree, const char *optimizer, int64_t seed_value, cell_digest_t *d)
{
    d->h[0] = 0xcbf29ce484222325ull;
    d->h[1] = 0x84222325cbf29ce4ull;
    for (size_t i = 0; i < tree->n; i++) {
        const char *key = tree->pairs[i].key;
        if (!strcmp(key, "optimizer") || !strcmp(key, "seed")) continue; /* as resolved, below */
        mix_text(d, key);
        mix_text(d, node_to_flow(scratch, tree->pairs[i].value));
    }
    mix_text(d, optimizer);
    mix(d, &seed_value, sizeof seed_value);
}

typedef struct {
    cell_digest_t d;
    size_t cell;
} digest_at_t;

static int by_digest_then_cell(const void *x, const void *y)
{
    const digest_at_t *a = x, *b = y;
    for (int i = 0; i < 2; i++)
        if (a->d.h[i] != b->d.h[i]) return a->d.h[i] < b->d.h[i] ? -1 : 1;
    return a->cell < b->cell ? -1 : a->cell > b->cell;
}

/* The error for cells a < b alike, differing in grid axis k. */
static err_code_t report(const experiment_t *exp, size_t a, size_t b, size_t k, const size_t *ib, err_t *err)
{
    const axis_t *ax = &exp->axes[k];
    char la[256], lb[256], entry[512];
    experiment_cell_label(exp, a, la, sizeof la);
    experiment_cell_label(exp, b, lb, sizeof lb);
    /* an exclude: entry for the later cell: its run and what picks its
     * optimizer (what decides whether the axis reaches it), then the axis */
    size_t used = (size_t)snprintf(entry, sizeof entry, "{");
    for (size_t j = 0; j <= exp->n_axes && used < sizeof entry; j++) {
        size_t q = j == exp->n_axes ? k : j;
        const axis_t *aq = &exp->axes[q];
        bool picks = aq->kind == AXIS_RUN;
        for (size_t p = 0; aq->kind == AXIS_GRID && p < aq->n_paths; p++)
            picks |= !strcmp(aq->paths[p], "optimizer") || !strcmp(aq->paths[p], "optimizer.name");
        if ((j < exp->n_axes && (q == k || !picks)) || ib[q] == AXIS_ABSENT) continue;
        used += (size_t)snprintf(entry + used, sizeof entry - used, "%s%s: %s", used > 1 ? ", " : "", aq->name,
                                 aq->labels[ib[q]]);
    }
    if (used < sizeof entry) snprintf(entry + used, sizeof entry - used, "}");
    return err_set(err, ERR_CONFIG, ax->mark,
                   "grid axis '%s' changes nothing in cells %zu (%s) and %zu (%s): they would compute the same thing "
                   "twice (the value does not reach them: their optimizer has no such parameter, or nothing reads it); "
                   "give the axis only to the runs it applies to (a run's own grid:), or leave such cells out with "
                   "exclude: entries like %s (one for each value but the first)",
                   ax->name, a, la, b, lb, entry);
}

err_code_t duplicates_check(const experiment_t *exp, const cell_digest_t *digests, err_t *err)
{
    size_t n = exp->n_cells;
    if (n < 2) return ERR_OK;
    digest_at_t *v = malloc(n * sizeof *v);
    if (!v) return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
    for (size_t c = 0; c < n; c++) v[c] = (digest_at_t){digests[c], c};
    qsort(v, n, sizeof *v, by_digest_then_cell);
    err_code_t rc = ERR_OK;
    size_t ia[64], ib[64];
    for (size_t i = 1; i < n && !rc; i++) {
        if (memcmp(&v[i].d, &v[i - 1].d, sizeof v[i].d)) continue;
        size_t a = v[i - 1].cell, b = v[i].cell;
        experiment_cell_coords(exp, a, ia);
        experiment_cell_coords(exp, b, ib);
        size_t grid_axis = SIZE_MAX;
        bool other_run = false;
        for (size_t k = 0; k < exp->n_axes; k++) {
            if (ia[k] == ib[k]) continue;
            if (exp->axes[k].kind == AXIS_RUN) other_run = true;
            /* a value listed twice is asked for twice (the crash tests repeat cells so) */
            bool same_value = ia[k] != AXIS_ABSENT && ib[k] != AXIS_ABSENT &&
                              !strcmp(exp->axes[k].labels[ia[k]], exp->axes[k].labels[ib[k]]);
            if (exp->axes[k].kind == AXIS_GRID && grid_axis == SIZE_MAX && !same_value) grid_axis = k;
        }
        if (!other_run && grid_axis != SIZE_MAX) rc = report(exp, a, b, grid_axis, ib, err);
    }
    free(v);
    return rc;
}
