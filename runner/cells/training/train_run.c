/* train_run.c: the training loop of one cell. */
#include <math.h>
#include <runner/fixed_math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/size_math.h"
#include "base/text_safety.h"
#include "cells/training/gather.h"
#include "cells/training/network.h"
#include "cells/training/optimizer_step.h"
#include "cells/training/train.h"
#include "config/experiment.h"
#include "results/format.h"

#define STATE_ALIGN 64

size_t train_cell_bytes(const cell_t *cell)
{
    const train_config_t *tc = cell->train;
    const runner_optimizer_ops_t *ops = cell->opt->plugin->desc->optimizer;
    size_t b = size_add(network_bytes(tc->model, tc->batch), ops->state_bytes(tc->model->n_params, cell->opt->hp));
    return size_add(b, STATE_ALIGN + (tc->n_train + tc->n_pool) * sizeof(uint32_t) + tc->batch * sizeof(int32_t));
}

/* Samples of a split: rows first.. of x and y, or the rows idx lists. */
typedef struct {
    const float *x;
    const int32_t *y;
    const uint32_t *idx; /* NULL: consecutive rows */
    size_t n;
} samples_t;

/* train.activations: counts of each layer's outputs per bin, as numpy's
 * histogram bins them (equal widths over [lo, hi], the last bin closed). */
typedef struct {
    uint32_t bins;
    double lo, hi;
    double *counts; /* (layers, bins) */
    double *total;  /* (layers): every output, in range or not */
} histogram_t;

static void histogram_add(histogram_t *h, const network_t *net, size_t B)
{
    const model_t *m = net->model;
    double scale = (double)h->bins / (h->hi - h->lo);
    for (size_t i = 0; i < m->n_layers; i++) {
        const float *a = net->acts[i + 1];
        size_t n = B * runner_shape_size(&m->layers[i].out);
        double *c = h->counts + i * h->bins;
        for (size_t k = 0; k < n; k++) {
            double x = a[k];
            if (!(x >= h->lo && x <= h->hi)) continue; /* NaN too */
            size_t b = (size_t)((x - h->lo) * scale);
            c[b < h->bins ? b : h->bins - 1]++;
        }
        h->total[i] += (double)n;
    }
}

/* Mean loss and accuracy over samples, in batches, in evaluation mode.
 * labels: a batch of scratch for gathered labels; hist (may be NULL):
 * every layer's outputs counted into it. */
static int evaluate(network_t *net, const samples_t *s, int32_t *labels, histogram_t *hist, float *accuracy,
                    float *loss, runner_err_t *err)
{
    if (s->n == 0) {
        *accuracy = *loss = NAN;
        return RUNNER_OK;
    }
    size_t W = runner_shape_size(&net->model->input), K = runner_shape_size(&net->model->loss.in);
    size_t right = 0;
    double total = 0.0;
    for (size_t at = 0; at < s->n; at += net->batch) {
        size_t B = s->n - at < net->batch ? s->n - at : net->batch;
        const int32_t *y = s->y + at;
        const batch_rows_t src = {s->x, s->y, W, s->idx, NULL};
        gather_rows(&src, at, B, network_input(net), s->idx ? labels : NULL);
        if (s->idx) y = labels;
        double l;
        if (network_forward(net, B, 0, err) != RUNNER_OK || network_loss(net, B, y, &l, err) != RUNNER_OK)
            return RUNNER_FAIL;
        if (hist) histogram_add(hist, net, B);
        total += l * (double)B;
        const float *scores = network_output(net);
        for (size_t r = 0; r < B; r++) {
            size_t best = 0;
            for (size_t k = 1; k < K; k++)
                if (scores[r * K + k] > scores[r * K + best]) best = k;
            right += best == (size_t)y[r];
        }
    }
    *accuracy = (float)((double)right / (double)s->n);
    *loss = (float)(total / (double)s->n);
    return RUNNER_OK;
}

/* The cell's samples: which training rows it trains on, which it holds out. */
typedef struct {
    const uint32_t *train_idx; /* NULL: rows 0..n_train-1 */
    const uint32_t *val_idx;   /* NULL: the data set's own validation split */
} cell_split_t;

/* Evaluation e (after e epochs): the first eval_train training samples,
 * the validation samples, the first eval_test test samples. */
