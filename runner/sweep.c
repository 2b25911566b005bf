/* sweep.c: OpenMP workers over batches of cells, one HDF5 writer thread. */
#include "sweep.h"

#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cell_run.h"
#include "clock.h"
#include "host_services.h"
#include "layout.h"
#include "train.h"

#define BATCH_BYTES (4u << 20) /* output per batch: large writes, bounded memory */

typedef struct {
    size_t c0, c1; /* cells [c0, c1) */
    float *vars[LAYOUT_MAX_VARS]; /* the layout's variables, (cells, per_cell) each */
    int8_t *status;
    double *wall;
    char (*failure)[RUNNER_ERR_MAX];
} slot_t;

typedef struct {
    size_t c0, c1;
} range_t;

typedef struct {
    const experiment_t *exp;
    h5out_t *out;
    const sweep_opts_t *opts;
    layout_t layout;
    size_t S, P; /* analytic cells: rows (steps + 1) and columns (parameters) */
    range_t *batches;
    size_t n_batches;
    slot_t *slots;
    size_t n_slots;
    /* free slots (a stack) and filled slots (a FIFO), under one lock */
    pthread_mutex_t lock;
    pthread_cond_t slot_freed, slot_filled;
    size_t *free_stack, n_free;
    size_t *ready, ready_head, ready_tail; /* ring of n_slots + 1 */
    size_t batches_written;
    bool write_failed;
    err_t write_err;
    sweep_summary_t *sum;
    double t0;
    /* a stop request: set once, read by every worker between cell groups */
    bool stop;
    sweep_stop_t why;
} sweep_t;

static size_t take_free_slot(sweep_t *s)
{
    pthread_mutex_lock(&s->lock);
    while (s->n_free == 0) pthread_cond_wait(&s->slot_freed, &s->lock);
    size_t i = s->free_stack[--s->n_free];
    pthread_mutex_unlock(&s->lock);
    return i;
}

static void hand_to_writer(sweep_t *s, size_t i)
{
    pthread_mutex_lock(&s->lock);
    s->ready[s->ready_tail] = i;
    s->ready_tail = (s->ready_tail + 1) % (s->n_slots + 1);
    pthread_cond_signal(&s->slot_filled);
    pthread_mutex_unlock(&s->lock);
}

/* Per-thread buffers: one optimizer state and work block per lane
 * (analytic cells); where a training cell writes what the file does not keep. */
typedef struct {
    void *state[CELL_LANES], *work[CELL_LANES];
    float *discard;
} thread_buffers_t;

static void request_stop(sweep_t *s, int sig, bool on_failure)
{
    pthread_mutex_lock(&s->lock);
    if (!s->stop) s->why = (sweep_stop_t){.signal = sig, .on_failure = on_failure};
    __atomic_store_n(&s->stop, true, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&s->lock);
}

static bool should_stop(sweep_t *s)
{
    if (__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) return true;
    int sig = s->opts->stop_signal ? s->opts->stop_signal() : 0;
    if (sig) request_stop(s, sig, false);
    return sig != 0;
}

static void record_cell(slot_t *sl, size_t r, int status, double wall, const runner_err_t *err, bool *failed)
{
    sl->status[r] = (int8_t)status;
    sl->wall[r] = wall;
    memcpy(sl->failure[r], err->msg, RUNNER_ERR_MAX);
    *failed |= status == STATUS_FAILED;
}

/* Analytic cells, CELL_LANES at a time. */
static void compute_analytic(sweep_t *s, slot_t *sl, const thread_buffers_t *tb)
{
    const experiment_t *exp = s->exp;
    for (size_t c0 = sl->c0; c0 < sl->c1; c0 += CELL_LANES) {
        if (should_stop(s)) {
            sl->c1 = c0;
            break;
        }
        size_t k = sl->c1 - c0 < CELL_LANES ? sl->c1 - c0 : CELL_LANES;
        cell_lane_t lanes[CELL_LANES];
        for (size_t j = 0; j < k; j++) {
            size_t r = c0 + j - sl->c0;
            lanes[j] = (cell_lane_t){.cell = &exp->cells[c0 + j], .state = tb->state[j], .work = tb->work[j],
                                     .params = sl->vars[0] + r * s->S * s->P, .loss = sl->vars[1] + r * s->S,
                                     .grad_norm = sl->vars[2] + r * s->S};
        }
        double t0 = now_seconds();
        cell_run_lanes(lanes, k, s->S, s->P);
        /* interleaved cells share their wall time */
        double each = (now_seconds() - t0) / (double)k;
        bool failed = false;
        for (size_t j = 0; j < k; j++) record_cell(sl, c0 + j - sl->c0, lanes[j].status, each, &lanes[j].err, &failed);
        if (failed && s->opts->fail_fast) request_stop(s, 0, true);
    }
}

