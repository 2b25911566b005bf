/* mpi_link.c: the sweep's transport between MPI ranks (mpi_link.h). */
#include "sweep/mpi_link.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Launchers and what they put in each process's environment: Open MPI's
 * mpirun, PMI-1/2 (MPICH, Slurm's --mpi=pmi2) and PMIx (srun --mpi=pmix). */
bool mpi_launched(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
        if (getenv(vars[i])) return true;
    return false;
}

#ifdef RUNNER_HAVE_MPI

#include <errno.h>
#include <mpi.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "base/clock.h"
#include "sweep/sweep.h"

/* Message tags. A worker's BATCH always precedes its END (MPI keeps the
 * order of messages between two ranks), so nothing it computed is lost. */
enum { TAG_ASK = 1, TAG_GIVE, TAG_BATCH, TAG_END, TAG_STOP };

#define STOP_POLL_SECONDS 0.01 /* a worker looks for the coordinator's stop this often */
#define SIGNAL_GRACE_SECONDS 0.5 /* after a signal, how long the coordinator waits for the ranks */
#define IDLE_SLEEP_NS 100000L    /* between polls of a pending message: no busy wait on a shared core */

/* What a worker says when it ends (sweep_peer_end_t, without pointers). */
typedef struct {
    int32_t signal, failed, code;
    char msg[sizeof(((err_t *)0)->msg)];
} end_msg_t;

/* The coordinator's receive buffers for workers' batches: as many as the
 * writer's queue takes from them, so a batch never waits for one. */
#define RECV_BUFFERS 4

typedef struct {
    char *bytes;
    batch_t batch;
    bool busy;
} recv_buf_t;

struct mpi_link {
    MPI_Comm comm;
    int rank, size;
    sweep_link_t link;
    const layout_t *layout;
    /* Every MPI call of a running sweep, from any thread, takes the lock:
     * the library is asked for MPI_THREAD_SERIALIZED only. Waits for a
     * pending request poll with the lock released. */
    pthread_mutex_t lock;
    /* worker */
    bool stop_seen;
    int64_t next_stop_poll_us;
    char *pack;
    size_t pack_cap;
    /* coordinator */
    size_t max_cells;
    recv_buf_t bufs[RECV_BUFFERS];
    pthread_cond_t buf_freed;
    sweep_t *serving;     /* the sweep serve() answers for, while it does */
    double signalled_at;  /* when serve() first saw the sweep signalled, 0 before */
    bool peers_lost;
};

static void nap(void)
{
    struct timespec ts = {0, IDLE_SLEEP_NS};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Whether the coordinator gives the other ranks up: once its sweep is
 * signalled (mpirun sends SIGTERM to every rank when one dies, and SIGKILL
 * a few seconds later), it waits for them SIGNAL_GRACE_SECONDS at most. A
 * dead rank never answers, and a receive from a rank killed in the middle
 * of sending never completes: Open MPI 4.1's shared-memory transport prints
 * "Read -1, expected N, errno = 3" and the request stays pending for ever
 * without an error (a test program's MPI_Test loop showed it). Rank 0 once
 * sat there until mpirun's SIGKILL and left the file unmarked (test_mpi
 * under load). After giving up, no MPI call is made again. */
static bool give_up_on_peers(mpi_link_t *m)
{
    if (m->peers_lost) return true;
    if (!m->serving || !sweep_signalled(m->serving)) return false;
    double t = now_seconds();
    if (m->signalled_at == 0) m->signalled_at = t;
    if (t - m->signalled_at <= SIGNAL_GRACE_SECONDS) return false;
    m->peers_lost = true;
    return true;
}

/* Complete a request without holding the lock (or a core) while waiting;
 * on the coordinator, MPI_ERR_PENDING when it gave the peers up first (the
 * request is left posted: its buffer must not be reused). */
static int wait_request(mpi_link_t *m, MPI_Request *req)
{
    for (;;) {
        int done = 0;
        pthread_mutex_lock(&m->lock);
        int rc = MPI_Test(req, &done, MPI_STATUS_IGNORE);
        pthread_mutex_unlock(&m->lock);
        if (rc != MPI_SUCCESS || done) return rc;
        if (give_up_on_peers(m)) return MPI_ERR_PENDING;
        nap();
    }
}

static int send_to(mpi_link_t *m, const void *buf, size_t bytes, int dest, int tag)
{
    MPI_Request req;
    pthread_mutex_lock(&m->lock);
    int rc = MPI_Isend(buf, (int)bytes, MPI_BYTE, dest, tag, m->comm, &req);
    pthread_mutex_unlock(&m->lock);
    return rc == MPI_SUCCESS ? wait_request(m, &req) : rc;
}

static int recv_from(mpi_link_t *m, void *buf, size_t bytes, int src, int tag)
{
    MPI_Request req;
    pthread_mutex_lock(&m->lock);
    int rc = MPI_Irecv(buf, (int)bytes, MPI_BYTE, src, tag, m->comm, &req);
    pthread_mutex_unlock(&m->lock);
    return rc == MPI_SUCCESS ? wait_request(m, &req) : rc;
}

static err_code_t mpi_fail(err_t *err, int rc, const char *what)
{
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, text, &len);
    return err_set(err, ERR_RUNTIME, (mark_t){0}, "MPI: %s: %.*s", what, len, text);
}

/* A batch on the wire: c0, c1, then per cell its wall time, the layout's
 * variables, status and failure text; doubles first, so all is aligned. */
static size_t batch_bytes(const layout_t *l, size_t n)
{
    return 2 * sizeof(uint64_t) + n * (sizeof(double) + l->floats_per_cell * sizeof(float) + 1 + RUNNER_ERR_MAX);
}

/* Point b's arrays into bytes, a batch of n cells laid out as above. */
static void batch_view(const layout_t *l, char *bytes, size_t n, batch_t *b)
{
    char *p = bytes + 2 * sizeof(uint64_t);
    b->wall = (double *)(void *)p;
    p += n * sizeof(double);
    for (size_t v = 0; v < l->n_vars; v++) {
        b->vars[v] = (float *)(void *)p;
        p += n * l->vars[v].per_cell * sizeof(float);
    }
    b->status = (int8_t *)p;
    p += n;
    b->failure = (char(*)[RUNNER_ERR_MAX])p;
}

/* ---- both sides, before the sweep ------------------------------------- */

static err_code_t share_plan(void *ctx, const layout_t *l, sweep_plan_t *plan, err_t *err)
{
    mpi_link_t *m = ctx;
    m->layout = l;
    uint64_t v[2] = {plan->n_batches, plan->max_cells};
    int rc = MPI_Bcast(v, 2, MPI_UINT64_T, 0, m->comm);
    if (rc != MPI_SUCCESS) return mpi_fail(err, rc, "sharing the plan");
    plan->n_batches = v[0];
    plan->max_cells = v[1];
    m->max_cells = (size_t)v[1];
    return ERR_OK;
}

/* ---- worker ------------------------------------------------------------ */

static bool fetch(void *ctx, size_t *c0, size_t *c1)
{
    mpi_link_t *m = ctx;
    uint64_t give[3] = {0, 0, 0}; /* c0, c1, whether there is a batch */
    /* Several threads may ask at once: any answer from rank 0 is a valid
     * batch for whichever of them receives it. */
    if (send_to(m, NULL, 0, 0, TAG_ASK) != MPI_SUCCESS) return false;
    if (recv_from(m, give, sizeof give, 0, TAG_GIVE) != MPI_SUCCESS || !give[2]) return false;
    *c0 = (size_t)give[0];
    *c1 = (size_t)give[1];
    return true;
}

static err_code_t send_batch(void *ctx, const layout_t *l, const batch_t *b, err_t *err)
{
    mpi_link_t *m = ctx;
    size_t n = b->c1 - b->c0, bytes = batch_bytes(l, n);
    if (bytes > m->pack_cap) { /* only the writer thread sends: one buffer */
        free(m->pack);
        m->pack_cap = batch_bytes(l, m->max_cells > n ? m->max_cells : n);
        if (!(m->pack = malloc(m->pack_cap))) {
            m->pack_cap = 0;
            return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory for a batch to send");
        }
    }
    batch_t view;
    batch_view(l, m->pack, n, &view);
    uint64_t head[2] = {b->c0, b->c1};
    memcpy(m->pack, head, sizeof head);
    memcpy(view.wall, b->wall, n * sizeof *b->wall);
    for (size_t v = 0; v < l->n_vars; v++) memcpy(view.vars[v], b->vars[v], n * l->vars[v].per_cell * sizeof(float));
    memcpy(view.status, b->status, n);
    memcpy(view.failure, b->failure, n * RUNNER_ERR_MAX);
    int rc = send_to(m, m->pack, bytes, 0, TAG_BATCH);
    return rc == MPI_SUCCESS ? ERR_OK : mpi_fail(err, rc, "sending a batch to rank 0");
}

/* Polled between cells; asks MPI at most every STOP_POLL_SECONDS. */
static bool stop_asked(void *ctx)
{
    mpi_link_t *m = ctx;
    if (__atomic_load_n(&m->stop_seen, __ATOMIC_ACQUIRE)) return true;
    int64_t t = (int64_t)(now_seconds() * 1e6);
    if (t < __atomic_load_n(&m->next_stop_poll_us, __ATOMIC_RELAXED) || pthread_mutex_trylock(&m->lock) != 0)
        return false;
    __atomic_store_n(&m->next_stop_poll_us, t + (int64_t)(STOP_POLL_SECONDS * 1e6), __ATOMIC_RELAXED);
    int flag = 0;
    MPI_Iprobe(0, TAG_STOP, m->comm, &flag, MPI_STATUS_IGNORE);
    if (flag) {
        MPI_Recv(NULL, 0, MPI_BYTE, 0, TAG_STOP, m->comm, MPI_STATUS_IGNORE);
        __atomic_store_n(&m->stop_seen, true, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&m->lock);
    return flag != 0;
}

static void done(void *ctx, const sweep_peer_end_t *end)
{
    mpi_link_t *m = ctx;
    end_msg_t msg = {.signal = end->signal, .failed = end->failed, .code = end->err.code};
    memcpy(msg.msg, end->err.msg, sizeof msg.msg);
    send_to(m, &msg, sizeof msg, 0, TAG_END);
}

/* ---- coordinator ------------------------------------------------------- */

static void release_buf(batch_t *b, void *arg)
{
    mpi_link_t *m = arg;
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < RECV_BUFFERS; i++)
        if (&m->bufs[i].batch == b) m->bufs[i].busy = false;
    pthread_cond_signal(&m->buf_freed);
    pthread_mutex_unlock(&m->lock);
}

/* Receive and drop a message that cannot be taken (none is expected: the
 * ranks run the same runner, checked by the experiment's fingerprint). */
static void drop_message(mpi_link_t *m, const MPI_Status *st)
{
    int count = 0;
    MPI_Get_count(st, MPI_BYTE, &count);
    char *junk = malloc(count > 0 ? (size_t)count : 1);
    if (junk) recv_from(m, junk, (size_t)count, st->MPI_SOURCE, st->MPI_TAG);
    free(junk);
}

/* Receive a worker's batch (its size is in st) and queue it for the writer. */
static void take_batch(mpi_link_t *m, sweep_t *s, const MPI_Status *st)
{
    int count = 0;
    MPI_Get_count(st, MPI_BYTE, &count);
    if ((size_t)count > batch_bytes(m->layout, m->max_cells) || (size_t)count < 2 * sizeof(uint64_t)) {
        drop_message(m, st);
        err_t e;
        err_set(&e, ERR_RUNTIME, (mark_t){0}, "rank %d sent a batch of %d bytes, not one of this sweep",
                st->MPI_SOURCE, count);
        sweep_peer_ended(s, &(sweep_peer_end_t){.failed = true, .err = e});
        return;
    }
    pthread_mutex_lock(&m->lock);
    recv_buf_t *rb = NULL;
    while (!rb) {
        for (size_t i = 0; i < RECV_BUFFERS && !rb; i++)
            if (!m->bufs[i].busy) rb = &m->bufs[i];
        if (!rb) pthread_cond_wait(&m->buf_freed, &m->lock);
    }
    rb->busy = true;
    MPI_Request req;
    int rc = MPI_Irecv(rb->bytes, count, MPI_BYTE, st->MPI_SOURCE, TAG_BATCH, m->comm, &req);
    pthread_mutex_unlock(&m->lock);
    if (rc == MPI_SUCCESS) rc = wait_request(m, &req);
    if (m->peers_lost) return; /* rb stays busy: the receive is still posted into it */
    uint64_t head[2];
    memcpy(head, rb->bytes, sizeof head);
    size_t n = (size_t)(head[1] - head[0]);
    if (rc != MPI_SUCCESS || head[1] < head[0] || n > m->max_cells || (size_t)count != batch_bytes(m->layout, n)) {
        release_buf(&rb->batch, m);
        err_t e;
        if (rc != MPI_SUCCESS) mpi_fail(&e, rc, "receiving a batch");
        else err_set(&e, ERR_RUNTIME, (mark_t){0}, "rank %d sent a malformed batch", st->MPI_SOURCE);
        sweep_peer_ended(s, &(sweep_peer_end_t){.failed = true, .err = e});
        return;
    }
    batch_view(m->layout, rb->bytes, n, &rb->batch);
    rb->batch.c0 = (size_t)head[0];
    rb->batch.c1 = (size_t)head[1];
    sweep_submit(s, &rb->batch, release_buf, m);
}

/* Answer the workers until each has ended. On a stop, tell each once; after
 * a signal (mpirun sends SIGTERM to every rank when one dies, and SIGKILL a
 * second later) wait for them only briefly: a dead rank never answers. */
static void serve(void *ctx, sweep_t *s)
{
    mpi_link_t *m = ctx;
    int active = m->size - 1;
    bool *ended = calloc((size_t)m->size, sizeof *ended);
    for (size_t i = 0; i < RECV_BUFFERS; i++) {
        free(m->bufs[i].bytes); /* a study's second phase is a second sweep (config/select.h) */
        m->bufs[i].bytes = malloc(batch_bytes(m->layout, m->max_cells));
        if (!m->bufs[i].bytes || !ended) {
            sweep_peer_end_t oom = {.failed = true, .err = {.code = ERR_NOMEM}};
            snprintf(oom.err.msg, sizeof oom.err.msg, "out of memory for batches from other ranks");
            sweep_peer_ended(s, &oom);
            m->peers_lost = true; /* their batches cannot be taken: end the job */
            free(ended);
            return;
        }
    }
    bool stop_sent = false;
    m->serving = s;
    while (active > 0 && !give_up_on_peers(m)) {
        if (!stop_sent && sweep_stopping(s)) {
            for (int r = 1; r < m->size; r++)
                if (!ended[r]) send_to(m, NULL, 0, r, TAG_STOP);
            stop_sent = true;
        }
        int flag = 0;
        MPI_Status st;
        pthread_mutex_lock(&m->lock);
        MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, m->comm, &flag, &st);
        pthread_mutex_unlock(&m->lock);
        if (!flag) {
            nap();
            continue;
        }
        int src = st.MPI_SOURCE;
        if (st.MPI_TAG == TAG_ASK) {
            if (recv_from(m, NULL, 0, src, TAG_ASK) == MPI_ERR_PENDING) break; /* given up */
            size_t c0 = 0, c1 = 0;
            bool got = sweep_take_batch(s, &c0, &c1);
            uint64_t give[3] = {c0, c1, got};
            send_to(m, give, sizeof give, src, TAG_GIVE);
        } else if (st.MPI_TAG == TAG_BATCH) {
            take_batch(m, s, &st);
        } else if (st.MPI_TAG == TAG_END) {
            end_msg_t msg;
            if (recv_from(m, &msg, sizeof msg, src, TAG_END) == MPI_ERR_PENDING) break;
            sweep_peer_end_t end = {.signal = msg.signal, .failed = msg.failed};
            if (msg.failed) {
                end.err.code = (err_code_t)msg.code;
                snprintf(end.err.msg, sizeof end.err.msg, "rank %d: %.*s", src, (int)sizeof msg.msg - 16, msg.msg);
            }
            sweep_peer_ended(s, &end);
            ended[src] = true;
            active--;
        } else {
            drop_message(m, &st);
        }
    }
    m->serving = NULL;
    free(ended);
}

