/* sweep.c: OpenMP workers over batches of cells, one writer thread; with
 * a link (sweep_link.h), the same over several processes. */
#include "sweep/sweep.h"

#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "cells/kind.h"
#include "plugin_host/host_services.h"
#include "results/format.h"
#include "results/layout.h"
#include "sweep/crash.h"
#include "sweep/isolate.h"
#include "sweep/journal.h"
#include "sweep/sweep_link.h"

#define BATCH_BYTES (4u << 20) /* output per batch: large writes, bounded memory */
#define MAX_FOREIGN 4          /* workers' batches waiting for the writer, at most */
/* After a stop signal, how long cells computed in this process have to
 * return before the process leaves without them (a plugin that never
 * returns would otherwise hold the sweep past SIGTERM). Isolated batches
 * stop within ISOLATE_STOP_GRACE by themselves. */
#define STOP_GRACE 5.0

typedef struct {
    size_t c0, c1;
} range_t;

/* An entry of the writer's queue: a batch and who gets it back once written. */
typedef struct {
    batch_t *b;
    void (*release)(batch_t *b, void *arg);
    void *arg;
    bool foreign; /* a worker's batch: counts against MAX_FOREIGN */
} queued_t;

struct sweep {
    const experiment_t *exp;
    h5out_t *out; /* NULL on a worker: its writer thread sends instead */
    const sweep_opts_t *opts;
    const sweep_link_t *link; /* NULL: this process alone */
    layout_t layout;
    /* the plan (alone or coordinator): batches handed out in order */
    range_t *batches;
    size_t n_batches, next_batch;
    size_t max_cells; /* cells in the largest batch: what a slot holds */
    batch_t *slots;
    size_t n_slots;
    /* free slots (a stack), the writer's queue (a ring), under one lock */
    pthread_mutex_t lock;
    pthread_cond_t slot_freed, queue_changed;
    size_t *free_stack, n_free;
    queued_t *queue;
    size_t queue_cap, queue_head, queue_len;
    size_t n_foreign;   /* workers' batches queued or being written */
    int producers_left; /* the writer ends when none is left and the queue is empty */
    /* a failure (writing, sending, a worker's): the first one is reported */
    bool failed;
    err_t fail_err;
    sweep_summary_t *sum;
    double t0;
    /* a stop request: set once, read by every worker between cell groups */
    bool stop;
    sweep_stop_t why;
    double stop_at; /* when a signal asked to stop */
    /* the cells to plan: todo less the suspects (computed first) */
    const unsigned char *plan_todo;
    bool shared_slots; /* slots a child process can write (isolation) */
    /* how far each local thread's cell in flight is, in 1/1000 (long cells
     * report it: cell_env_t.cell_progress), for the progress line */
    uint32_t *in_flight;
    int n_threads;
};

static size_t take_free_slot(sweep_t *s)
{
    pthread_mutex_lock(&s->lock);
    while (s->n_free == 0) pthread_cond_wait(&s->slot_freed, &s->lock);
    size_t i = s->free_stack[--s->n_free];
    pthread_mutex_unlock(&s->lock);
    return i;
}

static void release_local(batch_t *b, void *arg)
{
    sweep_t *s = arg;
    pthread_mutex_lock(&s->lock);
    s->free_stack[s->n_free++] = (size_t)(b - s->slots);
    pthread_cond_broadcast(&s->slot_freed);
    pthread_mutex_unlock(&s->lock);
}

/* To the writer. The queue holds every local slot and MAX_FOREIGN more. */
static void enqueue(sweep_t *s, queued_t q)
{
    pthread_mutex_lock(&s->lock);
    s->queue[(s->queue_head + s->queue_len++) % s->queue_cap] = q;
    pthread_cond_signal(&s->queue_changed);
    pthread_mutex_unlock(&s->lock);
}

/* A producer of batches (the local threads, the link to workers) is done. */
static void producer_done(sweep_t *s)
{
    pthread_mutex_lock(&s->lock);
    s->producers_left--;
    pthread_cond_signal(&s->queue_changed);
    pthread_mutex_unlock(&s->lock);
}

static void halt(sweep_t *s)
{
    __atomic_store_n(&s->stop, true, __ATOMIC_RELEASE);
}

