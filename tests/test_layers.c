/*
 * test_layers.c: the flat layers' and the losses' backward against a
 * central-difference numerical gradient (layer_rig.h), for several shapes;
 * then a whole network (model_compile + network_backward) and the shape
 * errors of model_compile. The image layers are in test_image_layers.c.
 */
#include "layer_rig.h"
#include "cells/training/model.h"
#include "cells/training/network.h"

TestSuite(layers, .init = setup, .fini = teardown);

Test(layers, affine_gradient)
{
    const char *const out3[] = {"out", "3", NULL};
    const char *const out7[] = {"out", "7", "init", "1", NULL}; /* xavier */
    const char *const out1[] = {"out", "1", "init", "3", NULL}; /* uniform */
    gradient_check("affine", out3, FLAT(5), 4);
    gradient_check("affine", out7, FLAT(1), 1);
    gradient_check("affine", out1, IMAGE(2, 3, 3), 3); /* flattens (2,3,3) */
}

Test(layers, activation_gradients)
{
    const char *names[] = {"relu", "sigmoid", "tanh"};
    for (size_t k = 0; k < 3; k++) {
        gradient_check(names[k], NULL, FLAT(6), 3);
        gradient_check(names[k], NULL, IMAGE(2, 4, 5), 2);
    }
}

Test(layers, flatten_and_dropout_gradients)
{
    gradient_check("flatten", NULL, IMAGE(3, 2, 2), 2);
    const char *const half[] = {"ratio", "0.5", NULL};
    const char *const most[] = {"ratio", "0.9", NULL};
    gradient_check("dropout", half, FLAT(40), 3);
    gradient_check("dropout", most, IMAGE(2, 3, 3), 2);
    const char *const at_test[] = {"ratio", "0.5", "scale", "1", NULL}; /* the rig takes a choice by index: test */
    gradient_check("dropout", at_test, FLAT(40), 3);
}

Test(layers, dropout_drops_in_training_only)
{
    const char *const set[] = {"ratio", "0.25", NULL};
    layer_rig_t r;
    rig_make(&r, "dropout", set, FLAT(1000), 10);
    runner_err_t e = {{0}};
    rig_objective(&r);
    size_t zeros = 0;
    for (size_t i = 0; i < 10000; i++) {
        zeros += r.y[i] == 0.0f;
        if (r.y[i] != 0.0f) cr_assert_float_eq(r.y[i], r.x[i] / 0.75f, 1e-6, "kept elements are scaled by 1/(1-ratio)");
    }
    cr_expect(zeros > 2300 && zeros < 2700, "about a quarter dropped, got %zu of 10000", zeros);
    r.c.training = 0;
    cr_assert_eq(r.d->layer->forward(&r.c, r.x, r.y, &e), RUNNER_OK);
    cr_expect_eq(memcmp(r.x, r.y, 10000 * sizeof(float)), 0, "evaluation is the identity");
    rig_free(&r);

    /* the textbook's convention (issue 21, item 4): unscaled in training,
     * multiplied by 1 - ratio in evaluation */
    const char *const at_test[] = {"ratio", "0.25", "scale", "1", NULL}; /* test, by index */
    rig_make(&r, "dropout", at_test, FLAT(1000), 10);
    rig_objective(&r);
    zeros = 0;
    for (size_t i = 0; i < 10000; i++) {
        zeros += r.y[i] == 0.0f;
        if (r.y[i] != 0.0f) cr_assert_eq(r.y[i], r.x[i], "kept elements pass unscaled");
    }
    cr_expect(zeros > 2300 && zeros < 2700, "about a quarter dropped, got %zu of 10000", zeros);
    r.c.training = 0;
    cr_assert_eq(r.d->layer->forward(&r.c, r.x, r.y, &e), RUNNER_OK);
    for (size_t i = 0; i < 10000; i++) cr_assert_eq(r.y[i], r.x[i] * 0.75f, "evaluation scales by 1 - ratio");
    rig_free(&r);
}

