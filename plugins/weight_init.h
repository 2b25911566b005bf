/*
 * weight_init.h: the initial-weight rules that affine and conv2d share
 * (a plugin-private header: both files include it, the ABI does not).
 * fan_in is the number of inputs one output sums over: I for affine,
 * channels * size * size for conv2d.
 *   he      W ~ N(0, 2/fan_in), b = 0    (ReLU nets)
 *   xavier  W ~ N(0, 1/fan_in), b = 0    (sigmoid/tanh nets; the textbook's Xavier)
 *   std     W ~ N(0, scale^2), b = 0
 *   uniform W, b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))   (PyTorch's Linear and Conv2d default)
 */
#ifndef RUNNER_PLUGINS_WEIGHT_INIT_H
#define RUNNER_PLUGINS_WEIGHT_INIT_H

#include <runner/plugin.h>
#include <string.h>

enum { WEIGHT_INIT_HE, WEIGHT_INIT_XAVIER, WEIGHT_INIT_STD, WEIGHT_INIT_UNIFORM };

#define WEIGHT_INIT_PARAMS                                                                                  \
    {"init", RUNNER_PARAM_CHOICE, 0, WEIGHT_INIT_HE, 0, 3,                                                  \
     "initial weights: he, xavier, std (N(0, scale^2)) or uniform"},                                        \
    {                                                                                                       \
        "scale", RUNNER_PARAM_FLOAT, 0, 0.01, 0, 1e3, "standard deviation of init: std"                     \
    }

static const char *const weight_init_names[] = {"he", "xavier", "std", "uniform", NULL};

/* W (n_weights) then b (n_bias), contiguous, from the cell's stream. */
static inline void weight_init_fill(runner_rng_t *rng, float *W, size_t n_weights, size_t n_bias, size_t fan_in,
                                    int how, double scale)
{
    if (how == WEIGHT_INIT_UNIFORM) {
        double bound = 1.0 / sqrt((double)fan_in);
        for (size_t k = 0; k < n_weights + n_bias; k++) W[k] = (float)(bound * (2.0 * runner_rng_uniform(rng) - 1.0));
        return;
    }
    double std = how == WEIGHT_INIT_HE ? sqrt(2.0 / (double)fan_in)
                 : how == WEIGHT_INIT_XAVIER ? sqrt(1.0 / (double)fan_in)
                                             : scale;
    for (size_t k = 0; k < n_weights; k++) W[k] = (float)(std * runner_rng_normal(rng));
    memset(W + n_weights, 0, n_bias * sizeof *W);
}

#endif
