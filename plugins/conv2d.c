/*
 * conv2d.c: 2-D convolution (cross-correlation, as in every framework) by
 * im2col + GEMM. Per-sample shapes: in (C, H, W), out (F, OH, OW) with
 * OH = (H + 2 pad - size) / stride + 1 (likewise OW); K = C size size
 * inputs per output, P = OH OW output positions.
 *   params: W (F, K) row-major, the layout of PyTorch's weight (F, C, size,
 *           size), then b (F)
 *   init:   he, xavier, std or uniform, with fan-in K (weight_init.h)
 *   work:   cols (B, 1 + K, P), each sample's im2col matrix under a row
 *           of ones, kept from forward for backward (which then reuses a
 *           sample's K rows for d(cols)); then one partial dW^T (K, F), db
 *           per group of GROUP samples; then Wb (F, 1 + K), b beside W
 *
 * The bias is the product's first term: y = Wb (F, 1 + K) times the
 * ones-topped col, whose first fused multiply-add b * 1 + 0 is b exactly,
 * so every sum is the one that started from y filled with b, and forward
 * writes y once instead of twice (the fill was 3% of a CNN epoch, its
 * stores missing the cache: y is 7 MB a batch).
 *
 * Threads: samples are independent, so forward and backward run them
 * through the host's parallel_for. dW and db sum over samples: each fixed
 * group of GROUP samples sums into its own partial, and the partials are
 * added in group order, so the bits are the same at any thread count.
 */
#include <runner/plugin.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "image_shape.h"
#include "weight_init.h"

enum { P_FILTERS, P_SIZE, P_STRIDE, P_PAD, P_INIT, P_SCALE };

/* Samples per partial gradient: small enough to share a batch of 100 over
 * 16 threads, large enough that summing the partials costs nothing. */
#define GROUP 4

static const runner_param_t params[] = {
    {"filters", RUNNER_PARAM_INT, RUNNER_PARAM_REQUIRED, 0, 1, 1 << 16, "output channels"},
    {"size", RUNNER_PARAM_INT, 0, 3, 1, 1 << 10, "filter height and width"},
    {"stride", RUNNER_PARAM_INT, 0, 1, 1, 1 << 10, "step between filter positions"},
    {"pad", RUNNER_PARAM_INT, 0, 0, 0, 1 << 10, "zeros added on each side of height and width"},
    WEIGHT_INIT_PARAMS,
};
static const char *const *const choices[] = {NULL, NULL, NULL, NULL, weight_init_names, NULL};

typedef struct {
    size_t C, H, W, F, k, s, pad, OH, OW, K, P;
} geometry_t;

static geometry_t geometry(const double *hp, const runner_shape_t *in)
{
    geometry_t g = {.C = in->dim[0], .H = in->dim[1], .W = in->dim[2], .F = (size_t)hp[P_FILTERS],
                    .k = (size_t)hp[P_SIZE], .s = (size_t)hp[P_STRIDE], .pad = (size_t)hp[P_PAD]};
    g.OH = g.H + 2 * g.pad >= g.k ? (g.H + 2 * g.pad - g.k) / g.s + 1 : 0;
    g.OW = g.W + 2 * g.pad >= g.k ? (g.W + 2 * g.pad - g.k) / g.s + 1 : 0;
    g.K = g.C * g.k * g.k;
    g.P = g.OH * g.OW;
    return g;
}

static size_t groups(size_t batch) { return (batch + GROUP - 1) / GROUP; }

static int conv_shape(const double *hp, const runner_shape_t *in, runner_shape_t *out, size_t *n_params,
                      runner_err_t *err)
{
    if (require_image(in, err) != RUNNER_OK) return RUNNER_FAIL;
    geometry_t g = geometry(hp, in);
    if (g.OH == 0 || g.OW == 0) {
        snprintf(err->msg, sizeof err->msg,
                 "a %zux%zu filter does not fit a %zux%zu input with pad %zu: use a smaller size or more pad", g.k,
                 g.k, g.H, g.W, g.pad);
        return RUNNER_FAIL;
    }
    *out = (runner_shape_t){.rank = 3, .dim = {(uint32_t)g.F, (uint32_t)g.OH, (uint32_t)g.OW}};
    *n_params = g.F * g.K + g.F;
    return RUNNER_OK;
}

/* Products and sums that become SIZE_MAX where they would wrap: a work size
 * from a config's shapes (the host refuses SIZE_MAX). */
static size_t mul(size_t a, size_t b) { return a && b > SIZE_MAX / a ? SIZE_MAX : a * b; }
static size_t add(size_t a, size_t b) { return a > SIZE_MAX - b ? SIZE_MAX : a + b; }

static size_t conv_work(const double *hp, const runner_shape_t *in, size_t batch)
{
    geometry_t g = geometry(hp, in);
    const size_t cols = mul(batch, mul(add(1, g.K), g.P)), grads = add(mul(g.F, g.K), g.F);
    return mul(add(add(cols, mul(groups(batch), grads)), mul(g.F, add(1, g.K))), sizeof(float));
}

