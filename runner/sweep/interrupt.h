/*
 * interrupt.h: SIGINT and SIGTERM ask a running sweep to stop. The sweep
 * polls interrupt_signal() between groups of cells, finishes the cells in
 * flight, writes them, and the file is marked interrupted. The handler is
 * installed with SA_RESETHAND: a second Ctrl-C kills the process at once,
 * which loses nothing written either (see h5out.h).
 */
#ifndef RUNNER_INTERRUPT_H
#define RUNNER_INTERRUPT_H

void interrupt_install(void);
/* 0 while no signal came, else the signal number. Async-signal-safe to set, cheap to poll. */
int interrupt_signal(void);
/* Back to the default dispositions. */
void interrupt_restore(void);

#endif
