/* train.c: the `train:` mapping, checked. */
#include "cells/training/train.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const train_keys[] = {"epochs", "iterations", "batch",       "limit",      "weight_decay",
                                         "schedule", "clip",     "eval",        "activations", "record_loss"};
static const char *const activation_keys[] = {"bins", "range"};
static const char *const eval_keys[] = {"every", "train_samples", "test_samples"};
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

/* train.eval: {every: N, train_samples: N, test_samples: N}; defaults:
 * every epoch, every sample. More samples than there are: all of them. */
static err_code_t parse_eval(const node_t *e, train_config_t *tc, err_t *err)
{
    tc->eval_every = 1;
    tc->eval_train = tc->n_train;
    tc->eval_test = tc->data->test.n;
    if (!e) return ERR_OK;
    if (e->kind != NODE_MAP)
        return err_set(err, ERR_CONFIG, e->mark, "expected train.eval: {every: 2, train_samples: 1000, test_samples: "
                       "1000} (each optional), got %s", node_kind_name(e));
    err_code_t rc = check_keys(e, " in train.eval", eval_keys, N_OF(eval_keys), err);
    int64_t every = 1, n_tr = (int64_t)tc->n_train, n_te = (int64_t)tc->data->test.n;
    const node_t *v;
    if (!rc && (v = node_get(e, "every"))) rc = node_to_int64(v, "train.eval.every", 1, 1000000, &every, err);
    if (!rc && (v = node_get(e, "train_samples"))) rc = node_to_int64(v, "train.eval.train_samples", 1, INT64_C(1) << 40, &n_tr, err);
    if (!rc && (v = node_get(e, "test_samples"))) rc = node_to_int64(v, "train.eval.test_samples", 1, INT64_C(1) << 40, &n_te, err);
    if (rc) return rc;
    tc->eval_every = (uint32_t)every;
    tc->eval_train = (size_t)n_tr < tc->n_train ? (size_t)n_tr : tc->n_train;
    tc->eval_test = (size_t)n_te < tc->data->test.n ? (size_t)n_te : tc->data->test.n;
    return ERR_OK;
}

/* train.activations: {bins: 30, range: [0, 1]} (both optional). */
static err_code_t parse_activations(const node_t *h, train_config_t *tc, err_t *err)
{
    tc->hist_bins = 0;
    if (!h) return ERR_OK;
    if (h->kind != NODE_MAP)
        return err_set(err, ERR_CONFIG, h->mark, "expected train.activations: {bins: 30, range: [0, 1]} (each "
                       "optional), got %s", node_kind_name(h));
    err_code_t rc = check_keys(h, " in train.activations", activation_keys, N_OF(activation_keys), err);
    int64_t bins = 30;
    const node_t *v;
    if (!rc && (v = node_get(h, "bins"))) rc = node_to_int64(v, "train.activations.bins", 1, 1000, &bins, err);
    if (rc) return rc;
    tc->hist_bins = (uint32_t)bins, tc->hist_lo = 0.0, tc->hist_hi = 1.0;
    if ((v = node_get(h, "range"))) {
        if (v->kind != NODE_SEQ || v->n != 2)
            return err_set(err, ERR_CONFIG, v->mark, "train.activations.range is [low, high], like [0, 1]");
        if ((rc = node_to_double(v->items[0], "the range's low end", &tc->hist_lo, err)) ||
            (rc = node_to_double(v->items[1], "the range's high end", &tc->hist_hi, err)))
            return rc;
        if (!(tc->hist_lo < tc->hist_hi) || !isfinite(tc->hist_hi - tc->hist_lo))
            return err_set(err, ERR_CONFIG, v->mark, "train.activations.range needs low < high, got [%g, %g]",
                           tc->hist_lo, tc->hist_hi);
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
    /* data.validation as a mapping: held out of the samples this cell may use */
    size_t n_val = 0;
    if (data->holdout.per_cell) {
        n_val = data->holdout.count ? data->holdout.count : (size_t)floor(data->holdout.fraction * (double)limit);
        if (n_val == 0 || n_val >= (size_t)limit)
            return err_set(err, ERR_CONFIG, data->holdout.mark,
                           "data.validation holds out %zu of the %" PRId64 " samples this cell trains on (train.limit or "
                           "the whole training set): it needs at least 1 and must leave some to train on",
                           n_val, limit);
    }
    if (batch > limit - (int64_t)n_val)
        return err_set(err, ERR_CONFIG, node_get(train, "batch")->mark,
                       "train.batch is %" PRId64 " but only %" PRId64 " training samples are used", batch,
                       limit - (int64_t)n_val);
    tc->model = model;
    tc->data = data;
    tc->n_pool = (size_t)limit;
    tc->n_val = n_val;
    tc->n_train = (size_t)limit - n_val;
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
        (rc = parse_clip(node_get(train, "clip"), &tc->clip, err)) ||
        (rc = parse_eval(node_get(train, "eval"), tc, err)) ||
        (rc = parse_activations(node_get(train, "activations"), tc, err)))
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
    /* each only when given: the records of configs without them stay as they were */
    if (tc->text && data->holdout.per_cell)
        tc->text = arena_printf(a, "%s validation=%zu%s", tc->text, tc->n_val, data->holdout.shuffle ? " shuffled" : "");
    if (tc->text && tc->hist_bins) {
        char lo[32], hi[32];
        format_double(lo, sizeof lo, tc->hist_lo);
        format_double(hi, sizeof hi, tc->hist_hi);
        tc->text = arena_printf(a, "%s activations=(bins=%u, range=[%s, %s])", tc->text, tc->hist_bins, lo, hi);
    }
    if (tc->text && node_get(train, "eval"))
        tc->text = arena_printf(a, "%s eval=(every=%u, train_samples=%zu, test_samples=%zu)", tc->text, tc->eval_every,
                                tc->eval_train, tc->eval_test);
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