static int evaluate_all(network_t *net, const train_config_t *tc, const cell_split_t *cs, int32_t *labels,
                        histogram_t *hist, const train_outputs_t *o, size_t e, runner_err_t *err)
{
    const dataset_t *d = tc->data;
    samples_t tr = {d->train.x, d->train.y, cs->train_idx, tc->eval_train};
    samples_t va = cs->val_idx ? (samples_t){d->train.x, d->train.y, cs->val_idx, tc->n_val}
                               : (samples_t){d->validation.x, d->validation.y, NULL, d->validation.n};
    samples_t te = {d->test.x, d->test.y, NULL, tc->eval_test};
    if (hist) {
        memset(hist->counts, 0, tc->model->n_layers * hist->bins * sizeof *hist->counts);
        memset(hist->total, 0, tc->model->n_layers * sizeof *hist->total);
    }
    if (evaluate(net, &tr, labels, hist, &o->train_accuracy[e], &o->train_eval_loss[e], err) != RUNNER_OK ||
        evaluate(net, &va, labels, NULL, &o->validation_accuracy[e], &o->validation_loss[e], err) != RUNNER_OK ||
        evaluate(net, &te, labels, NULL, &o->test_accuracy[e], &o->test_loss[e], err) != RUNNER_OK)
        return RUNNER_FAIL;
    if (hist) { /* fractions of each layer's outputs; layers the model lacks stay NaN */
        float *out = o->activation_histogram + e * o->hist_layers * hist->bins;
        for (size_t i = 0; i < tc->model->n_layers; i++)
            for (uint32_t b = 0; b < hist->bins; b++)
                out[i * hist->bins + b] = hist->total[i] > 0 ? (float)(hist->counts[i * hist->bins + b] / hist->total[i])
                                                             : NAN;
    }
    return RUNNER_OK;
}

/* The evaluations' variables at e: NaN (an epoch that train.eval skips). */
static void skip_evaluation(const train_outputs_t *o, size_t e)
{
    o->train_accuracy[e] = o->train_eval_loss[e] = o->validation_accuracy[e] = o->validation_loss[e] = NAN;
    o->test_accuracy[e] = o->test_loss[e] = NAN;
}

static void fill_nan(float *p, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) p[i] = NAN;
}

/* Fisher-Yates from the shuffle stream. */
static void shuffle(uint32_t *order, size_t n, runner_rng_t *rng)
{
    for (size_t i = 0; i < n; i++) order[i] = (uint32_t)i;
    for (size_t i = n; i-- > 1;) {
        size_t j = (size_t)(runner_rng_next(rng) % (i + 1));
        uint32_t t = order[i];
        order[i] = order[j], order[j] = t;
    }
}

/* data.validation as a mapping: the cell's first n_pool training rows,
 * shuffled from its seed: value (so every setting of one seed holds out
 * the same samples) unless shuffle is false; the first n_val held out, as
 * the textbook splits. pool holds n_pool entries. */
static void split_pool(const train_config_t *tc, int64_t seed_value, uint32_t *pool, cell_split_t *cs)
{
    runner_rng_t rng = {(uint64_t)seed_value ^ 0x76616C6964617465ull}; /* "validate" */
    if (tc->data->holdout.shuffle) shuffle(pool, tc->n_pool, &rng);
    else
        for (size_t i = 0; i < tc->n_pool; i++) pool[i] = (uint32_t)i;
    cs->val_idx = pool;
    cs->train_idx = pool + tc->n_val;
}

/* The L2 term of the loss, 0.5 * wd * |w|^2, and its gradient wd * w. */
static double weight_decay(float *grads, const float *params, size_t n, double wd)
{
    if (wd == 0.0) return 0.0;
    double sq = 0.0;
    float f = (float)wd;
    for (size_t i = 0; i < n; i++) {
        sq += (double)params[i] * params[i];
        grads[i] += f * params[i];
    }
    return 0.5 * wd * sq;
}

/* The gradient's norm over all parameters (order p; INFINITY: the largest
 * magnitude), summed in double; then clip as torch.nn.utils does. Returns
 * the norm before clipping. torch sums each tensor in float32, so its norm
 * (and the clip coefficient) may differ from this one in the last bits. */
