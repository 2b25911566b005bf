/* error.c: error values, their printing with source context, suggestions. */
#include "base/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

err_code_t err_setv(err_t *err, err_code_t code, mark_t mark, const char *fmt, va_list ap)
{
    err->code = code;
    err->mark = mark;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    return code;
}

err_code_t err_set(err_t *err, err_code_t code, mark_t mark, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_setv(err, code, mark, fmt, ap);
    va_end(ap);
    return code;
}

void err_append(err_t *err, const char *fmt, ...)
{
    size_t len = strlen(err->msg);
    if (len + 3 >= sizeof err->msg) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg + len, sizeof err->msg - len, fmt, ap);
    va_end(ap);
}

/* The text of line `line` (1-based) of src, without its newline. */
static const char *find_line(const char *src, int line, size_t *len)
{
    const char *p = src;
    for (int l = 1; l < line && p; l++) {
        p = strchr(p, '\n');
        if (p) p++;
    }
    if (!p) return NULL;
    const char *end = strchr(p, '\n');
    *len = end ? (size_t)(end - p) : strlen(p);
    return p;
}

void err_print(const err_t *err, const char *source, const char *prog)
{
    const mark_t *m = &err->mark;
    if (m->file && m->line > 0)
        fprintf(stderr, "%s:%d:%d: error: %s\n", m->file, m->line, m->col, err->msg);
    else if (m->file)
        fprintf(stderr, "%s: error: %s\n", m->file, err->msg);
    else
        fprintf(stderr, "%s: error: %s\n", prog, err->msg);
    if (!source || m->line <= 0) return;
    size_t len = 0;
    const char *text = find_line(source, m->line, &len);
    if (!text) return;
    /* Tabs are kept so the caret lines up under them; control bytes are not echoed. */
    fprintf(stderr, "  ");
    for (size_t i = 0; i < len && i < 240; i++) {
        unsigned char c = (unsigned char)text[i];
        fputc(c == '\t' || c >= 0x20 ? c : '?', stderr);
    }
    fprintf(stderr, "\n  ");
    for (int i = 1; i < m->col && (size_t)i <= len; i++) fputc(text[i - 1] == '\t' ? '\t' : ' ', stderr);
    fprintf(stderr, "^\n");
}

/* Optimal string alignment distance: Levenshtein plus adjacent
 * transpositions, so 'sdg' is one edit from 'sgd'. */
size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64) return (size_t)-1;
    size_t d[65][65];
    for (size_t i = 0; i <= la; i++) d[i][0] = i;
    for (size_t j = 0; j <= lb; j++) d[0][j] = j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best) best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[la][lb];
}

const char *closest_match(const char *word, const char *const *candidates, size_t n)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(word, candidates[i]);
        if (d < best_d) {
            best_d = d;
            best = candidates[i];
        }
    }
    size_t len = strlen(word);
    size_t limit = len <= 3 ? 1 : len <= 6 ? 2 : 3;
    if (best && best_d <= limit) return best;
    /* Not close by spelling: try initials, so 'learning_rate' (or the typo
     * 'lerning_rate') suggests 'lr'. */
    char initials[16];
    size_t k = 0;
    initials[k++] = word[0];
    for (const char *p = word; *p && k < sizeof initials - 1; p++)
        if (*p == '_' && p[1]) initials[k++] = p[1];
    initials[k] = 0;
    for (size_t i = 0; k >= 2 && i < n; i++)
        if (strcmp(initials, candidates[i]) == 0) return candidates[i];
    return NULL;
}
