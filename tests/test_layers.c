/*
 * test_layers.c: every layer plugin's backward against a central-difference
 * numerical gradient (the textbook's gradient check), for several shapes,
 * through the plugin ABI exactly as the network calls it; the losses
 * likewise; then a whole network (model_compile + network_backward) and
 * the shape errors of model_compile.
 *
 * The check: with a fixed random r, L(x, p) = sum(r * layer(x, p)) in
 * double. backward(dy = r) must give dL/dx and dL/dp. Float32 forward
 * passes limit the numerical side to ~1e-3 relative, hence h = 1e-2 and a
 * tolerance of 2e-2 relative (+ 2e-3 absolute), far below what a wrong
 * formula gives (a sign or a factor is off by 100%).
 */
#include <math.h>

#include "helpers.h"
#include "host_services.h"
#include "model.h"
#include "network.h"

static registry_t reg;
static void setup(void) { load_build_plugins(&reg); }
static void teardown(void) { registry_free(&reg); }
TestSuite(layers, .init = setup, .fini = teardown);

#define H 1e-2
#define REL 2e-2
#define ABS 2e-3

typedef struct {
    const runner_plugin_t *d;
    double hp[16];
    runner_layer_ctx_t c;
    size_t I, O, B;
    float *x, *y, *dy, *dx;
    uint64_t rng_at_forward;
} layer_rig_t;

static void rig_free(layer_rig_t *r)
{
    free(r->c.params), free(r->c.grads), free(r->c.state), free(r->c.work);
    free(r->x), free(r->y), free(r->dy), free(r->dx), free(r->c.rng);
}

/* name with hp overrides as "key=value" pairs over the defaults. */
static void rig_make(layer_rig_t *r, const char *name, const char *const *set, runner_shape_t in, size_t B)
{
    memset(r, 0, sizeof *r);
    const plugin_entry_t *pe = registry_find(&reg, RUNNER_KIND_LAYER, name);
    cr_assert(pe, "no layer plugin '%s'", name);
    r->d = pe->desc;
    for (uint32_t i = 0; i < r->d->n_params; i++) r->hp[i] = r->d->params[i].default_value;
    for (size_t k = 0; set && set[k]; k += 2) {
        uint32_t i = 0;
        while (i < r->d->n_params && strcmp(r->d->params[i].name, set[k])) i++;
        cr_assert_lt(i, r->d->n_params, "%s has no parameter %s", name, set[k]);
        r->hp[i] = atof(set[k + 1]);
    }
    const runner_layer_ops_t *ops = r->d->layer;
    runner_shape_t out;
    size_t np = 0;
    runner_err_t e = {{0}};
    cr_assert_eq(ops->shape(r->hp, &in, &out, &np, &e), RUNNER_OK, "%s shape: %s", name, e.msg);
    r->I = runner_shape_size(&in), r->O = runner_shape_size(&out), r->B = B;
    size_t sb = ops->state_bytes ? ops->state_bytes(r->hp, &in) : 0;
    size_t wb = ops->work_bytes ? ops->work_bytes(r->hp, &in, B) : 0;
    runner_rng_t *rng = calloc(1, sizeof *rng);
    rng->state = 12345;
    r->c = (runner_layer_ctx_t){.host = host_services(), .hp = r->hp, .in = in, .out = out, .batch = B,
                                .params = calloc(np + 1, sizeof(float)), .grads = calloc(np + 1, sizeof(float)),
                                .state = calloc(sb + 1, 1), .work = calloc(wb + 1, 1), .training = 1, .rng = rng};
    r->x = malloc(B * r->I * sizeof(float));
    r->dx = malloc(B * r->I * sizeof(float));
    r->y = malloc(B * r->O * sizeof(float));
    r->dy = malloc(B * r->O * sizeof(float));
    if (ops->init) cr_assert_eq(ops->init(&r->c, &e), RUNNER_OK, "%s init: %s", name, e.msg);
    /* inputs away from 0, where relu and maxpool have kinks: |x| in [0.1, 1] */
    for (size_t i = 0; i < B * r->I; i++) {
        double u = runner_rng_uniform(rng);
        r->x[i] = (float)((u < 0.5 ? -1 : 1) * (0.1 + 0.9 * runner_rng_uniform(rng)));
    }
    for (size_t i = 0; i < B * r->O; i++) r->dy[i] = (float)(2.0 * runner_rng_uniform(rng) - 1.0);
    r->rng_at_forward = rng->state;
}

/* L = sum(dy * forward(x)), with the random stream rewound so dropout draws
 * the same mask every time. */
