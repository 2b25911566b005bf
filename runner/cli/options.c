/* options.c: the option-table parser shared by every command. */
#include "cli/options.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"

/* The option a is, and its value (NULL for a flag or a missing value). */
static const cli_option_t *match(int argc, char **argv, int *i, const cli_option_t *opts, size_t n,
                                 const char **value, bool *missing)
{
    const char *a = argv[*i];
    *value = NULL;
    *missing = false;
    for (size_t k = 0; k < n; k++) {
        const cli_option_t *o = &opts[k];
        size_t ll = strlen(o->name);
        bool whole = !strcmp(a, o->name) || (o->short_name && !strcmp(a, o->short_name));
        if (!o->value) {
            if (whole) return o;
            continue;
        }
        if (!strncmp(a, o->name, ll) && a[ll] == '=') {
            *value = a + ll + 1;
            return o;
        }
        if (o->short_name && !strncmp(a, o->short_name, strlen(o->short_name)) && a[strlen(o->short_name)]) {
            *value = a + strlen(o->short_name); /* -j2 */
            return o;
        }
        if (whole) {
            if (*i + 1 >= argc) *missing = true;
            else *value = argv[++*i];
            return o;
        }
    }
    return NULL;
}

err_code_t cli_parse_options(int argc, char **argv, const cli_options_t *opts, void *options,
                             const char **pos, size_t max_pos, size_t *n_pos, err_t *err)
{
    *n_pos = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *value;
        if (a[0] != '-' || !a[1]) {
            if (*n_pos == max_pos) return err_set(err, ERR_USAGE, (mark_t){0}, "unexpected argument '%s'", a);
            pos[(*n_pos)++] = a;
            continue;
        }
        bool missing;
        const cli_option_t *o = opts ? match(argc, argv, &i, opts->list, opts->n, &value, &missing) : NULL;
        if (!o) {
            const char *owner = commands_option_owner(a);
            if (owner)
                return err_set(err, ERR_USAGE, (mark_t){0}, "%s goes with runner %s (see runner --help)", a, owner);
            return err_set(err, ERR_USAGE, (mark_t){0}, "unknown option '%s' (see runner --help)", a);
        }
        if (missing) return err_set(err, ERR_USAGE, (mark_t){0}, "%s needs %s", a, o->value);
        err_code_t rc = o->set(options, value, err);
        if (rc) return rc;
    }
    return ERR_OK;
}

bool cli_parse_count(const char *v, unsigned long long *n)
{
    char *end;
    errno = 0;
    *n = strtoull(v, &end, 10);
    return end != v && !*end && !errno && *v != '-';
}

bool cli_parse_int(const char *v, long lo, long hi, long *n)
{
    char *end;
    errno = 0;
    *n = strtol(v, &end, 10);
    return end != v && !*end && !errno && *n >= lo && *n <= hi;
}

bool cli_parse_finite(const char *v, double *x)
{
    char *end;
    errno = 0;
    *x = strtod(v, &end);
    return end != v && !*end && isfinite(*x);
}
