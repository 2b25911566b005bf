/* yaml_load.c: libyaml events -> node tree with marks, strictly. */
#include "config/yaml_load.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

typedef struct {
    arena_t *a;
    yaml_parser_t parser;
    const char *file;
    err_t *err;
} loader_t;

static mark_t to_mark(const loader_t *L, yaml_mark_t m)
{
    return (mark_t){L->file, (int)m.line + 1, (int)m.column + 1};
}

/* Line and column (1-based, in bytes) of a byte offset into text. */
static mark_t mark_at_offset(const char *file, const char *text, size_t offset)
{
    mark_t m = {file, 1, 1};
    for (size_t i = 0; i < offset; i++) {
        if (text[i] == '\n') m.line++, m.col = 1;
        else m.col++;
    }
    return m;
}

static err_code_t next_event(loader_t *L, yaml_event_t *ev)
{
    if (yaml_parser_parse(&L->parser, ev)) return ERR_OK;
    const yaml_parser_t *p = &L->parser;
    if (p->error == YAML_READER_ERROR) {
        /* the reader reports a byte offset, not a mark */
        const char *text = (const char *)p->input.string.start;
        size_t len = (size_t)(p->input.string.end - p->input.string.start), at = p->problem_offset;
        mark_t m = mark_at_offset(L->file, text, at < len ? at : len);
        if (at < len)
            return err_set(L->err, ERR_CONFIG, m, "invalid UTF-8 (%s, byte 0x%02X); a config must be UTF-8 text",
                           p->problem ? p->problem : "bad byte", (unsigned char)text[at]);
        return err_set(L->err, ERR_CONFIG, m, "invalid text: %s", p->problem ? p->problem : "unreadable");
    }
    yaml_mark_t m = p->problem_mark;
    const char *problem = p->problem ? p->problem : "malformed YAML";
    bool at_tab = p->problem_mark.index < (size_t)(p->input.string.end - p->input.string.start) &&
                  p->input.string.start[p->problem_mark.index] == '\t';
    if (strstr(problem, "tab character") || (at_tab && strstr(problem, "cannot start any token")))
        return err_set(L->err, ERR_CONFIG, to_mark(L, m), "tab character used for indentation (YAML needs spaces)");
    if (p->context)
        return err_set(L->err, ERR_CONFIG, to_mark(L, m), "malformed YAML: %s %s (line %d)", problem, p->context,
                       (int)p->context_mark.line + 1);
    return err_set(L->err, ERR_CONFIG, to_mark(L, m), "malformed YAML: %s", problem);
}

static err_code_t parse_node(loader_t *L, yaml_event_t *ev, int depth, node_t **out);

static err_code_t parse_seq(loader_t *L, node_t *n, int depth)
{
    size_t cap = 0;
    for (;;) {
        yaml_event_t ev;
        if (next_event(L, &ev)) return L->err->code;
        if (ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            return ERR_OK;
        }
        node_t *item;
        err_code_t rc = parse_node(L, &ev, depth + 1, &item);
        yaml_event_delete(&ev);
        if (rc) return rc;
        if (n->n == cap) {
            cap = cap ? cap * 2 : 8;
            node_t **items = arena_alloc(L->a, cap * sizeof *items);
            if (!items) return err_set(L->err, ERR_NOMEM, n->mark, "out of memory");
            if (n->n) memcpy(items, n->items, n->n * sizeof *items);
            n->items = items;
        }
        n->items[n->n++] = item;
    }
}

/* Keys seen in one mapping, for the duplicate check: a linear scan while
 * the mapping is small, an open-addressing hash table of pair indices once
 * it is not (a 200,000-key mapping took minutes with the scan alone). */
typedef struct {
    uint32_t *slots; /* pair index + 1; 0 is empty */
    size_t cap;      /* a power of two, or 0 before the table is needed */
} key_index_t;

#define KEY_SCAN_MAX 16

static size_t key_hash(const char *k)
{
    size_t h = 1469598103934665603u;
    for (; *k; k++) h = (h ^ (unsigned char)*k) * 1099511628211u;
    return h;
}

/* The pair with this key, or NULL. */
static const node_pair_t *key_find(const key_index_t *ix, const node_t *n, const char *key)
{
    if (!ix->cap) {
        for (size_t i = 0; i < n->n; i++)
            if (strcmp(n->pairs[i].key, key) == 0) return &n->pairs[i];
        return NULL;
    }
    for (size_t h = key_hash(key) & (ix->cap - 1); ix->slots[h]; h = (h + 1) & (ix->cap - 1))
        if (strcmp(n->pairs[ix->slots[h] - 1].key, key) == 0) return &n->pairs[ix->slots[h] - 1];
    return NULL;
}