static void request_stop(sweep_t *s, int sig, bool on_failure)
{
    pthread_mutex_lock(&s->lock);
    if (!s->stop) s->why = (sweep_stop_t){.signal = sig, .on_failure = on_failure}, s->stop_at = now_seconds();
    halt(s);
    pthread_cond_signal(&s->queue_changed); /* the writer keeps time from now on */
    pthread_mutex_unlock(&s->lock);
}

/* The first failure is kept; any failure stops the sweep. */
static void fail(sweep_t *s, const err_t *e)
{
    pthread_mutex_lock(&s->lock);
    if (!s->failed) s->fail_err = *e;
    s->failed = true;
    halt(s);
    pthread_mutex_unlock(&s->lock);
}

static bool should_stop(sweep_t *s)
{
    if (__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) return true;
    int sig = s->opts->stop_signal ? s->opts->stop_signal() : 0;
    if (sig) request_stop(s, sig, false);
    else if (s->link && !s->link->coordinator && s->link->stop_asked(s->link->ctx)) halt(s);
    return __atomic_load_n(&s->stop, __ATOMIC_ACQUIRE);
}

bool sweep_stopping(sweep_t *s) { return should_stop(s); }

bool sweep_signalled(sweep_t *s)
{
    pthread_mutex_lock(&s->lock);
    bool sig = s->why.signal != 0;
    pthread_mutex_unlock(&s->lock);
    return sig;
}

/* A cell finished (cell_env_t.cell_done): its row of the batch; with
 * --fail-fast a failed cell stops the sweep. */
static void cell_progress(void *arg, double done)
{
    sweep_t *s = arg;
    int t = omp_get_thread_num();
    if (s->in_flight && t < s->n_threads) __atomic_store_n(&s->in_flight[t], (uint32_t)(done * 1000.0), __ATOMIC_RELAXED);
}

static void cell_done(void *arg, batch_t *b, size_t r, int status, double wall, const runner_err_t *err)
{
    sweep_t *s = arg;
    cell_progress(s, 0.0);
    journal_slot_t *slot = crash_slot();
    if (slot) slot->done = r + 1; /* a batch's cells finish in order */
    b->status[r] = (int8_t)status;
    b->wall[r] = wall;
    memcpy(b->failure[r], err->msg, RUNNER_ERR_MAX);
    if (status == STATUS_FAILED && s->opts->fail_fast) request_stop(s, 0, true);
}

static int stop_poll(void *arg) { return should_stop(arg); }

/* Compute the batch's cells; on a stop request the kind ends the batch at
 * the last finished cell (the writer writes only those). */
static void compute_batch(sweep_t *s, batch_t *b, void *buffers, isolate_worker_t *isolated)
{
    cell_env_t env = {.stopping = stop_poll, .cell_done = cell_done, .cell_progress = cell_progress, .arg = s};
    if (isolated) {
        isolate_compute(isolated, b, &env);
    } else {
        s->exp->kind->compute(s->exp, &s->layout, b, buffers, &env);
    }
}

/* The summary is computed from what is written, in cell order per batch. */
static void summarise(sweep_t *s, const batch_t *b)
{
    bool failed = false;
    for (size_t c = b->c0; c < b->c1; c++) {
        summary_add(s->sum, c, b->status[c - b->c0], b->failure[c - b->c0]);
        failed |= b->status[c - b->c0] == STATUS_FAILED;
    }
    /* a worker's failed cell stops the others too */
    if (failed && s->opts->fail_fast) request_stop(s, 0, true);
}

/* The line: cells written, and the fractions of the local cells in flight
 * (a one-cell training run moves too), elapsed time and the ETA. */
static void draw_progress(sweep_t *s, bool final)
{
    size_t done = summary_done(s->sum), total = s->exp->n_cells;
    double el = now_seconds() - s->t0;
    if (final) {
        fprintf(stderr, "\r\033[K");
        return;
    }
    double partial = 0.0;
    for (int t = 0; s->in_flight && t < s->n_threads; t++)
        partial += __atomic_load_n(&s->in_flight[t], __ATOMIC_RELAXED) / 1000.0;
    double computed = (double)(done - s->sum->resumed) + partial, left = (double)(total - done) - partial;
    fprintf(stderr, "\r\033[K  %zu/%zu cells  %3.0f%%  %.1fs elapsed", done, total,
            100.0 * ((double)done + partial) / (double)total, el);
    if (computed > 0) fprintf(stderr, "  ETA %.1fs", el * (left > 0 ? left : 0) / computed);
    fflush(stderr);
}

