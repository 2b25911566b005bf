/*
 * registry.h: finding, loading and checking plugins.
 *
 * Search order (the first plugin of a name wins; later ones are listed as
 * shadowed by `runner plugins`):
 *   1. the build's own plugin directory, found next to the executable
 *      (build/plugins, or PREFIX/lib/runner/plugins once installed);
 *   2. each directory in RUNNER_PLUGIN_PATH (colon-separated);
 *   3. each --plugin-path DIR, in the order given.
 * A file that fails to load or validate is recorded with its reason, never
 * fatal by itself: it matters only if a config asks for what it would have
 * provided.
 *
 * Loading a shared object runs its code, so a plugin that anyone on the
 * machine could have written is refused before dlopen: a world-writable
 * file, or one in a world-writable directory (sticky ones like /tmp
 * included: anyone can put a file there). --allow-insecure-plugins or
 * RUNNER_ALLOW_INSECURE_PLUGINS=1 lifts this.
 */
#ifndef RUNNER_REGISTRY_H
#define RUNNER_REGISTRY_H

#include <runner/plugin.h>
#include <stdbool.h>

#include "base/error.h"
#include "base/sha256.h"
#include "plugin_host/descriptor.h"

typedef struct plugin_entry {
    const runner_plugin_t *desc;
    char *file;    /* the .so it came from */
    bool shadowed; /* an earlier plugin of the same kind and name wins */
    /* SHA-256 of the file's bytes, read just before dlopen: what the results
     * file records, and what --resume compares, so a plugin rebuilt with the
     * same name and version is told apart. */
    uint8_t sha256[SHA256_BYTES];
} plugin_entry_t;

typedef struct {
    char *file;
    char *reason;
} plugin_failure_t;

typedef struct registry {
    plugin_entry_t *plugins;
    size_t n_plugins, cap_plugins;
    plugin_failure_t *failures;
    size_t n_failures, cap_failures;
    void **handles;
    size_t n_handles, cap_handles;
    char **dirs; /* directories searched, in order */
    size_t n_dirs, cap_dirs;
    bool allow_insecure; /* load plugins from world-writable places too */
} registry_t;

void registry_init(registry_t *r);
void registry_free(registry_t *r);

/* Scan the default directories, RUNNER_PLUGIN_PATH, then extra_dirs. */
err_code_t registry_scan_all(registry_t *r, const char *const *extra_dirs, size_t n_extra, err_t *err);
/* Load every *.so in dir (a missing directory is not an error). */
err_code_t registry_scan_dir(registry_t *r, const char *dir, err_t *err);
/* Load one shared object; a refusal is recorded in r->failures and also
 * returned in err (code ERR_CONFIG) so a caller that asked for this file
 * can report it. */
err_code_t registry_load_file(registry_t *r, const char *path, err_t *err);

/* The winning plugin of that kind and name, or NULL. */
const plugin_entry_t *registry_find(const registry_t *r, runner_kind_t kind, const char *name);
/* Names of all non-shadowed plugins of a kind (for suggestions); caller frees the array. */
const char **registry_names(const registry_t *r, runner_kind_t kind, size_t *n);

#endif