static double rig_objective(layer_rig_t *r)
{
    runner_err_t e = {{0}};
    r->c.rng->state = r->rng_at_forward;
    cr_assert_eq(r->d->layer->forward(&r->c, r->x, r->y, &e), RUNNER_OK, "%s", e.msg);
    double L = 0.0;
    for (size_t i = 0; i < r->B * r->O; i++) L += (double)r->dy[i] * r->y[i];
    return L;
}

static double numerical(layer_rig_t *r, float *v)
{
    float keep = *v;
    *v = (float)(keep + H);
    double up = rig_objective(r);
    *v = (float)(keep - H);
    double down = rig_objective(r);
    *v = keep;
    return (up - down) / (2 * H);
}

static void expect_close(double analytic, double numeric, const char *what, size_t i)
{
    double tol = REL * fmax(fabs(analytic), fabs(numeric)) + ABS;
    cr_expect(fabs(analytic - numeric) <= tol, "%s[%zu]: backward %.6g, numerical %.6g (difference %.3g > %.3g)", what,
              i, analytic, numeric, fabs(analytic - numeric), tol);
}

static void gradient_check(const char *name, const char *const *set, runner_shape_t in, size_t B)
{
    layer_rig_t r;
    rig_make(&r, name, set, in, B);
    runner_err_t e = {{0}};
    rig_objective(&r);
    cr_assert_eq(r.d->layer->backward(&r.c, r.x, r.y, r.dy, r.dx, &e), RUNNER_OK, "%s", e.msg);
    size_t np = 0;
    runner_shape_t out;
    r.d->layer->shape(r.hp, &in, &out, &np, &e);
    float *analytic_p = malloc((np + 1) * sizeof(float));
    memcpy(analytic_p, r.c.grads, np * sizeof(float));
    char what[96];
    snprintf(what, sizeof what, "%s dx", name);
    /* every input element for small shapes, a stride through large ones */
    size_t step_x = B * r.I > 400 ? B * r.I / 397 : 1, step_p = np > 400 ? np / 397 : 1;
    for (size_t i = 0; i < B * r.I; i += step_x) expect_close(r.dx[i], numerical(&r, &r.x[i]), what, i);
    snprintf(what, sizeof what, "%s dparams", name);
    for (size_t i = 0; i < np; i += step_p) expect_close(analytic_p[i], numerical(&r, &r.c.params[i]), what, i);
    /* backward with dx = NULL (the first layer) still gives the parameter gradients */
    rig_objective(&r);
    memset(r.c.grads, 0, np * sizeof(float));
    cr_assert_eq(r.d->layer->backward(&r.c, r.x, r.y, r.dy, NULL, &e), RUNNER_OK, "%s", e.msg);
    for (size_t i = 0; i < np; i++) cr_expect_eq(r.c.grads[i], analytic_p[i], "%s: dparams differ without dx", name);
    free(analytic_p);
    rig_free(&r);
}

#define FLAT(n) ((runner_shape_t){.rank = 1, .dim = {n}})
#define IMAGE(c, h, w) ((runner_shape_t){.rank = 3, .dim = {c, h, w}})

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
    cr_expect_str_eq(m->text, "flatten -> affine(out=5, init=xavier, scale=0.01) -> tanh -> dropout(ratio=0.1) -> "
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

/* The whole chain: network_backward against central differences of the
 * mean loss, parameter by parameter (a stride through them). */
Test(layers, network_gradient)
{
    arena_init(&arena);
    model_t *m;
    err_t err;
    cr_assert_eq(compile("[{layer: affine, out: 6, init: xavier}, {layer: sigmoid}, {layer: affine, out: 5},"
                         " {layer: relu}, {layer: affine, out: 3, init: uniform}]",
                         "softmax_cross_entropy", FLAT(4), 3, &m, &err),
                 ERR_OK, "%s", err.msg);
    network_t net;
    cr_assert_eq(network_create(&net, m, 8, &err), ERR_OK);
    runner_err_t e = {{0}};
    cr_assert_eq(network_init(&net, 7, &e), RUNNER_OK);
    runner_rng_t rng = {99};
    for (size_t i = 0; i < 8 * 4; i++) network_input(&net)[i] = (float)(2 * runner_rng_uniform(&rng) - 1);
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
        network_forward(&net, 8, 0, &e), network_loss(&net, 8, labels, &up, &e);
        net.params[i] = (float)(keep - H);
        network_forward(&net, 8, 0, &e), network_loss(&net, 8, labels, &down, &e);
        net.params[i] = keep;
        expect_close(g[i], (up - down) / (2 * H), "network dparams", i);
    }
    free(g);
    network_destroy(&net);
    arena_free(&arena);
}
