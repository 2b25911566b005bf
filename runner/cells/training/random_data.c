/* random_data.c: data: {format: random} (random_data.h). */
#include "cells/training/random_data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/memory.h"
#include "base/number_text.h"

static const char *const keys[] = {"format",       "samples", "test_samples", "shape",     "distribution",
                                   "classes",      "seed",    "validation"};
static const char *const defaults[] = {"random", NULL, "0", "[100]", "normal", "10", "0", "0"};
#define N_KEYS (sizeof keys / sizeof keys[0])

node_t *random_data_fill_defaults(arena_t *a, const node_t *data)
{
    node_t *full = node_new(a, NODE_MAP, data->mark, data->origin);
    if (!full || !(full->pairs = arena_alloc(a, N_KEYS * sizeof *full->pairs))) return NULL;
    for (size_t k = 0; k < N_KEYS; k++) {
        node_t *v = node_get(data, keys[k]);
        if (!v && !defaults[k]) continue; /* samples is required: its error comes from the load */
        if (!v && !strcmp(keys[k], "shape")) {
            /* a flow sequence: [100] */
            node_t *seq = node_new(a, NODE_SEQ, data->mark, full->origin), *item = node_scalar(a, "100", data->mark, full->origin);
            if (!seq || !item || !(seq->items = arena_alloc(a, sizeof *seq->items))) return NULL;
            seq->items[seq->n++] = item;
            v = seq;
        }
        if (!v && !(v = node_scalar(a, defaults[k], data->mark, full->origin))) return NULL;
        full->pairs[full->n++] = (node_pair_t){keys[k], data->mark, v};
    }
    return full;
}

static err_code_t get_count(const node_t *data, const char *key, int64_t lo, int64_t hi, int64_t *out, err_t *err)
{
    const node_t *v = node_get(data, key);
    if (!v) return ERR_OK;
    char what[48];
    snprintf(what, sizeof what, "data.%s", key);
    return node_to_int64(v, what, lo, hi, out, err);
}

err_code_t random_data_load(arena_t *a, const node_t *data, bool shapes_only, dataset_t *ds, err_t *err)
{
    for (size_t i = 0; i < data->n; i++) {
        size_t k = 0;
        while (k < N_KEYS && strcmp(data->pairs[i].key, keys[k])) k++;
        if (k == N_KEYS) return node_unknown_key(&data->pairs[i], " in data (format: random)", keys, N_KEYS, err);
    }
    if (!node_get(data, "samples"))
        return err_set(err, ERR_CONFIG, data->mark, "data of format random needs samples: how many to draw, like 1000");
    int64_t n_train = 0, n_test = 0, classes = 10, seed = 0;
    err_code_t rc;
    if ((rc = get_count(data, "samples", 1, INT64_C(1) << 32, &n_train, err)) ||
        (rc = get_count(data, "test_samples", 0, INT64_C(1) << 32, &n_test, err)) ||
        (rc = get_count(data, "classes", 2, 1 << 20, &classes, err)) ||
        (rc = get_count(data, "seed", INT64_MIN, INT64_MAX, &seed, err)))
        return rc;
    runner_shape_t shape = {.rank = 1, .dim = {100}};
    const node_t *sh = node_get(data, "shape");
    if (sh) {
        if (sh->kind != NODE_SEQ || (sh->n != 1 && sh->n != 3))
            return err_set(err, ERR_CONFIG, sh->mark, "data.shape is [features] or [channels, rows, columns], like [100]");
        shape.rank = (uint32_t)sh->n;
        for (size_t i = 0; i < sh->n; i++) {
            int64_t d;
            if ((rc = node_to_int64(sh->items[i], "a data.shape size", 1, 1 << 20, &d, err))) return rc;
            shape.dim[i] = (uint32_t)d;
        }
    }
    bool normal = true;
    const node_t *dist = node_get(data, "distribution");
    if (dist) {
        const char *d;
        if ((rc = node_to_string(dist, "data.distribution", &d, err))) return rc;
        if (strcmp(d, "normal") && strcmp(d, "uniform"))
            return err_set(err, ERR_CONFIG, dist->mark,
                           "data.distribution is normal (standard) or uniform (on [0, 1)), got '%s'", d);
        normal = !strcmp(d, "normal");
    }
    size_t S = runner_shape_size(&shape), total = (size_t)n_train + (size_t)n_test, bytes;
    if (__builtin_mul_overflow(total, S * sizeof(float) + sizeof(int32_t), &bytes) || bytes > memory_physical_bytes() / 4 * 3)
        return err_set(err, ERR_CONFIG, data->mark, "%zu random samples of %zu values take more than 3/4 of this machine's "
                       "memory as floats", total, S);
    ds->shape = shape;
    ds->n_classes = (size_t)classes;
    if (!shapes_only) {
        char *b = malloc(bytes ? bytes : 1);
        if (!b) return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory for %zu random samples", total);
        ds->block = b;
        float *x = (float *)b;
        int32_t *y = (int32_t *)(b + total * S * sizeof(float));
        runner_rng_t rng = {(uint64_t)seed};
        size_t splits[2][2] = {{0, (size_t)n_train}, {(size_t)n_train, total}};
        for (int s = 0; s < 2; s++) {
            for (size_t i = splits[s][0] * S; i < splits[s][1] * S; i++)
                x[i] = (float)(normal ? runner_rng_normal(&rng) : runner_rng_uniform(&rng));
            for (size_t i = splits[s][0]; i < splits[s][1]; i++) y[i] = (int32_t)(runner_rng_next(&rng) % (uint64_t)classes);
        }
        ds->train = (split_t){(size_t)n_train, x, y};
        ds->test = (split_t){(size_t)n_test, x + (size_t)n_train * S, y + n_train};
    } else {
        ds->train = (split_t){(size_t)n_train, NULL, NULL};
        ds->test = (split_t){(size_t)n_test, NULL, NULL};
    }
    char shape_text[64] = "";
    for (uint32_t i = 0, len = 0; i < shape.rank; i++)
        len += (uint32_t)snprintf(shape_text + len, sizeof shape_text - len, "%s%u", i ? " x " : "", shape.dim[i]);
    ds->label = arena_printf(a, "random %s (%zu train, %zu test, %s, %zu classes, seed %lld)", normal ? "normal" : "uniform",
                             (size_t)n_train, (size_t)n_test, shape_text, ds->n_classes, (long long)seed);
    return ds->label ? ERR_OK : err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
}