/* Record pairs[0..n->n) after a pair was appended; false when out of memory. */
static bool key_added(key_index_t *ix, const node_t *n)
{
    if (n->n <= KEY_SCAN_MAX) return true;
    if (n->n * 2 > ix->cap) {
        size_t cap = ix->cap ? ix->cap * 2 : 64;
        uint32_t *slots = calloc(cap, sizeof *slots);
        if (!slots) return false;
        free(ix->slots);
        ix->slots = slots, ix->cap = cap;
        for (size_t i = 0; i + 1 < n->n; i++) {
            size_t h = key_hash(n->pairs[i].key) & (cap - 1);
            while (slots[h]) h = (h + 1) & (cap - 1);
            slots[h] = (uint32_t)(i + 1);
        }
    }
    size_t h = key_hash(n->pairs[n->n - 1].key) & (ix->cap - 1);
    while (ix->slots[h]) h = (h + 1) & (ix->cap - 1);
    ix->slots[h] = (uint32_t)n->n;
    return true;
}

static err_code_t parse_map_pairs(loader_t *L, node_t *n, int depth, key_index_t *ix);

static err_code_t parse_map(loader_t *L, node_t *n, int depth)
{
    key_index_t ix = {NULL, 0};
    err_code_t rc = parse_map_pairs(L, n, depth, &ix);
    free(ix.slots);
    return rc;
}

static err_code_t parse_map_pairs(loader_t *L, node_t *n, int depth, key_index_t *ix)
{
    size_t cap = 0;
    for (;;) {
        yaml_event_t ev;
        if (next_event(L, &ev)) return L->err->code;
        if (ev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&ev);
            return ERR_OK;
        }
        mark_t km = to_mark(L, ev.start_mark);
        if (ev.type != YAML_SCALAR_EVENT) {
            yaml_event_delete(&ev);
            return err_set(L->err, ERR_CONFIG, km, "mapping keys must be plain names, not %s",
                           ev.type == YAML_ALIAS_EVENT ? "aliases" : "lists or mappings");
        }
        char *key = arena_strndup(L->a, (const char *)ev.data.scalar.value, ev.data.scalar.length);
        size_t keylen = ev.data.scalar.length;
        bool merge = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE && keylen == 2 && key && !strcmp(key, "<<");
        yaml_event_delete(&ev);
        if (merge) /* once read as a key named "<<", then "optimizer needs a name" */
            return err_set(L->err, ERR_CONFIG, km, "YAML merge keys (<<:) are not supported; write the keys out");
        if (!key) return err_set(L->err, ERR_NOMEM, km, "out of memory");
        if (strlen(key) != keylen) return err_set(L->err, ERR_CONFIG, km, "NUL byte in a key");
        const node_pair_t *first = key_find(ix, n, key);
        if (first)
            return err_set(L->err, ERR_CONFIG, km, "duplicate key '%s' (first given at line %d)", key,
                           first->key_mark.line);
        if (next_event(L, &ev)) return L->err->code;
        node_t *value;
        err_code_t rc = parse_node(L, &ev, depth + 1, &value);
        yaml_event_delete(&ev);
        if (rc) return rc;
        if (n->n == cap) {
            cap = cap ? cap * 2 : 8;
            node_pair_t *pairs = arena_alloc(L->a, cap * sizeof *pairs);
            if (!pairs) return err_set(L->err, ERR_NOMEM, n->mark, "out of memory");
            if (n->n) memcpy(pairs, n->pairs, n->n * sizeof *pairs);
            n->pairs = pairs;
        }
        n->pairs[n->n++] = (node_pair_t){key, km, value};
        if (!key_added(ix, n)) return err_set(L->err, ERR_NOMEM, n->mark, "out of memory");
    }
}

/* The explicit tag of a node's event, or NULL. */
static const char *event_tag(const yaml_event_t *ev)
{
    const yaml_char_t *t = ev->type == YAML_SCALAR_EVENT           ? ev->data.scalar.tag
                           : ev->type == YAML_SEQUENCE_START_EVENT ? ev->data.sequence_start.tag
                           : ev->type == YAML_MAPPING_START_EVENT  ? ev->data.mapping_start.tag
                                                                   : NULL;
    return (const char *)t;
}

static err_code_t parse_node(loader_t *L, yaml_event_t *ev, int depth, node_t **out)
{
    mark_t m = to_mark(L, ev->start_mark);
    if (depth > YAML_MAX_DEPTH)
        return err_set(L->err, ERR_CONFIG, m, "nesting deeper than %d levels", YAML_MAX_DEPTH);
    /* A tag changes what a value means to other YAML readers (!!python/...,
     * !!float); silently ignored, the same text meant two things. Only
     * !!str, which the runner honours (the value stays text), is accepted. */
    const char *tag = event_tag(ev);
    if (tag && !(ev->type == YAML_SCALAR_EVENT && !strcmp(tag, YAML_STR_TAG)))
        return err_set(L->err, ERR_CONFIG, m, "YAML tags are not supported (this one is %.200s); write the value "
                       "without it (quote a value to keep it text)", tag);
    node_t *n;
    switch (ev->type) {
    case YAML_SCALAR_EVENT: {
        n = node_new(L->a, NODE_SCALAR, m, ORIGIN_BASE);
        if (!n) break;
        n->text = arena_strndup(L->a, (const char *)ev->data.scalar.value, ev->data.scalar.length);
        if (!n->text) break;
        if (strlen(n->text) != ev->data.scalar.length) return err_set(L->err, ERR_CONFIG, m, "NUL byte in a value");
        n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
                    (ev->data.scalar.tag && strcmp((const char *)ev->data.scalar.tag, YAML_STR_TAG) == 0);
        *out = n;
        return ERR_OK;
    }
    case YAML_SEQUENCE_START_EVENT:
        if (!(n = node_new(L->a, NODE_SEQ, m, ORIGIN_BASE))) break;
        *out = n;
        return parse_seq(L, n, depth);
    case YAML_MAPPING_START_EVENT:
        if (!(n = node_new(L->a, NODE_MAP, m, ORIGIN_BASE))) break;
        *out = n;
        return parse_map(L, n, depth);
    case YAML_ALIAS_EVENT:
        return err_set(L->err, ERR_CONFIG, m, "YAML aliases (*name) are not supported; write the value out");
    default:
        return err_set(L->err, ERR_CONFIG, m, "unexpected YAML event");
    }
    return err_set(L->err, ERR_NOMEM, m, "out of memory");
}

