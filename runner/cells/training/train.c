/* train.c: the `train:` mapping, checked. */
#include "cells/training/train.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const train_keys[] = {"epochs",   "iterations", "batch", "limit",
                                         "weight_decay", "schedule", "clip",  "record_loss"};
static const char *const clip_keys[] = {"norm", "norm_type", "value"};
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static err_code_t check_keys(const node_t *m, const char *where, const char *const *keys, size_t n, err_t *err)
{
    for (size_t i = 0; i < m->n; i++) {
        size_t k = 0;
        while (k < n && strcmp(m->pairs[i].key, keys[k])) k++;
        if (k == n) return node_unknown_key(&m->pairs[i], where, keys, n, err);
    }
    return ERR_OK;
}

static err_code_t get_int(const node_t *m, const char *key, int64_t lo, int64_t hi, int64_t *out, err_t *err)
{
    const node_t *v = node_get(m, key);
    if (!v) return ERR_OK;
    char what[48];
    snprintf(what, sizeof what, "train.%s", key);
    return node_to_int64(v, what, lo, hi, out, err);
}

static err_code_t get_double(const node_t *m, const char *where, const char *key, double lo, double hi, double *out,
                             err_t *err)
{
    const node_t *v = node_get(m, key);
    if (!v) return ERR_OK;
    char what[48];
    snprintf(what, sizeof what, "%s.%s", where, key);
    err_code_t rc = node_to_double(v, what, out, err);
    if (rc) return rc;
    if (!(*out >= lo && *out <= hi)) return err_set(err, ERR_CONFIG, v->mark, "%s must be in [%g, %g], got %g", what, lo, hi, *out);
    return ERR_OK;
}

/* train.clip: {norm: X[, norm_type: P]} or {value: X}. */
static err_code_t parse_clip(const node_t *c, clip_t *out, err_t *err)
{
    *out = (clip_t){CLIP_NONE, 0, 2};
    if (!c) return ERR_OK;
    if (c->kind != NODE_MAP)
        return err_set(err, ERR_CONFIG, c->mark, "expected train.clip: {norm: 1.0} (optionally norm_type: 2 or inf) or "
                       "{value: 0.5}, got %s", node_kind_name(c));
    err_code_t rc = check_keys(c, " in train.clip", clip_keys, N_OF(clip_keys), err);
    if (rc) return rc;
    const node_t *norm = node_get(c, "norm"), *value = node_get(c, "value"), *type = node_get(c, "norm_type");
    if (!!norm == !!value)
        return err_set(err, ERR_CONFIG, c->mark, "train.clip takes either norm (clip_grad_norm_) or value "
                       "(clip_grad_value_), not %s", norm ? "both" : "neither");
    if (type && !norm) return err_set(err, ERR_CONFIG, type->mark, "norm_type goes with norm, not value");
    out->kind = norm ? CLIP_NORM : CLIP_VALUE;
    if ((rc = get_double(c, "train.clip", norm ? "norm" : "value", 1e-300, 1e300, &out->max, err))) return rc;
    if (type && type->kind == NODE_SCALAR && !strcmp(type->text, "inf")) {
        out->norm_type = INFINITY;
    } else if (type && (rc = get_double(c, "train.clip", "norm_type", 1e-9, 1e9, &out->norm_type, err))) {
        return rc;
    }
    return ERR_OK;
}