static int stop_poll(void *arg) { return should_stop(arg); }

/* Training cells, one at a time; a stop request abandons the cell in
 * flight (it stays pending: a training cell can take minutes). */
static void compute_training(sweep_t *s, slot_t *sl, const thread_buffers_t *tb)
{
    const layout_t *l = &s->layout;
    for (size_t c = sl->c0; c < sl->c1; c++) {
        size_t r = c - sl->c0;
        float *v[LAYOUT_MAX_VARS];
        for (size_t i = 0; i < LAYOUT_MAX_VARS; i++)
            v[i] = i < l->n_vars ? sl->vars[i] + r * l->vars[i].per_cell : tb->discard;
        train_outputs_t out = {.train_loss = v[TV_TRAIN_LOSS],
                               .train_accuracy = v[TV_TRAIN_ACCURACY],
                               .train_eval_loss = v[TV_TRAIN_EPOCH_LOSS],
                               .validation_accuracy = v[TV_VALIDATION_ACCURACY],
                               .validation_loss = v[TV_VALIDATION_LOSS],
                               .test_accuracy = v[TV_TEST_ACCURACY],
                               .test_loss = v[TV_TEST_LOSS],
                               .epoch_seconds = v[TV_EPOCH_SECONDS]};
        runner_err_t err = {{0}};
        double t0 = now_seconds();
        int status = should_stop(s) ? STATUS_PENDING : train_run(&s->exp->cells[c], &out, stop_poll, s, &err);
        if (status == STATUS_PENDING) {
            sl->c1 = c;
            break;
        }
        bool failed = false;
        record_cell(sl, r, status, now_seconds() - t0, &err, &failed);
        if (failed && s->opts->fail_fast) request_stop(s, 0, true);
    }
}

/* Compute the batch's cells; on a stop request, end the batch at the last
 * finished cell (the writer writes only those). */
static void compute_batch(sweep_t *s, slot_t *sl, const thread_buffers_t *tb)
{
    if (s->exp->training) compute_training(s, sl, tb);
    else compute_analytic(s, sl, tb);
}

/* The summary is computed from what is written, in cell order per batch. */
static void summarise(sweep_t *s, const slot_t *sl)
{
    for (size_t c = sl->c0; c < sl->c1; c++) summary_add(s->sum, c, sl->status[c - sl->c0], sl->failure[c - sl->c0]);
}

static void draw_progress(sweep_t *s, bool final)
{
    size_t done = summary_done(s->sum), total = s->exp->n_cells;
    size_t computed = done - s->sum->resumed;
    double el = now_seconds() - s->t0;
    if (final) {
        fprintf(stderr, "\r\033[K");
        return;
    }
    double eta = computed ? el * (double)(total - done) / (double)computed : 0.0;
    fprintf(stderr, "\r\033[K  %zu/%zu cells  %3.0f%%  %.1fs elapsed  ETA %.1fs", done, total,
            100.0 * (double)done / (double)total, el, eta);
    fflush(stderr);
}

static void *writer_main(void *arg)
{
    sweep_t *s = arg;
    double last_draw = 0.0;
    for (size_t b = 0; b < s->n_batches; b++) {
        pthread_mutex_lock(&s->lock);
        while (s->ready_head == s->ready_tail) pthread_cond_wait(&s->slot_filled, &s->lock);
        size_t i = s->ready[s->ready_head];
        s->ready_head = (s->ready_head + 1) % (s->n_slots + 1);
        pthread_mutex_unlock(&s->lock);
        bool failed = __atomic_load_n(&s->write_failed, __ATOMIC_RELAXED);

        slot_t *sl = &s->slots[i];
        if (!failed && sl->c1 > sl->c0) {
            err_t e = {0};
            if (h5out_write_cells(s->out, sl->c0, sl->c1, (const float *const *)sl->vars, sl->status, sl->wall,
                                  sl->failure, &e)) {
                s->write_err = e;
                __atomic_store_n(&s->write_failed, true, __ATOMIC_RELAXED);
            } else {
                summarise(s, sl);
            }
        }
        if (s->opts->progress && now_seconds() - last_draw > 0.2) {
            draw_progress(s, false);
            last_draw = now_seconds();
        }
        pthread_mutex_lock(&s->lock);
        s->free_stack[s->n_free++] = i;
        pthread_cond_signal(&s->slot_freed);
        pthread_mutex_unlock(&s->lock);
    }
    if (s->opts->progress) draw_progress(s, true);
    return NULL;
}

