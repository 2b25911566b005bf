/* registry.c: find plugins on the search path, dlopen them, keep the valid
 * descriptors (descriptor.h says what valid is) and why the others were refused. */
#include "plugin_host/registry.h"

#include "plugin_host/descriptor.h"
#include "plugin_host/elf_check.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_DESCRIPTORS_PER_FILE 256

void registry_init(registry_t *r) { memset(r, 0, sizeof *r); }

void registry_free(registry_t *r)
{
    for (size_t i = 0; i < r->n_plugins; i++) free(r->plugins[i].file);
    for (size_t i = 0; i < r->n_failures; i++) free(r->failures[i].file), free(r->failures[i].reason);
    /* Handles are closed last: descriptors point into them. */
    for (size_t i = 0; i < r->n_handles; i++) dlclose(r->handles[i]);
    for (size_t i = 0; i < r->n_dirs; i++) free(r->dirs[i]);
    free(r->plugins);
    free(r->failures);
    free(r->handles);
    free(r->dirs);
    memset(r, 0, sizeof *r);
}

/* Grow *arr (of elem bytes) so it holds one more; false on out-of-memory. */
static bool grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap) return true;
    size_t nc = *cap ? *cap * 2 : 8;
    void *p = realloc(*arr, nc * elem);
    if (!p) return false;
    *arr = p;
    *cap = nc;
    return true;
}

static err_code_t add_failure(registry_t *r, const char *file, const char *reason, err_t *err)
{
    if (!grow((void **)&r->failures, &r->cap_failures, r->n_failures, sizeof *r->failures))
        return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
    r->failures[r->n_failures++] = (plugin_failure_t){strdup(file), strdup(reason)};
    return err_set(err, ERR_CONFIG, (mark_t){file, 0, 0}, "plugin refused: %s", reason);
}


/* Why one directory or file on a plugin's path could be changed by someone
 * other than this user or root, or NULL. sticky_ok: a sticky world-writable
 * directory (/tmp) is fine above the plugin's own directory, where only an
 * entry's owner may rename or remove it. */
static const char *unsafe_entry(const char *p, bool sticky_ok, char *buf, size_t len)
{
    struct stat st;
    if (stat(p, &st) != 0) return NULL; /* loading reports it */
    if (st.st_uid != 0 && st.st_uid != geteuid()) {
        snprintf(buf, len, "%.3800s is owned by uid %u, neither you nor root, who could replace what is loaded",
                 p, (unsigned)st.st_uid);
        return buf;
    }
    if ((st.st_mode & S_IWOTH) && !(sticky_ok && (st.st_mode & S_ISVTX))) {
        snprintf(buf, len, "%.3800s is world-writable, so anyone could have put or replaced what is loaded", p);
        return buf;
    }
    return NULL;
}

/* Why a plugin file could have been written by another user, or NULL: the
 * file and every directory up to the root, both as named and as resolved
 * (symlinks followed), checked as ssh checks authorized_keys: owned by this
 * user or root, and not world-writable (sticky directories above the
 * plugin's own one excepted). A world-writable parent further up let
 * another user swap the directory below it. */
static const char *insecure_reason(const char *path, char *buf, size_t len)
{
    char chains[2][PATH_MAX];
    snprintf(chains[0], sizeof chains[0], "%s", path);
    if (!realpath(path, chains[1])) snprintf(chains[1], sizeof chains[1], "%s", path);
    for (int c = 0; c < 2; c++) {
        char *p = chains[c];
        if (unsafe_entry(p, false, buf, len)) return buf;
        for (int depth = 0;; depth++) {
            char *slash = strrchr(p, '/');
            if (!slash) { /* a relative name: its directory is ".", the rest of the chain via the resolved one */
                if (unsafe_entry(".", depth > 0, buf, len)) return buf;
                break;
            }
            if (slash == p) {
                if (unsafe_entry("/", true, buf, len)) return buf;
                break;
            }
            *slash = 0;
            if (unsafe_entry(p, depth > 0, buf, len)) return buf;
        }
    }
    return NULL;
}

