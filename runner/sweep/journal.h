/*
 * journal.h: which cells each compute thread has in flight, kept in a small
 * file beside the results file (NAME.cells-in-flight) so that it outlives a
 * crash of the process.
 *
 * The file is mapped shared: a thread's updates are plain stores into the
 * page cache (no system call per cell), and the kernel keeps them when the
 * process dies by a signal, exit() or kill -9. A fatal signal's handler
 * (crash.c) marks the slot of the thread that crashed; --resume reads the
 * marks and computes those cells one process each (isolate.c), so a cell
 * that crashes the runner costs that cell, not the sweep.
 *
 * The file is removed when a sweep ends by itself (complete, interrupted,
 * failed): only a process that died leaves it behind.
 */
#ifndef RUNNER_SWEEP_JOURNAL_H
#define RUNNER_SWEEP_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

enum { SLOT_FREE = 0, SLOT_COMPUTING = 1, SLOT_CRASHED = 2 };

/* The reason in a crashed slot: a signal number, or JOURNAL_EXITED. */
#define JOURNAL_EXITED (-1)

/* One thread's batch: cells [c0, c1), of which the first `done` are
 * finished (kinds finish a batch's cells in order). 32 bytes. */
typedef struct {
    volatile uint64_t c0, c1, done;
    volatile int32_t state;  /* SLOT_* */
    volatile int32_t reason; /* when crashed */
} journal_slot_t;

typedef struct journal journal_t;

/* The journal's file name for a results file (malloc'd), or NULL. */
char *journal_path(const char *output);

/* Create (or start over) the journal of `output` with n_slots free slots.
 * The file is opened without following links and must be a regular file of
 * ours; a failure is an ERR_IO naming the file. */
err_code_t journal_create(const char *output, uint64_t n_cells, size_t n_slots, journal_t **j, err_t *err);

journal_slot_t *journal_slot(journal_t *j, size_t i);
size_t journal_slots(const journal_t *j);

/* Before anything is written: ERR_OK unless the journal's name is taken
 * by something the runner must not write (a link, a FIFO, another user's
 * file), which the error names. */
err_code_t journal_check(const char *output, err_t *err);

/* Unmap and close; remove the file when the sweep ended by itself. */
void journal_close(journal_t *j, bool remove_file);

/* What a previous process left: for each crashed slot, its unfinished
 * cells [c0 + done, c1) are flagged in suspects (n_cells flags, zeroed
 * first) and their reason kept in reasons (n_cells ints, may be NULL).
 * *n_suspects counts them. No file, or a file of another shape: nothing
 * flagged, ERR_OK. A file that is not ours or a link: ERR_IO. */
err_code_t journal_read_crashed(const char *output, uint64_t n_cells, unsigned char *suspects, int32_t *reasons,
                                size_t *n_suspects, err_t *err);

/* Remove a journal left by an earlier process (starting a file over). */
void journal_remove(const char *output);

#endif
