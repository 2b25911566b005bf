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
 * Versioning rules (docs in README.md, "Writing a plugin"):
 *  - every descriptor starts with magic, abi_major, abi_minor and size;
 *  - the host refuses a plugin whose abi_major differs from its own, and one
 *    whose size is smaller than the ABI 1.0 descriptor (it reads no further);
 *  - a minor version only appends fields at the end of a struct; the host
 *    reads an appended field only when `size` says the plugin has it.
 *
 * Ownership and threading: the host owns all memory. An optimizer tells the
 * host how many bytes of state it needs for n parameters; the host allocates
 * them (once per thread, before the first step) and passes them back. Plugins
 * keep no globals and no hidden RNG, so one instance per cell runs on each
 * thread without locks.
 */
#ifndef RUNNER_PLUGIN_H
#define RUNNER_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RUNNER_PLUGIN_MAGIC 0x52554E52u /* "RUNR" */
#define RUNNER_ABI_MAJOR 1
#define RUNNER_ABI_MINOR 0

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
    RUNNER_KIND_LAYER = 2, /* reserved for the layer ABI (ABI 1.1) */
} runner_kind_t;

typedef enum {
    RUNNER_PARAM_FLOAT = 1, /* any finite double within the bounds */
    RUNNER_PARAM_INT = 2,   /* an integer within the bounds */
    RUNNER_PARAM_BOOL = 3,  /* true/false, passed as 1.0/0.0 */
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
} runner_optimizer_ops_t;

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
} runner_plugin_t;

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