static bool alloc_slots(sweep_t *s)
{
    size_t bc = 0;
    for (size_t b = 0; b < s->n_batches; b++)
        if (s->batches[b].c1 - s->batches[b].c0 > bc) bc = s->batches[b].c1 - s->batches[b].c0;
    for (size_t i = 0; i < s->n_slots; i++) {
        slot_t *sl = &s->slots[i];
        for (size_t v = 0; v < s->layout.n_vars; v++)
            if (!(sl->vars[v] = malloc(bc * s->layout.vars[v].per_cell * sizeof(float)))) return false;
        sl->status = malloc(bc * sizeof *sl->status);
        sl->wall = malloc(bc * sizeof *sl->wall);
        sl->failure = malloc(bc * sizeof *sl->failure);
        if (!sl->status || !sl->wall || !sl->failure) return false;
    }
    return true;
}

static void free_slots(sweep_t *s)
{
    for (size_t i = 0; s->slots && i < s->n_slots; i++) {
        slot_t *sl = &s->slots[i];
        for (size_t v = 0; v < LAYOUT_MAX_VARS; v++) free(sl->vars[v]);
        free(sl->status), free(sl->wall), free(sl->failure);
    }
    free(s->slots);
    free(s->free_stack);
    free(s->ready);
    free(s->batches);
}

/* Batches: runs of consecutive cells to compute, about 8 per thread for
 * load balance, each at most BATCH_BYTES of output. */
static bool plan_batches(sweep_t *s, int threads)
{
    const experiment_t *exp = s->exp;
    const unsigned char *todo = s->opts->todo;
    size_t n_todo = 0;
    for (size_t c = 0; c < exp->n_cells; c++) n_todo += !todo || todo[c];
    size_t cell_bytes = s->layout.floats_per_cell * sizeof(float);
    size_t by_bytes = BATCH_BYTES / cell_bytes ? BATCH_BYTES / cell_bytes : 1;
    size_t by_balance = (n_todo + (size_t)threads * 8 - 1) / ((size_t)threads * 8);
    size_t per = by_balance < by_bytes ? by_balance : by_bytes;
    if (per == 0) per = 1;
    /* at most one more batch per run of cells than cells/per */
    size_t cap = n_todo / per + 1;
    for (size_t c = 0; c < exp->n_cells; c++) cap += todo && todo[c] && (c == 0 || !todo[c - 1]);
    s->batches = malloc(cap * sizeof *s->batches);
    if (!s->batches) return false;
    s->n_batches = 0;
    for (size_t c = 0; c < exp->n_cells;) {
        if (todo && !todo[c]) {
            c++;
            continue;
        }
        size_t e = c;
        while (e < exp->n_cells && e - c < per && (!todo || todo[e])) e++;
        s->batches[s->n_batches++] = (range_t){c, e};
        c = e;
    }
    return true;
}

/* The largest state and work block of the analytic cells (lanes). */
static cell_sizes_t max_cell_sizes(const experiment_t *exp)
{
    cell_sizes_t max = {0, 0};
    for (size_t c = 0; !exp->training && c < exp->n_cells; c++) {
        cell_sizes_t cs = cell_run_sizes(&exp->cells[c]);
        if (cs.state_bytes > max.state_bytes) max.state_bytes = cs.state_bytes;
        if (cs.work_bytes > max.work_bytes) max.work_bytes = cs.work_bytes;
    }
    return max;
}

uint64_t sweep_buffer_bytes(const experiment_t *exp, int threads)
{
    layout_t l;
    layout_of(exp, &l);
    uint64_t cell_bytes = (uint64_t)l.floats_per_cell * sizeof(float);
    uint64_t slot = cell_bytes > BATCH_BYTES ? cell_bytes : BATCH_BYTES; /* a batch holds >= 1 cell */
    if (exp->training) {
        uint64_t cell_max = 0;
        for (size_t c = 0; c < exp->n_cells; c++) {
            uint64_t b = train_cell_bytes(&exp->cells[c]);
            if (b > cell_max) cell_max = b;
        }
        return (2 * (uint64_t)threads + 1) * slot + (uint64_t)threads * cell_max;
    }
    cell_sizes_t max = max_cell_sizes(exp);
    return (2 * (uint64_t)threads + 1) * slot + (uint64_t)threads * CELL_LANES * (max.state_bytes + max.work_bytes + 128);
}