/* The losses: dx against the numerical derivative of the loss value. */
static void loss_check(const char *name, size_t K, size_t B)
{
    layer_rig_t r;
    rig_make(&r, name, NULL, FLAT(K), B);
    int32_t *labels = malloc(B * sizeof *labels);
    for (size_t i = 0; i < B; i++) labels[i] = (int32_t)((i * 7 + 3) % K);
    for (size_t i = 0; i < B * K; i++) r.x[i] *= 3.0f; /* spread the scores */
    runner_err_t e = {{0}};
    double L;
    cr_assert_eq(r.d->layer->loss(&r.c, r.x, labels, &L, r.dx, &e), RUNNER_OK, "%s", e.msg);
    cr_expect(isfinite(L) && L > 0, "%s: loss %g", name, L);
    for (size_t i = 0; i < B * K; i++) {
        float keep = r.x[i];
        double up, down;
        r.x[i] = (float)(keep + H);
        r.d->layer->loss(&r.c, r.x, labels, &up, NULL, &e);
        r.x[i] = (float)(keep - H);
        r.d->layer->loss(&r.c, r.x, labels, &down, NULL, &e);
        r.x[i] = keep;
        expect_close(r.dx[i], (up - down) / (2 * H), name, i);
    }
    labels[0] = (int32_t)K;
    cr_expect_eq(r.d->layer->loss(&r.c, r.x, labels, &L, NULL, &e), RUNNER_FAIL, "%s: a label out of range", name);
    cr_expect(strstr(e.msg, "is not a class"), "%s", e.msg);
    free(labels);
    rig_free(&r);
}

Test(layers, loss_gradients)
{
    loss_check("softmax_cross_entropy", 10, 4);
    loss_check("softmax_cross_entropy", 2, 1);
    loss_check("mse", 3, 5);
}

Test(layers, softmax_cross_entropy_values)
{
    /* equal scores: loss = log K; a confident right answer: loss near 0 */
    layer_rig_t r;
    rig_make(&r, "softmax_cross_entropy", NULL, FLAT(4), 2);
    float x[8] = {0, 0, 0, 0, 50, 0, 0, 0};
    int32_t labels[2] = {2, 0};
    double L;
    runner_err_t e = {{0}};
    r.c.batch = 1;
    cr_assert_eq(r.d->layer->loss(&r.c, x, labels, &L, NULL, &e), RUNNER_OK);
    cr_expect_float_eq(L, log(4.0), 1e-12);
    cr_assert_eq(r.d->layer->loss(&r.c, x + 4, labels + 1, &L, NULL, &e), RUNNER_OK);
    cr_expect(L >= 0 && L < 1e-15, "confident and right: %g", L);
    rig_free(&r);
}

/* ---- model_compile and the whole network ---------------------------------- */

static arena_t arena;

static err_code_t compile(const char *model_yaml, const char *loss_yaml, runner_shape_t input, size_t classes,
                          model_t **m, err_t *err)
{
    node_t *mn, *ln;
    memset(err, 0, sizeof *err);
    cr_assert_eq(yaml_load(&arena, model_yaml, strlen(model_yaml), "model.yaml", &mn, err), ERR_OK, "%s", err->msg);
    cr_assert_eq(yaml_load(&arena, loss_yaml, strlen(loss_yaml), "loss.yaml", &ln, err), ERR_OK, "%s", err->msg);
    return model_compile(&arena, mn, ln, &reg, input, classes, m, err);
}

Test(layers, model_chains_shapes)
{
    arena_init(&arena);
    model_t *m;
    err_t err;
    cr_assert_eq(compile("[{layer: flatten}, {layer: affine, out: 5, init: xavier}, {layer: tanh},"
                         " {layer: dropout, ratio: 0.1}, {layer: affine, out: 3}]",
                         "softmax_cross_entropy", IMAGE(1, 4, 4), 3, &m, &err),
                 ERR_OK, "%s", err.msg);
    cr_expect_eq(m->n_layers, 5);
    cr_expect_eq(m->n_params, 16 * 5 + 5 + 5 * 3 + 3);
    cr_expect_eq(m->layers[4].param_offset, 16 * 5 + 5);
    cr_expect_eq(m->layers[1].in.dim[0], 16);
    cr_expect_eq(m->max_width, 16);
    cr_expect_str_eq(m->text, "flatten -> affine(out=5, init=xavier, scale=0.01) -> tanh -> dropout(ratio=0.1, scale=train) -> "
                              "affine(out=3, init=he, scale=0.01) | softmax_cross_entropy");
    arena_free(&arena);
}

typedef struct {
    const char *model, *loss, *expect;
} model_error_t;

