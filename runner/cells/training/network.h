/*
 * network.h: a compiled model made runnable: parameters, gradients,
 * activations and every layer's state and work, in one allocation made
 * before the first step (nothing is allocated in the step loop).
 *
 * Shapes: B = samples in this call (<= batch), W_i = per-sample size of
 * acts[i]. acts[0] is the input (B, W_0), which the caller fills;
 * acts[i+1] is layer i's output; the last is the scores the loss takes.
 * Backward runs the loss, then the layers in reverse, passing gradients
 * through two buffers in turn.
 *
 * Randomness: initial weights and dropout masks come from the network's
 * own stream, seeded from the cell's seed, so they do not depend on what
 * else the trainer draws (the shuffle has its own stream).
 */
#ifndef RUNNER_NETWORK_H
#define RUNNER_NETWORK_H

#include "cells/training/model.h"

/* A run of layers the host calls together (network.c says why): sliced,
 * slice samples at a time through all of them, or whole (slice 0), one
 * layer after the other over the batch. */
typedef struct {
    size_t first, end;           /* layers [first, end) */
    size_t slice;                /* samples per slice; 0 when whole */
    size_t param_offset, n_params; /* the run's parameters, contiguous */
    size_t width;                /* the largest per-sample output in the run */
    float *slice_grads;          /* (slices of a full batch, n_params) when sliced */
} segment_t;

typedef struct {
    const model_t *model;
    size_t batch;            /* the most samples one call may take */
    float *params, *grads;   /* (n_params) each, layer after layer */
    float **acts;            /* n_layers + 1 buffers, (batch, W_i) each */
    float *delta[2];         /* (batch, max_width) each */
    runner_layer_ctx_t *ctx; /* per layer */
    runner_layer_ctx_t loss_ctx;
    segment_t *segments;     /* every layer in one, in order */
    size_t n_segments;
    size_t *work_stride;     /* per layer: bytes of one slice's work (0: not sliced) */
    char *scratch;           /* per thread: two gradient buffers for a slice */
    size_t scratch_each;     /* bytes per thread */
    int scratch_threads;     /* threads a sliced backward may use */
    runner_rng_t rng;
    void *block;
} network_t;

/* Bytes network_create allocates for this model and batch. */
size_t network_bytes(const model_t *m, size_t batch);

err_code_t network_create(network_t *net, const model_t *m, size_t batch, err_t *err);
/* As network_create, with runs of per-sample layers cut into slices of
 * about slice_bytes each (network.c) instead of the default; 1 slices every
 * run sample by sample, which tests use on small models. */
err_code_t network_create_sliced(network_t *net, const model_t *m, size_t batch, size_t slice_bytes, err_t *err);
void network_destroy(network_t *net);

/* Fresh parameters and state for a run with this seed. */
int network_init(network_t *net, uint64_t seed, runner_err_t *err);

/* Forward B samples of acts[0]; the scores are network_output(). */
int network_forward(network_t *net, size_t B, int training, runner_err_t *err);

/* The mean loss of the last forward's scores against labels; with
 * backward, also every parameter's gradient into net->grads. */
int network_loss(network_t *net, size_t B, const int32_t *labels, double *loss, runner_err_t *err);
int network_backward(network_t *net, size_t B, const int32_t *labels, double *loss, runner_err_t *err);

static inline float *network_input(const network_t *net) { return net->acts[0]; }
static inline float *network_output(const network_t *net) { return net->acts[net->model->n_layers]; }

#endif
