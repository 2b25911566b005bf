/* node.c: the persistent config tree, scalar typing and YAML emission. */
#include "config/node.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

node_t *node_new(arena_t *a, node_kind_t kind, mark_t mark, int origin)
{
    node_t *n = arena_alloc(a, sizeof *n);
    if (!n) return NULL;
    n->kind = kind;
    n->mark = mark;
    n->origin = origin;
    return n;
}

node_t *node_scalar(arena_t *a, const char *text, mark_t mark, int origin)
{
    node_t *n = node_new(a, NODE_SCALAR, mark, origin);
    if (n) n->text = text;
    return n;
}

const char *node_kind_name(const node_t *n)
{
    switch (n->kind) {
    case NODE_MAP: return "a mapping";
    case NODE_SEQ: return "a list";
    default: return scalar_type_name(scalar_type(n));
    }
}

const node_pair_t *node_get_pair(const node_t *map, const char *key)
{
    if (!map || map->kind != NODE_MAP) return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (strcmp(map->pairs[i].key, key) == 0) return &map->pairs[i];
    return NULL;
}

node_t *node_get(const node_t *map, const char *key)
{
    const node_pair_t *p = node_get_pair(map, key);
    return p ? p->value : NULL;
}

/* A shallow copy of a map with room for `extra` more pairs. */
static node_t *map_copy(arena_t *a, const node_t *map, size_t extra)
{
    node_t *m = node_new(a, NODE_MAP, map->mark, map->origin);
    if (!m) return NULL;
    m->pairs = arena_alloc(a, (map->n + extra) * sizeof *m->pairs);
    if (!m->pairs && map->n + extra) return NULL;
    if (map->n) memcpy(m->pairs, map->pairs, map->n * sizeof *m->pairs);
    m->n = map->n;
    return m;
}

node_t *node_merge(arena_t *a, node_t *base, node_t *overlay)
{
    if (!base || base->kind != NODE_MAP || overlay->kind != NODE_MAP) return overlay;
    node_t *m = map_copy(a, base, overlay->n);
    if (!m) return NULL;
    for (size_t i = 0; i < overlay->n; i++) {
        const node_pair_t *op = &overlay->pairs[i];
        node_pair_t *slot = NULL;
        for (size_t j = 0; j < m->n; j++)
            if (strcmp(m->pairs[j].key, op->key) == 0) slot = &m->pairs[j];
        if (slot) {
            node_t *v = node_merge(a, slot->value, op->value);
            if (!v) return NULL;
            slot->value = v;
            slot->key_mark = op->key_mark;
        } else {
            m->pairs[m->n++] = *op;
        }
    }
    return m;
}

static node_t *set_path_rec(arena_t *a, node_t *at, const char *path, node_t *value, mark_t mark,
                            const char *full, err_t *err)
{
    const char *dot = strchr(path, '.');
    size_t seglen = dot ? (size_t)(dot - path) : strlen(path);
    char *seg = arena_strndup(a, path, seglen);
    if (!seg) return NULL;
    if (seglen == 0) {
        err_set(err, ERR_CONFIG, mark, "empty component in path '%s'", full);
        return NULL;
    }
    if (at && at->kind == NODE_SEQ) {
        /* a list item by index: model.0.out is the first layer's width */
        char *end;
        unsigned long i = strtoul(seg, &end, 10);
        if (*end || seg[0] < '0' || seg[0] > '9' || i >= at->n) {
            err_set(err, ERR_CONFIG, mark, "path '%s': '%s' is not an index of the %zu-item list at '%.*s'", full, seg,
                    at->n, (int)(path - full - 1 > 0 ? path - full - 1 : 0), full);
            return NULL;
        }
        node_t *l = node_new(a, NODE_SEQ, at->mark, at->origin);
        if (!l || !(l->items = arena_alloc(a, at->n * sizeof *l->items))) return NULL;
        memcpy(l->items, at->items, at->n * sizeof *l->items);
        l->n = at->n;
        node_t *child = dot ? set_path_rec(a, at->items[i], dot + 1, value, mark, full, err) : value;
        if (!child) return NULL;
        l->items[i] = child;
        return l;
    }
    node_t *m;
    if (!at) {
        m = node_new(a, NODE_MAP, mark, value->origin);
        if (!m) return NULL;
        m->pairs = arena_alloc(a, sizeof *m->pairs);
    } else if (at->kind != NODE_MAP) {
        err_set(err, ERR_CONFIG, mark, "path '%s' goes through %s at '%.*s', not a mapping or a list", full,
                node_kind_name(at), (int)(path - full - 1 > 0 ? path - full - 1 : 0), full);
        return NULL;
    } else {
        m = map_copy(a, at, 1);
    }
    if (!m) return NULL;
    node_pair_t *slot = NULL;
    for (size_t j = 0; j < m->n; j++)
        if (strcmp(m->pairs[j].key, seg) == 0) slot = &m->pairs[j];
    if (!slot) {
        slot = &m->pairs[m->n++];
        slot->key = seg;
        slot->key_mark = mark;
        slot->value = NULL;
    }
    if (dot) {
        node_t *child = set_path_rec(a, slot->value, dot + 1, value, mark, full, err);
        if (!child) return NULL;
        slot->value = child;
    } else {
        slot->value = value;
    }
    return m;
}