static const model_error_t model_errors[] = {
    {"[{layer: affine, out: 3}]", "softmax_cross_entropy",
     "model.yaml:1:2: the model ends with output shape (3), but the data have 10 classes: end with {layer: affine, out: 10}"},
    {"[{layer: afine, out: 10}]", "softmax_cross_entropy", "model.yaml:1:10: unknown layer 'afine' (did you mean 'affine'?)"},
    {"[{layer: affine, otu: 10}]", "softmax_cross_entropy", "model.yaml:1:18: unknown key 'otu' in layer 'affine' (did you mean 'out'?)"},
    {"[{layer: affine}]", "softmax_cross_entropy", "model.yaml:1:2: layer 'affine' needs 'out' (output features; it has no default)"},
    {"[{layer: affine, out: 10, init: kaiming}]", "softmax_cross_entropy", "affine.init: 'kaiming' is not one of he, xavier, std, uniform"},
    {"[{layer: affine, out: 0}]", "softmax_cross_entropy", "affine.out: 0 is out of bounds"},
    {"[{out: 10}]", "softmax_cross_entropy", "model.yaml:1:2: model layer 1 needs 'layer', e.g. {layer: affine, out: 100}"},
    {"[{layer: affine, out: 10}, {layer: mse}]", "softmax_cross_entropy", "'mse' is a loss: give it as `loss: mse`"},
    {"[{layer: affine, out: 10}]", "relu", "loss.yaml:1:1: 'relu' is a layer, not a loss"},
    {"[{layer: affine, out: 10}]", "{name: softmax_cross_entropy, x: 1}", "unknown key 'x': layer 'softmax_cross_entropy' has no parameters"},
    {"[{layer: relu}]", "mse", "model.yaml:1:2: the model ends with output shape (1, 4, 4), but the data have 10 classes"},
    {"[]", "mse", "model.yaml:1:1: expected a list of layers for model, like [{layer: affine, out: 10}], got an empty list"},
    {"{layer: affine}", "mse", "expected a list of layers for model"},
    {"[{layer: flatten}, {layer: conv2d, filters: 2}]", "mse",
     "model.yaml:1:20: model layer 2 (conv2d) cannot take input of shape (16): it needs images (channels, "
     "height, width): put it before flatten and affine"},
    {"[{layer: conv2d, filters: 2, size: 5}]", "mse", "a 5x5 filter does not fit a 4x4 input with pad 0"},
    {"[{layer: conv2d, size: 3}]", "mse", "layer 'conv2d' needs 'filters'"},
    {"[{layer: maxpool, size: 5}]", "mse", "a 5x5 window does not fit a 4x4 input: use a smaller size"},
    {"[{layer: avgpool, stride: -1}]", "mse", "avgpool.stride: -1 is out of bounds"},
    {"[{layer: batchnorm, eps: 0}]", "mse", "batchnorm.eps: 0 is out of bounds"},
};
INDEX_PARAMS(layers, model_errors_name_the_line, model_errors)

ParameterizedTest(size_t *i, layers, model_errors_name_the_line)
{
    arena_init(&arena);
    const model_error_t *c = &model_errors[*i];
    model_t *m;
    err_t err;
    cr_expect_eq(compile(c->model, c->loss, IMAGE(1, 4, 4), 10, &m, &err), ERR_CONFIG, "%s accepted", c->model);
    char full[1024];
    snprintf(full, sizeof full, "%s:%d:%d: %s", err.mark.file ? err.mark.file : "?", err.mark.line, err.mark.col,
             err.msg);
    cr_expect(strstr(full, c->expect), "'%s' lacks '%s'", full, c->expect);
    arena_free(&arena);
}

Test(layers, model_chains_image_shapes)
{
    arena_init(&arena);
    model_t *m;
    err_t err;
    cr_assert_eq(compile("[{layer: conv2d, filters: 30, size: 5}, {layer: relu}, {layer: maxpool, size: 2},"
                         " {layer: batchnorm}, {layer: affine, out: 100}, {layer: relu}, {layer: affine, out: 10}]",
                         "softmax_cross_entropy", IMAGE(1, 28, 28), 10, &m, &err),
                 ERR_OK, "%s", err.msg);
    const runner_shape_t *conv = &m->layers[0].out, *pool = &m->layers[2].out;
    cr_expect(conv->rank == 3 && conv->dim[0] == 30 && conv->dim[1] == 24 && conv->dim[2] == 24);
    cr_expect(pool->rank == 3 && pool->dim[0] == 30 && pool->dim[1] == 12 && pool->dim[2] == 12);
    cr_expect_eq(m->n_params, (30 * 25 + 30) + 2 * 30 + (4320 * 100 + 100) + (100 * 10 + 10));
    cr_expect_eq(m->layers[4].param_offset, 30 * 25 + 30 + 60);
    cr_expect(strstr(m->text, "conv2d(filters=30, size=5, stride=1, pad=0, init=he, scale=0.01) -> relu -> "
                              "maxpool(size=2, stride=2) -> batchnorm(momentum=0.9, eps=1e-05, running_init=torch, "
                              "unbiased=true)"),
              "%s", m->text);
    arena_free(&arena);
}

/* The whole chain: network_backward against central differences of the
 * mean loss (in training mode, as backward sees it), parameter by
 * parameter, for a model on an input of this shape. */
