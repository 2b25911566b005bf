/* guards.c: disk and memory checks before a sweep starts. */
#include "sweep/guards.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "base/memory.h"
#include "base/number_text.h"
#include "results/layout.h"

#include "results/h5out.h"
#include "sweep/sweep.h"

int parse_bytes(const char *text, uint64_t *bytes)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || errno || !(v >= 0)) return -1;
    double scale = 1;
    const char *units = "KMGTP";
    const char *u = *end ? strchr(units, *end >= 'a' ? *end - 32 : *end) : NULL;
    if (*end && !u) return -1;
    if (u) {
        bool binary = end[1] == 'i' && (end[2] == 'B' || !end[2]);
        int k = (int)(u - units) + 1;
        scale = pow(binary ? 1024.0 : 1000.0, k);
        end += 1 + binary + (binary && end[2] == 'B');
        if (*end == 'B') end++;
    }
    if (*end || v * scale >= 1.8e19) return -1;
    *bytes = (uint64_t)(v * scale);
    return 0;
}

/* Free bytes for an unprivileged writer in the directory output goes to
 * (its nearest existing ancestor, since it may not exist yet). */
static int free_space(const char *output, uint64_t *bytes, char *where, size_t where_len)
{
    snprintf(where, where_len, "%s", output);
    for (;;) {
        char *slash = strrchr(where, '/');
        if (!slash) snprintf(where, where_len, ".");
        else if (slash == where) where[1] = 0;
        else *slash = 0;
        struct statvfs st;
        if (statvfs(where, &st) == 0) {
            if (st.f_blocks == 0) return -1; /* a pseudo filesystem (/proc): no size to check against */
            *bytes = (uint64_t)st.f_bavail * st.f_frsize;
            return 0;
        }
        if (!strcmp(where, ".") || !strcmp(where, "/")) return -1;
    }
}

/* The config's `steps` entry, what to point at when the output is too big. */
static mark_t size_mark(const experiment_t *exp)
{
    const node_pair_t *p = node_get_pair(exp->root, "steps");
    return p ? p->key_mark : (mark_t){exp->path, 1, 1};
}

err_code_t guard_resources(const experiment_t *exp, const unsigned char *todo, const char *output, int threads,
                           uint64_t max_output, err_t *err)
{
    char need_s[32], have_s[32], where[4096];
    size_t n = 0;
    for (size_t c = 0; c < exp->n_cells; c++) n += !todo || todo[c];
    uint64_t need = h5out_bytes_needed(exp, todo), have = max_output;
    if (!max_output && free_space(output, &have, where, sizeof where) != 0) have = UINT64_MAX;
    if (need > have) {
        format_bytes(need_s, sizeof need_s, need);
        format_bytes(have_s, sizeof have_s, have);
        char detail[160];
        layout_t l;
        layout_of(exp, &l);
        snprintf(detail, sizeof detail, "%zu cells x %zu values x 4 bytes, and per-cell records", n, l.floats_per_cell);
        if (max_output)
            return err_set(err, ERR_CONFIG, size_mark(exp),
                           "the output would take %s (%s), more than --max-output %s; use fewer cells or steps, or "
                           "raise --max-output",
                           need_s, detail, have_s);
        return err_set(err, ERR_CONFIG, size_mark(exp),
                       "the output would take %s (%s), more than the %s free in %s; use fewer cells or steps, write "
                       "elsewhere with -o, or override the check with --max-output SIZE",
                       need_s, detail, have_s, where);
    }
    uint64_t ram = memory_physical_bytes();
    /* no more threads work than there are cells to give them */
    uint64_t buffers = sweep_buffer_bytes(exp, (size_t)threads < n ? threads : n ? (int)n : 1);
    if (buffers > memory_limit_bytes()) {
        format_bytes(need_s, sizeof need_s, buffers);
        format_bytes(have_s, sizeof have_s, ram);
        return err_set(err, ERR_CONFIG, size_mark(exp),
                       "the sweep's buffers would take %s (each thread has a cell's working memory and up to two "
                       "batches of results in flight), more than 3/4 of this machine's %s; use fewer steps, a "
                       "smaller model or batch, or fewer threads with -j",
                       need_s, have_s);
    }
    return ERR_OK;
}