static int conv_init(const runner_layer_ctx_t *c, runner_err_t *err)
{
    (void)err;
    geometry_t g = geometry(c->hp, &c->in);
    weight_init_fill(c->rng, c->params, g.F * g.K, g.F, g.K, (int)c->hp[P_INIT], c->hp[P_SCALE]);
    return RUNNER_OK;
}

/* The output columns ow whose input column ow*s - pad + kj lies in [0, W). */
static void valid_columns(const geometry_t *g, size_t kj, size_t *lo, size_t *hi)
{
    size_t a = 0;
    while (a < g->OW && a * g->s + kj < g->pad) a++;
    size_t b = a;
    while (b < g->OW && b * g->s + kj - g->pad < g->W) b++;
    *lo = a, *hi = b;
}

/* col (K, P): row (c, ki, kj) holds x[c][oh*s - pad + ki][ow*s - pad + kj]. */
static void im2col(const geometry_t *g, const float *x, float *col)
{
    for (size_t c = 0; c < g->C; c++)
        for (size_t ki = 0; ki < g->k; ki++)
            for (size_t kj = 0; kj < g->k; kj++) {
                float *row = col + ((c * g->k + ki) * g->k + kj) * g->P;
                size_t lo, hi;
                valid_columns(g, kj, &lo, &hi);
                for (size_t oh = 0; oh < g->OH; oh++) {
                    float *r = row + oh * g->OW;
                    size_t ih = oh * g->s + ki;
                    if (ih < g->pad || ih - g->pad >= g->H) {
                        memset(r, 0, g->OW * sizeof *r);
                        continue;
                    }
                    const float *src = x + (c * g->H + ih - g->pad) * g->W; /* input row ih - pad */
                    /* loops, not memset/memcpy: rows are a few dozen floats, where a libc call costs more than the copy */
                    for (size_t ow = 0; ow < lo; ow++) r[ow] = 0.0f;
                    if (g->s == 1) {
                        const float *from = src + kj - g->pad;
                        for (size_t ow = lo; ow < hi; ow++) r[ow] = from[ow];
                    } else
                        for (size_t ow = lo; ow < hi; ow++) r[ow] = src[ow * g->s + kj - g->pad];
                    for (size_t ow = hi; ow < g->OW; ow++) r[ow] = 0.0f;
                }
            }
}

/* The adjoint of im2col: dx = sum of each dcol entry into the input it was read from. */
static void col2im(const geometry_t *g, const float *dcol, float *dx)
{
    memset(dx, 0, g->C * g->H * g->W * sizeof *dx);
    for (size_t c = 0; c < g->C; c++)
        for (size_t ki = 0; ki < g->k; ki++)
            for (size_t kj = 0; kj < g->k; kj++) {
                const float *row = dcol + ((c * g->k + ki) * g->k + kj) * g->P;
                size_t lo, hi;
                valid_columns(g, kj, &lo, &hi);
                for (size_t oh = 0; oh < g->OH; oh++) {
                    size_t ih = oh * g->s + ki;
                    if (ih < g->pad || ih - g->pad >= g->H) continue;
                    float *dst = dx + (c * g->H + ih - g->pad) * g->W;
                    const float *r = row + oh * g->OW;
                    for (size_t ow = lo; ow < hi; ow++) dst[ow * g->s + kj - g->pad] += r[ow];
                }
            }
}

typedef struct {
    const runner_layer_ctx_t *c;
    geometry_t g;
    const float *x, *dy;
    float *y, *dx, *cols, *partials, *Wb;
} job_t;

static void forward_sample(void *arg, size_t i)
{
    const job_t *j = arg;
    const geometry_t *g = &j->g;
    float *col = j->cols + i * (1 + g->K) * g->P, *y = j->y + i * g->F * g->P;
    for (size_t p = 0; p < g->P; p++) col[p] = 1.0f;
    im2col(g, j->x + i * g->C * g->H * g->W, col + g->P);
    /* y (F, P) = Wb (F, 1 + K) col (1 + K, P): b, then the K terms */
    j->c->host->sgemm(0, 0, g->F, g->P, 1 + g->K, 1.0f, j->Wb, 1 + g->K, col, g->P, 0.0f, y, g->P);
}

/* A call's job: the geometry and where the work's parts lie (the header's
 * layout, for the call's batch). */
static job_t job(const runner_layer_ctx_t *c)
{
    job_t j = {.c = c, .g = geometry(c->hp, &c->in), .cols = c->work};
    j.partials = j.cols + c->batch * (1 + j.g.K) * j.g.P;
    j.Wb = j.partials + groups(c->batch) * (j.g.F * j.g.K + j.g.F);
    return j;
}

static int conv_forward(const runner_layer_ctx_t *c, const float *x, float *y, runner_err_t *err)
{
    (void)err;
    job_t j = job(c);
    j.x = x, j.y = y;
    const size_t F = j.g.F, K = j.g.K;
    const float *W = c->params, *b = W + F * K;
    for (size_t f = 0; f < F; f++) {
        j.Wb[f * (1 + K)] = b[f];
        memcpy(j.Wb + f * (1 + K) + 1, W + f * K, K * sizeof *W);
    }
    c->host->parallel_for(c->batch, forward_sample, &j);
    return RUNNER_OK;
}

