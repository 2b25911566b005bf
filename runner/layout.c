/* layout.c: the per-cell variables of each cell kind. */
#include "layout.h"

static void add_var(layout_t *l, const char *name, const char *long_name, int d0, int d1)
{
    layout_var_t *v = &l->vars[l->n_vars++];
    *v = (layout_var_t){.name = name, .long_name = long_name, .n_dims = d1 < 0 ? 1 : 2, .dims = {d0, d1}};
    v->per_cell = l->dims[d0].n * (d1 < 0 ? 1 : l->dims[d1].n);
    l->floats_per_cell += v->per_cell;
}

void layout_of(const experiment_t *exp, layout_t *l)
{
    *l = (layout_t){0};
    if (!exp->training) {
        l->dims[0] = (layout_dim_t){"step", exp->max_steps + 1, 0, NULL, "optimizer step (0 is the start point)"};
        l->dims[1] = (layout_dim_t){"param", exp->max_dim, 0, exp->param_names, "parameter"};
        l->n_dims = 2;
        add_var(l, "params", "parameters at each step (step 0 is the start point)", 0, 1);
        add_var(l, "loss", "objective value at each step", 0, -1);
        add_var(l, "grad_norm", "L2 norm of the gradient at each step", 0, -1);
        return;
    }
    l->dims[0] = (layout_dim_t){"iteration", exp->max_steps, 1, NULL, "optimizer step (batch) from 1"};
    l->dims[1] = (layout_dim_t){"epoch", exp->max_epochs + 1, 0, NULL, "evaluation after this many epochs (0: before training)"};
    l->n_dims = 2;
    add_var(l, "train_loss", "loss of each step's batch (with the weight-decay term)", 0, -1);
    add_var(l, "train_accuracy", "accuracy on the training samples, evaluation mode", 1, -1);
    add_var(l, "train_epoch_loss", "mean loss on the training samples, evaluation mode", 1, -1);
    add_var(l, "test_accuracy", "accuracy on the test set", 1, -1);
    add_var(l, "test_loss", "mean loss on the test set", 1, -1);
    add_var(l, "epoch_seconds", "wall seconds of the epoch's training steps, evaluation excluded (0 at epoch 0)", 1, -1);
    if (exp->has_validation) {
        add_var(l, "validation_accuracy", "accuracy on the validation split", 1, -1);
        add_var(l, "validation_loss", "mean loss on the validation split", 1, -1);
    }
}
