/*
 * test_image_layers.c: conv2d, maxpool, avgpool and batchnorm.
 *  - backward against central differences (layer_rig.h) for several shapes,
 *    strides and pads, including a batch that ends in a partial group;
 *  - forward and backward against PyTorch 1.13: the cases in
 *    tests/fixtures/layer_reference.json come from
 *    tests/reference/make_layer_reference.py (float64 torch on the same
 *    float32 values); batchnorm's running statistics and evaluation output too;
 *  - the same bits at 1 and 3 threads (the host's parallel_for).
 */
#include "layer_rig.h"

TestSuite(image_layers, .init = setup, .fini = teardown);

Test(image_layers, conv2d_gradient)
{
    const char *const plain[] = {"filters", "2", "size", "3", NULL};
    const char *const strided[] = {"filters", "3", "size", "3", "stride", "2", "pad", "1", NULL};
    const char *const pointwise[] = {"filters", "4", "size", "1", NULL};
    const char *const wide[] = {"filters", "2", "size", "4", "stride", "3", "pad", "2", "init", "3", NULL};
    gradient_check("conv2d", plain, IMAGE(1, 5, 5), 2);
    gradient_check("conv2d", strided, IMAGE(2, 6, 5), 3);
    gradient_check("conv2d", pointwise, IMAGE(3, 3, 4), 2);
    gradient_check("conv2d", wide, IMAGE(2, 7, 6), 5); /* 5 samples: a full group and a partial one */
}

/* Inputs at least 0.05 apart in a shuffled order, so no perturbation of
 * h = 0.01 changes which element of a window is the largest. */
static void separated_inputs(layer_rig_t *r)
{
    size_t n = r->B * r->I;
    runner_rng_t rng = {7};
    for (size_t i = 0; i < n; i++) r->x[i] = (float)(0.05 * ((double)i - (double)n / 2));
    for (size_t i = n; i-- > 1;) {
        size_t k = (size_t)(runner_rng_uniform(&rng) * (double)(i + 1));
        float t = r->x[i];
        r->x[i] = r->x[k], r->x[k] = t;
    }
}

static void maxpool_check(const char *const *set, runner_shape_t in, size_t B)
{
    layer_rig_t r;
    rig_make(&r, "maxpool", set, in, B);
    separated_inputs(&r);
    rig_check(&r);
}

Test(image_layers, pooling_gradients)
{
    const char *const tile[] = {"size", "2", NULL};
    const char *const overlap[] = {"size", "3", "stride", "2", NULL};
    const char *const slide[] = {"size", "2", "stride", "1", NULL};
    maxpool_check(tile, IMAGE(2, 4, 4), 2);
    maxpool_check(overlap, IMAGE(3, 7, 6), 2); /* windows overlap; the last row and column are dropped */
    maxpool_check(slide, IMAGE(1, 5, 5), 3);
    gradient_check("avgpool", tile, IMAGE(2, 4, 4), 2);
    gradient_check("avgpool", overlap, IMAGE(3, 7, 6), 2);
    gradient_check("avgpool", slide, IMAGE(1, 5, 5), 3);
}

Test(image_layers, batchnorm_gradient)
{
    const char *const slow[] = {"momentum", "0.5", NULL};
    gradient_check("batchnorm", NULL, FLAT(5), 4);
    gradient_check("batchnorm", slow, IMAGE(2, 3, 3), 3);
    gradient_check("batchnorm", NULL, FLAT(1), 6);
}

/* ---- against PyTorch ----------------------------------------------------- */

static arena_t arena;

static void load_reference(node_t **fixture)
{
    char *text;
    size_t len;
    err_t err = {0};
    arena_init(&arena);
    cr_assert_eq(read_text_file(RUNNER_SOURCE_DIR "/tests/fixtures/layer_reference.json", &text, &len, &err), ERR_OK,
                 "%s", err.msg);
    cr_assert_eq(yaml_load(&arena, text, len, "layer_reference.json", fixture, &err), ERR_OK, "%s", err.msg);
    free(text);
}

static void to_floats(const node_t *list, float *out, size_t n, const char *what)
{
    cr_assert_eq(list->n, n, "%s: the fixture has %zu values, the layer %zu", what, list->n, n);
    for (size_t i = 0; i < n; i++) out[i] = (float)atof(list->items[i]->text);
}

/* Largest error of got against the reference, relative to max(|ref|, 1):
 * float32 sums of a few dozen products stay near 1e-6 of that. */
static double worst_error(const float *got, const node_t *ref, size_t n, const char *what)
{
    cr_assert_eq(ref->n, n, "%s: the fixture has %zu values, the layer %zu", what, ref->n, n);
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        double r = atof(ref->items[i]->text);
        double e = fabs((double)got[i] - r) / fmax(fabs(r), 1.0);
        if (e > worst) worst = e;
    }
    return worst;
}

#define REFERENCE_TOL 1e-5

/* A sum of `terms` float32 values carries rounding error growing like
 * sqrt(terms), in an order set by the BLAS kernel the CPU gets (OpenBLAS's
 * Zen kernels reach 1.2e-5 on conv2d's 1152-term weight gradients where
 * Haswell-class ones stayed under 1e-5): up to 256 terms REFERENCE_TOL,
 * beyond that scaled by sqrt(terms / 256). */
