/* network.c: forward and backward over a chain of layer plugins. */
#include "network.h"

#include <stdlib.h>
#include <string.h>

#include "host_services.h"

#define ALIGN 64
static size_t round_up(size_t n) { return (n + ALIGN - 1) & ~(size_t)(ALIGN - 1); }

static size_t state_bytes(const layer_spec_t *ls)
{
    return ls->desc->layer->state_bytes ? ls->desc->layer->state_bytes(ls->hp, &ls->in) : 0;
}
static size_t work_bytes(const layer_spec_t *ls, size_t batch)
{
    return ls->desc->layer->work_bytes ? ls->desc->layer->work_bytes(ls->hp, &ls->in, batch) : 0;
}

/* The block's layout, computed once for sizing and once for carving. */
typedef struct {
    size_t params, grads, acts_ptrs, ctx, delta, total;
    size_t acts[MODEL_MAX_LAYERS + 1], state[MODEL_MAX_LAYERS], work[MODEL_MAX_LAYERS + 1]; /* work: + the loss */
} block_plan_t;

static void plan(const model_t *m, size_t batch, block_plan_t *l)
{
    size_t at = 0;
    l->params = at, at += round_up(m->n_params * sizeof(float));
    l->grads = at, at += round_up(m->n_params * sizeof(float));
    l->acts_ptrs = at, at += round_up((m->n_layers + 1) * sizeof(float *));
    l->ctx = at, at += round_up(m->n_layers * sizeof(runner_layer_ctx_t));
    l->delta = at, at += 2 * round_up(batch * m->max_width * sizeof(float));
    l->acts[0] = at, at += round_up(batch * runner_shape_size(&m->input) * sizeof(float));
    for (size_t i = 0; i < m->n_layers; i++) {
        const layer_spec_t *ls = &m->layers[i];
        l->acts[i + 1] = at, at += round_up(batch * runner_shape_size(&ls->out) * sizeof(float));
        l->state[i] = at, at += round_up(state_bytes(ls));
        l->work[i] = at, at += round_up(work_bytes(ls, batch));
    }
    l->work[m->n_layers] = at, at += round_up(work_bytes(&m->loss, batch));
    l->total = at;
}

size_t network_bytes(const model_t *m, size_t batch)
{
    block_plan_t l;
    plan(m, batch, &l);
    return l.total;
}

err_code_t network_create(network_t *net, const model_t *m, size_t batch, err_t *err)
{
    block_plan_t l;
    plan(m, batch, &l);
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
    net->acts[0] = (float *)(b + l.acts[0]);
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

int network_forward(network_t *net, size_t B, int training, runner_err_t *err)
{
    const model_t *m = net->model;
    for (size_t i = 0; i < m->n_layers; i++) {
        runner_layer_ctx_t *c = &net->ctx[i];
        c->batch = B;
        c->training = training;
        if (m->layers[i].desc->layer->forward(c, net->acts[i], net->acts[i + 1], err) != RUNNER_OK)
            return RUNNER_FAIL;
    }
    return RUNNER_OK;
}

int network_loss(network_t *net, size_t B, const int32_t *labels, double *loss, runner_err_t *err)
{
    net->loss_ctx.batch = B;
    return net->model->loss.desc->layer->loss(&net->loss_ctx, network_output(net), labels, loss, NULL, err);
}

int network_backward(network_t *net, size_t B, const int32_t *labels, double *loss, runner_err_t *err)
{
    const model_t *m = net->model;
    net->loss_ctx.batch = B;
    int cur = 0;
    if (m->loss.desc->layer->loss(&net->loss_ctx, network_output(net), labels, loss, net->delta[cur], err) != RUNNER_OK)
        return RUNNER_FAIL;
    for (size_t i = m->n_layers; i-- > 0;) {
        float *dx = i ? net->delta[1 - cur] : NULL;
        if (m->layers[i].desc->layer->backward(&net->ctx[i], net->acts[i], net->acts[i + 1], net->delta[cur], dx, err) !=
            RUNNER_OK)
            return RUNNER_FAIL;
        cur = 1 - cur;
    }
    return RUNNER_OK;
}