static void network_gradient_check(const char *model, runner_shape_t input, size_t slice_bytes)
{
    arena_init(&arena);
    model_t *m;
    err_t err;
    cr_assert_eq(compile(model, "softmax_cross_entropy", input, 3, &m, &err), ERR_OK, "%s", err.msg);
    network_t net;
    cr_assert_eq(slice_bytes ? network_create_sliced(&net, m, 8, slice_bytes, &err) : network_create(&net, m, 8, &err),
                 ERR_OK);
    runner_err_t e = {{0}};
    cr_assert_eq(network_init(&net, 7, &e), RUNNER_OK);
    runner_rng_t rng = {99};
    for (size_t i = 0; i < 8 * runner_shape_size(&input); i++)
        network_input(&net)[i] = (float)(2 * runner_rng_uniform(&rng) - 1);
    int32_t labels[8] = {0, 1, 2, 0, 1, 2, 2, 1};
    double L, up, down;
    cr_assert_eq(network_forward(&net, 8, 1, &e), RUNNER_OK);
    cr_assert_eq(network_backward(&net, 8, labels, &L, &e), RUNNER_OK);
    cr_expect(fabs(L - log(3.0)) < 1.0, "initial loss %g near log 3", L);
    float *g = malloc(m->n_params * sizeof *g);
    memcpy(g, net.grads, m->n_params * sizeof *g);
    for (size_t i = 0; i < m->n_params; i++) {
        float keep = net.params[i];
        net.params[i] = (float)(keep + H);
        network_forward(&net, 8, 1, &e), network_loss(&net, 8, labels, &up, &e);
        net.params[i] = (float)(keep - H);
        network_forward(&net, 8, 1, &e), network_loss(&net, 8, labels, &down, &e);
        net.params[i] = keep;
        expect_close(g[i], (up - down) / (2 * H), "network dparams", i);
    }
    free(g);
    network_destroy(&net);
    arena_free(&arena);
}

Test(layers, network_gradient)
{
    network_gradient_check("[{layer: affine, out: 6, init: xavier}, {layer: sigmoid}, {layer: affine, out: 5},"
                           " {layer: relu}, {layer: affine, out: 3, init: uniform}]",
                           FLAT(4), 0);
}

/* Smooth layers only (tanh, avgpool), so no perturbation crosses a kink. */
Test(layers, cnn_network_gradient)
{
    network_gradient_check("[{layer: conv2d, filters: 3, size: 3, pad: 1}, {layer: batchnorm}, {layer: tanh},"
                           " {layer: avgpool}, {layer: conv2d, filters: 2, size: 2, stride: 2}, {layer: affine, out: 3}]",
                           IMAGE(2, 8, 8), 0);
}

/* The same chains run sample by sample (every run of per-sample layers
 * sliced): a sliced run first (no dx), one after batchnorm (dx into the
 * shared buffer, gradients between its layers through scratch). */
Test(layers, sliced_network_gradient)
{
    network_gradient_check("[{layer: conv2d, filters: 3, size: 3, pad: 1}, {layer: batchnorm}, {layer: tanh},"
                           " {layer: avgpool}, {layer: conv2d, filters: 2, size: 2, stride: 2}, {layer: affine, out: 3}]",
                           IMAGE(2, 8, 8), 1);
    network_gradient_check("[{layer: conv2d, filters: 3, size: 3}, {layer: tanh}, {layer: avgpool},"
                           " {layer: flatten}, {layer: affine, out: 3}]",
                           IMAGE(1, 9, 9), 1);
}

/* One forward and backward of B samples (the network is sized for 8);
 * the scores and gradients, and the samples per slice of the first run. */
static size_t one_step(const model_t *m, size_t slice_bytes, int threads, size_t B, float *scores, float *grads)
{
    host_set_kernel_threads(threads);
    network_t net;
    err_t err;
    cr_assert_eq(slice_bytes ? network_create_sliced(&net, m, 8, slice_bytes, &err) : network_create(&net, m, 8, &err),
                 ERR_OK);
    /* conv, relu, maxpool: one run, sliced or whole (small enough for cache); then affine */
    cr_assert_eq(net.n_segments, 2);
    cr_assert_eq(net.segments[0].end, 3);
    size_t slice = net.segments[0].slice;
    runner_err_t e = {{0}};
    cr_assert_eq(network_init(&net, 7, &e), RUNNER_OK);
    runner_rng_t rng = {99};
    for (size_t i = 0; i < B * runner_shape_size(&m->input); i++)
        network_input(&net)[i] = (float)runner_rng_uniform(&rng);
    int32_t labels[8] = {0, 1, 2, 0, 1, 2, 2, 1};
    double L;
    cr_assert_eq(network_forward(&net, B, 1, &e), RUNNER_OK);
    memcpy(scores, network_output(&net), B * 3 * sizeof *scores);
    cr_assert_eq(network_backward(&net, B, labels, &L, &e), RUNNER_OK);
    memcpy(grads, net.grads, m->n_params * sizeof *grads);
    network_destroy(&net);
    host_set_kernel_threads(1);
    return slice;
}

