/*
 * options.h: a command's options as a table, and the one parser every
 * command runs over its own arguments (git's parse-options, small). Each
 * command (cmd_*.c) declares its options and their setters next to the
 * code that uses them; nothing here knows what any option means.
 *
 * Accepted forms: --name VALUE, --name=VALUE, -s VALUE, -sVALUE, and flags.
 * Options and positional arguments may come in any order after the command.
 */
#ifndef RUNNER_CLI_OPTIONS_H
#define RUNNER_CLI_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

typedef struct {
    const char *name;       /* "--tol" */
    const char *short_name; /* "-o", or NULL */
    const char *value;      /* what the value is, for "--tol needs a number"; NULL: a flag */
    /* Store the option into the command's options struct; value is NULL for
     * a flag. A bad value is an ERR_USAGE that quotes it. */
    err_code_t (*set)(void *options, const char *value, err_t *err);
} cli_option_t;

/* A command's options: a table and its length. */
typedef struct {
    const cli_option_t *list;
    size_t n;
} cli_options_t;

/* Parse argv[0..argc) against opts (NULL: the command has none). Positional arguments go to
 * pos, at most max_pos of them (more is a usage error naming the first
 * extra one). An option not in opts is a usage error; when another command
 * has it, the error says which (commands_option_owner). */
err_code_t cli_parse_options(int argc, char **argv, const cli_options_t *opts, void *options,
                             const char **pos, size_t max_pos, size_t *n_pos, err_t *err);

/* Strict conversions for setters: all of v, in range. */
bool cli_parse_count(const char *v, unsigned long long *n); /* a whole number >= 0 */
bool cli_parse_int(const char *v, long lo, long hi, long *n);
bool cli_parse_finite(const char *v, double *x);

#endif
