/*
 * network.c: forward and backward over a chain of layer plugins.
 *
 * Segments. A run of layers flagged RUNNER_LAYER_PER_SAMPLE (conv2d, the
 * activations, pooling) whose activations for the whole batch would not
 * stay in cache is run slice by slice: a few samples go through every
 * layer of the run before the next few start, so what one layer writes the
 * next reads from cache, and the threads share the slices in one parallel
 * region instead of one per layer. Measured on the CNN (2 threads, one
 * epoch, timers around each pass): conv2d, ReLU and maxpool, forward and
 * backward, took 3.65 s layer by layer over batches of 7 MB outputs, and
 * 2.2 s sample by sample in L2.
 *
 * A sliced layer gets, per slice, its own work (kept from the slice's
 * forward to its backward) and its own gradient; the host sums the slices'
 * gradients in slice order. Slices depend on the shapes only, so the bits
 * do not depend on the thread count. Inside a slice, gradients between the
 * run's layers pass through per-thread scratch: slices of neighbouring
 * layers overlap in the network's shared delta buffers.
 */
#include "cells/training/network.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base/size_math.h"
#include "plugin_host/host_services.h"

#define ALIGN 64
static size_t round_up(size_t n) { return size_round_up(n, ALIGN); }

/* A slice's activations and work should fit this (a core's L2 is 256 KB
 * to 2 MB); a run whose whole batch does is not sliced. A constant, not
 * the machine's cache size: slices decide the bits. */
#define SLICE_BYTES ((size_t)256 << 10)

static size_t state_bytes(const layer_spec_t *ls)
{
    return ls->desc->layer->state_bytes ? ls->desc->layer->state_bytes(ls->hp, &ls->in) : 0;
}
static size_t work_bytes(const layer_spec_t *ls, size_t batch)
{
    return ls->desc->layer->work_bytes ? ls->desc->layer->work_bytes(ls->hp, &ls->in, batch) : 0;
}
static bool per_sample(const layer_spec_t *ls) { return ls->desc->layer->flags & RUNNER_LAYER_PER_SAMPLE; }

/* The run of layers that starts at layer i, sliced or whole. */
static segment_t segment_at(const model_t *m, size_t batch, size_t slice_bytes, size_t i)
{
    size_t end = i + 1;
    if (per_sample(&m->layers[i]))
        while (end < m->n_layers && per_sample(&m->layers[end])) end++;
    /* bytes one sample needs in the run: its input, every output, every layer's work */
    size_t bytes = runner_shape_size(&m->layers[i].in) * sizeof(float), width = 0, params = 0;
    for (size_t j = i; j < end; j++) {
        const layer_spec_t *ls = &m->layers[j];
        bytes = size_add(bytes, size_add(runner_shape_size(&ls->out) * sizeof(float), work_bytes(ls, 1)));
        if (runner_shape_size(&ls->out) > width) width = runner_shape_size(&ls->out);
        params += ls->n_params;
    }
    size_t slice = slice_bytes / bytes;
    slice = slice < 1 ? 1 : slice;
    bool sliced = per_sample(&m->layers[i]) && slice < batch;
    return (segment_t){.first = i, .end = end, .slice = sliced ? slice : 0, .param_offset = m->layers[i].param_offset, .n_params = params, .width = width};
}

static size_t slice_work(const segment_t *sg, const layer_spec_t *ls) { return round_up(work_bytes(ls, sg->slice)); }

/* The block's layout: sizes and offsets only (network_create fills in the segments). */
typedef struct {
    size_t params, grads, acts_ptrs, ctx, segments, strides, delta, scratch, total;
    size_t acts[MODEL_MAX_LAYERS + 1], state[MODEL_MAX_LAYERS], work[MODEL_MAX_LAYERS + 1]; /* work: + the loss */
    size_t slice_grads[MODEL_MAX_LAYERS];
    size_t n_segments, scratch_each;
    int scratch_threads;
} block_plan_t;