/* The whole file, for its hash and the ELF check before dlopen (plugins are
 * small; a larger file is refused). NULL with why. */
#define PLUGIN_FILE_MAX ((size_t)1 << 30)
static uint8_t *read_plugin_file(const char *path, size_t *len, char *why, size_t why_len)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0) {
        snprintf(why, why_len, "cannot open: %s", strerror(errno));
        if (f) fclose(f);
        return NULL;
    }
    if ((uint64_t)st.st_size > PLUGIN_FILE_MAX) {
        snprintf(why, why_len, "%lld bytes; plugin files are limited to %zu", (long long)st.st_size, PLUGIN_FILE_MAX);
        fclose(f);
        return NULL;
    }
    *len = (size_t)st.st_size;
    uint8_t *data = malloc(*len ? *len : 1);
    if (!data || fread(data, 1, *len, f) != *len) {
        snprintf(why, why_len, data ? "read error" : "out of memory");
        free(data);
        data = NULL;
    }
    fclose(f);
    return data;
}

err_code_t registry_load_file(registry_t *r, const char *path, err_t *err)
{
    /* dlopen reads what it is given: a FIFO named x.so blocked every command
     * (issue 18, item 6). Only regular files (a symlink to one is fine). */
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        return add_failure(r, path,
                           S_ISDIR(st.st_mode) ? "a directory, not a plugin file" : "not a regular file (a FIFO, device or socket)",
                           err);
    char why_insecure[PATH_MAX + 128];
    if (!r->allow_insecure && insecure_reason(path, why_insecure, sizeof why_insecure)) {
        char msg[PATH_MAX + 256];
        snprintf(msg, sizeof msg,
                 "not loaded because %.3800s; fix the permissions (chmod o-w), or allow it with --allow-insecure-plugins",
                 why_insecure);
        return add_failure(r, path, msg, err);
    }
    uint8_t digest[SHA256_BYTES];
    size_t len;
    char why[512];
    uint8_t *bytes = read_plugin_file(path, &len, why, sizeof why);
    if (!bytes) return add_failure(r, path, why, err);
    sha256(bytes, len, digest);
    bool elf_ok = elf_check_plugin(bytes, len, RUNNER_PLUGIN_ENTRY, why, sizeof why);
    free(bytes);
    if (!elf_ok) return add_failure(r, path, why, err);
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        return add_failure(r, path, why ? why : "dlopen failed", err);
    }
    runner_plugin_get_fn get;
    *(void **)&get = dlsym(h, RUNNER_PLUGIN_ENTRY);
    if (!get) {
        dlclose(h);
        return add_failure(r, path, "no symbol '" RUNNER_PLUGIN_ENTRY "': not a runner plugin", err);
    }
    /* Validate every descriptor before registering any: a file is accepted whole or not at all. */
    uint32_t n = 0;
    char msg[512];
    for (; n < MAX_DESCRIPTORS_PER_FILE; n++) {
        const runner_plugin_t *d = get(n);
        if (!d) break;
        if (!plugin_descriptor_valid(d, msg, sizeof msg)) {
            dlclose(h);
            return add_failure(r, path, msg, err);
        }
    }
    if (n == 0 || n == MAX_DESCRIPTORS_PER_FILE) {
        dlclose(h);
        return add_failure(r, path, n ? "more than 256 descriptors (missing NULL terminator?)" : "exports no descriptors", err);
    }
    if (!grow((void **)&r->handles, &r->cap_handles, r->n_handles, sizeof *r->handles)) {
        dlclose(h);
        return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
    }
    r->handles[r->n_handles++] = h;
    for (uint32_t i = 0; i < n; i++) {
        const runner_plugin_t *d = get(i);
        if (!grow((void **)&r->plugins, &r->cap_plugins, r->n_plugins, sizeof *r->plugins))
            return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
        bool shadowed = registry_find(r, (runner_kind_t)d->kind, d->name) != NULL;
        plugin_entry_t *pe = &r->plugins[r->n_plugins++];
        *pe = (plugin_entry_t){d, strdup(path), shadowed, {0}};
        memcpy(pe->sha256, digest, sizeof digest);
    }
    return ERR_OK;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

