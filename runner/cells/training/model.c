/* model.c: layer list -> resolved plugins, shapes and parameter offsets. */
#include "cells/training/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/text_safety.h"
#include "config/schema.h"


void shape_text(const runner_shape_t *s, char *buf, size_t len)
{
    size_t used = (size_t)snprintf(buf, len, "(");
    for (uint32_t i = 0; i < s->rank && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%u", i ? ", " : "", s->dim[i]);
    if (used < len) snprintf(buf + used, len - used, ")");
}

static err_code_t nomem(err_t *err) { return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory"); }

/* One layer mapping {name_key: NAME, param: value...} (or a bare NAME) -> spec. */
static err_code_t resolve_layer(arena_t *a, const node_t *node, const char *name_key, const registry_t *reg,
                                const char *where, layer_spec_t *ls, err_t *err)
{
    const node_t *name_node = node;
    if (node->kind == NODE_MAP) {
        name_node = node_get(node, name_key);
        if (!name_node)
            return err_set(err, ERR_CONFIG, node->mark, "%s needs '%s', e.g. {%s: affine, out: 100}", where, name_key,
                           name_key);
    } else if (node->kind != NODE_SCALAR) {
        return err_set(err, ERR_CONFIG, node->mark, "expected a layer for %s, like {%s: relu}, got %s", where, name_key,
                       node_kind_name(node));
    }
    const char *name;
    err_code_t rc;
    if ((rc = node_to_string(name_node, where, &name, err))) return rc;
    const plugin_entry_t *pe = registry_find(reg, RUNNER_KIND_LAYER, name);
    if (!pe) return schema_unknown_plugin(reg, RUNNER_KIND_LAYER, name_node->mark, name, err);
    const runner_plugin_t *d = pe->desc;
    double *hp = arena_alloc(a, (d->n_params + 1) * sizeof *hp);
    const char **texts = arena_alloc(a, (d->n_params + 1) * sizeof *texts);
    if (!hp || !texts) return nomem(err);
    for (uint32_t i = 0; i < d->n_params; i++) {
        hp[i] = d->params[i].default_value;
        texts[i] = NULL;
    }
    for (size_t j = 0; node->kind == NODE_MAP && j < node->n; j++) {
        const node_pair_t *p = &node->pairs[j];
        if (!strcmp(p->key, name_key)) continue;
        uint32_t i = 0;
        while (i < d->n_params && strcmp(d->params[i].name, p->key)) i++;
        if (i == d->n_params) return schema_unknown_key(d, "layer", p, err);
        char what[160];
        snprintf(what, sizeof what, "%s.%s", d->name, p->key);
        if ((rc = schema_value(d, i, p->value, what, &hp[i], &texts[i], err))) return rc;
    }
    for (uint32_t i = 0; i < d->n_params; i++) {
        if (texts[i]) continue;
        if (d->params[i].flags & RUNNER_PARAM_REQUIRED)
            return err_set(err, ERR_CONFIG, node->mark, "layer '%s' needs '%s' (%s; it has no default)", d->name,
                           d->params[i].name, d->params[i].doc);
        char buf[40];
        schema_default_text(d, i, buf, sizeof buf);
        if (!(texts[i] = arena_strdup(a, buf))) return nomem(err);
    }
    if ((rc = schema_resolve(a, d, hp, texts, err))) return rc;
    *ls = (layer_spec_t){.plugin = pe, .desc = d, .hp = hp, .mark = node->mark, .text = schema_record(a, d, texts)};
    return ls->text ? ERR_OK : nomem(err);
}

/* Run the layer's shape inference on ls->in. */
static err_code_t infer_shape(layer_spec_t *ls, const char *where, err_t *err)
{
    runner_err_t perr = {{0}};
    if (ls->desc->layer->shape(ls->hp, &ls->in, &ls->out, &ls->n_params, &perr) != RUNNER_OK) {
        perr.msg[RUNNER_ERR_MAX - 1] = 0;
        text_make_safe(perr.msg);
        char in[64];
        shape_text(&ls->in, in, sizeof in);
        return err_set(err, ERR_CONFIG, ls->mark, "%s (%s) cannot take input of shape %s: %s", where, ls->desc->name, in,
                       perr.msg[0] ? perr.msg : "the layer refused it");
    }
    size_t o = runner_shape_size(&ls->out);
    if (ls->out.rank < 1 || ls->out.rank > RUNNER_MAX_RANK || o == 0 || o > (1u << 28))
        return err_set(err, ERR_CONFIG, ls->mark, "%s (%s) gives an output of %zu values per sample", where,
                       ls->desc->name, o);
    return ERR_OK;
}

node_t *model_fill_defaults(arena_t *a, const node_t *model, const registry_t *reg)
{
    if (model->kind != NODE_SEQ) return (node_t *)model;
    node_t *full = node_new(a, NODE_SEQ, model->mark, model->origin);
    if (!full || !(full->items = arena_alloc(a, (model->n + 1) * sizeof *full->items))) return NULL;
    for (size_t i = 0; i < model->n; i++) {
        node_t *layer = model->items[i];
        const node_t *name = layer->kind == NODE_MAP ? node_get(layer, "layer") : layer;
        const plugin_entry_t *pe = name && name->kind == NODE_SCALAR ? registry_find(reg, RUNNER_KIND_LAYER, name->text) : NULL;
        node_t *filled = pe ? schema_full_mapping(a, pe->desc, "layer", layer->kind == NODE_MAP ? layer : NULL) : layer;
        if (!filled) return NULL;
        full->items[full->n++] = filled;
    }
    return full;
}

err_code_t model_compile(arena_t *a, const node_t *model, const node_t *loss, const registry_t *reg,
                         runner_shape_t input, size_t n_classes, model_t **out, err_t *err)
{
    if (model->kind != NODE_SEQ || model->n == 0)
        return err_set(err, ERR_CONFIG, model->mark,
                       "expected a list of layers for model, like [{layer: affine, out: 10}], got %s",
                       model->kind == NODE_SEQ ? "an empty list" : node_kind_name(model));
    if (model->n > MODEL_MAX_LAYERS)
        return err_set(err, ERR_CONFIG, model->mark, "the model has %zu layers, more than %d", model->n,
                       MODEL_MAX_LAYERS);
    model_t *m = arena_alloc(a, sizeof *m);
    if (!m || !(m->layers = arena_alloc(a, model->n * sizeof *m->layers))) return nomem(err);
    m->n_layers = model->n;
    m->input = input;
    m->n_params = 0;
    m->max_width = runner_shape_size(&input);
    runner_shape_t shape = input;
    err_code_t rc;
    char *text = NULL;
    size_t text_len = 0;
    for (size_t i = 0; i < model->n; i++) {
        layer_spec_t *ls = &m->layers[i];
        char where[48];
        snprintf(where, sizeof where, "model layer %zu", i + 1);
        if ((rc = resolve_layer(a, model->items[i], "layer", reg, where, ls, err))) return rc;
        if (ls->desc->layer->flags & RUNNER_LAYER_LOSS)
            return err_set(err, ERR_CONFIG, ls->mark, "'%s' is a loss: give it as `loss: %s`, not as a model layer",
                           ls->desc->name, ls->desc->name);
        ls->in = shape;
        if ((rc = infer_shape(ls, where, err))) return rc;
        ls->param_offset = m->n_params;
        m->n_params += ls->n_params;
        if (m->n_params > (size_t)1 << 31)
            return err_set(err, ERR_CONFIG, ls->mark, "the model has more than 2^31 parameters");
        shape = ls->out;
        if (runner_shape_size(&shape) > m->max_width) m->max_width = runner_shape_size(&shape);
        text_len += strlen(ls->text) + 4;
    }
    if (!loss) return err_set(err, ERR_CONFIG, model->mark, "a model needs a loss, e.g. loss: softmax_cross_entropy");
    if ((rc = resolve_layer(a, loss, "name", reg, "loss", &m->loss, err))) return rc;
    if (!(m->loss.desc->layer->flags & RUNNER_LAYER_LOSS))
        return err_set(err, ERR_CONFIG, loss->mark, "'%s' is a layer, not a loss (losses: softmax_cross_entropy, mse)",
                       m->loss.desc->name);
    if (runner_shape_size(&shape) != n_classes) {
        char s[64];
        shape_text(&shape, s, sizeof s);
        return err_set(err, ERR_CONFIG, model->items[model->n - 1]->mark,
                       "the model ends with output shape %s, but the data have %zu classes: end with "
                       "{layer: affine, out: %zu}",
                       s, n_classes, n_classes);
    }
    m->loss.in = shape;
    if ((rc = infer_shape(&m->loss, "the loss", err))) return rc;
    /* the record: layer -> layer -> ... | loss */
    text_len += strlen(m->loss.text) + 4;
    if (!(text = arena_alloc(a, text_len + 1))) return nomem(err);
    text[0] = 0;
    for (size_t i = 0; i < m->n_layers; i++) {
        if (i) strcat(text, " -> ");
        strcat(text, m->layers[i].text);
    }
    strcat(text, " | ");
    strcat(text, m->loss.text);
    m->text = text;
    *out = m;
    return ERR_OK;
}