static void plan(const model_t *m, size_t batch, size_t slice_bytes, block_plan_t *l)
{
    size_t at = 0;
    l->params = at, at = size_add(at, round_up(m->n_params * sizeof(float)));
    l->grads = at, at = size_add(at, round_up(m->n_params * sizeof(float)));
    l->acts_ptrs = at, at = size_add(at, round_up((m->n_layers + 1) * sizeof(float *)));
    l->ctx = at, at = size_add(at, round_up(m->n_layers * sizeof(runner_layer_ctx_t)));
    l->strides = at, at = size_add(at, round_up(m->n_layers * sizeof(size_t)));
    l->delta = at, at = size_add(at, size_mul(2, round_up(batch * m->max_width * sizeof(float))));
    l->acts[0] = at, at = size_add(at, round_up(batch * runner_shape_size(&m->input) * sizeof(float)));
    for (size_t i = 0; i < m->n_layers; i++) {
        const layer_spec_t *ls = &m->layers[i];
        l->acts[i + 1] = at, at = size_add(at, round_up(batch * runner_shape_size(&ls->out) * sizeof(float)));
        l->state[i] = at, at = size_add(at, round_up(state_bytes(ls)));
    }
    /* Work per layer (per slice in a sliced run); per-slice gradients and
     * per-thread scratch for sliced runs. */
    l->scratch_each = 0;
    size_t s = 0;
    for (size_t i = 0; i < m->n_layers; s++) {
        const segment_t sg = segment_at(m, batch, slice_bytes, i);
        size_t slices = sg.slice ? (batch + sg.slice - 1) / sg.slice : 0;
        for (; i < sg.end; i++) {
            const layer_spec_t *ls = &m->layers[i];
            l->work[i] = at, at = size_add(at, sg.slice ? size_mul(slices, slice_work(&sg, ls)) : round_up(work_bytes(ls, batch)));
        }
        l->slice_grads[s] = at, at = size_add(at, round_up(slices * sg.n_params * sizeof(float)));
        size_t each = sg.slice ? size_mul(2, round_up(sg.slice * sg.width * sizeof(float))) : 0;
        if (each > l->scratch_each) l->scratch_each = each;
    }
    l->n_segments = s;
    l->segments = at, at = size_add(at, round_up(s * sizeof(segment_t)));
    l->work[m->n_layers] = at, at = size_add(at, round_up(work_bytes(&m->loss, batch)));
    l->scratch_threads = host_kernel_threads();
    l->scratch = at, at = size_add(at, size_mul(l->scratch_each, (size_t)l->scratch_threads));
    l->total = at;
}

size_t network_bytes(const model_t *m, size_t batch)
{
    block_plan_t l;
    plan(m, batch, SLICE_BYTES, &l);
    return l.total;
}

err_code_t network_create(network_t *net, const model_t *m, size_t batch, err_t *err)
{
    return network_create_sliced(net, m, batch, SLICE_BYTES, err);
}

err_code_t network_create_sliced(network_t *net, const model_t *m, size_t batch, size_t slice_bytes, err_t *err)
{
    block_plan_t l;
    plan(m, batch, slice_bytes, &l);
    memset(net, 0, sizeof *net);
    char *b = aligned_alloc(ALIGN, l.total);
    if (!b) return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory for a network of %zu bytes", l.total);
    memset(b, 0, l.total);
    net->block = b;
    net->model = m;
    net->batch = batch;
    net->params = (float *)(b + l.params);
    net->grads = (float *)(b + l.grads);
    net->acts = (float **)(b + l.acts_ptrs);
    net->ctx = (runner_layer_ctx_t *)(b + l.ctx);
    net->delta[0] = (float *)(b + l.delta);
    net->delta[1] = net->delta[0] + round_up(batch * m->max_width * sizeof(float)) / sizeof(float);
    net->segments = (segment_t *)(b + l.segments);
    net->n_segments = l.n_segments;
    net->work_stride = (size_t *)(b + l.strides);
    net->scratch = b + l.scratch;
    net->scratch_each = l.scratch_each;
    net->scratch_threads = l.scratch_threads;
    net->acts[0] = (float *)(b + l.acts[0]);
    for (size_t s = 0, i = 0; s < l.n_segments; s++) {
        segment_t *sg = &net->segments[s];
        *sg = segment_at(m, batch, slice_bytes, i);
        sg->slice_grads = (float *)(b + l.slice_grads[s]);
        for (; i < sg->end; i++) net->work_stride[i] = sg->slice ? slice_work(sg, &m->layers[i]) : 0;
    }
    for (size_t i = 0; i < m->n_layers; i++) {
        const layer_spec_t *ls = &m->layers[i];
        net->acts[i + 1] = (float *)(b + l.acts[i + 1]);
        net->ctx[i] = (runner_layer_ctx_t){
            .host = host_services(),
            .hp = ls->hp,
            .in = ls->in,
            .out = ls->out,
            .batch = batch,
            .params = net->params + ls->param_offset,
            .grads = net->grads + ls->param_offset,
            .state = b + l.state[i],
            .work = b + l.work[i],
            .rng = &net->rng,
        };
    }
    net->loss_ctx = (runner_layer_ctx_t){.host = host_services(), .hp = m->loss.hp, .in = m->loss.in,
                                         .out = m->loss.out, .batch = batch, .work = b + l.work[m->n_layers],
                                         .rng = &net->rng};
    return ERR_OK;
}