/* ---- the job ----------------------------------------------------------- */

err_code_t mpi_link_create(mpi_link_t **out, err_t *err)
{
    *out = NULL;
    int provided = 0, rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, &provided);
    if (rc != MPI_SUCCESS) return err_set(err, ERR_RUNTIME, (mark_t){0}, "MPI_Init_thread failed (%d)", rc);
    if (provided < MPI_THREAD_SERIALIZED) {
        MPI_Finalize();
        return err_set(err, ERR_RUNTIME, (mark_t){0},
                       "this MPI library gives thread level %d; the runner needs MPI_THREAD_SERIALIZED (%d)",
                       provided, MPI_THREAD_SERIALIZED);
    }
    mpi_link_t *m = calloc(1, sizeof *m);
    if (!m) {
        MPI_Finalize();
        return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
    }
    MPI_Comm_dup(MPI_COMM_WORLD, &m->comm);
    MPI_Comm_rank(m->comm, &m->rank);
    MPI_Comm_size(m->comm, &m->size);
    pthread_mutex_init(&m->lock, NULL);
    pthread_cond_init(&m->buf_freed, NULL);
    if (m->size == 1) { /* mpirun -np 1: nothing to share */
        mpi_link_destroy(m);
        return ERR_OK;
    }
    *out = m;
    return ERR_OK;
}

