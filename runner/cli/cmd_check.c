/* cmd_check.c: `runner check PLUGIN.so`: load one file as the runner would,
 * then self-test each plugin in it (plugin_check.h), and give a verdict. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "plugin_host/plugin_check.h"
#include "version.h"

/* A plugin of the same kind and name that the search order puts first
 * would shadow this one in a sweep: say so. */
static void note_shadowing(const registry_t *found, const plugin_entry_t *pe)
{
    const plugin_entry_t *win = registry_find(found, pe->desc->kind, pe->desc->name);
    if (win && strcmp(win->file, pe->file))
        printf("  note: %s is also the name of %s, which comes first in the search order; in a sweep that one "
               "would be used (rename this one)\n", pe->desc->name, win->file);
}

COMMAND(check)
{
    (void)g, (void)ctx;
    char path[PATH_MAX];
    *exit_status = 2;
    const char *file;
    size_t n_pos;
    err_code_t prc = cli_parse_options(argc, argv, NULL, NULL, &file, 1, &n_pos, err);
    if (prc) return prc;
    if (n_pos != 1) return err_set(err, ERR_USAGE, (mark_t){0}, "check needs one plugin file: runner check PLUGIN.so");
    /* a path, never a bare name dlopen would look up in the library path */
    if (!realpath(file, path))
        return err_set(err, ERR_IO, (mark_t){file, 0, 0}, "no such plugin file (give the path to a .so)");
    registry_t one; /* this file alone */
    registry_init(&one);
    one.allow_insecure = reg->allow_insecure;
    err_t why = {0};
    err_code_t rc = registry_load_file(&one, path, &why);
    if (rc == ERR_NOMEM) {
        *err = why;
    } else if (rc) {
        printf("%s: refused: %s\nverdict: FAIL (the runner would not load this file)\n", file, why.msg);
        *exit_status = 1;
        rc = ERR_OK;
    } else {
        size_t failed = 0;
        for (size_t i = 0; i < one.n_plugins; i++) {
            const plugin_entry_t *pe = &one.plugins[i];
            const runner_plugin_t *d = pe->desc;
            printf("%s %s (%s, plugin ABI %u.%u): descriptor and schema valid, %u parameter%s\n", d->name, d->version,
                   plugin_kind_name(d->kind), d->abi_major, d->abi_minor, d->n_params, d->n_params == 1 ? "" : "s");
            note_shadowing(reg, pe);
            bool ok = plugin_self_test(stdout, d);
            failed += !ok;
            fflush(stdout);
        }
        if (failed)
            printf("verdict: FAIL (%zu of %zu plugin%s in %s failed its self-test)\n", failed, one.n_plugins,
                   one.n_plugins == 1 ? "" : "s", file);
        else
            printf("verdict: PASS (%zu plugin%s in %s; runner %s, plugin ABI %d.%d)\n", one.n_plugins,
                   one.n_plugins == 1 ? "" : "s", file, RUNNER_VERSION, RUNNER_ABI_MAJOR, RUNNER_ABI_MINOR);
        *exit_status = failed ? 1 : 0;
    }
    registry_free(&one);
    return rc;
}