err_code_t node_set_path(arena_t *a, node_t *root, const char *path, node_t *value, mark_t mark,
                         node_t **out, err_t *err)
{
    err->code = ERR_OK;
    node_t *r = set_path_rec(a, root, path, value, mark, path, err);
    if (!r) return err->code != ERR_OK ? err->code : err_set(err, ERR_NOMEM, mark, "out of memory");
    *out = r;
    return ERR_OK;
}

node_t *node_with_origin(arena_t *a, const node_t *n, int origin)
{
    node_t *c = node_new(a, n->kind, n->mark, origin);
    if (!c) return NULL;
    c->quoted = n->quoted;
    c->text = n->text;
    c->n = n->n;
    if (n->kind == NODE_SEQ) {
        c->items = arena_alloc(a, n->n * sizeof *c->items);
        for (size_t i = 0; i < n->n; i++)
            if (!(c->items[i] = node_with_origin(a, n->items[i], origin))) return NULL;
    } else if (n->kind == NODE_MAP) {
        c->pairs = arena_alloc(a, n->n * sizeof *c->pairs);
        for (size_t i = 0; i < n->n; i++) {
            c->pairs[i] = n->pairs[i];
            if (!(c->pairs[i].value = node_with_origin(a, n->pairs[i].value, origin))) return NULL;
        }
    }
    return c;
}

err_code_t node_unknown_key(const node_pair_t *p, const char *where, const char *const *keys, size_t n, err_t *err)
{
    const char *near = closest_match(p->key, keys, n);
    if (near)
        return err_set(err, ERR_CONFIG, p->key_mark, "unknown key '%s'%s (did you mean '%s'?)", p->key, where, near);
    char list[400] = "";
    for (size_t i = 0; i < n; i++) {
        strncat(list, keys[i], sizeof list - strlen(list) - 1);
        if (i + 1 < n) strncat(list, ", ", sizeof list - strlen(list) - 1);
    }
    return err_set(err, ERR_CONFIG, p->key_mark, "unknown key '%s'%s (expected one of: %s)", p->key, where, list);
}

/* ---- scalars --------------------------------------------------------- */

static bool is_one_of(const char *s, const char *const *words)
{
    for (; *words; words++)
        if (strcmp(s, *words) == 0) return true;
    return false;
}

static bool match_digits(const char **p, int (*cls)(int))
{
    const char *s = *p;
    while (**p && cls((unsigned char)**p)) (*p)++;
    return *p > s;
}

static bool looks_int(const char *s)
{
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
        const char *p = s + 2;
        return match_digits(&p, s[1] == 'x' ? isxdigit : isdigit) && !*p;
    }
    if (*s == '-' || *s == '+') s++;
    return match_digits(&s, isdigit) && !*s;
}

static bool looks_float(const char *s)
{
    if (*s == '-' || *s == '+') s++;
    if (is_one_of(s, (const char *const[]){".inf", ".Inf", ".INF", NULL})) return true;
    bool lead = match_digits(&s, isdigit), frac = false;
    if (*s == '.') {
        s++;
        frac = match_digits(&s, isdigit);
    }
    if (!lead && !frac) return false;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '-' || *s == '+') s++;
        if (!match_digits(&s, isdigit)) return false;
    }
    return !*s;
}