void network_destroy(network_t *net)
{
    free(net->block);
    memset(net, 0, sizeof *net);
}

int network_init(network_t *net, uint64_t seed, runner_err_t *err)
{
    const model_t *m = net->model;
    net->rng.state = seed ^ 0x6E6574776F726B00ull; /* "network": apart from the shuffle's stream */
    for (size_t i = 0; i < m->n_layers; i++) {
        const layer_spec_t *ls = &m->layers[i];
        memset(net->ctx[i].state, 0, state_bytes(ls));
        if (ls->desc->layer->init && ls->desc->layer->init(&net->ctx[i], err) != RUNNER_OK) return RUNNER_FAIL;
    }
    return RUNNER_OK;
}

/* ---- sliced runs ------------------------------------------------------- */

typedef struct {
    network_t *net;
    const segment_t *sg;
    size_t B, n_slices; /* samples, and the slices they make */
    int training;
    const float *dy; /* backward: the run's output gradient, (B, out of its last layer) */
    float *dx;       /* backward: its input gradient, or NULL */
    int failed;
    runner_err_t err;
} slice_pass_t;

/* Layer i's context for slice k of len samples: its own work and gradient. */
static runner_layer_ctx_t slice_ctx(const slice_pass_t *p, size_t i, size_t k, size_t len)
{
    const segment_t *sg = p->sg;
    runner_layer_ctx_t c = p->net->ctx[i];
    c.batch = len;
    c.training = p->training;
    c.work = (char *)c.work + k * p->net->work_stride[i];
    c.grads = sg->slice_grads + k * sg->n_params + (p->net->model->layers[i].param_offset - sg->param_offset);
    return c;
}

static void slice_failed(slice_pass_t *p, const runner_err_t *e)
{
#pragma omp critical(network_slice_error)
    if (!p->failed) p->failed = 1, p->err = *e;
}

static void forward_slice(void *arg, size_t k, int thread)
{
    (void)thread;
    slice_pass_t *p = arg;
    const segment_t *sg = p->sg;
    const model_t *m = p->net->model;
    size_t s0 = k * sg->slice, len = p->B - s0 < sg->slice ? p->B - s0 : sg->slice;
    for (size_t i = sg->first; i < sg->end; i++) {
        runner_layer_ctx_t c = slice_ctx(p, i, k, len);
        runner_err_t e = {{0}};
        const float *x = p->net->acts[i] + s0 * runner_shape_size(&m->layers[i].in);
        float *y = p->net->acts[i + 1] + s0 * runner_shape_size(&m->layers[i].out);
        if (m->layers[i].desc->layer->forward(&c, x, y, &e) != RUNNER_OK) {
            slice_failed(p, &e);
            return;
        }
    }
}

/* The run backward for one slice: dy from the shared buffer, gradients
 * between its layers in this thread's scratch, dx into the shared buffer. */
static void backward_slice(void *arg, size_t k, int thread)
{
    slice_pass_t *p = arg;
    const segment_t *sg = p->sg;
    network_t *net = p->net;
    const model_t *m = net->model;
    size_t s0 = k * sg->slice, len = p->B - s0 < sg->slice ? p->B - s0 : sg->slice;
    float *scratch[2] = {(float *)(net->scratch + (size_t)thread * net->scratch_each)};
    scratch[1] = scratch[0] + net->scratch_each / 2 / sizeof(float);
    const float *dy = p->dy + s0 * runner_shape_size(&m->layers[sg->end - 1].out);
    for (size_t i = sg->end; i-- > sg->first;) {
        const layer_spec_t *ls = &m->layers[i];
        float *dx = i > sg->first ? scratch[(sg->end - 1 - i) % 2] : p->dx ? p->dx + s0 * runner_shape_size(&ls->in) : NULL;
        runner_layer_ctx_t c = slice_ctx(p, i, k, len);
        runner_err_t e = {{0}};
        const float *x = net->acts[i] + s0 * runner_shape_size(&ls->in), *y = net->acts[i + 1] + s0 * runner_shape_size(&ls->out);
        if (ls->desc->layer->backward(&c, x, y, dy, dx, &e) != RUNNER_OK) {
            slice_failed(p, &e);
            return;
        }
        dy = dx;
    }
}

