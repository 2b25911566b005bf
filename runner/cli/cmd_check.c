/* cmd_check.c: `runner check PLUGIN.so`: load one file as the runner would,
 * then self-test each plugin in it (plugin_check.h), and give a verdict.
 * `runner check CONFIG`: the configured networks' backpropagation against
 * numerical gradients, layer by layer (gradient_check.h). */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cells/kind.h"
#include "cells/training/gradient_check.h"
#include "cells/training/train.h"
#include "cli/commands.h"
#include "config/yaml_load.h"
#include "plugin_host/plugin_check.h"
#include "version.h"

typedef struct {
    long samples, params;
} check_options_t;

static err_code_t set_samples(void *o, const char *v, err_t *err)
{
    if (!cli_parse_int(v, 1, 100000, &((check_options_t *)o)->samples))
        return err_set(err, ERR_USAGE, (mark_t){0}, "--samples needs a number from 1 to 100000, got '%s'", v);
    return ERR_OK;
}

static err_code_t set_params(void *o, const char *v, err_t *err)
{
    if (!cli_parse_int(v, 1, 1000000000, &((check_options_t *)o)->params))
        return err_set(err, ERR_USAGE, (mark_t){0}, "--params needs a number from 1 to 1000000000, got '%s'", v);
    return ERR_OK;
}

static const cli_option_t check_option_list[] = {
    {"--samples", NULL, "a number", set_samples},
    {"--params", NULL, "a number", set_params},
};
const cli_options_t cmd_check_options = {check_option_list, sizeof check_option_list / sizeof check_option_list[0]};

/* An ELF file is a plugin to check; anything else a config. */
static bool is_elf(const char *path)
{
    FILE *f = fopen(path, "rb");
    unsigned char magic[4] = {0};
    bool elf = f && fread(magic, 1, 4, f) == 4 && !memcmp(magic, "\177ELF", 4);
    if (f) fclose(f);
    return elf;
}

/* runner check CONFIG: each distinct model of the experiment, once, with
 * the seed of its first cell. */
static err_code_t check_config(const char *file, const check_options_t *o, registry_t *reg, run_context_t *ctx,
                               int *exit_status, err_t *err)
{
    size_t len;
    err_code_t rc = read_text_file(file, &ctx->config_text, &len, err);
    if (rc) return rc;
    experiment_t *exp = &ctx->exp;
    ctx->have_exp = true;
    if ((rc = experiment_load(exp, file, ctx->config_text, len, &(experiment_options_t){0}, reg, err))) return rc;
    if (exp->kind != &cell_kind_training)
        return err_set(err, ERR_USAGE, (mark_t){0},
                       "%s: its cells %s, with no network to check (runner check CONFIG checks a training config's "
                       "backpropagation; runner check PLUGIN.so checks a plugin)",
                       file, exp->kind->does);
    size_t failed = 0, models = 0;
    for (size_t c = 0; c < exp->n_cells; c++) {
        const train_config_t *tc = exp->cells[c].train;
        bool seen = false;
        for (size_t d = 0; d < c && !seen; d++) seen = !strcmp(exp->cells[d].train->model->text, tc->model->text);
        if (seen) continue;
        const model_t *m = tc->model;
        layer_check_t *lc = calloc(m->n_layers ? m->n_layers : 1, sizeof *lc);
        if (!lc) return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
        size_t B = (size_t)o->samples < tc->data->train.n ? (size_t)o->samples : tc->data->train.n;
        printf("%smodel %zu (cell %zu, seed %llu): %s\n", models ? "\n" : "", models, c,
               (unsigned long long)exp->cells[c].seed, m->text);
        printf("backpropagation against central and one-sided differences (h = %g to %g: the closest counts) on %zu "
               "training sample%s, training mode, up to %ld parameters a layer\n",
               gradcheck_h[0], gradcheck_h[GRADCHECK_STEPS - 1], B, B == 1 ? "" : "s", o->params);
        rc = gradient_check(&exp->cells[c], (size_t)o->samples, (size_t)o->params, lc, err);
        if (rc) {
            free(lc);
            return rc;
        }
        printf("%-6s %-16s %10s %8s %12s %12s  %s\n", "layer", "plugin", "params", "checked", "max |a - n|",
               "max relative", "verdict");
        for (size_t i = 0; i < m->n_layers; i++) {
            const layer_spec_t *ls = &m->layers[i];
            if (!lc[i].checked) {
                printf("%-6zu %-16s %10zu %8s %12s %12s  %s\n", i, ls->desc->name, ls->n_params, "-", "-", "-",
                       "(no parameters: checked through the layers before it)");
                continue;
            }
            printf("%-6zu %-16s %10zu %8zu %12.3g %12.3g  %s", i, ls->desc->name, ls->n_params, lc[i].checked,
                   lc[i].max_abs, lc[i].max_rel, lc[i].ok ? "ok" : "FAIL");
            if (lc[i].at_kinks)
                printf(" (%zu at a kink: no difference decides)", lc[i].at_kinks);
            if (!lc[i].ok)
                printf(" (parameter %zu: analytic %.6g, numeric %.6g%s)", lc[i].worst, lc[i].worst_analytic,
                       lc[i].worst_numeric,
                       fmax(fabs(lc[i].worst_analytic), fabs(lc[i].worst_numeric)) < 5 * GRADCHECK_ATOL
                           ? "; a gradient this small is near what float32 differences resolve"
                           : "");
            printf("\n");
            failed += !lc[i].ok;
        }
        free(lc);
        models++;
    }
    if (failed)
        printf("verdict: FAIL (%zu layer%s beyond %g + %g x |gradient| at every step size; a ReLU or max-pool input "
               "within h of its kink can fail one parameter by chance: try --samples with another count)\n",
               failed, failed == 1 ? "" : "s", GRADCHECK_ATOL, GRADCHECK_RTOL);
    else
        printf("verdict: PASS (%zu model%s, every layer within %g + %g x |gradient|)\n", models, models == 1 ? "" : "s",
               GRADCHECK_ATOL, GRADCHECK_RTOL);
    *exit_status = failed ? 1 : 0;
    return ERR_OK;
}

