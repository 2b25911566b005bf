/* isolate.c: a batch's cells in child processes (isolate.h). */
#define _GNU_SOURCE
#include "sweep/isolate.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "plugin_host/host_services.h"
#include "results/format.h"
#include "sweep/crash.h"

/* What a child tells its parent, in a shared page. */
typedef struct {
    volatile uint64_t done;     /* rows finished, counted from the child's first */
    volatile uint64_t ended;    /* rows the child's compute covered (fewer on a stop); set before _exit(0) */
    volatile uint32_t progress; /* of the cell in flight, in 1/1000 */
    volatile uint32_t finished; /* set with `ended`: the child only has to exit */
} shared_t;

typedef struct {
    shared_t *sh;
    int (*stop_signal)(void);
} child_t;

/* Why a child ended. */
typedef enum { ENDED_OK, ENDED_SIGNAL, ENDED_EXIT_CALL, ENDED_STATUS, ENDED_TIMEOUT, ENDED_STOPPED, ENDED_FORK } ended_t;

void *isolate_alloc(size_t bytes)
{
    void *p = mmap(NULL, bytes ? bytes : 1, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void isolate_free(void *p, size_t bytes)
{
    if (p) munmap(p, bytes ? bytes : 1);
}

static int child_stopping(void *arg)
{
    const child_t *c = arg;
    return c->stop_signal ? c->stop_signal() : 0;
}

static void child_cell_done(void *arg, batch_t *b, size_t r, int status, double wall, const runner_err_t *err)
{
    const child_t *c = arg;
    b->status[r] = (int8_t)status;
    b->wall[r] = wall;
    memcpy(b->failure[r], err->msg, RUNNER_ERR_MAX);
    __atomic_store_n(&c->sh->progress, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&c->sh->done, (uint64_t)r + 1, __ATOMIC_RELEASE);
}

static void child_progress(void *arg, double done)
{
    const child_t *c = arg;
    __atomic_store_n(&c->sh->progress, (uint32_t)(done * 1000.0), __ATOMIC_RELAXED);
}

/* The rows [from, to) of b, as a batch of their own. */
static batch_t rows_of(const layout_t *l, const batch_t *b, size_t from, size_t to)
{
    batch_t v = {.c0 = b->c0 + from, .c1 = b->c0 + to, .status = b->status + from, .wall = b->wall + from,
                 .failure = b->failure + from};
    for (size_t i = 0; i < l->n_vars; i++) v.vars[i] = b->vars[i] + from * l->vars[i].per_cell;
    return v;
}

/* A command to the worker: compute these rows (a batch of their own), or quit. */
typedef struct {
    batch_t rows;
    int quit;
} command_t;

struct isolate_worker {
    const experiment_t *exp;
    const layout_t *l;
    void *buffers; /* the parent thread's; the child computes with its copy */
    isolate_opts_t o;
    shared_t *sh;
    pid_t pid;                  /* 0: no child running */
    int pidfd, cmd_w, done_r;   /* -1 when closed */
};

static bool read_all_bytes(int fd, void *p, size_t n)
{
    char *c = p;
    while (n > 0) {
        ssize_t r = read(fd, c, n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        c += r, n -= (size_t)r;
    }
    return true;
}

/* The child: batch after batch as the parent says, until told to quit or
 * the parent is gone. It never runs anything of the parent's on its way
 * out (no atexit handlers, no stdio flush). */
static _Noreturn void child_main(isolate_worker_t *w, pid_t parent, int cmd_r, int done_w)
{
    crash_enter_child();
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(0); /* the parent is gone: nobody reads this */
    host_set_kernel_threads(1);
    child_t c = {w->sh, w->o.stop_signal};
    cell_env_t env = {.stopping = child_stopping, .cell_done = child_cell_done, .cell_progress = child_progress, .arg = &c};
    for (;;) {
        command_t m;
        if (!read_all_bytes(cmd_r, &m, sizeof m) || m.quit) _exit(0);
        size_t rows = m.rows.c1 - m.rows.c0;
        w->exp->kind->compute(w->exp, w->l, &m.rows, w->buffers, &env);
        size_t ended = m.rows.c1 - m.rows.c0;
        __atomic_store_n(&w->sh->ended, (uint64_t)(ended <= rows ? ended : rows), __ATOMIC_RELEASE);
        __atomic_store_n(&w->sh->finished, 1, __ATOMIC_RELEASE);
        if (write(done_w, "", 1) != 1) _exit(0);
    }
}

static void close_fd(int *fd)
{
    if (*fd >= 0) close(*fd);
    *fd = -1;
}

/* The child is gone (or killed): reap it, and start afresh next time. */
static int end_child(isolate_worker_t *w)
{
    int st = 0;
    while (w->pid > 0 && waitpid(w->pid, &st, 0) < 0 && errno == EINTR) {
    }
    w->pid = 0;
    close_fd(&w->pidfd), close_fd(&w->cmd_w), close_fd(&w->done_r);
    return st;
}

static int start_child(isolate_worker_t *w)
{
    int cmd[2], done[2];
    if (pipe2(cmd, O_CLOEXEC) != 0) return errno;
    if (pipe2(done, O_CLOEXEC) != 0) {
        int e = errno;
        close(cmd[0]), close(cmd[1]);
        return e;
    }
    pid_t parent = getpid(), pid = fork();
    if (pid == 0) {
        close(cmd[1]), close(done[0]);
        child_main(w, parent, cmd[0], done[1]);
    }
    int e = errno;
    close(cmd[0]), close(done[1]);
    if (pid < 0) {
        close(cmd[1]), close(done[0]);
        return e;
    }
    w->pid = pid;
    w->cmd_w = cmd[1];
    w->done_r = done[0];
    fcntl(w->done_r, F_SETFL, O_NONBLOCK);
    w->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    return 0;
}

isolate_worker_t *isolate_worker_create(const experiment_t *exp, const layout_t *l, void *buffers,
                                        const isolate_opts_t *o)
{
    isolate_worker_t *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    *w = (isolate_worker_t){exp, l, buffers, *o, isolate_alloc(sizeof(shared_t)), 0, -1, -1, -1};
    if (!w->sh) {
        free(w);
        return NULL;
    }
    return w;
}

void isolate_worker_destroy(isolate_worker_t *w)
{
    if (!w) return;
    if (w->pid > 0) {
        command_t quit = {.quit = 1};
        if (write(w->cmd_w, &quit, sizeof quit) != (ssize_t)sizeof quit) kill(w->pid, SIGKILL);
        end_child(w);
    }
    isolate_free(w->sh, sizeof *w->sh);
    free(w);
}

/* Pass the child's finished rows [*told, done) on to the sweep. */
static void tell_done(const batch_t *b, size_t from, uint64_t done, size_t *told, const cell_env_t *env)
{
    for (; *told < done; (*told)++) {
        size_t r = from + *told;
        runner_err_t e;
        memcpy(e.msg, b->failure[r], RUNNER_ERR_MAX);
        e.msg[RUNNER_ERR_MAX - 1] = 0;
        env->cell_done(env->arg, (batch_t *)b, r, b->status[r], b->wall[r], &e);
    }
}

/* Until the child says it finished (done_r) or exits (pidfd), at most
 * 50 ms: the loop also passes on progress and keeps the time limits. */
static void wait_a_little(const isolate_worker_t *w)
{
    struct pollfd p[2] = {{.fd = w->pidfd, .events = POLLIN}, {.fd = w->done_r, .events = POLLIN}};
    poll(p, 2, w->pidfd >= 0 ? 50 : 2); /* without a pidfd, an exit is seen by polling waitpid */
}

/* Rows [from, to) of b by the worker's child (started when none runs);
 * wait, passing on its finished cells and progress, the stop request and
 * the time limit. */
static ended_t run_rows(isolate_worker_t *w, batch_t *b, const cell_env_t *env, size_t from, size_t to, size_t *done,
                        int *detail)
{
    shared_t *sh = w->sh;
    *done = 0;
    if (w->pid <= 0 && (*detail = start_child(w)) != 0) return ENDED_FORK;
    memset((void *)sh, 0, sizeof *sh);
    command_t m = {.rows = rows_of(w->l, b, from, to)};
    if (write(w->cmd_w, &m, sizeof m) != (ssize_t)sizeof m) { /* it died between two batches */
        int st = end_child(w);
        *detail = WIFSIGNALED(st) ? WTERMSIG(st) : WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        return WIFSIGNALED(st) ? ENDED_SIGNAL : ENDED_STATUS;
    }
    size_t told = 0;
    double last = now_seconds(), term_at = 0.0;
    ended_t killed = ENDED_OK;
    int st = 0;
    bool exited = false;
    for (;;) {
        if (killed == ENDED_OK && __atomic_load_n(&sh->finished, __ATOMIC_ACQUIRE)) {
            char byte;
            while (read(w->done_r, &byte, 1) < 0 && errno == EINTR) {
            }
            break;
        }
        pid_t got = waitpid(w->pid, &st, WNOHANG);
        if (got == w->pid || (got < 0 && errno != EINTR)) {
            exited = true;
            break;
        }
        uint64_t d = __atomic_load_n(&sh->done, __ATOMIC_ACQUIRE);
        if (d > told) last = now_seconds(), tell_done(b, from, d, &told, env);
        env->cell_progress(env->arg, __atomic_load_n(&sh->progress, __ATOMIC_RELAXED) / 1000.0);
        double t = now_seconds();
        if (killed == ENDED_OK && term_at == 0.0 && env->stopping(env->arg)) {
            kill(w->pid, SIGTERM);
            term_at = t;
        } else if (killed == ENDED_OK && term_at > 0.0 && t - term_at > ISOLATE_STOP_GRACE) {
            kill(w->pid, SIGKILL);
            killed = ENDED_STOPPED;
        } else if (killed == ENDED_OK && w->o.cell_timeout > 0 && t - last > w->o.cell_timeout) {
            kill(w->pid, SIGKILL);
            killed = ENDED_TIMEOUT;
        }
        wait_a_little(w);
    }
    if (exited) { /* reaped by waitpid above */
        w->pid = 0;
        end_child(w);
    }
    tell_done(b, from, __atomic_load_n(&sh->done, __ATOMIC_ACQUIRE), &told, env);
    *done = told;
    if (!exited) { /* it finished the rows: ended says how many its compute covered */
        uint64_t ended = __atomic_load_n(&sh->ended, __ATOMIC_ACQUIRE);
        *done = ended < told ? told : ended;
        return ENDED_OK;
    }
    if (term_at > 0.0) return ENDED_STOPPED; /* asked to stop: whatever it died of, not the cell's fault */
    if (killed != ENDED_OK) return killed;
    if (WIFSIGNALED(st)) return *detail = WTERMSIG(st), ENDED_SIGNAL;
    *detail = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return *detail == 70 ? ENDED_EXIT_CALL : ENDED_STATUS; /* 70: main.c's exit() guard */
}

static void failure_message(char *msg, ended_t why, int detail, const isolate_opts_t *o)
{
    switch (why) {
    case ENDED_SIGNAL:
        snprintf(msg, RUNNER_ERR_MAX, "crashed the process computing it (%s)", crash_signal_name(detail));
        break;
    case ENDED_EXIT_CALL:
        snprintf(msg, RUNNER_ERR_MAX, "plugin code called exit() while computing it");
        break;
    case ENDED_FORK:
        snprintf(msg, RUNNER_ERR_MAX, "no process could be started to compute it: %s", strerror(detail));
        break;
    case ENDED_TIMEOUT:
        snprintf(msg, RUNNER_ERR_MAX, "ran past --cell-timeout %g s and was stopped", o->cell_timeout);
        break;
    default:
        snprintf(msg, RUNNER_ERR_MAX, "the process computing it ended with status %d before it finished", detail);
        break;
    }
}

void isolate_compute(isolate_worker_t *w, batch_t *b, const cell_env_t *env)
{
    size_t n = b->c1 - b->c0, from = 0;
    bool alone = false; /* the next rows are one cell: the suspect of the last crash */
    while (from < n && !env->stopping(env->arg)) {
        size_t to = alone ? from + 1 : n, done = 0;
        int detail = 0;
        double t0 = now_seconds();
        ended_t why = run_rows(w, b, env, from, to, &done, &detail);
        if (why == ENDED_OK && from + done < to) { /* its compute ended early: a stop request */
            from += done;
            break;
        }
        if (why == ENDED_STOPPED) {
            from += done;
            break;
        }
        if (why == ENDED_OK) {
            from = to;
            alone = false;
            continue;
        }
        size_t suspect = from + done;
        /* cells computed together (analytic lanes) die together: the
         * first of them, computed by itself, says whether it is the one */
        if (!alone && why != ENDED_FORK && w->exp->kind->cells_together > 1 && to - suspect > 1) {
            from = suspect;
            alone = true;
            continue;
        }
        runner_err_t e;
        failure_message(e.msg, why, detail, &w->o);
        env->cell_done(env->arg, b, suspect, STATUS_FAILED, now_seconds() - t0, &e);
        from = suspect + 1;
        alone = false;
    }
    b->c1 = b->c0 + (from < n ? from : n);
}
