/* registry.c: dlopen plugins from the search path and validate them. */
#include "plugin_host/registry.h"

#include <ctype.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_DESCRIPTORS_PER_FILE 256
#define MAX_PARAMS 64

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

static bool valid_name(const char *s)
{
    if (!s || !islower((unsigned char)*s)) return false;
    size_t n = 0;
    for (; *s; s++, n++)
        if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '_' && *s != '-') return false;
    return n <= 64;
}

void param_range_text(const runner_param_t *p, char *buf, size_t len)
{
    if (p->type == RUNNER_PARAM_BOOL) {
        snprintf(buf, len, "true or false");
        return;
    }
    snprintf(buf, len, "%c%g, %g%c", (p->flags & RUNNER_PARAM_MIN_EXCLUSIVE) ? '(' : '[', p->min, p->max,
             (p->flags & RUNNER_PARAM_MAX_EXCLUSIVE) ? ')' : ']');
}

bool param_value_valid(const runner_param_t *p, double v, char *msg, size_t len)
{
    if (!isfinite(v)) {
        snprintf(msg, len, "must be a finite number");
        return false;
    }
    if (p->type == RUNNER_PARAM_INT && v != floor(v)) {
        snprintf(msg, len, "must be an integer, got %g", v);
        return false;
    }
    bool lo = (p->flags & RUNNER_PARAM_MIN_EXCLUSIVE) ? v > p->min : v >= p->min;
    bool hi = (p->flags & RUNNER_PARAM_MAX_EXCLUSIVE) ? v < p->max : v <= p->max;
    if (!lo || !hi) {
        /* formatted only here: every cell's every value passes through this check */
        char range[96];
        param_range_text(p, range, sizeof range);
        snprintf(msg, len, "%g is out of bounds: must be in %s", v, range);
        return false;
    }
    return true;
}

const char *const *param_choices(const runner_plugin_t *d, uint32_t i)
{
    if (!RUNNER_HAS_FIELD(d, runner_plugin_t, param_choices) || !d->param_choices ||
        d->params[i].type != RUNNER_PARAM_CHOICE)
        return NULL;
    return d->param_choices[i];
}

const char *plugin_kind_name(uint32_t kind)
{
    return kind == RUNNER_KIND_OPTIMIZER ? "optimizer" : kind == RUNNER_KIND_LAYER ? "layer" : "unknown kind";
}

size_t param_choice_count(const runner_plugin_t *d, uint32_t i)
{
    const char *const *names = param_choices(d, i);
    size_t n = 0;
    while (names && names[n] && n < MAX_PARAMS) n++;
    return n;
}