void mpi_link_destroy(mpi_link_t *m)
{
    if (!m) return;
    bool lost = m->peers_lost;
    for (size_t i = 0; i < RECV_BUFFERS; i++) free(m->bufs[i].bytes);
    free(m->pack);
    pthread_mutex_destroy(&m->lock);
    pthread_cond_destroy(&m->buf_freed);
    if (!lost) {
        MPI_Barrier(m->comm); /* nobody leaves (mpirun would end the job) before rank 0 has reported */
        MPI_Comm_free(&m->comm);
        MPI_Finalize();
    }
    free(m);
}

int mpi_link_rank(const mpi_link_t *m) { return m ? m->rank : 0; }
int mpi_link_size(const mpi_link_t *m) { return m ? m->size : 1; }

bool mpi_link_all_ok(mpi_link_t *m, err_code_t rc, int *first_failed)
{
    int mine = rc == ERR_OK ? m->size : m->rank, lowest = m->size;
    MPI_Allreduce(&mine, &lowest, 1, MPI_INT, MPI_MIN, m->comm);
    *first_failed = lowest < m->size ? lowest : -1;
    return lowest == m->size;
}

void mpi_link_bcast(mpi_link_t *m, void *buf, size_t bytes)
{
    MPI_Bcast(buf, (int)bytes, MPI_BYTE, 0, m->comm);
}

