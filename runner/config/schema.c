/* schema.c: checking config values against plugin parameter schemas. */
#include "config/schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin_host/registry.h"

err_code_t schema_value(const runner_plugin_t *d, uint32_t i, const node_t *v, const char *what, double *out,
                        const char **text, err_t *err)
{
    const runner_param_t *sp = &d->params[i];
    err_code_t rc;
    *text = v->text;
    if (sp->type == RUNNER_PARAM_BOOL) {
        bool b;
        if ((rc = node_to_bool(v, what, &b, err))) return rc;
        *out = b;
        *text = b ? "true" : "false";
        return ERR_OK;
    }
    if (sp->type == RUNNER_PARAM_CHOICE) {
        const char *const *names = param_choices(d, i);
        const char *s;
        if ((rc = node_to_string(v, what, &s, err))) return rc;
        size_t n = param_choice_count(d, i);
        for (size_t k = 0; k < n; k++)
            if (!strcmp(names[k], s)) {
                *out = (double)k;
                *text = names[k];
                return ERR_OK;
            }
        char list[256] = "";
        for (size_t k = 0; k < n; k++) {
            if (k) strncat(list, ", ", sizeof list - strlen(list) - 1);
            strncat(list, names[k], sizeof list - strlen(list) - 1);
        }
        const char *near = closest_match(s, (const char *const *)names, n);
        return err_set(err, ERR_CONFIG, v->mark, "%s: '%s' is not one of %s%s%s%s", what, s, list,
                       near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
    }
    if (sp->type == RUNNER_PARAM_INT) {
        int64_t iv;
        if ((rc = node_to_int64(v, what, INT64_MIN / 2, INT64_MAX / 2, &iv, err))) return rc;
        *out = (double)iv;
    } else if ((rc = node_to_double(v, what, out, err))) {
        return rc;
    }
    char why[200];
    if (!param_value_valid(sp, *out, why, sizeof why)) return err_set(err, ERR_CONFIG, v->mark, "%s: %s", what, why);
    return ERR_OK;
}

void schema_value_text(const runner_plugin_t *d, uint32_t i, double v, char *buf, size_t len)
{
    const runner_param_t *sp = &d->params[i];
    if (sp->type == RUNNER_PARAM_BOOL) snprintf(buf, len, "%s", v != 0 ? "true" : "false");
    else if (sp->type == RUNNER_PARAM_CHOICE) snprintf(buf, len, "%s", param_choices(d, i)[(size_t)v]);
    else format_double(buf, len, v);
}

void schema_default_text(const runner_plugin_t *d, uint32_t i, char *buf, size_t len)
{
    schema_value_text(d, i, d->params[i].default_value, buf, len);
}

err_code_t schema_resolve(arena_t *a, const runner_plugin_t *d, double *hp, const char **texts, err_t *err)
{
    runner_resolve_fn resolve = (runner_resolve_fn)plugin_extension(d, RUNNER_EXT_RESOLVE);
    if (!resolve) return ERR_OK;
    double before[64];
    uint32_t n = d->n_params < 64 ? d->n_params : 64;
    memcpy(before, hp, n * sizeof *hp);
    resolve(hp);
    for (uint32_t i = 0; i < n; i++) {
        if (hp[i] == before[i]) continue;
        char why[200], buf[40];
        if (!param_value_valid(&d->params[i], hp[i], why, sizeof why))
            return err_set(err, ERR_CONFIG, (mark_t){0}, "plugin '%s' resolved '%s' to an invalid value: %s", d->name,
                           d->params[i].name, why);
        schema_value_text(d, i, hp[i], buf, sizeof buf);
        if (!(texts[i] = arena_strdup(a, buf))) return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
    }
    return ERR_OK;
}

err_code_t schema_unknown_key(const runner_plugin_t *d, const char *kind_word, const node_pair_t *p, err_t *err)
{
    const char *names[64] = {0};
    uint32_t n = d->n_params < 64 ? d->n_params : 64;
    for (uint32_t k = 0; k < n; k++) names[k] = d->params[k].name;
    const char *near = closest_match(p->key, names, n);
    if (near)
        return err_set(err, ERR_CONFIG, p->key_mark, "unknown key '%s' in %s '%s' (did you mean '%s'?)", p->key,
                       kind_word, d->name, near);
    if (n == 0)
        return err_set(err, ERR_CONFIG, p->key_mark, "unknown key '%s': %s '%s' has no parameters", p->key, kind_word,
                       d->name);
    return err_set(err, ERR_CONFIG, p->key_mark, "unknown key '%s' in %s '%s' (`runner describe %s` lists its parameters)",
                   p->key, kind_word, d->name, d->name);
}

node_t *schema_full_mapping(arena_t *a, const runner_plugin_t *d, const char *name_key, const node_t *given)
{
    mark_t m = {0};
    node_t *map = node_new(a, NODE_MAP, m, 0), *name = node_scalar(a, d->name, m, 0);
    if (!map || !name || !(map->pairs = arena_alloc(a, (d->n_params + 1) * sizeof *map->pairs))) return NULL;
    map->pairs[map->n++] = (node_pair_t){name_key, m, name};
    for (uint32_t i = 0; i < d->n_params; i++) {
        node_t *v = given && given->kind == NODE_MAP ? node_get(given, d->params[i].name) : NULL;
        if (!v && (d->params[i].flags & RUNNER_PARAM_REQUIRED)) continue;
        if (!v) {
            char buf[40];
            schema_default_text(d, i, buf, sizeof buf);
            const char *text = arena_strdup(a, buf);
            if (!text || !(v = node_scalar(a, text, m, 0))) return NULL;
        }
        map->pairs[map->n++] = (node_pair_t){d->params[i].name, m, v};
    }
    return map;
}

const char *schema_record(arena_t *a, const runner_plugin_t *d, const char *const *texts)
{
    char text[1024];
    size_t len = 0;
    const char *parts[3 + 4 * 64];
    size_t np = 0;
    parts[np++] = d->name;
    if (d->n_params) parts[np++] = "(";
    for (uint32_t i = 0; i < d->n_params && i < 64; i++) {
        parts[np++] = i ? ", " : "";
        parts[np++] = d->params[i].name;
        parts[np++] = "=";
        parts[np++] = texts[i];
    }
    if (d->n_params) parts[np++] = ")";
    for (size_t k = 0; k < np; k++) {
        size_t l = strlen(parts[k]);
        if (len + l >= sizeof text) l = sizeof text - 1 - len;
        memcpy(text + len, parts[k], l);
        len += l;
    }
    text[len] = 0;
    return arena_strdup(a, text);
}

err_code_t schema_unknown_plugin(const registry_t *reg, runner_kind_t kind, mark_t at, const char *name, err_t *err)
{
    const char *word = kind == RUNNER_KIND_LAYER ? "layer" : "optimizer";
    size_t n;
    const char **names = registry_names(reg, kind, &n);
    if (!names) return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
    const char *near = closest_match(name, names, n);
    char list[512] = "";
    for (size_t i = 0; i < n; i++) {
        strncat(list, names[i], sizeof list - strlen(list) - 1);
        if (i + 1 < n) strncat(list, ", ", sizeof list - strlen(list) - 1);
    }
    if (near) err_set(err, ERR_CONFIG, at, "unknown %s '%s' (did you mean '%s'?)", word, name, near);
    else err_set(err, ERR_CONFIG, at, "unknown %s '%s' (found: %s; `runner plugins` lists them)", word, name,
                 n ? list : "none");
    free(names);
    if (reg->n_failures)
        err_append(err, "; note: %zu plugin file%s could not be loaded, first %s: %s", reg->n_failures,
                   reg->n_failures == 1 ? "" : "s", reg->failures[0].file, reg->failures[0].reason);
    return ERR_CONFIG;
}
