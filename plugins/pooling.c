/*
 * pooling.c: maxpool and avgpool over (channels, height, width) images,
 * one window of size x size every stride pixels (stride 0: the size, so
 * windows tile the image, as PyTorch's default). No padding: a window
 * never reads past the image; rows and columns it cannot reach are
 * dropped, as with PyTorch's floor mode.
 *   maxpool: y = the window's largest input (a NaN wins, as in PyTorch);
 *            backward sends dy to that input only (the first on ties).
 *   avgpool: y = the window's mean; backward spreads dy / size^2 evenly.
 * Planes (one sample's channel) are independent: both run them through
 * the host's parallel_for.
 */
#include <runner/plugin.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "image_shape.h"

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
    if (require_image(in, err) != RUNNER_OK) return RUNNER_FAIL;
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
    const float *x, *y, *dy; /* what the pass reads */
    float *out;               /* what it writes: y forward, dx backward */
} job_t;

/* ---- maxpool ----------------------------------------------------------- */

/* A whole output row at a time, window offset by window offset, with
 * selects instead of branches: ReLU outputs make "is this larger" a coin
 * toss that a branch predictor loses, and a loop without index
 * bookkeeping vectorises. `v > m || v != v` takes a NaN, and a NaN then
 * stays, as in PyTorch. */
static void maxpool_plane(void *arg, size_t plane)
{
    const job_t *j = arg;
    const geometry_t g = j->g;
    const float *x = j->x + plane * g.H * g.W;
    float *y = j->out + plane * g.OH * g.OW;
    if (g.k == 2 && g.s == 2) { /* the common case, spelled out so it vectorises */
        for (size_t oh = 0; oh < g.OH; oh++) {
            const float *r0 = x + 2 * oh * g.W, *r1 = r0 + g.W;
            float *yr = y + oh * g.OW;
            for (size_t ow = 0; ow < g.OW; ow++) {
                float m = r0[2 * ow], b = r0[2 * ow + 1], c = r1[2 * ow], d = r1[2 * ow + 1];
                m = (b > m) | (b != b) ? b : m;
                m = (c > m) | (c != c) ? c : m;
                yr[ow] = (d > m) | (d != d) ? d : m;
            }
        }
        return;
    }
    for (size_t oh = 0; oh < g.OH; oh++) {
        float *yr = y + oh * g.OW;
        const float *top = x + oh * g.s * g.W;
        for (size_t ow = 0; ow < g.OW; ow++) yr[ow] = top[ow * g.s];
        for (size_t ki = 0; ki < g.k; ki++)
            for (size_t kj = ki ? 0 : 1; kj < g.k; kj++) {
                const float *r = top + ki * g.W + kj;
                for (size_t ow = 0; ow < g.OW; ow++) {
                    float v = r[ow * g.s];
                    yr[ow] = (v > yr[ow]) | (v != v) ? v : yr[ow];
                }
            }
    }
}

static int maxpool_forward(const runner_layer_ctx_t *c, const float *x, float *y, runner_err_t *err)
{
    (void)err;
    job_t j = {.g = geometry(c->hp, &c->in), .x = x, .out = y};
    c->host->parallel_for(c->batch * j.g.C, maxpool_plane, &j);
    return RUNNER_OK;
}

/* dy goes to the window's first input equal to its output: the one forward
 * took (found again from x and y, so forward stores no indices). A NaN
 * output matches nothing: its gradient is dropped, and the loss is NaN. */
