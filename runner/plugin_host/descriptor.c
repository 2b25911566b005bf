/* descriptor.c: what makes a plugin descriptor valid: the ABI's version and
 * size rules (plugin.h), its operations, and its parameter schema. */
#include "plugin_host/descriptor.h"

#include "base/text_safety.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define MAX_PARAMS 64

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

const void *plugin_extension(const runner_plugin_t *d, const char *name)
{
    if (!RUNNER_HAS_FIELD(d, runner_plugin_t, extension) || !d->extension) return NULL;
    return d->extension(name);
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
    /* printed to terminals and stored in results files: printable UTF-8 only */
    size_t at;
    const char *texts[2][2] = {{"version", d->version}, {"doc", d->doc}};
    for (int t = 0; t < 2; t++)
        if (!text_is_safe(texts[t][1], &at)) {
            snprintf(msg, len, "plugin '%s': its %s holds a control character or invalid UTF-8 (byte %zu)", d->name,
                     texts[t][0], at);
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
        if (!text_is_safe(p->doc, &at)) {
            snprintf(msg, len, "plugin '%s': the doc of parameter '%s' holds a control character or invalid UTF-8 "
                     "(byte %zu)", d->name, p->name, at);
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