/* Write a computed batch into the file (alone, coordinator), or send it to
 * the coordinator (worker). */
static void deliver(sweep_t *s, const batch_t *b)
{
    err_t e = {0};
    double t0 = now_seconds();
    err_code_t rc = s->out ? h5out_write_cells(s->out, b->c0, b->c1, (const float *const *)b->vars, b->status,
                                               b->wall, b->failure, &e)
                           : s->link->send(s->link->ctx, &s->layout, b, &e);
    if (s->out) s->sum->write_seconds += now_seconds() - t0; /* only the writer thread adds */
    if (rc) fail(s, &e);
    else if (s->out) summarise(s, b);
}

/* A stop signal came STOP_GRACE ago, every finished batch is written, and
 * cells are still in flight in this process: plugin code that does not
 * return. Leave without them, as kill -9 would, but saying so: the file is
 * consistent after every batch written. */
static _Noreturn void leave_hung(sweep_t *s)
{
    if (s->opts->progress) draw_progress(s, true);
    char cells[256] = "";
    size_t len = 0, n = 0;
    for (size_t i = 0; s->opts->journal && i < journal_slots(s->opts->journal); i++) {
        journal_slot_t *slot = journal_slot(s->opts->journal, i);
        if (slot->state != SLOT_COMPUTING || len + 24 >= sizeof cells) continue;
        len += (size_t)snprintf(cells + len, sizeof cells - len, "%s%llu", n++ ? ", " : "",
                                (unsigned long long)(slot->c0 + slot->done));
    }
    fprintf(stderr,
            "runner: error: interrupted by %s, but %s%s did not stop within %.0f s (plugin code that does not "
            "return?); every cell finished before is in the file%s%s\n",
            crash_signal_name(s->why.signal), n ? (n == 1 ? "cell " : "cells ") : "cells in flight", cells, STOP_GRACE,
            s->opts->resume_hint ? "; resume with: " : "", s->opts->resume_hint ? s->opts->resume_hint : "");
    fflush(stderr);
    _exit(128 + s->why.signal);
}

static void *writer_main(void *arg)
{
    sweep_t *s = arg;
    double last_draw = 0.0;
    for (;;) {
        pthread_mutex_lock(&s->lock);
        while (s->queue_len == 0 && s->producers_left > 0) {
            /* the signal is polled here too: a lone compute thread stuck in
             * plugin code never polls it */
            int sig = !s->stop && s->opts->stop_signal ? s->opts->stop_signal() : 0;
            if (sig) s->why = (sweep_stop_t){.signal = sig}, s->stop_at = now_seconds(), halt(s);
            bool hung = s->why.signal && !s->opts->isolate && now_seconds() - s->stop_at > STOP_GRACE;
            if (hung) {
                pthread_mutex_unlock(&s->lock);
                leave_hung(s);
            }
            /* timed: to redraw the progress line while long cells run, and
             * to keep time for the grace period */
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += 250000000L;
            if (until.tv_nsec >= 1000000000L) until.tv_sec++, until.tv_nsec -= 1000000000L;
            if (pthread_cond_timedwait(&s->queue_changed, &s->lock, &until) != 0 && s->queue_len == 0 &&
                s->opts->progress) {
                pthread_mutex_unlock(&s->lock);
                draw_progress(s, false);
                pthread_mutex_lock(&s->lock);
            }
        }
        if (s->queue_len == 0) {
            pthread_mutex_unlock(&s->lock);
            break;
        }
        queued_t q = s->queue[s->queue_head];
        s->queue_head = (s->queue_head + 1) % s->queue_cap;
        s->queue_len--;
        bool failed = s->failed;
        pthread_mutex_unlock(&s->lock);

        if (!failed && q.b->c1 > q.b->c0) deliver(s, q.b);
        if (s->opts->progress && now_seconds() - last_draw > 0.2) {
            draw_progress(s, false);
            last_draw = now_seconds();
        }
        q.release(q.b, q.arg);
        if (q.foreign) {
            pthread_mutex_lock(&s->lock);
            s->n_foreign--;
            pthread_cond_broadcast(&s->slot_freed);
            pthread_mutex_unlock(&s->lock);
        }
    }
    if (s->opts->progress) draw_progress(s, true);
    return NULL;
}

