/*
 * training_kind.c: the cell kind "training": a network (model:, loss:)
 * trained on data (data:) with train: settings. A cell takes seconds to
 * hours, so it runs alone, polling for a stop between steps; with fewer
 * cells than threads it gets every thread for its kernels.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "cells/kind.h"
#include "cells/training/train.h"
#include "config/experiment.h"
#include "plugin_host/descriptor.h"
#include "results/format.h"
#include "results/layout.h"

static const char *const training_keys[] = {"model", "loss", "data", "train", NULL};

/* The data sets an experiment loaded: one per distinct data: mapping. */
typedef struct {
    const char *key; /* the mapping as flow text */
    dataset_t data;
} loaded_data_t;

/* What the kind knows about all cells (exp->kind_data). */
typedef struct {
    size_t max_epochs;   /* evaluations are epochs 0..max_epochs */
    bool has_validation; /* some cell holds out a validation split */
    bool has_clip;       /* some cell clips its gradient: grad_norm is recorded */
    bool has_l2;         /* some cell's loss has a weight-decay term: train_data_loss is recorded */
    bool has_schedule;   /* some cell's rate changes: learning_rate is recorded */
    const train_config_t *hist; /* the first cell with train.activations: its bins and range, every cell's */
    size_t max_layers;   /* the largest model's layers: the histogram's layer dimension */
    char hist_long_name[320];
    int var_index[16];   /* the layout's index of each V_ variable; -1 when not in the file */
    loaded_data_t **datasets; /* each in the arena: cells point at them, so they never move */
    size_t n_datasets;
} training_data_t;

static training_data_t *data_of(const experiment_t *exp) { return exp->kind_data; }

static bool claims(const node_t *tree) { return node_get(tree, "model") != NULL; }