int mpi_link_first_different(mpi_link_t *m, const char *text, size_t len, char *theirs)
{
    char *all = m->rank == 0 ? malloc(len * (size_t)m->size) : NULL;
    int first = -1;
    MPI_Gather(text, (int)len, MPI_BYTE, all, (int)len, MPI_BYTE, 0, m->comm);
    for (int r = 1; all && r < m->size && first < 0; r++)
        if (memcmp(all + (size_t)r * len, text, len) != 0) first = r, memcpy(theirs, all + (size_t)r * len, len);
    if (m->rank == 0 && !all) first = 0; /* out of memory: say so as a mismatch */
    free(all);
    MPI_Bcast(&first, 1, MPI_INT, 0, m->comm);
    return first;
}

int mpi_link_sum(mpi_link_t *m, int v)
{
    int sum = 0;
    MPI_Allreduce(&v, &sum, 1, MPI_INT, MPI_SUM, m->comm);
    return sum;
}

const sweep_link_t *mpi_link_for_sweep(mpi_link_t *m, int threads)
{
    m->link = (sweep_link_t){.ctx = m,
                             .coordinator = m->rank == 0,
                             .threads = threads,
                             .share_plan = share_plan,
                             .serve = serve,
                             .fetch = fetch,
                             .send = send_batch,
                             .stop_asked = stop_asked,
                             .done = done};
    return &m->link;
}