bool plugin_descriptor_valid(const runner_plugin_t *d, char *msg, size_t len)
{
    if (d->magic != RUNNER_PLUGIN_MAGIC) {
        snprintf(msg, len, "bad magic 0x%08x (expected 0x%08x): not a runner plugin descriptor", d->magic,
                 RUNNER_PLUGIN_MAGIC);
        return false;
    }
    if (d->abi_major != RUNNER_ABI_MAJOR) {
        snprintf(msg, len, "built for plugin ABI %u.%u but this runner speaks ABI %d.%d; rebuild the plugin against this runner's header",
                 d->abi_major, d->abi_minor, RUNNER_ABI_MAJOR, RUNNER_ABI_MINOR);
        return false;
    }
    if (d->size < RUNNER_PLUGIN_1_0_SIZE) {
        snprintf(msg, len, "descriptor is %u bytes, smaller than the %zu bytes of ABI %d.0 (plugin ABI %u.%u)", d->size,
                 (size_t)RUNNER_PLUGIN_1_0_SIZE, RUNNER_ABI_MAJOR, d->abi_major, d->abi_minor);
        return false;
    }
    /* A size past what its own minor version has: the host cannot tell
     * where the descriptor really ends, so it reads nothing more. */
    if (d->abi_minor <= RUNNER_ABI_MINOR && d->size > RUNNER_PLUGIN_SIZE_OF_MINOR(d->abi_minor)) {
        snprintf(msg, len, "descriptor claims %u bytes, but an ABI %u.%u descriptor has at most %zu; rebuild the plugin "
                 "against its header (RUNNER_PLUGIN_HEADER sets the size)",
                 d->size, d->abi_major, d->abi_minor, (size_t)RUNNER_PLUGIN_SIZE_OF_MINOR(d->abi_minor));
        return false;
    }
    if (!valid_name(d->name)) {
        snprintf(msg, len, "invalid plugin name (need lower-case letters, digits, '_' or '-', at most 64)");
        return false;
    }
    if (!d->version || !d->doc) {
        snprintf(msg, len, "plugin '%s' has no %s", d->name, d->version ? "doc" : "version");
        return false;
    }
    if (d->kind == RUNNER_KIND_OPTIMIZER) {
        const runner_optimizer_ops_t *ops = d->optimizer;
        if (ops && d->abi_minor <= RUNNER_ABI_MINOR && ops->size > RUNNER_OPTIMIZER_OPS_SIZE_OF_MINOR(d->abi_minor)) {
            snprintf(msg, len, "optimizer '%s': operations claim %u bytes, but ABI %u.%u's have at most %zu", d->name,
                     ops->size, d->abi_major, d->abi_minor, (size_t)RUNNER_OPTIMIZER_OPS_SIZE_OF_MINOR(d->abi_minor));
            return false;
        }
        if (!ops || !RUNNER_HAS_FIELD(ops, runner_optimizer_ops_t, step) || !ops->state_bytes || !ops->init ||
            !ops->step) {
            snprintf(msg, len, "optimizer '%s' lacks its operations (state_bytes, init and step are required)",
                     d->name);
            return false;
        }
    } else if (d->kind == RUNNER_KIND_LAYER) {
        /* the layer field exists only in descriptors of ABI 1.1 and later */
        const runner_layer_ops_t *ops = RUNNER_HAS_FIELD(d, runner_plugin_t, layer) ? d->layer : NULL;
        if (ops && d->abi_minor <= RUNNER_ABI_MINOR && ops->size > RUNNER_LAYER_OPS_SIZE_OF_MINOR(d->abi_minor)) {
            snprintf(msg, len, "layer '%s': operations claim %u bytes, but ABI %u.%u's have at most %zu", d->name,
                     ops->size, d->abi_major, d->abi_minor, (size_t)RUNNER_LAYER_OPS_SIZE_OF_MINOR(d->abi_minor));
            return false;
        }
        /* every operation of a layer exists since 1.1: the table must reach its last (loss) */
        if (ops && !RUNNER_HAS_FIELD(ops, runner_layer_ops_t, loss)) ops = NULL;
        bool is_loss = ops && (ops->flags & RUNNER_LAYER_LOSS);
        if (!ops || !ops->shape ||
            (is_loss ? !ops->loss : !ops->forward || !ops->backward)) {
            snprintf(msg, len,
                     "layer '%s' lacks its operations (shape, and forward and backward, or loss for a loss)",
                     d->name);
            return false;
        }
    } else {
        snprintf(msg, len, "plugin '%s' has kind %u, which this runner does not know (optimizer = %d, layer = %d)",
                 d->name, d->kind, RUNNER_KIND_OPTIMIZER, RUNNER_KIND_LAYER);
        return false;
    }
    if (d->n_params > MAX_PARAMS || (d->n_params && !d->params)) {
        snprintf(msg, len, "plugin '%s' declares %u parameters (at most %d, and a table)", d->name, d->n_params,
                 MAX_PARAMS);
        return false;
    }
    for (uint32_t i = 0; i < d->n_params; i++) {
        const runner_param_t *p = &d->params[i];
        char why[200];
        if (!valid_name(p->name) || strcmp(p->name, "name") == 0 || strcmp(p->name, "layer") == 0) {
            snprintf(msg, len, "plugin '%s': parameter %u has an invalid name", d->name, i);
            return false;
        }
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(d->params[j].name, p->name) == 0) {
                snprintf(msg, len, "plugin '%s': parameter '%s' declared twice", d->name, p->name);
                return false;
            }
        if (p->type < RUNNER_PARAM_FLOAT || p->type > RUNNER_PARAM_CHOICE || !p->doc) {
            snprintf(msg, len, "plugin '%s': parameter '%s' has an unknown type %u or no doc", d->name, p->name,
                     p->type);
            return false;
        }
        if (p->type == RUNNER_PARAM_CHOICE) {
            size_t n = param_choice_count(d, i);
            if (n == 0 || p->min != 0.0 || p->max != (double)(n - 1)) {
                snprintf(msg, len,
                         "plugin '%s': choice parameter '%s' needs a list of names in param_choices and bounds 0 .. "
                         "count-1",
                         d->name, p->name);
                return false;
            }
        }
        if (!isfinite(p->min) || !isfinite(p->max) || p->min > p->max) {
            snprintf(msg, len, "plugin '%s': parameter '%s' has invalid bounds [%g, %g]", d->name, p->name, p->min,
                     p->max);
            return false;
        }
        if (!(p->flags & RUNNER_PARAM_REQUIRED) && !param_value_valid(p, p->default_value, why, sizeof why)) {
            snprintf(msg, len, "plugin '%s': default of parameter '%s' is invalid: %s", d->name, p->name, why);
            return false;
        }
    }
    return true;
}

/* Why a plugin file could have been written by anyone, or NULL. */
static const char *insecure_reason(const char *path, char *buf, size_t len)
{
    struct stat st;
    if (stat(path, &st) != 0) return NULL; /* dlopen reports it */
    if (st.st_mode & S_IWOTH) {
        snprintf(buf, len, "the file is world-writable");
        return buf;
    }
    /* the directory as named, and the one the file really is in */
    char dirs[2][PATH_MAX];
    snprintf(dirs[0], sizeof dirs[0], "%s", path);
    if (!realpath(path, dirs[1])) snprintf(dirs[1], sizeof dirs[1], "%s", path);
    for (int i = 0; i < 2; i++) {
        char *slash = strrchr(dirs[i], '/');
        if (!slash) snprintf(dirs[i], sizeof dirs[i], ".");
        else if (slash == dirs[i]) slash[1] = 0;
        else *slash = 0;
        if (stat(dirs[i], &st) == 0 && (st.st_mode & S_IWOTH)) {
            snprintf(buf, len, "it is in a world-writable directory (%.3800s), where anyone could have put it", dirs[i]);
            return buf;
        }
    }
    return NULL;
}

err_code_t registry_load_file(registry_t *r, const char *path, err_t *err)
{
    char why_insecure[PATH_MAX + 128];
    if (!r->allow_insecure && insecure_reason(path, why_insecure, sizeof why_insecure)) {
        char msg[PATH_MAX + 256];
        snprintf(msg, sizeof msg,
                 "not loaded because %.3800s; fix the permissions (chmod o-w), or allow it with --allow-insecure-plugins",
                 why_insecure);
        return add_failure(r, path, msg, err);
    }
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
        r->plugins[r->n_plugins++] = (plugin_entry_t){d, strdup(path), shadowed};
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
    for (size_t i = 0; i < n_extra; i++)
        if (registry_scan_dir(r, extra_dirs[i], err)) return err->code;
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