scalar_type_t scalar_type(const node_t *n)
{
    if (n->kind != NODE_SCALAR || n->quoted) return SCALAR_STRING;
    const char *s = n->text;
    if (is_one_of(s, (const char *const[]){"", "~", "null", "Null", "NULL", NULL})) return SCALAR_NULL;
    if (is_one_of(s, (const char *const[]){"true", "True", "TRUE", "false", "False", "FALSE", NULL}))
        return SCALAR_BOOL;
    if (looks_int(s)) return SCALAR_INT;
    if (looks_float(s) || is_one_of(s, (const char *const[]){".nan", ".NaN", ".NAN", NULL})) return SCALAR_FLOAT;
    return SCALAR_STRING;
}

const char *scalar_type_name(scalar_type_t t)
{
    static const char *const names[] = {"null", "a boolean", "an integer", "a number", "a string"};
    return names[t];
}

/* "a string 'abc'" / "a list" ... for messages. */
static const char *describe(const node_t *n, char *buf, size_t len)
{
    if (n->kind != NODE_SCALAR) return node_kind_name(n);
    snprintf(buf, len, "%s '%.40s'", scalar_type_name(scalar_type(n)), n->text);
    return buf;
}

err_code_t node_to_double(const node_t *n, const char *what, double *out, err_t *err)
{
    char buf[96];
    scalar_type_t t = scalar_type(n);
    if (t != SCALAR_INT && t != SCALAR_FLOAT)
        return err_set(err, ERR_CONFIG, n->mark, "expected a number for %s, got %s", what, describe(n, buf, sizeof buf));
    const char *s = n->text;
    double v;
    if (t == SCALAR_INT && s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
        errno = 0;
        unsigned long long u = strtoull(s + 2, NULL, s[1] == 'x' ? 16 : 8);
        if (errno == ERANGE) return err_set(err, ERR_CONFIG, n->mark, "number '%s' for %s is out of range", s, what);
        v = (double)u;
    } else {
        /* YAML spells infinity .inf; strtod does not know it, and a non-finite
         * value is never a valid setting anyway. */
        if (strstr(s, "inf") || strstr(s, "Inf") || strstr(s, "INF") || strstr(s, "nan") || strstr(s, "NaN") ||
            strstr(s, "NAN"))
            return err_set(err, ERR_CONFIG, n->mark, "expected a finite number for %s, got '%s'", what, s);
        char *end;
        errno = 0;
        v = strtod(s, &end);
        if (*end) return err_set(err, ERR_CONFIG, n->mark, "expected a number for %s, got '%s'", what, s);
        if (errno == ERANGE && fabs(v) > 1.0)
            return err_set(err, ERR_CONFIG, n->mark, "number '%.40s' for %s is out of range (beyond +-%g)", s, what,
                           1.7976931348623157e308);
    }
    *out = v;
    return ERR_OK;
}

err_code_t node_to_int64(const node_t *n, const char *what, int64_t min, int64_t max, int64_t *out, err_t *err)
{
    char buf[96];
    scalar_type_t t = scalar_type(n);
    if (t != SCALAR_INT) {
        /* 1e3 or 10.0 are integers a user may reasonably write. */
        double d;
        if (t == SCALAR_FLOAT && node_to_double(n, what, &d, err) == ERR_OK && d == floor(d) && fabs(d) < 9e15) {
            if (d < (double)min || d > (double)max)
                return err_set(err, ERR_CONFIG, n->mark, "%s must be between %" PRId64 " and %" PRId64 ", got %s",
                               what, min, max, n->text);
            *out = (int64_t)d;
            return ERR_OK;
        }
        return err_set(err, ERR_CONFIG, n->mark, "expected an integer for %s, got %s", what, describe(n, buf, sizeof buf));
    }
    const char *s = n->text;
    int base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) base = s[1] == 'x' ? 16 : 8, s += 2;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, base);
    if (errno == ERANGE || v < min || v > max)
        return err_set(err, ERR_CONFIG, n->mark, "%s must be between %" PRId64 " and %" PRId64 ", got %s", what, min,
                       max, n->text);
    *out = v;
    return ERR_OK;
}

err_code_t node_to_bool(const node_t *n, const char *what, bool *out, err_t *err)
{
    char buf[96];
    if (scalar_type(n) != SCALAR_BOOL)
        return err_set(err, ERR_CONFIG, n->mark, "expected true or false for %s, got %s", what,
                       describe(n, buf, sizeof buf));
    *out = n->text[0] == 't' || n->text[0] == 'T';
    return ERR_OK;
}

