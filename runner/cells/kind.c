/* kind.c: the table of cell kinds. */
#include "cells/kind.h"

#include <stddef.h>

/* Training claims cells with model:; analytic, the default, all others. */
const cell_kind_t *const cell_kinds[] = {&cell_kind_training, &cell_kind_analytic, NULL};

const cell_kind_t *cell_kind_of(const struct node *tree)
{
    for (size_t i = 0; cell_kinds[i + 1]; i++)
        if (cell_kinds[i]->claims(tree)) return cell_kinds[i];
    return cell_kinds[sizeof cell_kinds / sizeof cell_kinds[0] - 2];
}