/* Bounded: the link waits while MAX_FOREIGN of its batches are queued. */
void sweep_submit(sweep_t *s, batch_t *b, void (*release)(batch_t *, void *), void *arg)
{
    pthread_mutex_lock(&s->lock);
    while (s->n_foreign >= MAX_FOREIGN) pthread_cond_wait(&s->slot_freed, &s->lock);
    s->n_foreign++;
    pthread_mutex_unlock(&s->lock);
    enqueue(s, (queued_t){b, release, arg, true});
}

/* A batch's buffers for `cells` cells: private, or shared with the child
 * processes of isolation (which write them). */
static bool alloc_batch(const layout_t *l, batch_t *b, size_t cells, bool shared)
{
    void *(*get)(size_t) = shared ? isolate_alloc : malloc;
    for (size_t v = 0; v < l->n_vars; v++)
        if (!(b->vars[v] = get(cells * l->vars[v].per_cell * sizeof(float)))) return false;
    b->status = get(cells * sizeof *b->status);
    b->wall = get(cells * sizeof *b->wall);
    b->failure = get(cells * sizeof *b->failure);
    return b->status && b->wall && b->failure;
}

static void free_batch(const layout_t *l, batch_t *b, size_t cells, bool shared)
{
    if (!shared) {
        for (size_t v = 0; v < LAYOUT_MAX_VARS; v++) free(b->vars[v]);
        free(b->status), free(b->wall), free(b->failure);
        return;
    }
    for (size_t v = 0; v < l->n_vars; v++) isolate_free(b->vars[v], cells * l->vars[v].per_cell * sizeof(float));
    isolate_free(b->status, cells * sizeof *b->status);
    isolate_free(b->wall, cells * sizeof *b->wall);
    isolate_free(b->failure, cells * sizeof *b->failure);
}

static bool alloc_slots(sweep_t *s)
{
    for (size_t i = 0; i < s->n_slots; i++)
        if (!alloc_batch(&s->layout, &s->slots[i], s->max_cells, s->shared_slots)) return false;
    return true;
}

static void free_slots(sweep_t *s)
{
    for (size_t i = 0; s->slots && i < s->n_slots; i++) free_batch(&s->layout, &s->slots[i], s->max_cells, s->shared_slots);
    free(s->slots);
    free(s->in_flight);
    free(s->free_stack);
    free(s->queue);
    free(s->batches);
}

/* Batches: runs of consecutive cells to compute, about 8 per thread (of
 * all processes) for load balance, each at most BATCH_BYTES of output. */
static bool plan_batches(sweep_t *s, int threads)
{
    const experiment_t *exp = s->exp;
    const unsigned char *todo = s->plan_todo;
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
    s->max_cells = 0;
    for (size_t c = 0; c < exp->n_cells;) {
        if (todo && !todo[c]) {
            c++;
            continue;
        }
        size_t e = c;
        while (e < exp->n_cells && e - c < per && (!todo || todo[e])) e++;
        s->batches[s->n_batches++] = (range_t){c, e};
        if (e - c > s->max_cells) s->max_cells = e - c;
        c = e;
    }
    return true;
}

uint64_t sweep_buffer_bytes(const experiment_t *exp, int threads)
{
    layout_t l;
    layout_of(exp, &l);
    uint64_t cell_bytes = (uint64_t)l.floats_per_cell * sizeof(float);
    uint64_t slot = cell_bytes > BATCH_BYTES ? cell_bytes : BATCH_BYTES; /* a batch holds >= 1 cell */
    /* saturating: thread_bytes carries plugins' numbers */
    uint64_t slots = (2 * (uint64_t)threads + 1) * slot, per_thread = exp->kind->thread_bytes(exp), all;
    if (__builtin_mul_overflow((uint64_t)threads, per_thread, &all) || __builtin_add_overflow(all, slots, &all))
        return UINT64_MAX;
    return all;
}