static err_code_t nomem(err_t *err) { return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory"); }

/* The dataset of a data: mapping (NULL: the defaults), loaded once per
 * distinct mapping in the experiment. */
static err_code_t dataset_for(experiment_t *exp, const node_t *data, const dataset_t **out, err_t *err)
{
    arena_t *a = &exp->arena;
    training_data_t *td = data_of(exp);
    const char *key = data ? node_to_flow(a, data) : "";
    if (!key) return nomem(err);
    for (size_t i = 0; i < td->n_datasets; i++)
        if (!strcmp(td->datasets[i]->key, key)) {
            *out = &td->datasets[i]->data;
            return ERR_OK;
        }
    /* an array of pointers: a second data set once moved the first (realloc)
     * under the cells that pointed into it */
    loaded_data_t **grown = realloc(td->datasets, (td->n_datasets + 1) * sizeof *grown);
    loaded_data_t *ld = grown ? arena_alloc(a, sizeof *ld) : NULL;
    if (grown) td->datasets = grown;
    if (!ld) return nomem(err);
    ld->key = key;
    err_code_t rc = dataset_load(a, data, exp->dry_run, &ld->data, err);
    if (rc) return rc;
    td->datasets[td->n_datasets++] = ld;
    *out = &ld->data;
    return ERR_OK;
}

static void release(experiment_t *exp)
{
    training_data_t *td = data_of(exp);
    if (!td) return;
    for (size_t i = 0; i < td->n_datasets; i++) dataset_free(&td->datasets[i]->data);
    free(td->datasets);
    td->datasets = NULL;
    td->n_datasets = 0;
}

/* What a run shares between its cells: the model, compiled for one dataset. */
typedef struct {
    model_t *model;
    const dataset_t *data;
} model_cache_t;

/* Data, model, loss and train: compiled (the model once per run when no
 * grid axis changes it). */
static err_code_t build(experiment_t *exp, const registry_t *reg, node_t *tree, cell_run_cache_t *run, cell_t *cell,
                        err_t *err)
{
    arena_t *a = &exp->arena;
    err_code_t rc;
    if (!exp->kind_data && !(exp->kind_data = arena_alloc(a, sizeof(training_data_t)))) return nomem(err);
    training_data_t *td = data_of(exp);
    if (node_get(tree, "problem"))
        return err_set(err, ERR_CONFIG, node_get_pair(tree, "problem")->key_mark,
                       "a cell has both problem: and model:; give one (problem: for an analytic objective, model: to "
                       "train a network)");
    if (node_get(tree, "steps"))
        return err_set(err, ERR_CONFIG, node_get_pair(tree, "steps")->key_mark,
                       "steps: is for analytic problems; a training cell takes train: {epochs: N} or {iterations: N}");
    const node_t *data_node = node_get(tree, "data"), *mnode = node_get(tree, "model"), *lnode = node_get(tree, "loss");
    const dataset_t *ds = NULL;
    if ((rc = dataset_for(exp, data_node, &ds, err))) return rc;
    bool shared = mnode == node_get(run->tree, "model") && lnode == node_get(run->tree, "loss");
    model_cache_t *mc = run->kind_cache;
    model_t *m;
    if (shared && mc && mc->data == ds) {
        m = mc->model;
    } else {
        if ((rc = model_compile(a, mnode, lnode, reg, ds->shape, ds->n_classes, &m, err))) return rc;
        if (shared) {
            if (!mc && !(mc = run->kind_cache = arena_alloc(a, sizeof *mc))) return nomem(err);
            *mc = (model_cache_t){m, ds};
        }
    }
    train_config_t *tc;
    const node_t *tnode = node_get(tree, "train");
    if (!tnode)
        return err_set(err, ERR_CONFIG, (mark_t){exp->path, 1, 1},
                       "missing 'train', e.g. train: {epochs: 5, batch: 100}");
    if ((rc = train_config_parse(a, tnode, m, ds, &tc, err))) return rc;
    cell->train = tc;
    cell->steps = (uint32_t)tc->iterations;
    if (tc->epochs > td->max_epochs) td->max_epochs = tc->epochs;
    if (ds->validation.n || ds->holdout.per_cell) td->has_validation = true;
    if (tc->clip.kind != CLIP_NONE) td->has_clip = true;
    if (tc->weight_decay != 0) td->has_l2 = true;
    if (schedule_changes_lr(tc->schedule)) td->has_schedule = true;
    if (m->n_layers > td->max_layers) td->max_layers = m->n_layers;
    if (tc->hist_bins) {
        /* one histogram variable: the same bins for every cell that has them */
        if (td->hist && (td->hist->hist_bins != tc->hist_bins || td->hist->hist_lo != tc->hist_lo ||
                         td->hist->hist_hi != tc->hist_hi))
            return err_set(err, ERR_CONFIG, node_get(tnode, "activations")->mark,
                           "train.activations differs between cells (%u bins over [%g, %g] in an earlier cell): the "
                           "file holds one histogram variable, so every cell takes the same bins and range",
                           td->hist->hist_bins, td->hist->hist_lo, td->hist->hist_hi);
        if (!td->hist) td->hist = tc;
    }
    return ERR_OK;
}

/* A schedule changes the optimizer's lr: it must have one and let it be set. */
static err_code_t check(const cell_t *cell, const node_t *tree, err_t *err)
{
    const runner_plugin_t *d = cell->opt->plugin->desc;
    if (plugin_extension(d, RUNNER_EXT_CLOSURE_STEP)) { /* L-BFGS: several evaluations a step */
        const node_t *opt = node_get(tree, "optimizer"), *name = node_get(opt, "name");
        return err_set(err, ERR_CONFIG, (name ? name : opt)->mark,
                       "optimizer '%s' evaluates the objective at points of its own choosing within a step (a "
                       "closure), which analytic problems (problem:) give and training does not: a batch gives one "
                       "gradient; use it on a problem, or train with another optimizer",
                       d->name);
    }
    if (!schedule_changes_lr(cell->train->schedule)) return ERR_OK;
    bool has_lr = false;
    for (uint32_t i = 0; i < d->n_params; i++) has_lr |= !strcmp(d->params[i].name, "lr");
    const runner_optimizer_ops_t *ops = d->optimizer;
    if (has_lr && RUNNER_HAS_FIELD(ops, runner_optimizer_ops_t, set_lr) && ops->set_lr) return ERR_OK;
    const node_t *s = node_get(node_get(tree, "train"), "schedule");
    return err_set(err, ERR_CONFIG, s->mark, "optimizer '%s' cannot follow a learning-rate schedule (%s)", d->name,
                   has_lr ? "its plugin has no set_lr, an ABI 1.1 operation" : "it has no lr");
}

/* The model's layers and loss. */
static void each_plugin(const cell_t *cell, void (*note)(void *ctx, const plugin_entry_t *pe), void *ctx)
{
    const model_t *m = cell->train->model;
    for (size_t i = 0; i < m->n_layers; i++) note(ctx, m->layers[i].plugin);
    note(ctx, m->loss.plugin);
}

/* The resolved config: data with every key, each model layer with every
 * parameter (in the base and in each run that gives its own model), and
 * train's weight_decay and schedule. Defaults that do not depend on another
 * value, so a run or axis that sets some keys sees the same as before; the
 * layers are left as written when a grid axis switches a layer's plugin. */
static node_t *fill_defaults(experiment_t *exp, node_t *tree, const registry_t *reg)
{
    arena_t *a = &exp->arena;
    err_t ignored;
    mark_t m = {0};
    node_t *v;
    if ((v = dataset_fill_defaults(a, node_get(tree, "data")))) node_set_path(a, tree, "data", v, m, &tree, &ignored);
    node_t *train = node_get(tree, "train");
    static const char *const train_defaults[][2] = {{"weight_decay", "0"}, {"schedule", "constant"}};
    for (size_t i = 0; train && train->kind == NODE_MAP && i < 2; i++)
        if (!node_get(train, train_defaults[i][0]) && (v = node_scalar(a, train_defaults[i][1], m, 0)))
            node_set_path(a, tree, arena_printf(a, "train.%s", train_defaults[i][0]), v, m, &tree, &ignored);
    for (size_t k = 0; k < exp->n_axes; k++)
        if (exp->axes[k].kind == AXIS_GRID && !strncmp(exp->axes[k].name, "model", 5) &&
            strstr(exp->axes[k].name, ".layer"))
            return tree;
    node_t *model = node_get(tree, "model");
    if (model && (v = model_fill_defaults(a, model, reg))) node_set_path(a, tree, "model", v, m, &tree, &ignored);
    const node_t *runs = node_get(tree, "runs");
    node_t *list = runs && runs->kind == NODE_SEQ ? node_new(a, NODE_SEQ, runs->mark, runs->origin) : NULL;
    if (!list || !(list->items = arena_alloc(a, (runs->n + 1) * sizeof *list->items))) return tree;
    for (size_t r = 0; r < runs->n; r++) {
        node_t *run = runs->items[r];
        if (run->kind == NODE_MAP && (model = node_get(run, "model")) && (v = model_fill_defaults(a, model, reg)))
            node_set_path(a, run, "model", v, m, &run, &ignored);
        list->items[list->n++] = run;
    }
    node_set_path(a, tree, "runs", list, m, &tree, &ignored);
    return tree;
}

/* The data files every loaded data set read. */
static void each_input(const experiment_t *exp, void (*note)(void *ctx, const input_file_t *file), void *ctx)
{
    const training_data_t *td = data_of(exp);
    for (size_t i = 0; td && i < td->n_datasets; i++)
        for (size_t f = 0; f < sizeof td->datasets[i]->data.files / sizeof td->datasets[i]->data.files[0]; f++)
            if (td->datasets[i]->data.files[f].path) note(ctx, &td->datasets[i]->data.files[f]); /* random data: none */
}

/* Variables, in this order (train_outputs_t's fields). */
enum { V_TRAIN_LOSS, V_TRAIN_ACCURACY, V_TRAIN_EPOCH_LOSS, V_TEST_ACCURACY, V_TEST_LOSS, V_EPOCH_SECONDS,
       V_VALIDATION_ACCURACY, V_VALIDATION_LOSS, V_GRAD_NORM, V_LEARNING_RATE, V_ACTIVATION_HISTOGRAM, V_TRAIN_DATA_LOSS,
       V__COUNT };
_Static_assert(V__COUNT <= 16, "var_index holds them");

static void layout(const experiment_t *exp, layout_t *l)
{
    int it = layout_add_dim(l, (layout_dim_t){"iteration", exp->max_steps, 1, NULL, "optimizer step (batch) from 1"});
    training_data_t *td = data_of(exp);
    int ep = layout_add_dim(l, (layout_dim_t){"epoch", td->max_epochs + 1, 0, NULL,
                                              "evaluation after this many epochs (0: before training)"});
    int *at = td->var_index;
    for (size_t v = 0; v < V__COUNT; v++) at[v] = -1;
    at[V_TRAIN_LOSS] = layout_add_var(l, "train_loss", "loss of each step's batch (with the weight-decay term)", it, -1);
    at[V_TRAIN_ACCURACY] = layout_add_var(l, "train_accuracy", "accuracy on the training samples, evaluation mode", ep, -1);
    at[V_TRAIN_EPOCH_LOSS] =
        layout_add_var(l, "train_epoch_loss", "mean loss on the training samples, evaluation mode", ep, -1);
    at[V_TEST_ACCURACY] = layout_add_var(l, "test_accuracy", "accuracy on the test set", ep, -1);
    at[V_TEST_LOSS] = layout_add_var(l, "test_loss", "mean loss on the test set", ep, -1);
    at[V_EPOCH_SECONDS] = layout_add_var(
        l, "epoch_seconds", "wall seconds of the epoch's training steps, evaluation excluded (0 at epoch 0)", ep, -1);
    if (td->has_validation) {
        at[V_VALIDATION_ACCURACY] = layout_add_var(l, "validation_accuracy", "accuracy on the validation split", ep, -1);
        at[V_VALIDATION_LOSS] = layout_add_var(l, "validation_loss", "mean loss on the validation split", ep, -1);
    }
    if (td->has_clip) /* only then: files of configs without train.clip keep their variables */
        at[V_GRAD_NORM] = layout_add_var(l, "grad_norm",
                                         "norm of the gradient over all parameters before clipping (the clip's "
                                         "norm_type; 2 for cells that do not clip)",
                                         it, -1);
    if (td->hist) {
        const train_config_t *h = td->hist;
        int ly = layout_add_dim(l, (layout_dim_t){"layer", td->max_layers, 0, NULL,
                                                  "the model's layer, from 0 (model_config lists them)"});
        int bn = layout_add_dim(l, (layout_dim_t){"bin", h->hist_bins, 0, NULL, "histogram bin, from 0"});
        snprintf(td->hist_long_name, sizeof td->hist_long_name,
                 "fraction of the layer's outputs over the evaluated training samples in each of %u equal bins "
                 "over [%g, %g] (numpy's bins: the last one holds the high end; outside: in none)",
                 h->hist_bins, h->hist_lo, h->hist_hi);
        at[V_ACTIVATION_HISTOGRAM] = layout_add_var3(l, "activation_histogram", td->hist_long_name, ep, ly, bn);
    }
    if (td->has_l2) /* only then, as grad_norm: train_loss is the data loss itself otherwise */
        at[V_TRAIN_DATA_LOSS] = layout_add_var(l, "train_data_loss",
                                               "loss of each step's batch without the weight-decay term (the data loss)",
                                               it, -1);
    if (td->has_schedule) /* only then, as grad_norm */
        at[V_LEARNING_RATE] = layout_add_var(l, "learning_rate",
                                             "the learning rate each step used (the schedule's, as torch steps it)",
                                             it, -1);
}

static const cell_record_t records[] = {
    {"model_config", "the layers, each with every parameter, and the loss"},
    {"train_config", "steps, epochs, batch, samples, weight decay and schedule"},
    {"data_config", "the data trained and evaluated on"},
};

static const char *record(const cell_t *cell, size_t i)
{
    const train_config_t *tc = cell->train;
    return i == 0 ? tc->model->text : i == 1 ? tc->text : tc->data->label;
}

static uint64_t thread_bytes(const experiment_t *exp)
{
    uint64_t cell_max = 0;
    for (size_t c = 0; c < exp->n_cells; c++) {
        uint64_t b = train_cell_bytes(&exp->cells[c]);
        if (b > cell_max) cell_max = b;
    }
    return cell_max;
}

/* Where a cell writes what the file does not keep (no validation split). */
static void *thread_create(const experiment_t *exp)
{
    return malloc((exp->max_steps + data_of(exp)->max_epochs + 1) * sizeof(float));
}

static void thread_destroy(void *buffers) { free(buffers); }

/* Before each step: how far the cell is, for the progress line; whether to stop. */
static int poll_step(void *arg, double done)
{
    const cell_env_t *env = arg;
    env->cell_progress(env->arg, done);
    return env->stopping(env->arg);
}

/* One cell at a time; a stop request abandons the cell in flight (it stays
 * pending: a training cell can take minutes). */
static void compute(const experiment_t *exp, const layout_t *l, batch_t *b, void *buffers, const cell_env_t *env)
{
    float *discard = buffers;
    for (size_t c = b->c0; c < b->c1; c++) {
        size_t r = c - b->c0;
        float *v[V__COUNT];
        const int *at = data_of(exp)->var_index;
        for (size_t i = 0; i < V__COUNT; i++) v[i] = at[i] >= 0 ? b->vars[at[i]] + r * l->vars[at[i]].per_cell : discard;
        train_outputs_t out = {.train_loss = v[V_TRAIN_LOSS],
                               .train_accuracy = v[V_TRAIN_ACCURACY],
                               .train_eval_loss = v[V_TRAIN_EPOCH_LOSS],
                               .validation_accuracy = v[V_VALIDATION_ACCURACY],
                               .validation_loss = v[V_VALIDATION_LOSS],
                               .test_accuracy = v[V_TEST_ACCURACY],
                               .test_loss = v[V_TEST_LOSS],
                               .epoch_seconds = v[V_EPOCH_SECONDS],
                               .grad_norm = at[V_GRAD_NORM] >= 0 ? v[V_GRAD_NORM] : NULL,
                               .learning_rate = at[V_LEARNING_RATE] >= 0 ? v[V_LEARNING_RATE] : NULL,
                               .train_data_loss = at[V_TRAIN_DATA_LOSS] >= 0 ? v[V_TRAIN_DATA_LOSS] : NULL,
                               .activation_histogram = at[V_ACTIVATION_HISTOGRAM] >= 0 ? v[V_ACTIVATION_HISTOGRAM] : NULL,
                               .hist_layers = data_of(exp)->max_layers,
                               .hist_floats = at[V_ACTIVATION_HISTOGRAM] >= 0 ? l->vars[at[V_ACTIVATION_HISTOGRAM]].per_cell : 0};
        runner_err_t err = {{0}};
        double t0 = now_seconds();
        int status = env->stopping(env->arg) ? STATUS_PENDING
                                             : train_run(&exp->cells[c], &out, poll_step, (void *)env, &err);
        if (status == STATUS_PENDING) {
            b->c1 = c;
            break;
        }
        env->cell_done(env->arg, b, r, status, now_seconds() - t0, &err);
    }
}

static void plan_column(const cell_t *cell, char *buf, size_t len)
{
    snprintf(buf, len, "%zu", cell->train->model->n_params);
}

/* A training sweep's models, once each. */
static void plan_notes(FILE *out, const experiment_t *exp)
{
    const char *last = "";
    for (size_t c = 0; c < exp->n_cells; c++) {
        const train_config_t *tc = exp->cells[c].train;
        if (!strcmp(tc->model->text, last)) continue;
        last = tc->model->text;
        fprintf(out, "model of cell %zu: %s\n  train: %s\n  data: %s\n", c, tc->model->text, tc->text, tc->data->label);
    }
}

const cell_kind_t cell_kind_training = {
    .name = "training",
    .does = "trains a model",
    .cell_keys = training_keys,
    .claims = claims,
    .build = build,
    .check = check,
    .release = release,
    .each_plugin = each_plugin,
    .each_input = each_input,
    .fill_defaults = fill_defaults,
    .layout = layout,
    .records = records,
    .n_records = sizeof records / sizeof records[0],
    .record = record,
    .thread_bytes = thread_bytes,
    .thread_create = thread_create,
    .thread_destroy = thread_destroy,
    .compute = compute,
    .cells_together = 1,
    .threaded_cells = true,
    .plan_heading = "params",
    .plan_column = plan_column,
    .plan_notes = plan_notes,
    .report_tol = NAN,
};
