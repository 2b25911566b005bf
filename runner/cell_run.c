/* cell_run.c: the step loop of one cell. */
#include "cell_run.h"

#include <math.h>
#include <string.h>

#include "h5out.h"

cell_sizes_t cell_run_sizes(const cell_t *cell)
{
    size_t n = cell->problem->dim;
    const runner_optimizer_ops_t *ops = cell->opt->plugin->desc->optimizer;
    cell_sizes_t s = {
        .state_bytes = (ops->state_bytes(n, cell->opt->hp) + 63) & ~(size_t)63,
        /* x, grad, numerical-gradient scratch (doubles); w, g (floats) */
        .work_bytes = 3 * n * sizeof(double) + 2 * n * sizeof(float),
    };
    return s;
}

static void fill_nan(float *p, size_t n)
{
    for (size_t i = 0; i < n; i++) p[i] = NAN;
}

int cell_run(const cell_t *cell, size_t S, size_t P, void *state, void *work, float *params, float *loss,
             float *grad_norm, runner_err_t *perr)
{
    const problem_t *pb = cell->problem;
    const runner_optimizer_ops_t *ops = cell->opt->plugin->desc->optimizer;
    const size_t n = pb->dim;
    double *x = work, *g = x + n, *scratch = g + n;
    float *w = (float *)(scratch + n), *gf = w + n;
    int status = STATUS_OK;
    size_t t = 0;

    perr->msg[0] = 0;
    if (ops->init(state, n, cell->opt->hp, cell->seed, perr) != RUNNER_OK) {
        status = STATUS_FAILED;
        goto pad;
    }
    for (size_t i = 0; i < n; i++) w[i] = (float)pb->start[i];
    for (t = 0; t <= cell->steps; t++) {
        if (t > 0 && ops->step(state, n, w, gf, perr) != RUNNER_OK) {
            status = STATUS_FAILED;
            break;
        }
        for (size_t i = 0; i < n; i++) x[i] = w[i];
        double f = problem_eval(pb, x, g, scratch), g2 = 0.0;
        for (size_t i = 0; i < n; i++) {
            gf[i] = (float)g[i];
            g2 += g[i] * g[i];
        }
        float *row = params + t * P;
        memcpy(row, w, n * sizeof *w);
        if (P > n) fill_nan(row + n, P - n);
        loss[t] = (float)f;
        grad_norm[t] = (float)sqrt(g2);
        if (!isfinite(loss[t])) {
            status = STATUS_DIVERGED;
            t++;
            break;
        }
    }
pad:
    /* t rows were recorded; the rest of the cell's rows stay NaN */
    if (t < S) {
        fill_nan(params + t * P, (S - t) * P);
        fill_nan(loss + t, S - t);
        fill_nan(grad_norm + t, S - t);
    }
    perr->msg[RUNNER_ERR_MAX - 1] = 0;
    return status;
}