err_code_t yaml_load(arena_t *a, const char *text, size_t len, const char *file, node_t **root, err_t *err)
{
    loader_t L = {.a = a, .file = file, .err = err};
    if (len > YAML_MAX_BYTES)
        return err_set(err, ERR_CONFIG, (mark_t){file, 0, 0}, "file is %zu bytes; configs are limited to %u",
                       len, YAML_MAX_BYTES);
    if (!yaml_parser_initialize(&L.parser)) return err_set(err, ERR_NOMEM, (mark_t){file, 0, 0}, "out of memory");
    yaml_parser_set_input_string(&L.parser, (const unsigned char *)text, len);
    err_code_t rc = ERR_OK;
    yaml_event_t ev;
    *root = NULL;
    /* stream start, document start (or stream end for an empty file) */
    if ((rc = next_event(&L, &ev))) goto out;
    yaml_event_delete(&ev);
    if ((rc = next_event(&L, &ev))) goto out;
    if (ev.type == YAML_STREAM_END_EVENT) {
        yaml_event_delete(&ev);
        rc = err_set(err, ERR_CONFIG, (mark_t){file, 1, 1}, "the config is empty; expected a mapping of settings");
        goto out;
    }
    yaml_event_delete(&ev);
    if ((rc = next_event(&L, &ev))) goto out;
    rc = parse_node(&L, &ev, 1, root);
    yaml_event_delete(&ev);
    if (rc) goto out;
    if ((rc = next_event(&L, &ev))) goto out; /* document end */
    yaml_event_delete(&ev);
    if ((rc = next_event(&L, &ev))) goto out;
    if (ev.type != YAML_STREAM_END_EVENT)
        rc = err_set(err, ERR_CONFIG, to_mark(&L, ev.start_mark),
                     "a second YAML document ('---'); a config is one document");
    yaml_event_delete(&ev);
out:
    yaml_parser_delete(&L.parser);
    return rc;
}

err_code_t read_text_file(const char *path, char **text, size_t *len, err_t *err)
{
    mark_t m = {path, 0, 0};
    struct stat st;
    if (stat(path, &st) != 0) return err_set(err, ERR_IO, m, "cannot open: %s", strerror(errno));
    if (S_ISDIR(st.st_mode)) return err_set(err, ERR_IO, m, "is a directory, expected a YAML file");
    if (!S_ISREG(st.st_mode)) return err_set(err, ERR_IO, m, "is not a regular file");
    if ((uint64_t)st.st_size > YAML_MAX_BYTES)
        return err_set(err, ERR_CONFIG, m, "file is %lld bytes; configs are limited to %u", (long long)st.st_size,
                       YAML_MAX_BYTES);
    FILE *f = fopen(path, "rb");
    if (!f) return err_set(err, ERR_IO, m, "cannot open: %s", strerror(errno));
    char *buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        fclose(f);
        return err_set(err, ERR_NOMEM, m, "out of memory");
    }
    size_t n = fread(buf, 1, (size_t)st.st_size, f);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return err_set(err, ERR_IO, m, "read error");
    }
    buf[n] = 0;
    if (n >= 2 && (((unsigned char)buf[0] == 0xFF && (unsigned char)buf[1] == 0xFE) ||
                   ((unsigned char)buf[0] == 0xFE && (unsigned char)buf[1] == 0xFF))) {
        free(buf);
        return err_set(err, ERR_CONFIG, (mark_t){path, 1, 1},
                       "the file is UTF-16 (it starts with a UTF-16 byte order mark); save it as UTF-8");
    }
    const char *nul = memchr(buf, 0, n);
    if (nul) {
        mark_t at = mark_at_offset(path, buf, (size_t)(nul - buf));
        free(buf);
        return err_set(err, ERR_CONFIG, at, "NUL byte; a config must be a text file (is this a binary file?)");
    }
    *text = buf;
    *len = n;
    return ERR_OK;
}