/* The plan's next batch, for anyone who asks (local threads, workers). */
static bool take_planned(sweep_t *s, size_t *c0, size_t *c1)
{
    bool got = false;
    pthread_mutex_lock(&s->lock);
    if (!s->stop && s->next_batch < s->n_batches) {
        *c0 = s->batches[s->next_batch].c0;
        *c1 = s->batches[s->next_batch].c1;
        s->next_batch++;
        got = true;
    }
    pthread_mutex_unlock(&s->lock);
    return got;
}

bool sweep_take_batch(sweep_t *s, size_t *c0, size_t *c1)
{
    return !should_stop(s) && take_planned(s, c0, c1);
}

void sweep_peer_ended(sweep_t *s, const sweep_peer_end_t *end)
{
    if (end->failed) fail(s, &end->err);
    else if (end->signal) request_stop(s, end->signal, false);
}

/* A local thread's next batch: from the plan, or (worker) from the coordinator. */
static bool next_batch(sweep_t *s, size_t *c0, size_t *c1)
{
    if (should_stop(s)) return false;
    if (s->link && !s->link->coordinator) return s->link->fetch(s->link->ctx, c0, c1);
    return take_planned(s, c0, c1);
}

/* One local thread: it takes a slot, a batch to fill it, computes it and
 * queues it for the writer, until no batch is left. */
static void compute_loop(sweep_t *s, bool *oom)
{
    const cell_kind_t *kind = s->exp->kind;
    /* Allocated once per thread, before the first step; reused by every cell. */
    void *buffers = kind->thread_create(s->exp);
    if (!buffers) {
#pragma omp atomic write
        *oom = true;
        halt(s);
        return;
    }
    /* this thread's note of its cells in flight, for a crash (crash.h) */
    journal_t *j = s->opts->journal;
    int t = omp_get_thread_num();
    journal_slot_t *slot = j && (size_t)t < journal_slots(j) ? journal_slot(j, (size_t)t) : NULL;
    isolate_worker_t *worker = NULL;
    if (s->opts->isolate &&
        !(worker = isolate_worker_create(s->exp, &s->layout, buffers,
                                         &(isolate_opts_t){s->opts->cell_timeout, s->opts->stop_signal}))) {
        kind->thread_destroy(buffers);
#pragma omp atomic write
        *oom = true;
        halt(s);
        return;
    }
    crash_thread_stack();
    for (;;) {
        size_t i = take_free_slot(s);
        batch_t *sl = &s->slots[i];
        if (!next_batch(s, &sl->c0, &sl->c1)) {
            release_local(sl, s);
            break;
        }
        if (slot) {
            slot->c0 = sl->c0, slot->c1 = sl->c1, slot->done = 0;
            __atomic_store_n(&slot->state, SLOT_COMPUTING, __ATOMIC_RELEASE);
            crash_set_slot(slot);
        }
        compute_batch(s, sl, buffers, worker);
        if (slot) {
            crash_set_slot(NULL);
            __atomic_store_n(&slot->state, SLOT_FREE, __ATOMIC_RELEASE);
        }
        enqueue(s, (queued_t){sl, release_local, s, false});
    }
    crash_thread_stack_free();
    isolate_worker_destroy(worker);
    kind->thread_destroy(buffers);
}

/* The local threads, parallel over batches of cells: the outer loop,
 * where the work is independent. One thread runs on the caller's, outside
 * any parallel region: a cell's kernels then open their regions at the
 * top level, where libgomp keeps its threads between regions. Inside even
 * a one-thread region, every kernel's region started and ended threads of
 * its own (measured: a third of a CNN epoch). */
static err_code_t compute_all(sweep_t *s, int threads, err_t *err)
{
    bool oom = false;
    if (threads == 1) {
        compute_loop(s, &oom);
    } else {
#pragma omp parallel num_threads(threads)
        compute_loop(s, &oom);
    }
    if (oom) return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory for per-thread buffers");
    return ERR_OK;
}

