/* dataset.c: IDX files -> scaled float samples. */
#include "cells/training/dataset.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/memory.h"
#include "base/number_text.h"
#include "cells/training/idx.h"
#include "cells/training/random_data.h"

/* data: {format: random}: random_data.c. */
static bool is_random(const node_t *data)
{
    const node_t *f = data && data->kind == NODE_MAP ? node_get(data, "format") : NULL;
    return f && f->kind == NODE_SCALAR && !strcmp(f->text, "random");
}

/* Every key of data:, with its default (dataset.h documents them). */
static const char *const data_keys[] = {"format", "dir", "train_images", "train_labels", "test_images",
                                        "test_labels", "standardize", "flatten", "validation"};
static const char *const data_defaults[] = {"idx", DATASET_DEFAULT_DIR, "train-images-idx3-ubyte",
                                            "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                                            "t10k-labels-idx1-ubyte", "false", "false", "0"};
#define N_KEYS (sizeof data_keys / sizeof data_keys[0])
enum { K_FORMAT, K_DIR, K_TRAIN_IMAGES, K_TRAIN_LABELS, K_TEST_IMAGES, K_TEST_LABELS };

node_t *dataset_fill_defaults(arena_t *a, const node_t *data)
{
    if (data && data->kind != NODE_MAP) return (node_t *)data;
    if (is_random(data)) return random_data_fill_defaults(a, data);
    mark_t m = data ? data->mark : (mark_t){0};
    node_t *full = node_new(a, NODE_MAP, m, data ? data->origin : 0);
    if (!full || !(full->pairs = arena_alloc(a, N_KEYS * sizeof *full->pairs))) return NULL;
    for (size_t k = 0; k < N_KEYS; k++) {
        node_t *v = data ? node_get(data, data_keys[k]) : NULL;
        if (!v && !(v = node_scalar(a, data_defaults[k], m, full->origin))) return NULL;
        full->pairs[full->n++] = (node_pair_t){data_keys[k], m, v};
    }
    return full;
}

/* data.validation: {count: N | fraction: F, shuffle: true}. */
static err_code_t parse_holdout(const node_t *v, dataset_t *ds, err_t *err)
{
    static const char *const keys[] = {"count", "fraction", "shuffle"};
    for (size_t i = 0; i < v->n; i++) {
        size_t k = 0;
        while (k < 3 && strcmp(v->pairs[i].key, keys[k])) k++;
        if (k == 3) return node_unknown_key(&v->pairs[i], " in data.validation", keys, 3, err);
    }
    const node_t *count = node_get(v, "count"), *fraction = node_get(v, "fraction"), *shuffle = node_get(v, "shuffle");
    if (!!count == !!fraction)
        return err_set(err, ERR_CONFIG, v->mark,
                       "data.validation takes count (samples) or fraction (of the samples a cell trains on), not %s",
                       count ? "both" : "neither");
    ds->holdout.per_cell = true;
    ds->holdout.shuffle = true;
    ds->holdout.mark = v->mark;
    err_code_t rc;
    if (count) {
        int64_t n;
        if ((rc = node_to_int64(count, "data.validation.count", 1, INT64_C(1) << 40, &n, err))) return rc;
        ds->holdout.count = (size_t)n;
    } else {
        if ((rc = node_to_double(fraction, "data.validation.fraction", &ds->holdout.fraction, err))) return rc;
        if (!(ds->holdout.fraction > 0.0 && ds->holdout.fraction < 1.0))
            return err_set(err, ERR_CONFIG, fraction->mark, "data.validation.fraction is in (0, 1), got %g",
                           ds->holdout.fraction);
    }
    if (shuffle && (rc = node_to_bool(shuffle, "data.validation.shuffle", &ds->holdout.shuffle, err))) return rc;
    return ERR_OK;
}

static err_code_t get_string(const node_t *data, size_t k, const char **out, err_t *err)
{
    const char *key = data_keys[k];
    const node_t *v = data ? node_get(data, key) : NULL;
    *out = data_defaults[k];
    if (!v) return ERR_OK;
    char what[64];
    snprintf(what, sizeof what, "data.%s", key);
    return node_to_string(v, what, out, err);
}

/* dir/name, or dir/name.gz when only that exists. */
static const char *data_path(arena_t *a, const char *dir, const char *name)
{
    const char *p = name[0] == '/' ? name : arena_printf(a, "%s/%s", dir, name);
    if (!p || access(p, F_OK) == 0) return p;
    const char *gz = arena_printf(a, "%s.gz", p);
    return gz && access(gz, F_OK) == 0 ? gz : p;
}

static void to_float(const uint8_t *src, size_t n, float *dst)
{
    for (size_t i = 0; i < n; i++) dst[i] = (float)src[i] * (1.0f / 255.0f);
}

err_code_t dataset_load(arena_t *a, const node_t *data, bool shapes_only, dataset_t *ds, err_t *err)
{
    memset(ds, 0, sizeof *ds);
    if (data && data->kind != NODE_MAP)
        return err_set(err, ERR_CONFIG, data->mark, "expected a mapping for data, like {format: idx, dir: %s}, got %s",
                       DATASET_DEFAULT_DIR, node_kind_name(data));
    if (is_random(data)) {
        const node_t *v = node_get(data, "validation");
        err_code_t rc = v && v->kind == NODE_MAP ? parse_holdout(v, ds, err) : ERR_OK;
        if (rc == ERR_OK) rc = random_data_load(a, data, shapes_only, ds, err);
        if (rc == ERR_OK && v && v->kind != NODE_MAP) { /* the number form: the last samples, as for idx */
            double fraction;
            if ((rc = node_to_double(v, "data.validation", &fraction, err))) return rc;
            if (!(fraction >= 0.0 && fraction < 1.0))
                return err_set(err, ERR_CONFIG, v->mark, "data.validation is the fraction held out, in [0, 1); got %g",
                               fraction);
            size_t n_val = (size_t)floor(fraction * (double)ds->train.n), S = runner_shape_size(&ds->shape);
            if (n_val >= ds->train.n) n_val = ds->train.n - 1;
            ds->train.n -= n_val;
            ds->validation = (split_t){n_val, ds->train.x ? ds->train.x + ds->train.n * S : NULL,
                                       ds->train.y ? ds->train.y + ds->train.n : NULL};
        }
        return rc;
    }
    for (size_t i = 0; data && i < data->n; i++) {
        size_t k = 0;
        while (k < N_KEYS && strcmp(data->pairs[i].key, data_keys[k])) k++;
        if (k == N_KEYS) return node_unknown_key(&data->pairs[i], " in data", data_keys, N_KEYS, err);
    }
    const char *format, *dir, *names[4];
    err_code_t rc;
    if ((rc = get_string(data, K_FORMAT, &format, err)) || (rc = get_string(data, K_DIR, &dir, err)) ||
        (rc = get_string(data, K_TRAIN_IMAGES, &names[0], err)) || (rc = get_string(data, K_TRAIN_LABELS, &names[1], err)) ||
        (rc = get_string(data, K_TEST_IMAGES, &names[2], err)) || (rc = get_string(data, K_TEST_LABELS, &names[3], err)))
        return rc;
    if (strcmp(format, "idx"))
        return err_set(err, ERR_CONFIG, node_get(data, "format")->mark,
                       "unknown data format '%s' (supported: idx, the MNIST file format)", format);
    bool standardize = false, flatten = false;
    double validation = 0.0;
    const node_t *v;
    if (data && (v = node_get(data, "standardize")) && (rc = node_to_bool(v, "data.standardize", &standardize, err))) return rc;
    if (data && (v = node_get(data, "flatten")) && (rc = node_to_bool(v, "data.flatten", &flatten, err))) return rc;
    if (data && (v = node_get(data, "validation")) && v->kind == NODE_MAP) {
        if ((rc = parse_holdout(v, ds, err))) return rc;
    } else if (data && v) {
        if ((rc = node_to_double(v, "data.validation", &validation, err))) return rc;
        if (!(validation >= 0.0 && validation < 1.0))
            return err_set(err, ERR_CONFIG, v->mark, "data.validation is the fraction held out, in [0, 1); got %g",
                           validation);
    }
    idx_dataset_t tr, te;
    mark_t at = data ? data->mark : (mark_t){0};
    for (int i = 0; i < 4; i++)
        if (!(ds->files[i].path = data_path(a, dir, names[i]))) return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
    if ((rc = idx_read_dataset(ds->files[0].path, ds->files[1].path, shapes_only, &tr, err))) {
        if (rc == ERR_IO) err_append(err, "; the training set of data (dir: %s)", dir);
        return rc;
    }
    if ((rc = idx_read_dataset(ds->files[2].path, ds->files[3].path, shapes_only, &te, err))) {
        idx_dataset_free(&tr);
        return rc;
    }
    if (te.rows != tr.rows || te.cols != tr.cols || te.n_classes > tr.n_classes) {
        rc = err_set(err, ERR_CONFIG, at,
                     "the test set (%zu x %zu images, %u classes) does not match the training set (%zu x %zu, %u classes)",
                     te.rows, te.cols, te.n_classes, tr.rows, tr.cols, tr.n_classes);
        goto out;
    }
    if (tr.n_classes < 2) {
        rc = err_set(err, ERR_CONFIG, at, "the training labels hold %u class; classification needs at least 2",
                     tr.n_classes);
        goto out;
    }
    size_t S = tr.rows * tr.cols, n_val = (size_t)floor(validation * (double)tr.n);
    if (n_val >= tr.n) n_val = tr.n - 1;
    ds->shape = flatten ? (runner_shape_t){.rank = 1, .dim = {(uint32_t)S}}
                        : (runner_shape_t){.rank = 3, .dim = {1, (uint32_t)tr.rows, (uint32_t)tr.cols}};
    ds->n_classes = tr.n_classes;
    const idx_array_t *read[4] = {&tr.images, &tr.labels, &te.images, &te.labels};
    for (int i = 0; i < 4; i++) memcpy(ds->files[i].sha256, read[i]->sha256, SHA256_BYTES);
    size_t total = tr.n + te.n;
    if (shapes_only) { /* --dry-run: the sizes, no samples */
        ds->train = (split_t){tr.n - n_val, NULL, NULL};
        ds->validation = (split_t){n_val, NULL, NULL};
        ds->test = (split_t){te.n, NULL, NULL};
        goto label;
    }
    /* the float copy is 4 bytes a pixel: checked before it is made (sizes
     * from file headers; each bounded by IDX_MAX_BYTES, so no overflow) */
    uint64_t bytes = (uint64_t)total * S * sizeof(float) + (uint64_t)total * sizeof(int32_t);
    if (bytes > memory_limit_bytes()) {
        char need[32], have[32];
        format_bytes(need, sizeof need, bytes);
        format_bytes(have, sizeof have, memory_physical_bytes());
        rc = err_set(err, ERR_CONFIG, at, "the data set (%zu samples of %zu x %zu) takes %s as floats, more than 3/4 of "
                     "this machine's %s", total, tr.rows, tr.cols, need, have);
        goto out;
    }
    char *b = malloc(bytes);
    if (!b) {
        rc = err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory for %zu samples of data", total);
        goto out;
    }
    ds->block = b;
    float *x = (float *)b;
    int32_t *y = (int32_t *)(b + total * S * sizeof(float));
    to_float(tr.images.data, tr.n * S, x);
    to_float(te.images.data, te.n * S, x + tr.n * S);
    for (size_t i = 0; i < tr.n; i++) y[i] = tr.labels.data[i];
    for (size_t i = 0; i < te.n; i++) y[tr.n + i] = te.labels.data[i];
    ds->train = (split_t){tr.n - n_val, x, y};
    ds->validation = (split_t){n_val, x + (tr.n - n_val) * S, y + tr.n - n_val};
    ds->test = (split_t){te.n, x + tr.n * S, y + tr.n};
    if (standardize) {
        /* statistics of the samples trained on, applied to all */
        double sum = 0.0, sq = 0.0;
        size_t m = ds->train.n * S;
        for (size_t i = 0; i < m; i++) sum += x[i], sq += (double)x[i] * x[i];
        double mean = sum / (double)m, sd = sqrt(fmax(sq / (double)m - mean * mean, 1e-12));
        for (size_t i = 0; i < total * S; i++) x[i] = (float)(((double)x[i] - mean) / sd);
    }
label:
    if (ds->holdout.per_cell)
        ds->label = arena_printf(a, "%s (%zu train, validation held out by each cell, %zu test, %zu x %zu, %zu classes)",
                                 dir, ds->train.n, ds->test.n, tr.rows, tr.cols, ds->n_classes);
    else
        ds->label = arena_printf(a, "%s (%zu train, %zu validation, %zu test, %zu x %zu, %zu classes)", dir, ds->train.n,
                                 ds->validation.n, ds->test.n, tr.rows, tr.cols, ds->n_classes);
    rc = ds->label ? ERR_OK : err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
out:
    idx_dataset_free(&tr);
    idx_dataset_free(&te);
    return rc;
}

void dataset_free(dataset_t *ds)
{
    free(ds->block);
    memset(ds, 0, sizeof *ds);
}