err_code_t node_to_string(const node_t *n, const char *what, const char **out, err_t *err)
{
    char buf[96];
    if (n->kind != NODE_SCALAR || scalar_type(n) == SCALAR_NULL)
        return err_set(err, ERR_CONFIG, n->mark, "expected a string for %s, got %s", what, describe(n, buf, sizeof buf));
    *out = n->text;
    return ERR_OK;
}

/* ---- emission -------------------------------------------------------- */

typedef struct {
    char *buf;
    size_t len, cap;
    bool failed;
} sbuf_t;

static void sb_put(sbuf_t *b, const char *s, size_t n)
{
    if (b->failed) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->len + n + 1) cap *= 2;
        char *nb = realloc(b->buf, cap);
        if (!nb) {
            b->failed = true;
            return;
        }
        b->buf = nb;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, s, n);
    b->len += n;
    b->buf[b->len] = 0;
}
static void sb_str(sbuf_t *b, const char *s) { sb_put(b, s, strlen(s)); }

/* Plain when it reads back as the same scalar: typed scalars (numbers,
 * booleans, null) as written, strings only when they look like identifiers
 * or paths; everything else double-quoted. */
static bool plain_safe(const char *s)
{
    if (!isalpha((unsigned char)*s) && *s != '_' && *s != '/' && *s != '.') return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("_./-+", *s)) return false;
    return true;
}

static void emit_scalar(sbuf_t *b, const node_t *n)
{
    const char *s = n->text;
    scalar_type_t t = scalar_type(n);
    bool plain = !n->quoted && (t != SCALAR_STRING || plain_safe(s));
    if (n->quoted && plain_safe(s)) {
        /* a quoted identifier stays a string when plain unless it would read as a typed scalar */
        node_t probe = {.kind = NODE_SCALAR, .text = s};
        plain = scalar_type(&probe) == SCALAR_STRING;
    }
    if (plain) {
        sb_str(b, s);
        return;
    }
    sb_str(b, "\"");
    for (; *s; s++) {
        char esc[8];
        if (*s == '"' || *s == '\\') {
            esc[0] = '\\', esc[1] = *s, esc[2] = 0;
        } else if ((unsigned char)*s < 0x20) {
            snprintf(esc, sizeof esc, "\\x%02x", (unsigned char)*s);
        } else {
            esc[0] = *s, esc[1] = 0;
        }
        sb_str(b, esc);
    }
    sb_str(b, "\"");
}

static void emit_flow(sbuf_t *b, const node_t *n)
{
    if (n->kind == NODE_SCALAR) {
        emit_scalar(b, n);
    } else if (n->kind == NODE_SEQ) {
        sb_str(b, "[");
        for (size_t i = 0; i < n->n; i++) {
            if (i) sb_str(b, ", ");
            emit_flow(b, n->items[i]);
        }
        sb_str(b, "]");
    } else {
        sb_str(b, "{");
        for (size_t i = 0; i < n->n; i++) {
            if (i) sb_str(b, ", ");
            node_t key = {.kind = NODE_SCALAR, .text = n->pairs[i].key};
            emit_scalar(b, &key);
            sb_str(b, ": ");
            emit_flow(b, n->pairs[i].value);
        }
        sb_str(b, "}");
    }
}

static void emit_block(sbuf_t *b, const node_t *n, int indent)
{
    if (n->kind != NODE_MAP || n->n == 0) {
        emit_flow(b, n);
        sb_str(b, "\n");
        return;
    }
    for (size_t i = 0; i < n->n; i++) {
        for (int k = 0; k < indent; k++) sb_str(b, "  ");
        node_t key = {.kind = NODE_SCALAR, .text = n->pairs[i].key};
        emit_scalar(b, &key);
        const node_t *v = n->pairs[i].value;
        if (v->kind == NODE_MAP && v->n > 0) {
            sb_str(b, ":\n");
            emit_block(b, v, indent + 1);
        } else {
            sb_str(b, ": ");
            emit_block(b, v, indent + 1);
        }
    }
}

static char *finish(arena_t *a, sbuf_t *b)
{
    char *r = b->failed ? NULL : arena_strdup(a, b->buf ? b->buf : "");
    free(b->buf);
    return r;
}

char *node_to_flow(arena_t *a, const node_t *n)
{
    sbuf_t b = {0};
    emit_flow(&b, n);
    return finish(a, &b);
}

char *node_to_block(arena_t *a, const node_t *n)
{
    sbuf_t b = {0};
    emit_block(&b, n, 0);
    return finish(a, &b);
}
