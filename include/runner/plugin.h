/*
 * runner/plugin.h: the plugin ABI of runner, the only header a plugin includes.
 *
 * A plugin is a shared object that exports one function, runner_plugin_get(),
 * returning constant descriptors by index until NULL (the LADSPA pattern).
 * One file may hold several descriptors (sgd.so holds sgd, momentum and
 * nesterov: one update rule, three sets of defaults).
 *
 * What this header is not: a place for host internals. A plugin never links
 * against the runner; everything it needs comes in through these types.
 *
 * Versioning rules (docs/plugins.md, "The ABI and its versions"):
 *  - every descriptor starts with magic, abi_major, abi_minor and size;
 *  - the host refuses a plugin whose abi_major differs from its own, one
 *    whose size is smaller than the ABI 1.0 descriptor, and one whose size
 *    is larger than its own abi_minor's struct (RUNNER_PLUGIN_SIZE_OF_MINOR):
 *    it reads no further than the version fields in either case;
 *  - a minor version only appends fields at the end of a struct; the host
 *    (and a plugin reading the host's table) reads a field only when `size`
 *    covers it: RUNNER_HAS_FIELD(p, type, field), never size >= sizeof(type).
 *
 * Concurrency: the host calls a plugin's operations on several threads at
 * once, each call with its own state, work and parameters (one instance per
 * cell, cells side by side); operations on one instance are never
 * concurrent, except an elementwise step's apply over disjoint ranges
 * (RUNNER_EXT_ELEMENTWISE_STEP, below). Optimizer check and state_bytes,
 * and layer shape, state_bytes and work_bytes, may run on any thread while
 * other cells compute: they must be pure functions of their arguments. A layer call may itself spread
 * work over threads with host->parallel_for, never with threads of its own.
 *
 * Learning-rate schedules find the base rate in the optimizer's parameter
 * named `lr` and change it through set_lr: an optimizer without a parameter
 * named `lr`, or without set_lr, cannot follow a schedule.
 *
 * ABI history: 1.0 optimizers. 1.1 layers (kind RUNNER_KIND_LAYER, the
 * `layer` field of the descriptor), the host services table (sgemm,
 * parallel_for), the random stream, and the optimizer's optional set_lr
 * (for learning-rate schedules). 1.2 the layer flag RUNNER_LAYER_PER_SAMPLE.
 * 1.3 the descriptor's optional `extension(name)` (LV2's extension_data):
 * new capabilities are named interfaces, not new descriptor fields; the
 * first is RUNNER_EXT_RESOLVE. 1.4 the extension RUNNER_EXT_CLOSURE_STEP:
 * optimizers that evaluate the objective at points of their own choosing
 * within one step (L-BFGS). 1.5 the extension RUNNER_EXT_ELEMENTWISE_STEP:
 * an optimizer step the host may share out over threads.
 *
 * Ownership and threading: the host owns all memory. An optimizer tells the
 * host how many bytes of state it needs for n parameters; the host allocates
 * them (once per thread, before the first step) and passes them back. Plugins
 * keep no globals and no hidden RNG, so one instance per cell runs on each
 * thread without locks.
 */
#ifndef RUNNER_PLUGIN_H
#define RUNNER_PLUGIN_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include "fixed_math.h" /* runner_rng_normal; plugins may use it too */