static void expect_matches_sum(const float *got, const node_t *ref, size_t n, const char *what, size_t c, size_t terms)
{
    double worst = worst_error(got, ref, n, what);
    double tol = REFERENCE_TOL * sqrt(fmax(1.0, (double)terms / 256));
    cr_expect_leq(worst, tol, "case %zu %s: worst error %.3g against PyTorch (tolerance %.3g for sums of %zu terms)", c,
                  what, worst, tol, terms);
}

static void expect_matches(const float *got, const node_t *ref, size_t n, const char *what, size_t c)
{
    expect_matches_sum(got, ref, n, what, c, 1);
}

Test(image_layers, match_pytorch_reference)
{
    node_t *fixture;
    load_reference(&fixture);
    const node_t *cases = node_get(fixture, "cases");
    cr_assert(cases && cases->n >= 10, "fixture has too few cases");
    for (size_t c = 0; c < cases->n; c++) {
        const node_t *cs = cases->items[c], *p = node_get(cs, "params"), *dims = node_get(cs, "in");
        const char *set[16] = {0};
        for (size_t k = 0; k < p->n; k++) set[2 * k] = p->pairs[k].key, set[2 * k + 1] = p->pairs[k].value->text;
        runner_shape_t in = {.rank = (uint32_t)dims->n};
        for (size_t d = 0; d < dims->n; d++) in.dim[d] = (uint32_t)atoi(dims->items[d]->text);
        layer_rig_t r;
        rig_make(&r, node_get(cs, "layer")->text, set, in, (size_t)atoi(node_get(cs, "batch")->text));
        size_t np = node_get(cs, "weights")->n;
        to_floats(node_get(cs, "x"), r.x, r.B * r.I, "x");
        to_floats(node_get(cs, "weights"), r.c.params, np, "weights");
        to_floats(node_get(cs, "dy"), r.dy, r.B * r.O, "dy");
        runner_err_t e = {{0}};
        cr_assert_eq(r.d->layer->forward(&r.c, r.x, r.y, &e), RUNNER_OK, "%s", e.msg);
        expect_matches(r.y, node_get(cs, "y"), r.B * r.O, "y", c);
        cr_assert_eq(r.d->layer->backward(&r.c, r.x, r.y, r.dy, r.dx, &e), RUNNER_OK, "%s", e.msg);
        expect_matches(r.dx, node_get(cs, "dx"), r.B * r.I, "dx", c);
        /* a parameter's gradient sums over the batch and, for images, every output position */
        size_t positions = r.c.out.rank == 3 ? (size_t)r.c.out.dim[1] * r.c.out.dim[2] : 1;
        expect_matches_sum(r.c.grads, node_get(cs, "dparams"), np, "dparams", c, r.B * positions);
        const node_t *state = node_get(cs, "state");
        if (state) { /* batchnorm: running mean and variance after the step, then evaluation with them */
            float running[64];
            for (size_t k = 0; k < state->n; k++) running[k] = (float)((const double *)r.c.state)[k];
            expect_matches(running, state, state->n, "running statistics", c);
            r.c.training = 0;
            cr_assert_eq(r.d->layer->forward(&r.c, r.x, r.y, &e), RUNNER_OK, "%s", e.msg);
            expect_matches(r.y, node_get(cs, "y_eval"), r.B * r.O, "evaluation y", c);
        }
        rig_free(&r);
    }
    arena_free(&arena);
}

/* ---- threads ------------------------------------------------------------- */

/* One forward and backward; y, dx and the gradients into out. */
static void pass(layer_rig_t *r, float *out)
{
    runner_err_t e = {{0}};
    size_t np = 0;
    runner_shape_t o;
    r->d->layer->shape(r->hp, &r->c.in, &o, &np, &e);
    cr_assert_eq(r->d->layer->forward(&r->c, r->x, r->y, &e), RUNNER_OK);
    cr_assert_eq(r->d->layer->backward(&r->c, r->x, r->y, r->dy, r->dx, &e), RUNNER_OK);
    memcpy(out, r->y, r->B * r->O * sizeof *out);
    memcpy(out + r->B * r->O, r->dx, r->B * r->I * sizeof *out);
    memcpy(out + r->B * (r->O + r->I), r->c.grads, np * sizeof *out);
}

Test(image_layers, same_bits_at_any_thread_count)
{
    const char *const conv[] = {"filters", "6", "size", "3", "pad", "1", NULL};
    const struct {
        const char *name;
        const char *const *set;
    } layers[] = {{"conv2d", conv}, {"maxpool", NULL}, {"avgpool", NULL}, {"batchnorm", NULL}};
    for (size_t k = 0; k < sizeof layers / sizeof layers[0]; k++) {
        layer_rig_t r;
        rig_make(&r, layers[k].name, layers[k].set, IMAGE(3, 12, 12), 23); /* 23: groups of 4 end short */
        size_t n = r.B * (r.O + r.I) + 6 * 27 + 6;
        float *one = calloc(n, sizeof *one), *three = calloc(n, sizeof *three);
        host_set_kernel_threads(1);
        pass(&r, one);
        host_set_kernel_threads(3);
        pass(&r, three);
        host_set_kernel_threads(1);
        cr_expect_eq(memcmp(one, three, n * sizeof *one), 0, "%s: results differ between 1 and 3 threads",
                     layers[k].name);
        free(one), free(three);
        rig_free(&r);
    }
}
