/*
 * activations.c: the element-wise activation layers, relu, sigmoid and tanh,
 * three descriptors in one file because they differ only in one line of
 * forward and one of backward. No parameters, no state; the output shape
 * is the input shape. Shapes: N = B * (features of one sample).
 *   relu     y = max(x, 0)        dx = dy * (y > 0)
 *   sigmoid  y = 1 / (1 + e^-x)   dx = dy * y * (1 - y)
 *   tanh     y = tanh(x)          dx = dy * (1 - y^2)
 * Backward needs only y, as in the textbook's layers.
 */
#include <runner/fixed_math.h>
#include <runner/plugin.h>

static int same_shape(const double *hp, const runner_shape_t *in, runner_shape_t *out, size_t *n_params,
                      runner_err_t *err)
{
    (void)hp, (void)err;
    *out = *in;
    *n_params = 0;
    return RUNNER_OK;
}

static size_t count(const runner_layer_ctx_t *c) { return c->batch * runner_shape_size(&c->in); }

/* Elements per parallel_for call: a few hundred kilobytes, so a batch of
 * conv outputs (millions of elements) shares out over the threads and a
 * small one stays one call. Element-wise: the bits never depend on it. */
#define CHUNK 65536

typedef struct {
    size_t n;
    const float *x, *y, *dy;
    float *out;
} job_t;

/* name##_chunk(job, k): out = expr over the k-th CHUNK of the elements;
 * attr: attributes of the function (none, or RUNNER_AVX2_CLONES). */
#define ELEMENTWISE_WITH(attr, name, expr)                                                 \
    attr static void name##_chunk(void *arg, size_t k)                                     \
    {                                                                                      \
        const job_t *j = arg;                                                              \
        const float *x = j->x, *y = j->y, *dy = j->dy;                                     \
        float *out = j->out;                                                               \
        size_t end = (k + 1) * CHUNK < j->n ? (k + 1) * CHUNK : j->n;                      \
        (void)x, (void)y, (void)dy;                                                        \
        for (size_t i = k * CHUNK; i < end; i++) out[i] = (expr);                          \
    }
#define ELEMENTWISE(name, expr) ELEMENTWISE_WITH(, name, expr)

/* The same, compiled for AVX2 too and picked by the CPU (an ifunc): the
 * exponentials vectorise 4 doubles wide there, 2 with SSE2 (2.4 and 4.7 ns
 * an element for e^x, against 11 ns a call of runner_expf: fixed_math.h).
 * Plain double arithmetic and no FMA (-ffp-contract=off), so both clones
 * give runner_expf's and runner_tanhf's bits (test_fixed_math). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define RUNNER_AVX2_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define RUNNER_AVX2_CLONES
#endif
#define ELEMENTWISE_WIDE(name, expr) ELEMENTWISE_WITH(RUNNER_AVX2_CLONES, name, expr)

/* Both operands loaded unconditionally (they are arguments), so the
 * compiler can use a vector select: as `y > 0 ? dy[i] : 0` in the loop it
 * branched on every element, and ReLU signs are a coin toss. */
static inline float relu_pass(float y, float dy) { return y > 0.0f ? dy : 0.0f; }

ELEMENTWISE(relu_f, x[i] > 0.0f ? x[i] : 0.0f)
ELEMENTWISE(relu_b, relu_pass(y[i], dy[i]))
ELEMENTWISE_WIDE(sigmoid_f, 1.0f / (1.0f + runner_expf_branchless(-x[i])))
ELEMENTWISE(sigmoid_b, dy[i] * y[i] * (1.0f - y[i]))
ELEMENTWISE_WIDE(tanh_f, runner_tanhf_branchless(x[i]))
ELEMENTWISE(tanh_b, dy[i] * (1.0f - y[i] * y[i]))

static void run(const runner_layer_ctx_t *c, void (*chunk)(void *, size_t), job_t j)
{
    j.n = count(c);
    c->host->parallel_for((j.n + CHUNK - 1) / CHUNK, chunk, &j);
}

/* Backward with dx NULL (the first layer) has nothing to do. */
#define ACTIVATION_OPS(fn)                                                                                          \
    static int fn##_forward(const runner_layer_ctx_t *c, const float *x, float *y, runner_err_t *err)              \
    {                                                                                                               \
        (void)err;                                                                                                  \
        run(c, fn##_f_chunk, (job_t){.x = x, .out = y});                                                            \
        return RUNNER_OK;                                                                                           \
    }                                                                                                               \
    static int fn##_backward(const runner_layer_ctx_t *c, const float *x, const float *y, const float *dy, float *dx, \
                             runner_err_t *err)                                                                     \
    {                                                                                                               \
        (void)x, (void)err;                                                                                         \
        if (dx) run(c, fn##_b_chunk, (job_t){.y = y, .dy = dy, .out = dx});                                          \
        return RUNNER_OK;                                                                                           \
    }
ACTIVATION_OPS(relu)
ACTIVATION_OPS(sigmoid)
ACTIVATION_OPS(tanh)

#define ACTIVATION(fn)                                                                                       \
    static const runner_layer_ops_t fn##_ops = {                                                            \
        .size = sizeof(runner_layer_ops_t), .flags = RUNNER_LAYER_PER_SAMPLE, .shape = same_shape,           \
        .forward = fn##_forward, .backward = fn##_backward,                                                  \
    }
ACTIVATION(relu);
ACTIVATION(sigmoid);
ACTIVATION(tanh);

#define DESCRIPTOR(fn, text) \
    {RUNNER_PLUGIN_HEADER, .kind = RUNNER_KIND_LAYER, .name = #fn, .version = "1.0.0", .doc = text, .layer = &fn##_ops}
static const runner_plugin_t descriptors[] = {
    DESCRIPTOR(relu, "rectified linear unit, y = max(x, 0)"),
    DESCRIPTOR(sigmoid, "logistic sigmoid, y = 1 / (1 + exp(-x))"),
    DESCRIPTOR(tanh, "hyperbolic tangent, y = tanh(x)"),
};

RUNNER_EXPORT const runner_plugin_t *runner_plugin_get(uint32_t index)
{
    return index < sizeof descriptors / sizeof descriptors[0] ? &descriptors[index] : NULL;
}
