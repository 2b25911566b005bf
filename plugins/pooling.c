/*
 * pooling.c: maxpool and avgpool over (channels, height, width) images,
 * one window of size x size every stride pixels (stride 0: the size, so
 * windows tile the image, as PyTorch's default). No padding: a window
 * never reads past the image; rows and columns it cannot reach are
 * dropped, as with PyTorch's floor mode.
 *   maxpool: y = the window's largest input (the first one on ties, and a
 *            NaN wins, as PyTorch); backward sends dy to that input only.
 *            Work: the index of each output's input, (B, C OH OW) int32.
 *   avgpool: y = the window's mean; backward spreads dy / size^2 evenly.
 * Planes (one sample's channel) are independent: both run them through
 * the host's parallel_for.
 */
#include <runner/plugin.h>
#include <stdio.h>
#include <string.h>

enum { P_SIZE, P_STRIDE };

static const runner_param_t params[] = {
    {"size", RUNNER_PARAM_INT, 0, 2, 1, 1 << 10, "window height and width"},
    {"stride", RUNNER_PARAM_INT, 0, 0, 0, 1 << 10, "step between windows (0: the window size)"},
};

typedef struct {
    size_t C, H, W, k, s, OH, OW;
} geometry_t;

static geometry_t geometry(const double *hp, const runner_shape_t *in)
{
    geometry_t g = {.C = in->dim[0], .H = in->dim[1], .W = in->dim[2], .k = (size_t)hp[P_SIZE]};
    g.s = hp[P_STRIDE] > 0 ? (size_t)hp[P_STRIDE] : g.k;
    g.OH = g.H >= g.k ? (g.H - g.k) / g.s + 1 : 0;
    g.OW = g.W >= g.k ? (g.W - g.k) / g.s + 1 : 0;
    return g;
}

static int pool_shape(const double *hp, const runner_shape_t *in, runner_shape_t *out, size_t *n_params,
                      runner_err_t *err)
{
    if (in->rank != 3) {
        snprintf(err->msg, sizeof err->msg,
                 "it needs images (channels, height, width): put it before flatten and affine, and keep "
                 "data.flatten false");
        return RUNNER_FAIL;
    }
    geometry_t g = geometry(hp, in);
    if (g.OH == 0 || g.OW == 0) {
        snprintf(err->msg, sizeof err->msg, "a %zux%zu window does not fit a %zux%zu input: use a smaller size", g.k,
                 g.k, g.H, g.W);
        return RUNNER_FAIL;
    }
    *out = (runner_shape_t){.rank = 3, .dim = {(uint32_t)g.C, (uint32_t)g.OH, (uint32_t)g.OW}};
    *n_params = 0;
    return RUNNER_OK;
}

typedef struct {
    geometry_t g;
    const float *x, *dy;
    float *y, *dx;
    int32_t *argmax;
} job_t;

/* ---- maxpool ----------------------------------------------------------- */

static size_t maxpool_work(const double *hp, const runner_shape_t *in, size_t batch)
{
    geometry_t g = geometry(hp, in);
    return batch * g.C * g.OH * g.OW * sizeof(int32_t);
}

static void maxpool_plane(void *arg, size_t plane)
{
    const job_t *j = arg;
    const geometry_t *g = &j->g;
    const float *x = j->x + plane * g->H * g->W;
    float *y = j->y + plane * g->OH * g->OW;
    int32_t *at = j->argmax + plane * g->OH * g->OW;
    for (size_t oh = 0; oh < g->OH; oh++)
        for (size_t ow = 0; ow < g->OW; ow++) {
            size_t best = oh * g->s * g->W + ow * g->s;
            float m = x[best];
            for (size_t ki = 0; ki < g->k; ki++)
                for (size_t kj = 0; kj < g->k; kj++) {
                    size_t i = (oh * g->s + ki) * g->W + ow * g->s + kj;
                    if (x[i] > m || (x[i] != x[i] && m == m)) m = x[i], best = i;
                }
            y[oh * g->OW + ow] = m;
            at[oh * g->OW + ow] = (int32_t)best;
        }
}

static int maxpool_forward(const runner_layer_ctx_t *c, const float *x, float *y, runner_err_t *err)
{
    (void)err;
    job_t j = {.g = geometry(c->hp, &c->in), .x = x, .y = y, .argmax = c->work};
    c->host->parallel_for(c->batch * j.g.C, maxpool_plane, &j);
    return RUNNER_OK;
}