/* x[0] + ... + x[n-1] in LANES running sums (element p into sum p % LANES),
 * then the sums pairwise: a fixed order, so the same bits everywhere, and
 * one that vectorises, where a single running sum waits on every add. */
#define LANES 16
static float sum(const float *x, size_t n)
{
    float acc[LANES] = {0};
    size_t p = 0;
    for (; p + LANES <= n; p += LANES)
        for (size_t l = 0; l < LANES; l++) acc[l] += x[p + l];
    for (size_t l = 0; p + l < n; l++) acc[l] += x[p + l];
    for (size_t half = LANES / 2; half; half /= 2)
        for (size_t l = 0; l < half; l++) acc[l] += acc[l + half];
    return acc[0];
}

/* One group's samples: their dW, db into the group's partial, and each
 * sample's dx (when wanted) through d(cols) in the sample's cols slot. */
static void backward_group(void *arg, size_t group)
{
    const job_t *j = arg;
    const geometry_t *g = &j->g;
    const float *W = j->c->params;
    float *dWT = j->partials + group * (g->F * g->K + g->F), *db = dWT + g->F * g->K;
    size_t first = group * GROUP, end = first + GROUP < j->c->batch ? first + GROUP : j->c->batch;
    for (size_t i = first; i < end; i++) {
        float *col = j->cols + i * (1 + g->K) * g->P + g->P; /* below the ones */
        const float *dy = j->dy + i * g->F * g->P;
        /* dW^T (K, F) += col (K, P) dy^T (P, F): the transpose of dy (F, P)
         * col^T (P, K), with each element's sum in the same order (a fused
         * multiply-add is symmetric in its factors), so the same bits. This
         * way round the product reads col, which comes from far in the cache
         * (it was written in forward), in place as rows, and packs dy, which
         * was just written. In a CNN epoch (perf) the product went from
         * 17.8 to 13.9 us an image, half of the 17.8 having been the
         * transposing pack of col; the epoch 5.95 -> 5.54 s at 1 thread. */
        j->c->host->sgemm(0, 1, g->K, g->F, g->P, 1.0f, col, g->P, dy, g->P, i == first ? 0.0f : 1.0f, dWT, g->F);
        for (size_t f = 0; f < g->F; f++) {
            float s = sum(dy + f * g->P, g->P);
            db[f] = i == first ? s : db[f] + s;
        }
        if (j->dx) {
            /* d(cols) (K, P) = W^T (K, F) dy (F, P), over the cols slot dW no longer needs */
            j->c->host->sgemm(1, 0, g->K, g->P, g->F, 1.0f, W, g->K, dy, g->P, 0.0f, col, g->P);
            col2im(g, col, j->dx + i * g->C * g->H * g->W);
        }
    }
}

/* Element e of the G partials (n floats each) summed in group order. */
static float group_sum(const float *partials, size_t n, size_t G, size_t e)
{
    float s = partials[e];
    for (size_t q = 1; q < G; q++) s += partials[q * n + e];
    return s;
}

static int conv_backward(const runner_layer_ctx_t *c, const float *x, const float *y, const float *dy, float *dx,
                         runner_err_t *err)
{
    (void)x, (void)y, (void)err;
    job_t j = job(c);
    j.dy = dy, j.dx = dx;
    const size_t F = j.g.F, K = j.g.K, G = groups(c->batch);
    c->host->parallel_for(G, backward_group, &j);
    /* dW, db: the partials in group order. A partial holds dW^T (K, F),
     * then db; grads holds W's (F, K), then b's. */
    for (size_t f = 0; f < F; f++) {
        for (size_t k = 0; k < K; k++) c->grads[f * K + k] = group_sum(j.partials, F * K + F, G, k * F + f);
        c->grads[F * K + f] = group_sum(j.partials, F * K + F, G, F * K + f);
    }
    return RUNNER_OK;
}

static const runner_layer_ops_t ops = {
    .size = sizeof(runner_layer_ops_t),
    .flags = RUNNER_LAYER_PER_SAMPLE,
    .shape = conv_shape,
    .work_bytes = conv_work,
    .init = conv_init,
    .forward = conv_forward,
    .backward = conv_backward,
};

static const runner_plugin_t conv2d = {
    RUNNER_PLUGIN_HEADER,
    .kind = RUNNER_KIND_LAYER,
    .name = "conv2d",
    .version = "1.1.0", /* 1.1: per-sample flag; the bias gradient sums in lanes (other bits) */
    .doc = "2-D convolution of (channels, height, width) images, by im2col and GEMM",
    .params = params,
    .n_params = 6,
    .layer = &ops,
    .param_choices = choices,
};

RUNNER_EXPORT const runner_plugin_t *runner_plugin_get(uint32_t index) { return index == 0 ? &conv2d : NULL; }