err_code_t registry_scan_dir(registry_t *r, const char *dir, err_t *err)
{
    err->code = ERR_OK;
    if (!grow((void **)&r->dirs, &r->cap_dirs, r->n_dirs, sizeof *r->dirs))
        return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
    r->dirs[r->n_dirs++] = strdup(dir);
    DIR *d = opendir(dir);
    if (!d) return ERR_OK;
    /* Sorted, so the load order (and so which duplicate wins) never depends on the file system. */
    char **names = NULL;
    size_t n = 0, cap = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 3, ".so") != 0 || e->d_name[0] == '.') continue;
        if (!grow((void **)&names, &cap, n, sizeof *names)) break;
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    err_t ignored;
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        err_code_t rc = registry_load_file(r, path, &ignored);
        if (rc == ERR_NOMEM) *err = ignored;
        free(names[i]);
    }
    free(names);
    return err->code == ERR_NOMEM ? ERR_NOMEM : ERR_OK;
}

/* Directory of the running executable, from /proc/self/exe. */
static bool exe_dir(char *buf, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", buf, len - 1);
    if (n <= 0) return false;
    buf[n] = 0;
    char *slash = strrchr(buf, '/');
    if (!slash) return false;
    *slash = 0;
    return true;
}

err_code_t registry_scan_all(registry_t *r, const char *const *extra_dirs, size_t n_extra, err_t *err)
{
    err->code = ERR_OK;
    const char *allow = getenv("RUNNER_ALLOW_INSECURE_PLUGINS");
    if (allow && !strcmp(allow, "1")) r->allow_insecure = true;
    char dir[PATH_MAX], path[PATH_MAX + 32];
    if (exe_dir(dir, sizeof dir)) {
        /* build tree: build/runner + build/plugins; install: bin/runner + lib/runner/plugins */
        snprintf(path, sizeof path, "%s/plugins", dir);
        if (access(path, R_OK) != 0) snprintf(path, sizeof path, "%s/../lib/runner/plugins", dir);
        if (registry_scan_dir(r, path, err)) return err->code;
    }
    const char *env = getenv("RUNNER_PLUGIN_PATH");
    if (env && *env) {
        char *copy = strdup(env), *save = NULL;
        for (char *tok = strtok_r(copy, ":", &save); tok; tok = strtok_r(NULL, ":", &save))
            if (registry_scan_dir(r, tok, err)) break;
        free(copy);
        if (err->code) return err->code;
    }
    /* a directory asked for by name must be one (RUNNER_PLUGIN_PATH may list
     * directories that do not exist on this node: those are skipped) */
    for (size_t i = 0; i < n_extra; i++) {
        struct stat st;
        int found = stat(extra_dirs[i], &st);
        if (found != 0 || !S_ISDIR(st.st_mode))
            return err_set(err, ERR_USAGE, (mark_t){0}, "--plugin-path %s: %s", extra_dirs[i],
                           found != 0 ? strerror(errno) : "not a directory");
        if (registry_scan_dir(r, extra_dirs[i], err)) return err->code;
    }
    return ERR_OK;
}

const plugin_entry_t *registry_find(const registry_t *r, runner_kind_t kind, const char *name)
{
    for (size_t i = 0; i < r->n_plugins; i++)
        if (!r->plugins[i].shadowed && r->plugins[i].desc->kind == (uint32_t)kind &&
            strcmp(r->plugins[i].desc->name, name) == 0)
            return &r->plugins[i];
    return NULL;
}

const char **registry_names(const registry_t *r, runner_kind_t kind, size_t *n)
{
    const char **names = malloc((r->n_plugins + 1) * sizeof *names);
    *n = 0;
    if (!names) return NULL;
    for (size_t i = 0; i < r->n_plugins; i++)
        if (!r->plugins[i].shadowed && r->plugins[i].desc->kind == (uint32_t)kind)
            names[(*n)++] = r->plugins[i].desc->name;
    return names;
}
