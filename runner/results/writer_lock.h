/*
 * writer_lock.h: a results file a running sweep writes is marked busy, so
 * that another runner neither replaces it (--force) nor resumes it
 * (issue 18, item 2). HDF5's own lock does not help: --force replaced the
 * file by rename, which no lock sees, and the first runner then finished
 * "successfully" into an unlinked inode and summarised the other's file.
 *
 * The mark is an open-file-description write lock (fcntl F_OFD_SETLK) on
 * the file's first byte, held from creation (on the temporary name; a
 * rename keeps the inode) or reopening until the writer closes it, and
 * released by the kernel when the process dies, kill -9 included. It is
 * independent of HDF5's flock, and readers take no lock, so `runner report`
 * and plots still read a file while it is written.
 */
#ifndef RUNNER_WRITER_LOCK_H
#define RUNNER_WRITER_LOCK_H

#include <stdbool.h>

/* Take the mark on path: the descriptor holding it (close it to release),
 * or -1 with errno (EAGAIN: another process holds it). */
int writer_lock_take(const char *path);
/* Whether another process holds the mark on path now (false when path
 * cannot be opened: nothing is writing it then). */
bool writer_lock_busy(const char *path);

#endif
