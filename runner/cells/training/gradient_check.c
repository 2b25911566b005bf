/* gradient_check.c: backpropagation against central differences (gradient_check.h). */
#include "cells/training/gradient_check.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cells/training/network.h"
#include "cells/training/train.h"
#include "config/experiment.h"

const double gradcheck_h[GRADCHECK_STEPS] = {1e-2, 3e-3, 1e-3, 3e-4, 1e-4};

/* The data loss of the samples in acts[0], in training mode, with the
 * network's random stream reset first: every evaluation draws the same
 * dropout masks. */
static int loss_at(network_t *net, size_t B, const int32_t *labels, const runner_rng_t *rng0, double *loss,
                   runner_err_t *err)
{
    net->rng = *rng0;
    if (network_forward(net, B, 1, err) != RUNNER_OK) return RUNNER_FAIL;
    return network_loss(net, B, labels, loss, err);
}

/* Whether two gradients agree within the tolerance of float32 differences. */
static bool within(double a, double b) { return fabs(a - b) <= GRADCHECK_ATOL + GRADCHECK_RTOL * fmax(fabs(a), fabs(b)); }

/* Which k of a layer's n parameters to check: all when k == n; else
 * half spread evenly over the layer, half the largest analytic gradients
 * (a layer's parameters are one flat block: spread alone missed all 20
 * biases of a 784x20 affine, where a doubled bias gradient hid). */
static void pick_parameters(const float *g, size_t n, size_t k, size_t *picked)
{
    size_t spread = k == n ? k : (k + 1) / 2, m = 0;
    for (size_t c = 0; c < spread; c++)
        picked[m++] = k == n ? c : (size_t)(((double)c + 0.5) * (double)n / (double)spread);
    while (m < k) { /* the largest |g| not picked yet: k is small, n passes are cheap */
        size_t best = SIZE_MAX;
        for (size_t j = 0; j < n; j++) {
            bool taken = false;
            for (size_t q = 0; q < m && !taken; q++) taken = picked[q] == j;
            if (!taken && (best == SIZE_MAX || fabsf(g[j]) > fabsf(g[best]))) best = j;
        }
        picked[m++] = best;
    }
}

err_code_t gradient_check(const cell_t *cell, size_t samples, size_t per_layer, layer_check_t *out, err_t *err)
{
    const train_config_t *tc = cell->train;
    const model_t *m = tc->model;
    const split_t *tr = &tc->data->train;
    size_t B = samples < tr->n ? samples : tr->n, W = runner_shape_size(&m->input);
    memset(out, 0, m->n_layers * sizeof *out);
    network_t net;
    err_code_t rc = network_create(&net, m, B, err);
    if (rc) return rc;
    float *analytic = malloc(m->n_params * sizeof *analytic + 1);
    int32_t *labels = malloc(B * sizeof *labels);
    size_t *picked = malloc((per_layer ? per_layer : 1) * sizeof *picked);
    runner_err_t re = {{0}};
    if (!analytic || !labels || !picked) {
        rc = err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory for the gradient check");
        goto done;
    }
    if (network_init(&net, cell->seed, &re) != RUNNER_OK) goto failed;
    memcpy(network_input(&net), tr->x, B * W * sizeof(float));
    memcpy(labels, tr->y, B * sizeof *labels);
    const runner_rng_t rng0 = net.rng;
    double loss;
    net.rng = rng0;
    if (network_forward(&net, B, 1, &re) != RUNNER_OK || network_backward(&net, B, labels, &loss, &re) != RUNNER_OK)
        goto failed;
    memcpy(analytic, net.grads, m->n_params * sizeof *analytic);
    double loss0; /* at the parameters as they are: for the one-sided differences */
    if (loss_at(&net, B, labels, &rng0, &loss0, &re) != RUNNER_OK) goto failed;
    for (size_t i = 0; i < m->n_layers; i++) {
        const layer_spec_t *ls = &m->layers[i];
        layer_check_t *lc = &out[i];
        lc->ok = true;
        size_t k = ls->n_params < per_layer ? ls->n_params : per_layer;
        pick_parameters(analytic + ls->param_offset, ls->n_params, k, picked);
        for (size_t c = 0; c < k; c++) {
            size_t j = picked[c];
            float *w = &net.params[ls->param_offset + j], w0 = *w;
            double a = analytic[ls->param_offset + j], num = NAN, diff = INFINITY;
            bool smooth = false; /* at some h, the two one-sided differences agree */
            /* each step size; the closest difference counts (gradient_check.h) */
            for (size_t s = 0; s < GRADCHECK_STEPS; s++) {
                const float h = (float)gradcheck_h[s];
                double plus, minus;
                *w = w0 + h;
                double hp = (double)*w - (double)w0; /* the step float32 really took */
                if (loss_at(&net, B, labels, &rng0, &plus, &re) != RUNNER_OK) goto failed;
                *w = w0 - h;
                double hm = (double)w0 - (double)*w;
                if (loss_at(&net, B, labels, &rng0, &minus, &re) != RUNNER_OK) goto failed;
                *w = w0;
                /* central, then one-sided: at a kink (a ReLU input exactly 0,
                 * as every conv bias at 0 over a black background makes) the
                 * gradient is one side's, by the convention relu'(0) = 0 */
                double cand[3] = {(plus - minus) / (hp + hm), (plus - loss0) / hp, (loss0 - minus) / hm};
                for (int k = 0; k < 3; k++)
                    if (fabs(a - cand[k]) < diff) diff = fabs(a - cand[k]), num = cand[k];
                if (gradcheck_h[s] <= 1e-3 && within(cand[1], cand[2])) smooth = true; /* larger h can straddle kinks */
            }
            double scale = fmax(fabs(a), fabs(num));
            double rel = scale > 0 ? diff / scale : 0.0;
            if (!within(a, num) && !smooth) { /* kinks at every step size: no difference decides */
                lc->at_kinks++;
                continue;
            }
            if (!within(a, num)) lc->ok = false;
            if (diff >= lc->max_abs) lc->max_abs = diff, lc->worst = j, lc->worst_analytic = a, lc->worst_numeric = num;
            if (rel > lc->max_rel) lc->max_rel = rel;
            lc->checked++;
        }
    }
    goto done;
failed:
    rc = err_set(err, ERR_RUNTIME, (mark_t){0}, "the network failed during the gradient check: %s", re.msg);
done:
    network_destroy(&net);
    free(analytic);
    free(labels);
    free(picked);
    return rc;
}