/* A plugin of the same kind and name that the search order puts first
 * would shadow this one in a sweep: say so. */
static void note_shadowing(const registry_t *found, const plugin_entry_t *pe)
{
    const plugin_entry_t *win = registry_find(found, pe->desc->kind, pe->desc->name);
    if (win && strcmp(win->file, pe->file))
        printf("  note: %s is also the name of %s, which comes first in the search order; in a sweep that one "
               "would be used (rename this one)\n", pe->desc->name, win->file);
}

COMMAND(check)
{
    (void)g;
    char path[PATH_MAX];
    *exit_status = 2;
    const char *file;
    size_t n_pos;
    check_options_t co = {.samples = 3, .params = 20};
    err_code_t prc = cli_parse_options(argc, argv, &cmd_check_options, &co, &file, 1, &n_pos, err);
    if (prc) return prc;
    if (n_pos != 1)
        return err_set(err, ERR_USAGE, (mark_t){0},
                       "check needs one plugin file or one config: runner check PLUGIN.so, runner check CONFIG");
    /* a plugin: a .so name or an ELF file (either way, refused with the
     * reason when it is not one); a config otherwise */
    size_t flen = strlen(file);
    bool so_name = flen > 3 && !strcmp(file + flen - 3, ".so");
    if (!so_name && access(file, R_OK) == 0 && !is_elf(file)) return check_config(file, &co, reg, ctx, exit_status, err);
    /* a path, never a bare name dlopen would look up in the library path */
    if (!realpath(file, path))
        return err_set(err, ERR_IO, (mark_t){file, 0, 0}, "no such plugin file (give the path to a .so)");
    registry_t one; /* this file alone */
    registry_init(&one);
    one.allow_insecure = reg->allow_insecure;
    err_t why = {0};
    err_code_t rc = registry_load_file(&one, path, &why);
    if (rc == ERR_NOMEM) {
        *err = why;
    } else if (rc) {
        printf("%s: refused: %s\nverdict: FAIL (the runner would not load this file)\n", file, why.msg);
        *exit_status = 1;
        rc = ERR_OK;
    } else {
        size_t failed = 0;
        for (size_t i = 0; i < one.n_plugins; i++) {
            const plugin_entry_t *pe = &one.plugins[i];
            const runner_plugin_t *d = pe->desc;
            printf("%s %s (%s, plugin ABI %u.%u): descriptor and schema valid, %u parameter%s\n", d->name, d->version,
                   plugin_kind_name(d->kind), d->abi_major, d->abi_minor, d->n_params, d->n_params == 1 ? "" : "s");
            note_shadowing(reg, pe);
            bool ok = plugin_self_test(stdout, d);
            failed += !ok;
            fflush(stdout);
        }
        if (failed)
            printf("verdict: FAIL (%zu of %zu plugin%s in %s failed its self-test)\n", failed, one.n_plugins,
                   one.n_plugins == 1 ? "" : "s", file);
        else
            printf("verdict: PASS (%zu plugin%s in %s; runner %s, plugin ABI %d.%d)\n", one.n_plugins,
                   one.n_plugins == 1 ? "" : "s", file, RUNNER_VERSION, RUNNER_ABI_MAJOR, RUNNER_ABI_MINOR);
        *exit_status = failed ? 1 : 0;
    }
    registry_free(&one);
    return rc;
}
