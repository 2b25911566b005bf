/*
 * crash.h: what the process does when a cell brings it down.
 *
 * A fatal signal (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGSYS, SIGTRAP)
 * or an exit() from plugin code while a compute thread has a batch: the
 * thread's journal slot is marked crashed with the signal (or "exit"), a
 * line says what happened and how to go on, and the process dies as it
 * would have (the signal's default action; exit status 70). Everything in
 * the handler is async-signal-safe: stores into the mapped journal and
 * write(2) of text prepared before the sweep.
 */
#ifndef RUNNER_SWEEP_CRASH_H
#define RUNNER_SWEEP_CRASH_H

#include "sweep/journal.h"

/* Handlers for the fatal signals, on an alternate stack per thread (a
 * plugin's runaway recursion must not leave the handler without a stack).
 * `hint` (copied) is appended to the handler's line: how to go on. */
void crash_install(const char *hint);
void crash_restore(void);

/* The calling thread's journal slot while it computes a batch (NULL: none). */
void crash_set_slot(journal_slot_t *slot);
journal_slot_t *crash_slot(void);

/* Give the calling thread an alternate signal stack (compute threads). */
void crash_thread_stack(void);
void crash_thread_stack_free(void);

/* exit() from plugin code: mark the calling thread's slot, if it has one.
 * True when it had one (a cell was in flight on this thread). */
bool crash_note_exit(void);

/* In a child process that computes cells for its parent (isolate.c): the
 * parent reports; the child dies silently, its slot pointer cleared. */
void crash_enter_child(void);
bool crash_in_child(void);

/* The hint given to crash_install ("" when none), for other fatal paths. */
const char *crash_hint(void);

/* A signal's name for messages ("SIGSEGV, a segmentation fault"). */
const char *crash_signal_name(int sig);

#endif
