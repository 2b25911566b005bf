/*
 * error.h: errors as values. A function that can fail returns an err_code_t
 * and fills a caller-provided err_t; main() is the one place that prints it
 * and chooses the exit status. Positions are 1-based (line, column).
 */
#ifndef RUNNER_ERROR_H
#define RUNNER_ERROR_H

#include <stdarg.h>
#include <stddef.h>

typedef enum {
    ERR_OK = 0,
    ERR_CONFIG,  /* bad input: config, CLI, plugin schema misuse -> exit 2 */
    ERR_USAGE,   /* bad command line -> exit 2 */
    ERR_IO,      /* a file could not be read or written -> exit 2 before work, 1 after */
    ERR_RUNTIME, /* anything failing after work started -> exit 1 */
    ERR_NOMEM,
    ERR_STOPPED, /* the sweep stopped early (signal, --fail-fast); the file is consistent and resumable */
} err_code_t;

/* A position in a source text (a config file, or a --set argument). */
typedef struct {
    const char *file; /* not owned; NULL when unknown */
    int line, col;    /* 1-based; 0 when unknown */
} mark_t;

typedef struct {
    err_code_t code;
    mark_t mark;
    char msg[768];
} err_t;

/* Set err and return its code, so callers can `return err_set(...)`. */
err_code_t err_set(err_t *err, err_code_t code, mark_t mark, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
err_code_t err_setv(err_t *err, err_code_t code, mark_t mark, const char *fmt, va_list ap);

/* Append "; ..." context (e.g. which cell) to an existing message. */
void err_append(err_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print `FILE:LINE:COL: error: MSG`, then the source line and a caret
 * when `source` (the whole text of err->mark.file) is given. */
void err_print(const err_t *err, const char *source, const char *prog);

/* Edit distance with transpositions, for "did you mean" suggestions. */
size_t edit_distance(const char *a, const char *b);

/* The candidate closest to `word`, or NULL when none is plausibly meant. */
const char *closest_match(const char *word, const char *const *candidates, size_t n);

#endif