#ifdef __cplusplus
extern "C" {
#endif

#define RUNNER_PLUGIN_MAGIC 0x52554E52u /* "RUNR" */
#define RUNNER_ABI_MAJOR 1
#define RUNNER_ABI_MINOR 5

/* Optional, for speed: compile a function twice, with and without the FMA
 * instructions, and let the loader pick (an ifunc). fmaf() then becomes one
 * instruction where the CPU has it. The results are the same bits either
 * way, because fmaf is exactly rounded by definition. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define RUNNER_FMA_CLONES __attribute__((target_clones("fma", "default")))
#else
#define RUNNER_FMA_CLONES
#endif

/* Name of the one symbol a plugin exports. */
#define RUNNER_PLUGIN_ENTRY "runner_plugin_get"

#if defined(__GNUC__)
#define RUNNER_EXPORT __attribute__((visibility("default")))
#else
#define RUNNER_EXPORT
#endif

typedef enum {
    RUNNER_KIND_OPTIMIZER = 1,
    RUNNER_KIND_LAYER = 2,     /* since ABI 1.1: a network layer or a loss */
} runner_kind_t;

typedef enum {
    RUNNER_PARAM_FLOAT = 1, /* any finite double within the bounds */
    RUNNER_PARAM_INT = 2,   /* an integer within the bounds */
    RUNNER_PARAM_BOOL = 3,  /* true/false, passed as 1.0/0.0 */
    RUNNER_PARAM_CHOICE = 4, /* ABI 1.1: one of the names in param_choices, passed as its index */
} runner_param_type_t;

/* Flags of a parameter (bit set). */
enum {
    RUNNER_PARAM_LOG = 1u << 0,           /* log-scale hint for sweeps and plots */
    RUNNER_PARAM_REQUIRED = 1u << 1,      /* no default: the config must give it */
    RUNNER_PARAM_MIN_EXCLUSIVE = 1u << 2, /* value must be > min, not >= */
    RUNNER_PARAM_MAX_EXCLUSIVE = 1u << 3, /* value must be < max, not <= */
};

/* One hyperparameter, described as data (LADSPA port hints). */
typedef struct {
    const char *name;       /* [a-z][a-z0-9_]*, unique within the plugin */
    uint32_t type;          /* runner_param_type_t */
    uint32_t flags;         /* RUNNER_PARAM_* */
    double default_value;   /* ignored when RUNNER_PARAM_REQUIRED */
    double min, max;        /* bounds, inclusive unless flagged exclusive */
    const char *doc;        /* one line */
} runner_param_t;

/* Where a plugin writes what went wrong; the host adds the context. */
#define RUNNER_ERR_MAX 256
typedef struct {
    char msg[RUNNER_ERR_MAX];
} runner_err_t;

/* Whether a struct whose leading `size` field says how many bytes its
 * producer knew has `field`: the host reads an appended field only then
 * (and a plugin reads the host's table the same way). Per field, never
 * size >= sizeof(the whole struct): that refuses every plugin built before
 * the struct last grew. */
#define RUNNER_HAS_FIELD(p, type, field) \
    ((size_t)(p)->size >= offsetof(type, field) + sizeof(((type *)0)->field))

/* Return codes of plugin functions. */
#define RUNNER_OK 0
#define RUNNER_FAIL (-1)

/*
 * Optimizer operations. hp holds the resolved hyperparameters in schema
 * order, already validated against the bounds. n = number of parameters.
 */
typedef struct {
    uint32_t size; /* sizeof(runner_optimizer_ops_t) as the plugin saw it */

    /* Optional: reject combinations the bounds cannot express
     * (e.g. nesterov without momentum). NULL means every combination is valid. */
    int (*check)(const double *hp, runner_err_t *err);

    /* Bytes of state for n parameters (may be 0). */
    size_t (*state_bytes)(size_t n, const double *hp);

    /* Reset state for a new run. state is 64-byte aligned, state_bytes long.
     * seed is the cell's seed, for optimizers that draw random numbers. */
    int (*init)(void *state, size_t n, const double *hp, uint64_t seed, runner_err_t *err);

    /* One update: w[n] -= f(g[n]). Must not allocate. */
    int (*step)(void *state, size_t n, float *w, const float *g, runner_err_t *err);

    /* ABI 1.1, optional: change the learning rate of an initialised state
     * (schedules call it before a step). NULL: the optimizer cannot follow
     * a schedule, and a config that asks for one is refused. */
    void (*set_lr)(void *state, double lr);
} runner_optimizer_ops_t;

/* Where an ABI 1.0 optimizer's operations end: set_lr is read only past it. */
#define RUNNER_OPTIMIZER_OPS_1_0_SIZE offsetof(runner_optimizer_ops_t, set_lr)
/* The largest operations table of ABI 1.minor (1.1 appended set_lr). */
#define RUNNER_OPTIMIZER_OPS_SIZE_OF_MINOR(minor) \
    ((minor) == 0 ? RUNNER_OPTIMIZER_OPS_1_0_SIZE : sizeof(runner_optimizer_ops_t))

/* ---- ABI 1.1: layers --------------------------------------------------- */

/* The shape of one sample, outermost first: (features) for flat data,
 * (channels, height, width) for images. The batch is not part of it. */
#define RUNNER_MAX_RANK 4
typedef struct {
    uint32_t rank;
    uint32_t dim[RUNNER_MAX_RANK];
} runner_shape_t;

static inline size_t runner_shape_size(const runner_shape_t *s)
{
    size_t n = 1;
    for (uint32_t i = 0; i < s->rank; i++) n *= s->dim[i];
    return n;
}

/* A random stream (splitmix64). The algorithm is part of the ABI: the same
 * seed gives the same numbers in every build, so a cell's initial weights
 * and dropout masks depend on its seed only. Plugins use these inline
 * functions on the stream the host hands them and keep no stream of their own. */
typedef struct {
    uint64_t state;
} runner_rng_t;

static inline uint64_t runner_rng_next(runner_rng_t *r)
{
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1), 53 random bits. */
static inline double runner_rng_uniform(runner_rng_t *r) { return (double)(runner_rng_next(r) >> 11) * 0x1.0p-53; }

/* Standard normal, Box-Muller with one of the pair (simple and stateless). */
static inline double runner_rng_normal(runner_rng_t *r)
{
    double u1 = 1.0 - runner_rng_uniform(r); /* (0, 1]: log(u1) is finite */
    double u2 = runner_rng_uniform(r);
    return sqrt(-2.0 * runner_log(u1)) * runner_cos(6.283185307179586 * u2); /* fixed_math.h: the same bits on any CPU */
}

/* Functions the host lends to plugins (SQLite's sqlite3_api_routines idea):
 * plugins call BLAS through here and never link it, and the host decides
 * how many threads a product may use (one per cell when cells run in
 * parallel, all of them when one cell has the machine). */
typedef struct {
    uint32_t size; /* sizeof(runner_host_t) as the host saw it */
    /* Row-major C[m,n] = alpha * op(A)[m,k] * op(B)[k,n] + beta * C, as
     * cblas_sgemm(CblasRowMajor, ...); trans_a/trans_b nonzero transpose. */
    void (*sgemm)(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha, const float *a, size_t lda,
                  const float *b, size_t ldb, float beta, float *c, size_t ldc);
    /* body(arg, i) for every i in [0, n), shared over the threads this cell
     * may use (only the caller's when cells run side by side). The calls
     * must write disjoint memory and not depend on one another's order; a
     * reduction sums fixed groups into separate partials, then the partials
     * in order, so its bits do not depend on the thread count. */
    void (*parallel_for)(size_t n, void (*body)(void *arg, size_t i), void *arg);
} runner_host_t;

/* Everything a layer call needs. Shapes: B = batch (samples in this call),
 * I = runner_shape_size(&in), O = runner_shape_size(&out). */
typedef struct {
    const runner_host_t *host;
    const double *hp;        /* resolved hyperparameters, schema order */
    runner_shape_t in, out;  /* per-sample shapes, as shape() gave them */
    size_t batch;            /* B: at most the batch that work was sized for */
    float *params;           /* this layer's slice of the network's flat parameters */
    float *grads;            /* same length: backward overwrites it */
    void *state;             /* state_bytes, kept across steps (running statistics) */
    void *work;              /* work_bytes, kept from forward to the following backward */
    int training;            /* 1 in a training step, 0 at evaluation */
    runner_rng_t *rng;       /* the cell's stream (initial weights, dropout masks) */
} runner_layer_ctx_t;

/* Flags of a layer. */
enum {
    RUNNER_LAYER_LOSS = 1u << 0, /* a loss: used as `loss:`, never inside `model:` */
    /* ABI 1.2: the layer treats every sample on its own, at a cost per
     * sample that does not grow when called on a few samples at a time,
     * and draws no random numbers. The host may then call forward and
     * backward on slices of the batch: ctx->batch samples, x, y, dy and dx
     * at the slice's first sample, a work area sized by work_bytes for the
     * slice and kept from the slice's forward to its backward, and a grads
     * array of the slice's own (the host sums the slices' in order). state
     * is shared by all slices: only read it. Slices of one batch may run at
     * the same time on different threads. conv2d, the activations, the
     * pooling layers and flatten set it; affine does not (its products
     * want the whole batch), nor dropout (random) or batchnorm (batch
     * statistics). A host before 1.2 ignores it. */
    RUNNER_LAYER_PER_SAMPLE = 1u << 1,
};

typedef struct {
    uint32_t size;  /* sizeof(runner_layer_ops_t) as the plugin saw it */
    uint32_t flags; /* RUNNER_LAYER_* */

    /* Shape inference: the output shape and parameter count for an input
     * shape, or RUNNER_FAIL with the reason (the host adds the config line). */
    int (*shape)(const double *hp, const runner_shape_t *in, runner_shape_t *out, size_t *n_params,
                 runner_err_t *err);

    /* Bytes of state (kept for the whole training, e.g. running statistics)
     * and of work (scratch for one batch of up to `batch` samples). Either
     * may be NULL: none needed. */
    size_t (*state_bytes)(const double *hp, const runner_shape_t *in);
    size_t (*work_bytes)(const double *hp, const runner_shape_t *in, size_t batch);

    /* Initial parameters and state, drawn from ctx->rng. May be NULL when
     * there are neither (zeroed state is then what the layer starts from). */
    int (*init)(const runner_layer_ctx_t *ctx, runner_err_t *err);

    /* Layers: y (B, O) = f(x (B, I)). Must not allocate. */
    int (*forward)(const runner_layer_ctx_t *ctx, const float *x, float *y, runner_err_t *err);

    /* Layers: from dy (B, O), overwrite dx (B, I) and ctx->grads. x and y are
     * what the last forward saw and wrote. dx is NULL for the first layer
     * (nothing needs it: skip that work). */
    int (*backward)(const runner_layer_ctx_t *ctx, const float *x, const float *y, const float *dy, float *dx,
                    runner_err_t *err);

    /* Losses (flag RUNNER_LAYER_LOSS): the mean loss over the batch of
     * x (B, I) against class labels[B] in [0, I), into *loss; when dx is not
     * NULL, also d(mean loss)/dx (B, I). */
    int (*loss)(const runner_layer_ctx_t *ctx, const float *x, const int32_t *labels, double *loss, float *dx,
                runner_err_t *err);
} runner_layer_ops_t;

/* The layer operations as ABI 1.1 made them: the smallest table the host
 * accepts, and the largest a 1.1 or 1.2 plugin can have. */
#define RUNNER_LAYER_OPS_1_1_SIZE (offsetof(runner_layer_ops_t, loss) + sizeof(((runner_layer_ops_t *)0)->loss))
#define RUNNER_LAYER_OPS_SIZE_OF_MINOR(minor) ((minor) <= 1 ? RUNNER_LAYER_OPS_1_1_SIZE : sizeof(runner_layer_ops_t))

/* The descriptor. Version fields first so any host can read them. */
typedef struct {
    uint32_t magic;     /* RUNNER_PLUGIN_MAGIC */
    uint16_t abi_major; /* RUNNER_ABI_MAJOR the plugin was built with */
    uint16_t abi_minor; /* RUNNER_ABI_MINOR the plugin was built with */
    uint32_t size;      /* sizeof(runner_plugin_t) as the plugin saw it */
    uint32_t kind;      /* runner_kind_t */
    const char *name;    /* what configs write: optimizer: {name: NAME} */
    const char *version; /* the plugin's own version, recorded in results */
    const char *doc;     /* one line */
    const runner_param_t *params;
    uint32_t n_params;
    const runner_optimizer_ops_t *optimizer; /* set when kind == OPTIMIZER */
    /* ABI 1.1 */
    const runner_layer_ops_t *layer; /* set when kind == LAYER */
    /* For each parameter (same index as params): when its type is
     * RUNNER_PARAM_CHOICE, a NULL-terminated list of the names a config may
     * write; NULL otherwise. A choice's bounds are 0 .. count-1 and its
     * default is an index. May be NULL when no parameter is a choice. */
    const char *const *const *param_choices;
    /* ABI 1.3, optional: the plugin's implementation of the interface called
     * `name` (RUNNER_EXT_*), or NULL when it has none. Later capabilities
     * come this way, so the descriptor need not grow for each. */
    const void *(*extension)(const char *name);
} runner_plugin_t;

/* Extension "runner.resolve" (ABI 1.3): a runner_resolve_fn. Some
 * parameters have a marker default whose meaning depends on others (a
 * pooling stride of 0 means "the window size"). resolve replaces such
 * markers in hp (schema order, validated) with the values the plugin will
 * use, so that the record of a cell says what ran. It must leave every
 * other value alone, keep each within its bounds, and be idempotent;
 * `runner check` verifies that. */
#define RUNNER_EXT_RESOLVE "runner.resolve"
typedef void (*runner_resolve_fn)(double *hp);

/* Extension "runner.closure_step" (ABI 1.4): a runner_closure_step_fn.
 * An optimizer that needs the objective at points of its own choosing
 * within one step (L-BFGS's iterations and line search; torch.optim's
 * step(closure)) takes its steps through it instead of `step`. The host
 * hands it w[n], the gradient g[n] at w and the loss there (torch's first
 * closure() call of a step), and a closure that evaluates the objective
 * at any point: the loss into *loss, the gradient into g[n]. The closure
 * may be called any number of times (the optimizer bounds it: max_eval);
 * it does not change w. On return w holds the step's result. The host
 * counts the closure's calls and records them (`evaluations`). Only
 * analytic cells have a closure: a training config naming such an
 * optimizer is refused at load. Its `step` should fail with a message
 * saying so, for hosts before 1.4. */
#define RUNNER_EXT_CLOSURE_STEP "runner.closure_step"
typedef struct {
    /* The objective at w[n]: RUNNER_OK, or RUNNER_FAIL with err filled. */
    int (*eval)(void *ctx, const float *w, float *g, double *loss, runner_err_t *err);
    void *ctx;
} runner_closure_t;
typedef int (*runner_closure_step_fn)(void *state, size_t n, float *w, const float *g, double loss,
                                      const runner_closure_t *closure, runner_err_t *err);

/* Extension "runner.elementwise_step" (ABI 1.5): a runner_elementwise_step_t.
 * For an optimizer whose update of element i reads and writes only w[i],
 * g[i] and the state's own values for element i, besides scalars that
 * change once a step (Adam's bias corrections): the host may then share a
 * step out over threads. It calls begin once (advance the step's scalars,
 * keep them in the state), then apply over ranges [lo, hi) that cover
 * [0, n) without overlap, several ranges at once on different threads.
 * That must give exactly the bits `step` gives, for any ranges: `runner
 * check PLUGIN.so` tests it. apply cannot fail; begin may (the host then
 * calls no apply). A training cell with threads to spare uses it (Adam's
 * step of the 433,000-parameter CNN takes 0.2 ms, 2% of a batch on one
 * thread, a quarter of a batch shared perfectly over 16 if it stayed
 * serial); everything else calls `step`, which runner_step_by_ranges
 * below makes the same code. */
#define RUNNER_EXT_ELEMENTWISE_STEP "runner.elementwise_step"
typedef struct {
    uint32_t size; /* sizeof(runner_elementwise_step_t) as the plugin saw it */
    int (*begin)(void *state, size_t n, runner_err_t *err);
    void (*apply)(void *state, size_t n, size_t lo, size_t hi, float *w, const float *g);
} runner_elementwise_step_t;

/* A step as begin, then apply over [0, n): an elementwise optimizer's
 * `step`, so both ways run one loop. */
static inline int runner_step_by_ranges(const runner_elementwise_step_t *e, void *state, size_t n, float *w,
                                        const float *g, runner_err_t *err)
{
    if (e->begin(state, n, err) != RUNNER_OK) return RUNNER_FAIL;
    e->apply(state, n, 0, n, w, g);
    return RUNNER_OK;
}

/* Where an ABI 1.0 descriptor ends: the smallest size the host accepts. */
#define RUNNER_PLUGIN_1_0_SIZE offsetof(runner_plugin_t, layer)
/* Where an ABI 1.1 or 1.2 descriptor ends. */
#define RUNNER_PLUGIN_1_1_SIZE offsetof(runner_plugin_t, extension)
/* The largest descriptor a plugin of ABI 1.minor can have (1.1 appended
 * layer and param_choices; 1.2 only a flag; 1.3 extension; 1.4 and 1.5
 * only extension names). A descriptor
 * that claims more than its minor version has is refused unread: the host
 * cannot know where it really ends. Minors newer than this header may
 * claim more. */
#define RUNNER_PLUGIN_SIZE_OF_MINOR(minor) \
    ((minor) == 0 ? RUNNER_PLUGIN_1_0_SIZE : (minor) <= 2 ? RUNNER_PLUGIN_1_1_SIZE : sizeof(runner_plugin_t))

/* Fills the version fields; use as the first line of a descriptor. */
#define RUNNER_PLUGIN_HEADER                                                                  \
    .magic = RUNNER_PLUGIN_MAGIC, .abi_major = RUNNER_ABI_MAJOR, .abi_minor = RUNNER_ABI_MINOR, \
    .size = sizeof(runner_plugin_t)

/* The one exported symbol: descriptor number index, or NULL past the last. */
typedef const runner_plugin_t *(*runner_plugin_get_fn)(uint32_t index);

#ifdef __cplusplus
}
#endif
#endif /* RUNNER_PLUGIN_H */