/* grads = the slices' gradients summed in slice order, element by element
 * (so shared out over the threads with the same bits). */
#define SUM_CHUNK 4096
static void sum_slices(void *arg, size_t chunk)
{
    const slice_pass_t *p = arg;
    const segment_t *sg = p->sg;
    float *g = p->net->grads + sg->param_offset;
    size_t lo = chunk * SUM_CHUNK, hi = lo + SUM_CHUNK < sg->n_params ? lo + SUM_CHUNK : sg->n_params;
    /* slice by slice over the chunk: each element sees the same adds in the same order, and rows stream */
    memcpy(g + lo, sg->slice_grads + lo, (hi - lo) * sizeof *g);
    for (size_t k = 1; k < p->n_slices; k++) {
        const float *row = sg->slice_grads + k * sg->n_params;
        for (size_t e = lo; e < hi; e++) g[e] += row[e];
    }
}

static int run_sliced(network_t *net, const segment_t *sg, size_t B, int training, const float *dy, float *dx,
                      runner_err_t *err)
{
    slice_pass_t p = {.net = net, .sg = sg, .B = B, .n_slices = (B + sg->slice - 1) / sg->slice,
                      .training = training, .dy = dy, .dx = dx};
    host_parallel_for_threads(p.n_slices, dy ? net->scratch_threads : INT_MAX, dy ? backward_slice : forward_slice, &p);
    if (p.failed) {
        *err = p.err;
        return RUNNER_FAIL;
    }
    if (dy && sg->n_params) host_services()->parallel_for((sg->n_params + SUM_CHUNK - 1) / SUM_CHUNK, sum_slices, &p);
    return RUNNER_OK;
}

/* ---- passes ------------------------------------------------------------ */

int network_forward(network_t *net, size_t B, int training, runner_err_t *err)
{
    const model_t *m = net->model;
    for (size_t s = 0; s < net->n_segments; s++) {
        const segment_t *sg = &net->segments[s];
        if (sg->slice) {
            if (run_sliced(net, sg, B, training, NULL, NULL, err) != RUNNER_OK) return RUNNER_FAIL;
            continue;
        }
        for (size_t i = sg->first; i < sg->end; i++) {
            runner_layer_ctx_t *c = &net->ctx[i];
            c->batch = B;
            c->training = training;
            if (m->layers[i].desc->layer->forward(c, net->acts[i], net->acts[i + 1], err) != RUNNER_OK)
                return RUNNER_FAIL;
        }
    }
    return RUNNER_OK;
}

int network_loss(network_t *net, size_t B, const int32_t *labels, double *loss, runner_err_t *err)
{
    net->loss_ctx.batch = B;
    return net->model->loss.desc->layer->loss(&net->loss_ctx, network_output(net), labels, loss, NULL, err);
}

/* Gradients go back through two shared buffers in turn: each step reads
 * delta[cur] and writes delta[1 - cur], a sliced run counting as one step. */
int network_backward(network_t *net, size_t B, const int32_t *labels, double *loss, runner_err_t *err)
{
    const model_t *m = net->model;
    net->loss_ctx.batch = B;
    int cur = 0;
    if (m->loss.desc->layer->loss(&net->loss_ctx, network_output(net), labels, loss, net->delta[cur], err) != RUNNER_OK)
        return RUNNER_FAIL;
    for (size_t s = net->n_segments; s-- > 0;) {
        const segment_t *sg = &net->segments[s];
        if (sg->slice) {
            float *dx = sg->first ? net->delta[1 - cur] : NULL;
            if (run_sliced(net, sg, B, 1, net->delta[cur], dx, err) != RUNNER_OK) return RUNNER_FAIL;
            cur = 1 - cur;
            continue;
        }
        for (size_t i = sg->end; i-- > sg->first;) {
            float *dx = i ? net->delta[1 - cur] : NULL;
            if (m->layers[i].desc->layer->backward(&net->ctx[i], net->acts[i], net->acts[i + 1], net->delta[cur], dx,
                                                   err) != RUNNER_OK)
                return RUNNER_FAIL;
            cur = 1 - cur;
        }
    }
    return RUNNER_OK;
}
