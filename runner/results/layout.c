/* layout.c: building a layout; what each kind writes is in cells/<kind>. */
#include "results/layout.h"

#include <assert.h>

#include "cells/kind.h"
#include "config/experiment.h"

void layout_of(const experiment_t *exp, layout_t *l)
{
    *l = (layout_t){0};
    exp->kind->layout(exp, l);
}

int layout_add_dim(layout_t *l, layout_dim_t dim)
{
    assert(l->n_dims < LAYOUT_MAX_DIMS && "a cell kind declares more dimensions than LAYOUT_MAX_DIMS");
    if (l->n_dims >= LAYOUT_MAX_DIMS) return -1; /* release builds: never past the array */
    l->dims[l->n_dims] = dim;
    return (int)l->n_dims++;
}

int layout_add_var(layout_t *l, const char *name, const char *long_name, int d0, int d1)
{
    assert(l->n_vars < LAYOUT_MAX_VARS && "a cell kind declares more variables than LAYOUT_MAX_VARS");
    assert(d0 >= 0 && (size_t)d0 < l->n_dims && d1 < (int)l->n_dims);
    if (l->n_vars >= LAYOUT_MAX_VARS) return -1;
    layout_var_t *v = &l->vars[l->n_vars];
    *v = (layout_var_t){.name = name, .long_name = long_name, .n_dims = d1 < 0 ? 1 : 2, .dims = {d0, d1}};
    v->per_cell = l->dims[d0].n * (d1 < 0 ? 1 : l->dims[d1].n);
    l->floats_per_cell += v->per_cell;
    return (int)l->n_vars++;
}

int layout_add_var3(layout_t *l, const char *name, const char *long_name, int d0, int d1, int d2)
{
    assert(d2 >= 0 && (size_t)d2 < l->n_dims && d1 >= 0);
    int v = layout_add_var(l, name, long_name, d0, d1);
    if (v < 0) return v;
    layout_var_t *lv = &l->vars[v];
    lv->n_dims = 3;
    lv->dims[2] = d2;
    l->floats_per_cell -= lv->per_cell;
    lv->per_cell *= l->dims[d2].n;
    l->floats_per_cell += lv->per_cell;
    return v;
}