static double clip_gradient(float *g, size_t n, const clip_t *c)
{
    double p = c->kind == CLIP_NORM ? c->norm_type : 2.0, norm = 0.0;
    if (isinf(p)) {
        for (size_t i = 0; i < n; i++) norm = fabs((double)g[i]) > norm || g[i] != g[i] ? fabs((double)g[i]) : norm;
    } else {
        for (size_t i = 0; i < n; i++) norm += p == 2.0 ? (double)g[i] * g[i] : runner_pow(fabs((double)g[i]), p);
        norm = p == 2.0 ? sqrt(norm) : runner_pow(norm, 1.0 / p);
    }
    if (c->kind == CLIP_NORM) {
        /* torch: clip_coef = max_norm / (total_norm + 1e-6), clamped to 1, in float32 */
        const float coef = (float)c->max / ((float)norm + 1e-6f);
        if (!(coef >= 1.0f)) /* NaN too: torch multiplies by it */
            for (size_t i = 0; i < n; i++) g[i] *= coef;
    } else if (c->kind == CLIP_VALUE) {
        const float v = (float)c->max;
        for (size_t i = 0; i < n; i++) g[i] = g[i] < -v ? -v : g[i] > v ? v : g[i]; /* clamp keeps NaN */
    }
    return norm;
}

/* 0.5 * wd * |w|^2, the L2 term of the loss alone. */
static double l2_term(const float *params, size_t n, double wd)
{
    if (wd == 0.0) return 0.0;
    double sq = 0.0;
    for (size_t i = 0; i < n; i++) sq += (double)params[i] * params[i];
    return 0.5 * wd * sq;
}

/* The index of the optimizer's lr in its schema, or -1. */
static int lr_index(const runner_plugin_t *d)
{
    for (uint32_t i = 0; i < d->n_params; i++)
        if (!strcmp(d->params[i].name, "lr")) return (int)i;
    return -1;
}