#else /* built without MPI */

struct mpi_link {
    int unused;
};

err_code_t mpi_link_create(mpi_link_t **m, err_t *err)
{
    *m = NULL;
    return err_set(err, ERR_USAGE, (mark_t){0},
                   "started by mpirun/srun as one of several processes, but this runner was built without MPI, "
                   "and each process would write the same file; rebuild with libopenmpi-dev installed "
                   "(cmake -DRUNNER_MPI=ON), or run it without mpirun");
}
void mpi_link_destroy(mpi_link_t *m) { (void)m; }
int mpi_link_rank(const mpi_link_t *m) { return (void)m, 0; }
int mpi_link_size(const mpi_link_t *m) { return (void)m, 1; }
bool mpi_link_all_ok(mpi_link_t *m, err_code_t rc, int *first_failed)
{
    (void)m;
    *first_failed = rc ? 0 : -1;
    return rc == ERR_OK;
}
void mpi_link_bcast(mpi_link_t *m, void *buf, size_t bytes) { (void)m, (void)buf, (void)bytes; }
int mpi_link_first_different(mpi_link_t *m, const char *text, size_t len, char *theirs)
{
    (void)m, (void)text, (void)len, (void)theirs;
    return -1;
}
int mpi_link_sum(mpi_link_t *m, int v) { return (void)m, v; }
const sweep_link_t *mpi_link_for_sweep(mpi_link_t *m, int threads)
{
    (void)m, (void)threads;
    return NULL;
}

#endif