static void maxpool_back_plane(void *arg, size_t plane)
{
    const job_t *j = arg;
    const geometry_t g = j->g;
    const float *x = j->x + plane * g.H * g.W, *y = j->y + plane * g.OH * g.OW, *dy = j->dy + plane * g.OH * g.OW;
    float *dx = j->out + plane * g.H * g.W;
    /* the 2x2 path writes every input its windows cover: zero only the rest */
    if (g.k != 2 || g.s != 2 || g.H != 2 * g.OH || g.W != 2 * g.OW) memset(dx, 0, g.H * g.W * sizeof *dx);
    if (g.k == 2 && g.s == 2) { /* windows tile: each input gets one select, no search */
        for (size_t oh = 0; oh < g.OH; oh++) {
            const float *r0 = x + 2 * oh * g.W, *r1 = r0 + g.W;
            float *d0 = dx + 2 * oh * g.W, *d1 = d0 + g.W;
            const float *yr = y + oh * g.OW, *dyr = dy + oh * g.OW;
            for (size_t ow = 0; ow < g.OW; ow++) {
                float m = yr[ow], d = dyr[ow];
                int a = r0[2 * ow] == m, b = !a & (r0[2 * ow + 1] == m), c = !(a | b) & (r1[2 * ow] == m),
                    e = !(a | b | c) & (r1[2 * ow + 1] == m);
                d0[2 * ow] = a ? d : 0.0f, d0[2 * ow + 1] = b ? d : 0.0f;
                d1[2 * ow] = c ? d : 0.0f, d1[2 * ow + 1] = e ? d : 0.0f;
            }
        }
        return;
    }
    for (size_t oh = 0; oh < g.OH; oh++)
        for (size_t ow = 0; ow < g.OW; ow++) {
            size_t o = oh * g.OW + ow, found = SIZE_MAX;
            for (size_t ki = 0; ki < g.k && found == SIZE_MAX; ki++)
                for (size_t kj = 0; kj < g.k; kj++) {
                    size_t i = (oh * g.s + ki) * g.W + ow * g.s + kj;
                    if (x[i] == y[o]) {
                        found = i;
                        break;
                    }
                }
            if (found != SIZE_MAX) dx[found] += dy[o]; /* += : windows may overlap */
        }
}

static int maxpool_backward(const runner_layer_ctx_t *c, const float *x, const float *y, const float *dy, float *dx,
                            runner_err_t *err)
{
    (void)err;
    if (!dx) return RUNNER_OK;
    job_t j = {.g = geometry(c->hp, &c->in), .x = x, .y = y, .dy = dy, .out = dx};
    c->host->parallel_for(c->batch * j.g.C, maxpool_back_plane, &j);
    return RUNNER_OK;
}

/* ---- avgpool ----------------------------------------------------------- */

static void avgpool_plane(void *arg, size_t plane)
{
    const job_t *j = arg;
    const geometry_t *g = &j->g;
    const float *x = j->x + plane * g->H * g->W;
    float *y = j->out + plane * g->OH * g->OW;
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
    job_t j = {.g = geometry(c->hp, &c->in), .x = x, .out = y};
    c->host->parallel_for(c->batch * j.g.C, avgpool_plane, &j);
    return RUNNER_OK;
}

static void avgpool_back_plane(void *arg, size_t plane)
{
    const job_t *j = arg;
    const geometry_t *g = &j->g;
    const float *dy = j->dy + plane * g->OH * g->OW;
    float *dx = j->out + plane * g->H * g->W;
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
    job_t j = {.g = geometry(c->hp, &c->in), .dy = dy, .out = dx};
    c->host->parallel_for(c->batch * j.g.C, avgpool_back_plane, &j);
    return RUNNER_OK;
}

static const runner_layer_ops_t maxpool_ops = {
    .size = sizeof(runner_layer_ops_t),
    .flags = RUNNER_LAYER_PER_SAMPLE,
    .shape = pool_shape,
    .forward = maxpool_forward,
    .backward = maxpool_backward,
};

static const runner_layer_ops_t avgpool_ops = {
    .size = sizeof(runner_layer_ops_t),
    .flags = RUNNER_LAYER_PER_SAMPLE,
    .shape = pool_shape,
    .forward = avgpool_forward,
    .backward = avgpool_backward,
};

/* stride 0 means "the window size": record the stride used (RUNNER_EXT_RESOLVE). */
static void resolve(double *hp)
{
    if (hp[P_STRIDE] == 0) hp[P_STRIDE] = hp[P_SIZE];
}

static const void *extension(const char *name)
{
    return !strcmp(name, RUNNER_EXT_RESOLVE) ? (const void *)(uintptr_t)resolve : NULL;
}

static const runner_plugin_t plugins[] = {
    {RUNNER_PLUGIN_HEADER, .kind = RUNNER_KIND_LAYER, .name = "maxpool", .version = "1.1.0",
     .doc = "largest value of each size x size window of an image", .params = params, .n_params = 2,
     .layer = &maxpool_ops, .extension = extension},
    {RUNNER_PLUGIN_HEADER, .kind = RUNNER_KIND_LAYER, .name = "avgpool", .version = "1.1.0",
     .doc = "mean of each size x size window of an image", .params = params, .n_params = 2,
     .layer = &avgpool_ops, .extension = extension},
};

RUNNER_EXPORT const runner_plugin_t *runner_plugin_get(uint32_t index)
{
    return index < sizeof plugins / sizeof plugins[0] ? &plugins[index] : NULL;
}
