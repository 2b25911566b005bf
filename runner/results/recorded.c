/* recorded.c: a results file's record against an experiment loaded now. */
#include "results/recorded.h"

#include "config/select.h"

#include <hdf5.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cells/kind.h"
#include "results/format.h"
#include "results/h5util.h"
#include "version.h"

#define MAX_FINDINGS 4

typedef struct {
    char text[MAX_FINDINGS][600];
    size_t n;
} findings_t;

static void found(findings_t *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void found(findings_t *f, const char *fmt, ...)
{
    if (f->n == MAX_FINDINGS) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->text[f->n++], sizeof f->text[0], fmt, ap);
    va_end(ap);
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* ---- plugin and data files ---------------------------------------------- */

/* One "HEX  PATH" line of plugin_files or data_files. */
typedef struct {
    char hex[SHA256_HEX_LEN];
    const char *path;
    bool matched;
} hash_line_t;

/* Split text (modified in place) into lines; NULL on a malformed line. */
static hash_line_t *parse_hash_lines(char *text, size_t *n)
{
    size_t cap = 1;
    for (const char *p = text; *p; p++) cap += *p == '\n';
    hash_line_t *lines = calloc(cap, sizeof *lines);
    *n = 0;
    for (char *line = text; lines && *line;) {
        char *end = strchr(line, '\n');
        if (end) *end = 0;
        if (strlen(line) < 67 || line[64] != ' ' || line[65] != ' ') {
            free(lines);
            return NULL;
        }
        memcpy(lines[*n].hex, line, 64);
        lines[*n].path = line + 66;
        (*n)++;
        if (!end) break;
        line = end + 1;
    }
    return lines;
}

/* Compare the files used now with the file's list: by path, else by file
 * name (a copy of the experiment on another machine). */
static void compare_files(findings_t *f, const char *what, char *recorded, const input_file_t *now, size_t n_now)
{
    size_t n_then;
    hash_line_t *then = parse_hash_lines(recorded, &n_then);
    if (!then) {
        found(f, "its %s list is not in the 'SHA256  PATH' form", what);
        return;
    }
    for (size_t i = 0; i < n_now; i++) {
        char hex[SHA256_HEX_LEN];
        sha256_hex(now[i].sha256, hex);
        hash_line_t *same = NULL;
        for (size_t j = 0; j < n_then && !same; j++)
            if (!then[j].matched && !strcmp(then[j].path, now[i].path)) same = &then[j];
        for (size_t j = 0; j < n_then && !same; j++)
            if (!then[j].matched && !strcmp(base_name(then[j].path), base_name(now[i].path))) same = &then[j];
        if (!same) {
            found(f, "%s %s is used now but was not when the file was made", what, now[i].path);
            continue;
        }
        same->matched = true;
        if (strcmp(same->hex, hex))
            found(f, "%s %s has other contents than the file's run used (sha256 %.12s... then, %.12s... now%s%s)", what,
                  now[i].path, same->hex, hex, strcmp(same->path, now[i].path) ? "; then at " : "",
                  strcmp(same->path, now[i].path) ? same->path : "");
    }
    for (size_t j = 0; j < n_then; j++)
        if (!then[j].matched) found(f, "the file's run used %s %s, which is not used now", what, then[j].path);
    free(then);
}

static void compare_inputs(findings_t *f, hid_t file, const experiment_t *exp)
{
    char *plugins = h5_read_attr_text(file, FORMAT_PLUGIN_FILES), *data = h5_read_attr_text(file, FORMAT_DATA_FILES);
    if (!plugins || !data) {
        found(f, "it records no content hashes of its plugin and data files (made by runner 0.3.0 or older)");
    } else {
        compare_files(f, "plugin file", plugins, exp->plugin_files, exp->n_plugins_used);
        compare_files(f, "data file", data, exp->inputs, exp->n_inputs);
    }
    free(plugins), free(data);
}

/* ---- cells -------------------------------------------------------------- */

/* The token (between spaces, commas and parentheses) around offset at. */
static void token_at(const char *s, size_t at, char *out, size_t len)
{
    static const char *seps = " ,()";
    size_t b = at, e = at;
    while (b > 0 && !strchr(seps, s[b - 1])) b--;
    while (s[e] && !strchr(seps, s[e])) e++;
    snprintf(out, len, "%.*s", (int)(e - b), s + b);
}

/* Where two records differ, as "momentum=0.9 in the file, momentum=0 now". */
static void record_difference(const char *then, const char *now, char *out, size_t len)
{
    size_t i = 0;
    while (then[i] && then[i] == now[i]) i++;
    char a[200], b[200];
    token_at(then, i, a, sizeof a);
    token_at(now, i, b, sizeof b);
    snprintf(out, len, "'%s' in the file, '%s' now", a, b);
}

/* A per-cell string dataset, whole; NULL when absent or unreadable. */
static char **read_strings(hid_t file, const char *name, size_t n)
{
    if (H5Lexists(file, name, H5P_DEFAULT) <= 0) return NULL;
    hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
    if (ds < 0) return NULL;
    char **v = h5_read_texts(ds, n); /* variable or fixed length (a study's final phase) */
    H5Dclose(ds);
    return v;
}

static void free_strings(char **v, size_t n)
{
    if (!v) return;
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

static bool read_numbers(hid_t file, const char *name, hid_t mem_type, size_t n, void *out)
{
    hid_t ds = H5Lexists(file, name, H5P_DEFAULT) > 0 ? H5Dopen2(file, name, H5P_DEFAULT) : -1;
    if (ds < 0) return false;
    hid_t sp = H5Dget_space(ds);
    bool ok = H5Sget_simple_extent_npoints(sp) == (hssize_t)n &&
              H5Dread(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) >= 0;
    H5Sclose(sp), H5Dclose(ds);
    return ok;
}

static void compare_cells(findings_t *f, hid_t file, const experiment_t *exp)
{
    size_t n = exp->n_cells;
    hid_t ds = H5Dopen2(file, FORMAT_STATUS, H5P_DEFAULT);
    hid_t sp = ds < 0 ? -1 : H5Dget_space(ds);
    hssize_t have = sp < 0 ? -1 : H5Sget_simple_extent_npoints(sp);
    if (sp >= 0) H5Sclose(sp);
    if (ds >= 0) H5Dclose(ds);
    if (have != (hssize_t)n) {
        found(f, "it holds %lld cells, this config %zu", (long long)have, n);
        return;
    }
    /* a final phase's steps and records are its choice's (config/select.h),
     * rewritten once the tuning cells are done: only the tuning cells say
     * what the config computes */
    size_t n_defined = exp->select ? exp->select->n_tune : n;
    uint64_t *seeds = malloc((n ? n : 1) * sizeof *seeds);
    int32_t *steps = malloc((n ? n : 1) * sizeof *steps);
    char label[512];
    if (seeds && read_numbers(file, FORMAT_CELL_SEED, H5T_NATIVE_UINT64, n, seeds))
        for (size_t c = 0; c < n; c++)
            if (seeds[c] != exp->cells[c].seed) {
                experiment_cell_label(exp, c, label, sizeof label);
                found(f, "cell %zu (%s) has another seed (%llu in the file, %llu now)", c, label,
                      (unsigned long long)seeds[c], (unsigned long long)exp->cells[c].seed);
                break;
            }
    if (steps && read_numbers(file, FORMAT_CELL_STEPS, H5T_NATIVE_INT32, n, steps))
        for (size_t c = 0; c < n_defined; c++)
            if ((uint32_t)steps[c] != exp->cells[c].steps) {
                experiment_cell_label(exp, c, label, sizeof label);
                found(f, "cell %zu (%s) runs another number of steps (%d in the file, %u now)", c, label, steps[c],
                      exp->cells[c].steps);
                break;
            }
    free(seeds), free(steps);
    const cell_kind_t *kind = exp->kind;
    for (size_t r = 0; r <= kind->n_records; r++) {
        const char *name = r == 0 ? FORMAT_OPTIMIZER_CONFIG : kind->records[r - 1].name;
        char **then = read_strings(file, name, n);
        if (!then) {
            found(f, "its per-cell record '%s' is missing or of another shape", name);
            continue;
        }
        for (size_t c = 0; c < n_defined; c++) {
            const char *now = r == 0 ? exp->cells[c].opt->text : kind->record(&exp->cells[c], r - 1);
            if (then[c] && !strcmp(then[c], now)) continue;
            char diff[1400];
            record_difference(then[c] ? then[c] : "", now, diff, sizeof diff);
            experiment_cell_label(exp, c, label, sizeof label);
            found(f, "cell %zu (%s) computes differently: %s %s", c, label, name, diff);
            break;
        }
        free_strings(then, n);
    }
}

/* ---- the check ---------------------------------------------------------- */

err_code_t recorded_compare(const char *path, const experiment_t *exp, unsigned checks, err_t *err)
{
    hid_t file = h5_open_read(path);
    if (file < 0) return err_set(err, ERR_IO, (mark_t){path, 0, 0}, "HDF5 cannot open it as a results file");
    findings_t f = {.n = 0};
    char version[64];
    if (h5_read_attr_string(file, FORMAT_RUNNER_VERSION, version, sizeof version) < 0) {
        H5Fclose(file);
        return err_set(err, ERR_IO, (mark_t){path, 0, 0}, "not a runner results file (no runner_version attribute)");
    }
    if ((checks & RECORDED_VERSION) && strcmp(version, RUNNER_VERSION))
        found(&f, "it was made by runner %s, this is runner %s", version, RUNNER_VERSION);
    char kind[64];
    if (h5_read_attr_string(file, FORMAT_CELL_KIND, kind, sizeof kind) >= 0 && strcmp(kind, exp->kind->name)) {
        found(&f, "its cells are of kind %s, this config's %s", kind, exp->kind->name);
        checks &= ~(unsigned)RECORDED_CELLS;
    }
    if (checks & RECORDED_INPUTS) compare_inputs(&f, file, exp);
    if (checks & RECORDED_CELLS) compare_cells(&f, file, exp);
    H5Fclose(file);
    if (!f.n) return ERR_OK;
    err_set(err, ERR_CONFIG, (mark_t){path, 0, 0}, "%s", f.text[0]);
    for (size_t i = 1; i < f.n; i++) err_append(err, "; %s", f.text[i]);
    return ERR_CONFIG;
}