static void maxpool_back_plane(void *arg, size_t plane)
{
    const job_t *j = arg;
    const geometry_t *g = &j->g;
    const float *dy = j->dy + plane * g->OH * g->OW;
    const int32_t *at = j->argmax + plane * g->OH * g->OW;
    float *dx = j->dx + plane * g->H * g->W;
    memset(dx, 0, g->H * g->W * sizeof *dx);
    for (size_t o = 0; o < g->OH * g->OW; o++) dx[at[o]] += dy[o]; /* += : overlapping windows */
}

static int maxpool_backward(const runner_layer_ctx_t *c, const float *x, const float *y, const float *dy, float *dx,
                            runner_err_t *err)
{
    (void)x, (void)y, (void)err;
    if (!dx) return RUNNER_OK;
    job_t j = {.g = geometry(c->hp, &c->in), .dy = dy, .dx = dx, .argmax = c->work};
    c->host->parallel_for(c->batch * j.g.C, maxpool_back_plane, &j);
    return RUNNER_OK;
}

/* ---- avgpool ----------------------------------------------------------- */

static void avgpool_plane(void *arg, size_t plane)
{
    const job_t *j = arg;
    const geometry_t *g = &j->g;
    const float *x = j->x + plane * g->H * g->W;
    float *y = j->y + plane * g->OH * g->OW;
    float inv = 1.0f / (float)(g->k * g->k);
    for (size_t oh = 0; oh < g->OH; oh++)
        for (size_t ow = 0; ow < g->OW; ow++) {
            float s = 0.0f;
            for (size_t ki = 0; ki < g->k; ki++)
                for (size_t kj = 0; kj < g->k; kj++) s += x[(oh * g->s + ki) * g->W + ow * g->s + kj];
            y[oh * g->OW + ow] = s * inv;
        }
}

static int avgpool_forward(const runner_layer_ctx_t *c, const float *x, float *y, runner_err_t *err)
{
    (void)err;
    job_t j = {.g = geometry(c->hp, &c->in), .x = x, .y = y};
    c->host->parallel_for(c->batch * j.g.C, avgpool_plane, &j);
    return RUNNER_OK;
}

static void avgpool_back_plane(void *arg, size_t plane)
{
    const job_t *j = arg;
    const geometry_t *g = &j->g;
    const float *dy = j->dy + plane * g->OH * g->OW;
    float *dx = j->dx + plane * g->H * g->W;
    float inv = 1.0f / (float)(g->k * g->k);
    memset(dx, 0, g->H * g->W * sizeof *dx);
    for (size_t oh = 0; oh < g->OH; oh++)
        for (size_t ow = 0; ow < g->OW; ow++) {
            float d = dy[oh * g->OW + ow] * inv;
            for (size_t ki = 0; ki < g->k; ki++)
                for (size_t kj = 0; kj < g->k; kj++) dx[(oh * g->s + ki) * g->W + ow * g->s + kj] += d;
        }
}

static int avgpool_backward(const runner_layer_ctx_t *c, const float *x, const float *y, const float *dy, float *dx,
                            runner_err_t *err)
{
    (void)x, (void)y, (void)err;
    if (!dx) return RUNNER_OK;
    job_t j = {.g = geometry(c->hp, &c->in), .dy = dy, .dx = dx};
    c->host->parallel_for(c->batch * j.g.C, avgpool_back_plane, &j);
    return RUNNER_OK;
}

static const runner_layer_ops_t maxpool_ops = {
    .size = sizeof(runner_layer_ops_t),
    .shape = pool_shape,
    .work_bytes = maxpool_work,
    .forward = maxpool_forward,
    .backward = maxpool_backward,
};

static const runner_layer_ops_t avgpool_ops = {
    .size = sizeof(runner_layer_ops_t),
    .shape = pool_shape,
    .forward = avgpool_forward,
    .backward = avgpool_backward,
};

static const runner_plugin_t plugins[] = {
    {RUNNER_PLUGIN_HEADER, .kind = RUNNER_KIND_LAYER, .name = "maxpool", .version = "1.0.0",
     .doc = "largest value of each size x size window of an image", .params = params, .n_params = 2,
     .layer = &maxpool_ops},
    {RUNNER_PLUGIN_HEADER, .kind = RUNNER_KIND_LAYER, .name = "avgpool", .version = "1.0.0",
     .doc = "mean of each size x size window of an image", .params = params, .n_params = 2,
     .layer = &avgpool_ops},
};

RUNNER_EXPORT const runner_plugin_t *runner_plugin_get(uint32_t index)
{
    return index < sizeof plugins / sizeof plugins[0] ? &plugins[index] : NULL;
}
