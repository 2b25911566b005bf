/* cmd_plugins.c: `runner plugins` and `runner describe NAME`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cells/analytic/objectives.h"
#include "cli/commands.h"
#include "config/schema.h"

COMMAND(plugins)
{
    (void)g, (void)ctx;
    *exit_status = 2;
    size_t n_pos;
    err_code_t rc = cli_parse_options(argc, argv, NULL, NULL, NULL, 0, &n_pos, err);
    if (rc) return rc;
    *exit_status = 0;
    printf("%-10s %-22s %-8s %s\n", "KIND", "NAME", "VERSION", "DESCRIPTION");
    for (size_t i = 0; i < reg->n_plugins; i++) {
        const plugin_entry_t *p = &reg->plugins[i];
        if (p->shadowed) continue;
        printf("%-10s %-22s %-8s %s\n", plugin_kind_name(p->desc->kind), p->desc->name, p->desc->version, p->desc->doc);
        printf("%-10s %-22s %-8s   from %s\n", "", "", "", p->file);
    }
    for (size_t i = 0; i < reg->n_plugins; i++) {
        const plugin_entry_t *p = &reg->plugins[i];
        if (p->shadowed) printf("shadowed: %s %s in %s (an earlier one wins)\n", plugin_kind_name(p->desc->kind), p->desc->name, p->file);
    }
    size_t n_obj;
    const objective_def_t *obj = objective_table(&n_obj);
    for (size_t i = 0; i < n_obj; i++)
        printf("%-10s %-22s %-8s %s\n", "objective", obj[i].name, "built-in", obj[i].doc);
    for (size_t i = 0; i < reg->n_failures; i++)
        printf("refused: %s: %s\n", reg->failures[i].file, reg->failures[i].reason);
    printf("searched:");
    for (size_t i = 0; i < reg->n_dirs; i++) printf(" %s", reg->dirs[i]);
    printf("\n");
    return ERR_OK;
}

static const char *type_name(uint32_t t)
{
    return t == RUNNER_PARAM_FLOAT ? "float" : t == RUNNER_PARAM_INT ? "int" : t == RUNNER_PARAM_BOOL ? "bool" : "choice";
}

/* A built-in objective: what it is and how many parameters it takes. */
static err_code_t describe_objective(const objective_def_t *o)
{
    printf("%s (objective, built in)\n  %s\n  parameters: ", o->name, o->doc);
    if (o->min_dim == o->max_dim) printf("%zu", o->min_dim);
    else printf("%zu to %zu", o->min_dim, o->max_dim);
    if (o->param_names) {
        printf(" (");
        for (size_t i = 0; i < o->min_dim; i++) printf("%s%s", i ? ", " : "", o->param_names[i]);
        printf(")");
    }
    printf(", the length of problem.start\n  use: problem: {objective: %s, start: [...]}\n", o->name);
    return ERR_OK;
}

COMMAND(describe)
{
    (void)g, (void)ctx;
    *exit_status = 2;
    const char *name;
    size_t n_pos;
    err_code_t rc = cli_parse_options(argc, argv, NULL, NULL, &name, 1, &n_pos, err);
    if (rc) return rc;
    if (n_pos != 1) return err_set(err, ERR_USAGE, (mark_t){0}, "describe needs one plugin name: runner describe NAME");
    *exit_status = 0;
    const plugin_entry_t *p = NULL;
    for (size_t i = 0; i < reg->n_plugins && !p; i++)
        if (!reg->plugins[i].shadowed && !strcmp(reg->plugins[i].desc->name, name)) p = &reg->plugins[i];
    if (!p) {
        const objective_def_t *o = objective_find(name);
        if (o) return describe_objective(o);
        /* a plugin of that name that was refused: say why, as a sweep does */
        for (size_t i = 0; i < reg->n_failures; i++) {
            const char *base = strrchr(reg->failures[i].file, '/');
            base = base ? base + 1 : reg->failures[i].file;
            char quoted[128];
            snprintf(quoted, sizeof quoted, "'%s'", name);
            if ((!strncmp(base, name, strlen(name)) && !strcmp(base + strlen(name), ".so")) ||
                strstr(reg->failures[i].reason, quoted))
                return err_set(err, ERR_USAGE, (mark_t){0}, "plugin '%s' was refused: %s: %s", name,
                               reg->failures[i].file, reg->failures[i].reason);
        }
        /* the nearest name of either kind: optimizers and layers share `describe` */
        size_t n = 0;
        const char **names = malloc((reg->n_plugins + 1) * sizeof *names);
        for (size_t i = 0; names && i < reg->n_plugins; i++)
            if (!reg->plugins[i].shadowed) names[n++] = reg->plugins[i].desc->name;
        const char *near = names ? closest_match(name, names, n) : NULL;
        err_set(err, ERR_USAGE, (mark_t){0}, "no plugin named '%s'%s%s%s (`runner plugins` lists them)", name,
                near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
        free(names);
        return ERR_USAGE;
    }
    const runner_plugin_t *d = p->desc;
    printf("%s %s (%s, plugin ABI %u.%u)\n  %s\n  file: %s\n\n", d->name, d->version, plugin_kind_name(d->kind),
           d->abi_major, d->abi_minor, d->doc, p->file);
    printf("  %-28s %-6s %-12s %-22s %s\n", "PARAMETER", "TYPE", "DEFAULT", "RANGE", "DESCRIPTION");
    for (uint32_t i = 0; i < d->n_params; i++) {
        const runner_param_t *sp = &d->params[i];
        char def[32], range[96];
        if (sp->flags & RUNNER_PARAM_REQUIRED) snprintf(def, sizeof def, "(required)");
        else if (sp->type == RUNNER_PARAM_INT) snprintf(def, sizeof def, "%.0f", sp->default_value); /* 20, not 2e+01 */
        else schema_default_text(d, i, def, sizeof def);
        if (sp->type == RUNNER_PARAM_CHOICE) {
            const char *const *names = param_choices(d, i);
            size_t used = 0;
            range[0] = 0;
            for (size_t k = 0; names[k] && used < sizeof range; k++)
                used += (size_t)snprintf(range + used, sizeof range - used, "%s%s", k ? "|" : "", names[k]);
        } else {
            param_range_text(sp, range, sizeof range);
        }
        printf("  %-28s %-6s %-12s %-22s %s%s\n", sp->name, type_name(sp->type), def, range, sp->doc,
               (sp->flags & RUNNER_PARAM_LOG) ? " [log scale]" : "");
    }
    return ERR_OK;
}
