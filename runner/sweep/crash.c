/* crash.c: marking the journal when a cell brings the process down (crash.h). */
#include "sweep/crash.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const int fatal_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGSYS, SIGTRAP};
#define N_FATAL (sizeof fatal_signals / sizeof fatal_signals[0])
#define ALT_STACK_BYTES (64u << 10)

static _Thread_local journal_slot_t *thread_slot;
static _Thread_local void *thread_alt_stack;
static struct sigaction saved[N_FATAL];
static volatile sig_atomic_t installed, in_child;
static char hint_text[4096];
static size_t hint_len;

const char *crash_signal_name(int sig)
{
    switch (sig) {
    case SIGSEGV: return "SIGSEGV, a segmentation fault";
    case SIGBUS: return "SIGBUS, a bus error";
    case SIGFPE: return "SIGFPE, an arithmetic exception";
    case SIGILL: return "SIGILL, an illegal instruction";
    case SIGABRT: return "SIGABRT, an abort";
    case SIGSYS: return "SIGSYS, a bad system call";
    case SIGTRAP: return "SIGTRAP, a trap";
    case SIGKILL: return "SIGKILL";
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    default: return "a signal";
    }
}

static void say(const char *s)
{
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, s, n);
        if (w <= 0) return;
        s += w, n -= (size_t)w;
    }
}

static void on_fatal(int sig)
{
    journal_slot_t *slot = thread_slot;
    if (slot) {
        slot->reason = sig;
        slot->state = SLOT_CRASHED;
    }
    if (!in_child) {
        say(slot ? "runner: error: a cell crashed the process (" : "runner: error: the runner crashed (");
        say(crash_signal_name(sig));
        say(slot ? "); every cell finished before it is in the file, and --resume computes the cells that were in "
                   "flight each in a process of its own, marks the one that crashes failed and goes on"
                 : "), outside any cell: a bug in the runner, please report it; every cell finished before it is in "
                   "the file");
        if (hint_len) say(hint_text);
        say("\n");
    }
    /* SA_RESETHAND restored the default action: delivered once we return */
    raise(sig);
}

void crash_install(const char *hint)
{
    hint_len = 0;
    if (hint) {
        size_t n = strlen(hint);
        if (n > sizeof hint_text - 1) n = sizeof hint_text - 1;
        memcpy(hint_text, hint, n);
        hint_text[n] = 0;
        hint_len = n;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fatal;
    sigfillset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND | SA_ONSTACK;
    for (size_t i = 0; i < N_FATAL; i++) sigaction(fatal_signals[i], &sa, &saved[i]);
    installed = 1;
}

void crash_restore(void)
{
    if (!installed) return;
    for (size_t i = 0; i < N_FATAL; i++) sigaction(fatal_signals[i], &saved[i], NULL);
    installed = 0;
}

const char *crash_hint(void) { return installed ? hint_text : ""; }

void crash_set_slot(journal_slot_t *slot) { thread_slot = slot; }
journal_slot_t *crash_slot(void) { return thread_slot; }

void crash_thread_stack(void)
{
    if (thread_alt_stack || !(thread_alt_stack = malloc(ALT_STACK_BYTES))) return;
    stack_t st = {.ss_sp = thread_alt_stack, .ss_size = ALT_STACK_BYTES, .ss_flags = 0};
    if (sigaltstack(&st, NULL) != 0) {
        free(thread_alt_stack);
        thread_alt_stack = NULL;
    }
}

void crash_thread_stack_free(void)
{
    if (!thread_alt_stack) return;
    stack_t st = {.ss_flags = SS_DISABLE};
    sigaltstack(&st, NULL);
    free(thread_alt_stack);
    thread_alt_stack = NULL;
}

bool crash_note_exit(void)
{
    journal_slot_t *slot = thread_slot;
    if (!slot) return false;
    slot->reason = JOURNAL_EXITED;
    slot->state = SLOT_CRASHED;
    return true;
}

void crash_enter_child(void)
{
    in_child = 1;
    thread_slot = NULL;
}

bool crash_in_child(void) { return in_child; }