static void *serve_main(void *arg)
{
    sweep_t *s = arg;
    s->link->serve(s->link->ctx, s);
    producer_done(s);
    return NULL;
}

/* Buffers and the writer's queue, for `threads` local threads. */
static bool alloc_buffers(sweep_t *s, int threads)
{
    s->n_slots = 2 * (size_t)threads + 1;
    s->queue_cap = s->n_slots + MAX_FOREIGN;
    s->slots = calloc(s->n_slots, sizeof *s->slots);
    s->free_stack = malloc(s->n_slots * sizeof *s->free_stack);
    s->queue = malloc(s->queue_cap * sizeof *s->queue);
    s->n_threads = threads;
    if (!(s->in_flight = calloc((size_t)threads, sizeof *s->in_flight))) return false;
    if (!s->slots || !s->free_stack || !s->queue || !alloc_slots(s)) return false;
    for (size_t i = 0; i < s->n_slots; i++) s->free_stack[s->n_free++] = i;
    return true;
}

/* The cells an earlier process crashed on (opts->suspects), before anything
 * else: in batches of consecutive cells, each computed in child processes
 * (isolate.h) and written at once, so the crash costs the crashing cell
 * and the sweep goes on. The plan then leaves them out (s->plan_todo). */
#define SUSPECT_BATCH 64
static err_code_t compute_suspects(sweep_t *s, unsigned char **plan_todo, err_t *err)
{
    const experiment_t *exp = s->exp;
    const unsigned char *todo = s->opts->todo, *sus = s->opts->suspects;
    s->plan_todo = todo;
    *plan_todo = NULL;
    if (!sus || !s->out) return ERR_OK;
    if (!(*plan_todo = malloc(exp->n_cells))) return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
    for (size_t c = 0; c < exp->n_cells; c++) (*plan_todo)[c] = (!todo || todo[c]) && !sus[c];
    s->plan_todo = *plan_todo;
    size_t cell_bytes = s->layout.floats_per_cell * sizeof(float), chunk = BATCH_BYTES / cell_bytes;
    chunk = chunk < 1 ? 1 : chunk > SUSPECT_BATCH ? SUSPECT_BATCH : chunk;
    batch_t b = {0};
    void *buffers = exp->kind->thread_create(exp);
    err_code_t rc = ERR_OK;
    isolate_worker_t *worker = NULL;
    if (!buffers || !alloc_batch(&s->layout, &b, chunk, true) ||
        !(worker = isolate_worker_create(exp, &s->layout, buffers, &(isolate_opts_t){s->opts->cell_timeout, s->opts->stop_signal}))) {
        rc = err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory for the cells to isolate");
    } else {
        for (size_t c = 0; c < exp->n_cells && !s->failed && !should_stop(s);) {
            if (!sus[c] || (todo && !todo[c])) {
                c++;
                continue;
            }
            size_t e = c;
            while (e < exp->n_cells && e - c < chunk && sus[e] && (!todo || todo[e])) e++;
            b.c0 = c, b.c1 = e;
            compute_batch(s, &b, buffers, worker);
            if (b.c1 > b.c0) deliver(s, &b);
            c = e;
        }
    }
    isolate_worker_destroy(worker);
    free_batch(&s->layout, &b, chunk, true);
    if (buffers) exp->kind->thread_destroy(buffers);
    return rc;
}

/* The plan: made here (alone, coordinator) or received (worker). */
static err_code_t make_plan(sweep_t *s, int threads, err_t *err)
{
    const sweep_link_t *link = s->link;
    if (link && !link->coordinator) {
        sweep_plan_t plan;
        err_code_t rc = link->share_plan(link->ctx, &s->layout, &plan, err);
        s->n_batches = rc ? 0 : (size_t)plan.n_batches;
        s->max_cells = rc ? 0 : (size_t)plan.max_cells;
        return rc;
    }
    bool ok = plan_batches(s, link ? link->threads : threads);
    if (!ok) s->n_batches = s->max_cells = 0;
    err_code_t rc = ok ? ERR_OK : err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
    if (link) {
        sweep_plan_t plan = {s->n_batches, s->max_cells};
        err_t e;
        if (link->share_plan(link->ctx, &s->layout, &plan, rc ? &e : err) && !rc) rc = err->code;
    }
    return rc;
}

