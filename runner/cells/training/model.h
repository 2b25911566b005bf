/*
 * model.h: a config's `model:` list and `loss:` compiled into a chain of
 * resolved layer plugins with their shapes (darknet's shape inference, in
 * the host): each layer's output shape is the next one's input, checked
 * when the config is loaded, and a layer that cannot take its input is an
 * error at that layer's line.
 *
 *   model:
 *     - {layer: affine, out: 100, init: he}
 *     - {layer: relu}
 *     - {layer: affine, out: 10}
 *   loss: softmax_cross_entropy        # or {name: mse}
 *
 * The parameters of all layers live in one flat array, layer after layer
 * (param_offset), so any optimizer plugin runs on a network unchanged.
 */
#ifndef RUNNER_MODEL_H
#define RUNNER_MODEL_H

#include <runner/plugin.h>

#include "base/arena.h"
#include "config/node.h"
#include "plugin_host/registry.h"

typedef struct {
    const plugin_entry_t *plugin;
    const runner_plugin_t *desc; /* plugin->desc */
    const double *hp;     /* schema order */
    const char *text;     /* "affine(out=100, init=he, scale=0.01)" */
    mark_t mark;
    runner_shape_t in, out;
    size_t n_params, param_offset;
} layer_spec_t;

#define MODEL_MAX_LAYERS 1024

typedef struct {
    layer_spec_t *layers;
    size_t n_layers;
    layer_spec_t loss;   /* in = out = the last layer's output */
    size_t n_params;     /* all layers */
    runner_shape_t input;
    size_t max_width;    /* largest per-sample size of any layer's input or output */
    const char *text;    /* the layers' texts, " -> " between, then " | loss" */
} model_t;

/* Compile for samples of shape `input` and labels in [0, n_classes). */
/* For the resolved config: the model list with each layer written out in
 * full, every parameter given or defaulted (schema_full_mapping); layers it
 * cannot name stay as written. NULL when out of memory. */
node_t *model_fill_defaults(arena_t *a, const node_t *model, const registry_t *reg);

err_code_t model_compile(arena_t *a, const node_t *model, const node_t *loss, const registry_t *reg,
                         runner_shape_t input, size_t n_classes, model_t **out, err_t *err);

/* "(1, 28, 28)" */
void shape_text(const runner_shape_t *s, char *buf, size_t len);

#endif