/* Slicing changes only the order in which gradients are summed, and the
 * slices, not the threads, decide that order: sample by sample, three at a
 * time (slices of 3, 3, 2 and, for 5 samples, 3, 2), full and short batches. */
Test(layers, slices_change_sums_not_results_nor_bits_across_threads)
{
    arena_init(&arena);
    model_t *m;
    err_t err;
    cr_assert_eq(compile("[{layer: conv2d, filters: 4, size: 3}, {layer: relu}, {layer: maxpool, size: 2},"
                         " {layer: affine, out: 3}]",
                         "softmax_cross_entropy", IMAGE(2, 12, 12), 3, &m, &err),
                 ERR_OK, "%s", err.msg);
    size_t n = m->n_params;
    float whole_s[24], sliced_s[24], threads_s[24];
    float *whole_g = malloc(n * sizeof(float)), *sliced_g = malloc(n * sizeof(float)), *threads_g = malloc(n * sizeof(float));
    /* bytes one sample needs in the run: input, three outputs, conv2d's work (im2col and a gradient) */
    size_t per_sample = (2 * 144 + 3 * 400 + 100 + 18 * 100 + 4 * 18 + 4) * sizeof(float);
    const size_t budgets[] = {1, 3 * per_sample}, slices[] = {1, 3}, batches[] = {8, 5};
    for (size_t k = 0; k < 2; k++)
        for (size_t bi = 0; bi < 2; bi++) {
            size_t B = batches[bi];
            cr_assert_eq(one_step(m, 0, 1, B, whole_s, whole_g), 0);
            cr_assert_eq(one_step(m, budgets[k], 1, B, sliced_s, sliced_g), slices[k]);
            one_step(m, budgets[k], 2, B, threads_s, threads_g);
            cr_expect_arr_eq(whole_s, sliced_s, B * 3 * sizeof(float), "slices of %zu: each sample's scores the same",
                             slices[k]);
            for (size_t i = 0; i < n; i++)
                cr_expect(fabsf(whole_g[i] - sliced_g[i]) <= 1e-5f * fabsf(whole_g[i]) + 1e-7f,
                          "slices of %zu, %zu samples: grad %zu: %g whole, %g sliced", slices[k], B, i, whole_g[i],
                          sliced_g[i]);
            cr_expect_arr_eq(sliced_s, threads_s, B * 3 * sizeof(float));
            cr_expect_arr_eq(sliced_g, threads_g, n * sizeof(float),
                             "slices of %zu, %zu samples: two threads change no bit of the gradients", slices[k], B);
        }
    free(whole_g), free(sliced_g), free(threads_g);
    arena_free(&arena);
}

/* The textbook's batch-norm conventions (issue 21, item 4): the running
 * variance from 0, with the batch's biased variance; torch's from 1, with
 * the unbiased one. One training step over a batch of 4, 3 features. */
Test(layers, batchnorm_running_statistics_both_conventions)
{
    const char *const torch[] = {"momentum", "0.9", NULL};
    const char *const textbook[] = {"momentum", "0.9", "running_init", "1", "unbiased", "0", NULL}; /* zeros, by index */
    for (int convention = 0; convention < 2; convention++) {
        layer_rig_t r;
        rig_make(&r, "batchnorm", convention ? textbook : torch, FLAT(3), 4);
        rig_objective(&r);
        const double *running_var = (const double *)r.c.state + 3;
        for (size_t ch = 0; ch < 3; ch++) {
            double mean = 0.0, var = 0.0;
            for (size_t b = 0; b < 4; b++) mean += r.x[b * 3 + ch] / 4.0;
            for (size_t b = 0; b < 4; b++) var += (r.x[b * 3 + ch] - mean) * (r.x[b * 3 + ch] - mean) / 4.0;
            double want = convention ? 0.1 * var : 0.9 * 1.0 + 0.1 * var * 4.0 / 3.0;
            cr_expect_float_eq(running_var[ch], want, 1e-12, "convention %d channel %zu: %.17g, want %.17g", convention, ch,
                               running_var[ch], want);
        }
        rig_free(&r);
    }
}