err_code_t train_config_parse(arena_t *a, const node_t *train, const model_t *model, const dataset_t *data,
                              train_config_t **out, err_t *err)
{
    if (!train || train->kind != NODE_MAP)
        return err_set(err, ERR_CONFIG, train ? train->mark : (mark_t){0},
                       "training needs a mapping train:, like train: {epochs: 5, batch: 100}");
    err_code_t rc;
    if ((rc = check_keys(train, " in train", train_keys, N_OF(train_keys), err))) return rc;
    train_config_t *tc = arena_alloc(a, sizeof *tc);
    if (!tc) return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
    int64_t epochs = 0, iterations = 0, batch = 0, limit = (int64_t)data->train.n;
    if ((rc = get_int(train, "epochs", 1, 1000000, &epochs, err)) ||
        (rc = get_int(train, "iterations", 1, INT64_C(1) << 40, &iterations, err)) ||
        (rc = get_int(train, "batch", 1, 1 << 20, &batch, err)) ||
        (rc = get_int(train, "limit", 1, (int64_t)data->train.n, &limit, err)))
        return rc;
    if (!node_get(train, "batch"))
        return err_set(err, ERR_CONFIG, train->mark, "train needs 'batch': the samples per step (e.g. batch: 100)");
    if (!!epochs == !!iterations)
        return err_set(err, ERR_CONFIG, train->mark,
                       "train needs either 'epochs' (passes over the data) or 'iterations' (steps in all), not %s",
                       epochs ? "both" : "neither");
    if (batch > limit)
        return err_set(err, ERR_CONFIG, node_get(train, "batch")->mark,
                       "train.batch is %" PRId64 " but only %" PRId64 " training samples are used", batch, limit);
    tc->model = model;
    tc->data = data;
    tc->n_train = (size_t)limit;
    tc->batch = (uint32_t)batch;
    tc->per_epoch = (tc->n_train + tc->batch - 1) / tc->batch;
    tc->iterations = iterations ? (uint64_t)iterations : (uint64_t)epochs * tc->per_epoch;
    tc->epochs = (uint32_t)((tc->iterations + tc->per_epoch - 1) / tc->per_epoch);
    if (tc->iterations > (UINT64_C(1) << 31))
        return err_set(err, ERR_CONFIG, train->mark, "%" PRIu64 " steps in all is more than this runner records (2^31)",
                       tc->iterations);
    tc->weight_decay = 0.0;
    if ((rc = get_double(train, "train", "weight_decay", 0, 1e6, &tc->weight_decay, err)) ||
        (rc = schedule_parse(a, node_get(train, "schedule"), tc->per_epoch, tc->iterations, tc->epochs, &tc->schedule,
                             err)) ||
        (rc = parse_clip(node_get(train, "clip"), &tc->clip, err)))
        return rc;
    /* numbers in their shortest exact form: the record reads back as the value used */
    char wd[32];
    format_double(wd, sizeof wd, tc->weight_decay);
    tc->text = arena_printf(a, "iterations=%" PRIu64 " epochs=%u batch=%u samples=%zu weight_decay=%s schedule=%s",
                            tc->iterations, tc->epochs, tc->batch, tc->n_train, wd, tc->schedule->text);
    const node_t *record = node_get(train, "record_loss");
    if (record) {
        const char *when;
        if ((rc = node_to_string(record, "train.record_loss", &when, err))) return rc;
        if (strcmp(when, "before") && strcmp(when, "after"))
            return err_set(err, ERR_CONFIG, record->mark,
                           "train.record_loss is before (the batch's loss as the step computes it, torch's habit) or "
                           "after (the same batch after the step, in evaluation mode: the textbook's), got '%s'",
                           when);
        tc->record_after = !strcmp(when, "after");
    }
    if (tc->text && tc->record_after) tc->text = arena_printf(a, "%s record_loss=after", tc->text);
    if (tc->text && tc->clip.kind != CLIP_NONE) { /* only then: the records of configs without it stay as they were */
        char max[32], type[32];
        format_double(max, sizeof max, tc->clip.max);
        if (isinf(tc->clip.norm_type)) snprintf(type, sizeof type, "inf");
        else format_double(type, sizeof type, tc->clip.norm_type);
        tc->text = tc->clip.kind == CLIP_NORM ? arena_printf(a, "%s clip=norm(max=%s, norm_type=%s)", tc->text, max, type)
                                              : arena_printf(a, "%s clip=value(%s)", tc->text, max);
    }
    if (!tc->text) return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
    *out = tc;
    return ERR_OK;
}