int train_run(const cell_t *cell, const train_outputs_t *o, int (*poll)(void *arg, double done), void *poll_arg,
              runner_err_t *err)
{
    const train_config_t *tc = cell->train;
    const model_t *m = tc->model;
    const runner_plugin_t *od = cell->opt->plugin->desc;
    const runner_optimizer_ops_t *ops = od->optimizer;
    const optimizer_step_t stepper = optimizer_step_of(od);
    const size_t n = m->n_params, W = runner_shape_size(&m->input), E = tc->epochs + 1;
    int status = STATUS_OK;
    size_t steps_done = 0, evals_done = 0;
    /* everything the cell needs, allocated before its first step */
    network_t net;
    err_t e = {0};
    size_t state_bytes = size_round_up(ops->state_bytes(n, cell->opt->hp), STATE_ALIGN);
    void *state = aligned_alloc(STATE_ALIGN, state_bytes ? state_bytes : STATE_ALIGN);
    uint32_t *order = malloc(tc->n_train * sizeof *order);
    uint32_t *pool = tc->n_val ? malloc(tc->n_pool * sizeof *pool) : NULL;
    cell_split_t split = {NULL, NULL};
    /* train.activations: counted at each evaluation; a file that has the
     * variable for other cells gets NaN from this one */
    histogram_t hist = {tc->hist_bins, tc->hist_lo, tc->hist_hi, NULL, NULL}, *hist_p = NULL;
    if (o->activation_histogram) fill_nan(o->activation_histogram, 0, o->hist_floats);
    if (o->activation_histogram && tc->hist_bins) {
        hist.counts = calloc(m->n_layers * tc->hist_bins + 1, sizeof *hist.counts);
        hist.total = calloc(m->n_layers + 1, sizeof *hist.total);
        hist_p = &hist;
    }
    int32_t *labels = malloc(tc->batch * sizeof *labels);
    runner_rng_t order_rng = {cell->seed ^ 0x73687566666C6500ull}; /* "shuffle" */
    int lr_at = lr_index(od);
    bool scheduled = schedule_changes_lr(tc->schedule) && lr_at >= 0;
    lr_run_t lr_run;
    schedule_start(&lr_run, tc->schedule, lr_at >= 0 ? cell->opt->hp[lr_at] : 0.0, tc->per_epoch, tc->iterations);
    if (network_create(&net, m, tc->batch, &e) != ERR_OK || !state || !order || !labels || (tc->n_val && !pool) ||
        (hist_p && (!hist.counts || !hist.total))) {
        /* the outputs are still all written: NaN, like any unfinished run */
        snprintf(err->msg, sizeof err->msg, "out of memory for the cell (%zu bytes)", train_cell_bytes(cell));
        status = STATUS_FAILED;
        goto done;
    }
    if (tc->n_val) split_pool(tc, cell->seed_value, pool, &split);
    if (network_init(&net, cell->seed, err) != RUNNER_OK || ops->init(state, n, cell->opt->hp, cell->seed, err) != RUNNER_OK ||
        evaluate_all(&net, tc, &split, labels, hist_p, o, 0, err) != RUNNER_OK) {
        status = STATUS_FAILED;
        goto done;
    }
    o->epoch_seconds[0] = 0.0f;
    evals_done = 1;
    const batch_rows_t batch = {tc->data->train.x, tc->data->train.y, W, order, split.train_idx};
    double epoch_start = now_seconds();
    for (uint64_t t = 0; t < tc->iterations; t++) {
        size_t in_epoch = (size_t)(t % tc->per_epoch);
        if (in_epoch == 0) shuffle(order, tc->n_train, &order_rng);
        if (poll && poll(poll_arg, (double)t / (double)tc->iterations)) {
            status = STATUS_PENDING;
            goto done;
        }
        size_t first = in_epoch * tc->batch;
        size_t B = tc->n_train - first < tc->batch ? tc->n_train - first : tc->batch;
        gather_rows(&batch, first, B, network_input(&net), labels);
        double loss;
        if (network_forward(&net, B, 1, err) != RUNNER_OK || network_backward(&net, B, labels, &loss, err) != RUNNER_OK) {
            status = STATUS_FAILED;
            goto done;
        }
        if (o->train_data_loss) o->train_data_loss[t] = (float)loss;
        loss += weight_decay(net.grads, net.params, n, tc->weight_decay);
        /* a pass over the gradient only for a cell that clips, or a file that records the norm */
        if (tc->clip.kind != CLIP_NONE || o->grad_norm) {
            double norm = clip_gradient(net.grads, n, &tc->clip);
            if (o->grad_norm) o->grad_norm[t] = (float)norm;
        }
        o->train_loss[t] = (float)loss;
        steps_done = t + 1;
        if (!isfinite(loss)) {
            status = STATUS_DIVERGED;
            goto done;
        }
        double lr = scheduled ? schedule_lr_now(&lr_run) : lr_at >= 0 ? cell->opt->hp[lr_at] : NAN;
        if (scheduled) ops->set_lr(state, lr);
        if (o->learning_rate) o->learning_rate[t] = (float)lr;
        if (optimizer_step(&stepper, state, n, net.params, net.grads, err) != RUNNER_OK) {
            status = STATUS_FAILED;
            goto done;
        }
        schedule_after_step(&lr_run);
        if (tc->record_after) { /* the textbook's curve: one more forward pass of the batch */
            double after;
            if (network_forward(&net, B, 0, err) != RUNNER_OK || network_loss(&net, B, labels, &after, err) != RUNNER_OK) {
                status = STATUS_FAILED;
                goto done;
            }
            if (o->train_data_loss) o->train_data_loss[t] = (float)after;
            after += l2_term(net.params, n, tc->weight_decay);
            o->train_loss[t] = (float)after;
            if (!isfinite(after)) {
                status = STATUS_DIVERGED;
                goto done;
            }
        }
        if (in_epoch + 1 == tc->per_epoch || t + 1 == tc->iterations) {
            o->epoch_seconds[evals_done] = (float)(now_seconds() - epoch_start);
            /* train.eval.every: after every so many epochs, and after the last */
            bool evaluated = evals_done % tc->eval_every == 0 || t + 1 == tc->iterations;
            if (!evaluated) {
                skip_evaluation(o, evals_done);
            } else if (evaluate_all(&net, tc, &split, labels, hist_p, o, evals_done, err) != RUNNER_OK) {
                status = STATUS_FAILED;
                goto done;
            }
            /* ReduceLROnPlateau follows the validation loss, else the training samples' */
            bool has_val = tc->n_val || tc->data->validation.n;
            float metric = has_val ? o->validation_loss[evals_done] : o->train_eval_loss[evals_done];
            schedule_after_epoch(&lr_run, metric, evaluated);
            evals_done++;
            epoch_start = now_seconds();
        }
    }
done:
    fill_nan(o->train_loss, steps_done, tc->iterations);
    if (o->grad_norm) fill_nan(o->grad_norm, steps_done, tc->iterations);
    if (o->learning_rate) fill_nan(o->learning_rate, steps_done, tc->iterations);
    if (o->train_data_loss) fill_nan(o->train_data_loss, steps_done, tc->iterations);
    float *per_eval[] = {o->train_accuracy, o->train_eval_loss, o->validation_accuracy, o->validation_loss,
                         o->test_accuracy, o->test_loss, o->epoch_seconds};
    for (size_t k = 0; k < sizeof per_eval / sizeof per_eval[0]; k++) fill_nan(per_eval[k], evals_done, E);
    network_destroy(&net);
    free(state), free(order), free(labels), free(pool), free(hist.counts), free(hist.total);
    err->msg[RUNNER_ERR_MAX - 1] = 0;
    text_make_safe(err->msg); /* a plugin's words go to the terminal and the file */
    return status;
}