err_code_t sweep_run(const experiment_t *exp, h5out_t *out, const sweep_opts_t *opts, sweep_summary_t *sum,
                     sweep_stop_t *stop, err_t *err)
{
    sweep_t s = {.exp = exp, .out = out, .opts = opts, .sum = sum, .t0 = now_seconds()};
    *stop = (sweep_stop_t){0};
    layout_of(exp, &s.layout);
    s.S = exp->max_steps + 1;
    s.P = exp->max_dim;
    int threads = opts->threads > 0 ? opts->threads : 1;
    if (!plan_batches(&s, threads)) return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
    /* Training: as many cells side by side as there are threads, each with
     * single-threaded matrix products; with fewer cells than threads, one
     * cell at a time with all the threads in its products. Never both. */
    if (exp->training) {
        bool by_cell = s.n_batches >= (size_t)threads;
        host_set_kernel_threads(by_cell ? 1 : threads);
        if (!by_cell) threads = 1;
    }
    if (s.n_batches == 0) {
        free_slots(&s);
        return ERR_OK;
    }
    if ((size_t)threads > s.n_batches) threads = (int)s.n_batches;
    s.n_slots = 2 * (size_t)threads + 1;
    s.slots = calloc(s.n_slots, sizeof *s.slots);
    s.free_stack = malloc(s.n_slots * sizeof *s.free_stack);
    s.ready = malloc((s.n_slots + 1) * sizeof *s.ready);
    if (!s.slots || !s.free_stack || !s.ready || !alloc_slots(&s)) {
        free_slots(&s);
        return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory for %zu output buffers", s.n_slots);
    }
    for (size_t i = 0; i < s.n_slots; i++) s.free_stack[s.n_free++] = i;
    /* per-thread optimizer state and work buffers, sized for the largest cell */
    cell_sizes_t max = max_cell_sizes(exp);
    pthread_mutex_init(&s.lock, NULL);
    pthread_cond_init(&s.slot_freed, NULL);
    pthread_cond_init(&s.slot_filled, NULL);
    pthread_t writer;
    bool oom = false;
    if (pthread_create(&writer, NULL, writer_main, &s) != 0) {
        free_slots(&s);
        return err_set(err, ERR_RUNTIME, (mark_t){0}, "cannot start the writer thread");
    }

#pragma omp parallel num_threads(threads)
    {
        /* Allocated once per thread, before the first step; reused by every cell. */
        thread_buffers_t tb = {{0}, {0}, NULL};
        bool ok = true;
        if (exp->training) {
            ok = (tb.discard = malloc((exp->max_steps + exp->max_epochs + 1) * sizeof(float))) != NULL;
        } else {
            for (size_t j = 0; j < CELL_LANES; j++) {
                tb.state[j] = aligned_alloc(64, max.state_bytes + 64);
                tb.work[j] = aligned_alloc(64, (max.work_bytes + 63) & ~(size_t)63);
                ok &= tb.state[j] && tb.work[j];
            }
        }
        if (!ok) {
#pragma omp atomic write
            oom = true;
        }
        /* Parallel over batches of cells: the outer loop, where the work is independent. */
#pragma omp for schedule(dynamic, 1)
        for (size_t b = 0; b < s.n_batches; b++) {
            size_t i = take_free_slot(&s);
            slot_t *sl = &s.slots[i];
            sl->c0 = s.batches[b].c0;
            sl->c1 = s.batches[b].c1;
            bool skip;
#pragma omp atomic read
            skip = oom;
            /* after a failure or a stop the remaining batches go to the writer empty */
            if (skip || __atomic_load_n(&s.write_failed, __ATOMIC_RELAXED) || should_stop(&s)) sl->c1 = sl->c0;
            else compute_batch(&s, sl, &tb);
            hand_to_writer(&s, i);
        }
        for (size_t j = 0; j < CELL_LANES; j++) free(tb.state[j]), free(tb.work[j]);
        free(tb.discard);
    }
    pthread_join(writer, NULL);
    pthread_mutex_destroy(&s.lock);
    pthread_cond_destroy(&s.slot_freed);
    pthread_cond_destroy(&s.slot_filled);
    free_slots(&s);
    sum->seconds = now_seconds() - s.t0;
    *stop = s.why;
    if (oom) return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory for per-thread buffers");
    if (s.write_failed) {
        *err = s.write_err;
        return ERR_RUNTIME;
    }
    return ERR_OK;
}