err_code_t sweep_run(const experiment_t *exp, h5out_t *out, const sweep_opts_t *opts, sweep_summary_t *sum,
                     sweep_stop_t *stop, err_t *err)
{
    const sweep_link_t *link = opts->link;
    bool worker = link && !link->coordinator;
    sweep_t s = {.exp = exp, .out = worker ? NULL : out, .opts = opts, .link = link, .sum = sum, .t0 = now_seconds()};
    *stop = (sweep_stop_t){0};
    layout_of(exp, &s.layout);
    int threads = opts->threads > 0 ? opts->threads : 1;
    s.shared_slots = opts->isolate;
    pthread_mutex_init(&s.lock, NULL);
    pthread_cond_init(&s.slot_freed, NULL);
    pthread_cond_init(&s.queue_changed, NULL);
    unsigned char *plan_todo;
    err_code_t rc = compute_suspects(&s, &plan_todo, err);
    if (rc == ERR_OK && s.failed) *err = s.fail_err, rc = s.fail_err.code ? s.fail_err.code : ERR_RUNTIME;
    if (rc == ERR_OK) rc = make_plan(&s, threads, err);
    else if (link) link->share_plan(link->ctx, &s.layout, &(sweep_plan_t){0, 0}, &(err_t){0}); /* nothing to do: they end */
    if (rc || s.n_batches == 0) {
        free(plan_todo);
        free_slots(&s);
        pthread_mutex_destroy(&s.lock);
        pthread_cond_destroy(&s.slot_freed);
        pthread_cond_destroy(&s.queue_changed);
        sum->seconds = now_seconds() - s.t0;
        *stop = s.why;
        return rc;
    }
    /* Threaded cells (training): as many cells side by side as there are
     * threads, each with single-threaded matrix products; with fewer cells
     * than threads, one cell at a time with all the threads in its
     * products. Never both. */
    if (exp->kind->threaded_cells) {
        bool by_cell = s.n_batches >= (size_t)(link ? link->threads : threads);
        host_set_kernel_threads(by_cell ? 1 : threads);
        if (!by_cell) threads = 1;
    }
    if ((size_t)threads > s.n_batches) threads = (int)s.n_batches;
    s.producers_left = 1 + (link && link->coordinator);
    pthread_t writer, server;
    bool have_writer = false, have_server = false;
    if (!alloc_buffers(&s, threads)) {
        fail(&s, &(err_t){.code = ERR_NOMEM, .msg = "out of memory for the output buffers"});
    } else if (pthread_create(&writer, NULL, writer_main, &s) != 0) {
        fail(&s, &(err_t){.code = ERR_RUNTIME, .msg = "cannot start the writer thread"});
    } else {
        have_writer = true;
    }
    /* The link to the workers serves them to the end, even when nothing
     * can be computed here: they must all hear that the sweep is over. */
    if (link && link->coordinator) {
        if (have_writer && pthread_create(&server, NULL, serve_main, &s) == 0) {
            have_server = true;
        } else {
            if (have_writer) fail(&s, &(err_t){.code = ERR_RUNTIME, .msg = "cannot start the thread serving the other ranks"});
            link->serve(link->ctx, &s); /* answers "no more batches" to each of them */
            producer_done(&s);
        }
    }
    if (have_writer) {
        err_t e = {0};
        if (compute_all(&s, threads, &e)) fail(&s, &e);
        producer_done(&s);
        if (have_server) pthread_join(server, NULL);
        pthread_join(writer, NULL);
    }
    if (worker) {
        sweep_peer_end_t end = {.signal = s.why.signal, .failed = s.failed, .err = s.fail_err};
        link->done(link->ctx, &end);
    }
    pthread_mutex_destroy(&s.lock);
    pthread_cond_destroy(&s.slot_freed);
    pthread_cond_destroy(&s.queue_changed);
    free_slots(&s);
    free(plan_todo);
    sum->seconds = now_seconds() - s.t0;
    *stop = s.why;
    if (s.failed) {
        *err = s.fail_err;
        return s.fail_err.code ? s.fail_err.code : ERR_RUNTIME;
    }
    return ERR_OK;
}
