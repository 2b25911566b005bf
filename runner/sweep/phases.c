/* phases.c: the tuning sweep, the choice, the final sweep (phases.h). */
#include "sweep/phases.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/select.h"
#include "results/format.h"
#include "results/layout.h"

static err_code_t nomem(err_t *err) { return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory"); }

/* Flags for cells [c0, c1) of what `all` asks (NULL: every cell). */
static unsigned char *part(const unsigned char *all, size_t n, size_t c0, size_t c1)
{
    unsigned char *v = calloc(n ? n : 1, 1);
    for (size_t c = c0; v && c < c1; c++) v[c] = all ? all[c] : 1;
    return v;
}

/* The final cells of groups with nothing chosen: failed, with why, and
 * taken out of todo (the final sweep leaves them). */
static err_code_t fail_unchosen(const experiment_t *exp, h5out_t *out, unsigned char *todo,
                                sweep_summary_t *sum, err_t *err)
{
    const select_spec_t *s = exp->select;
    layout_t l;
    layout_of(exp, &l);
    float *nan_cell = malloc((l.floats_per_cell + 1) * sizeof *nan_cell);
    if (!nan_cell) return nomem(err);
    for (size_t i = 0; i < l.floats_per_cell; i++) nan_cell[i] = NAN;
    const float *vars[LAYOUT_MAX_VARS];
    size_t at = 0;
    for (size_t v = 0; v < l.n_vars; v++) vars[v] = nan_cell + at, at += l.vars[v].per_cell;
    err_code_t rc = ERR_OK;
    for (size_t g = 0; g < s->n_groups && !rc; g++) {
        if (s->chosen[g] != SIZE_MAX) continue;
        char label[128], why[RUNNER_ERR_MAX + 64];
        experiment_cell_label(exp, s->group_first[g], label, sizeof label);
        snprintf(why, sizeof why, "nothing to rerun: no setting of its group (that of cell %zu, %s) finished ok in the "
                 "tuning phase", s->group_first[g], label);
        why[RUNNER_ERR_MAX - 1] = 0; /* the file's message length (cut if longer) */
        for (size_t j = 0; j < s->n_seeds && !rc; j++) {
            size_t c = s->n_tune + g * s->n_seeds + j;
            if (!todo[c]) continue;
            todo[c] = 0;
            int8_t status = STATUS_FAILED;
            double wall = 0;
            rc = h5out_write_cells(out, c, c + 1, vars, &status, &wall, (const char(*)[RUNNER_ERR_MAX])why, err);
            if (!rc) summary_add(sum, c, STATUS_FAILED, why);
        }
    }
    free(nan_cell);
    return rc;
}

/* Rank 0 chooses from the file; every rank gets the choice. Returns
 * whether the final phase goes ahead (not when the tuning one stopped). */
static err_code_t choose(experiment_t *exp, h5out_t *out, mpi_link_t *mpi, bool go_on, bool *go, err_t *err)
{
    select_spec_t *s = exp->select;
    size_t n = s->n_tune, g_n = s->n_groups;
    uint64_t *shared = calloc(g_n + 2, sizeof *shared);
    double *score = out && go_on ? malloc((n + 1) * sizeof *score) : NULL;
    int8_t *status = out && go_on ? malloc(n + 1) : NULL;
    err_code_t rc = !shared || (out && go_on && (!score || !status)) ? nomem(err) : ERR_OK;
    if (!rc && out && go_on) rc = h5out_read_tuning(out, exp, score, status, err);
    if (!rc && out && go_on) select_choose(exp, score, status, s->chosen);
    if (shared) {
        shared[0] = out ? go_on && !rc : 0;
        for (size_t g = 0; g < g_n; g++) shared[1 + g] = s->chosen[g];
        if (mpi) mpi_link_bcast(mpi, shared, (g_n + 1) * sizeof *shared);
        for (size_t g = 0; g < g_n; g++) s->chosen[g] = (size_t)shared[1 + g];
        *go = shared[0] != 0;
    }
    free(shared), free(score), free(status);
    return rc;
}

err_code_t phases_run(experiment_t *exp, h5out_t *out, const sweep_opts_t *opts, mpi_link_t *mpi,
                      sweep_summary_t *sum, sweep_stop_t *stop, err_t *err)
{
    if (!exp->select) return sweep_run(exp, out, opts, sum, stop, err);
    size_t n = exp->n_cells, n_tune = exp->select->n_tune;
    sweep_opts_t tune = *opts, final = *opts;
    unsigned char *todo[2] = {NULL, NULL}, *suspects[2] = {NULL, NULL};
    err_code_t rc = ERR_OK;
    if (out) { /* rank 0 plans; the others compute what it hands out */
        todo[0] = part(opts->todo, n, 0, n_tune), todo[1] = part(opts->todo, n, n_tune, n);
        if (opts->suspects) suspects[0] = part(opts->suspects, n, 0, n_tune), suspects[1] = part(opts->suspects, n, n_tune, n);
        if (!todo[0] || !todo[1] || (opts->suspects && (!suspects[0] || !suspects[1]))) rc = nomem(err);
        tune.todo = todo[0], tune.suspects = suspects[0];
        final.todo = todo[1], final.suspects = suspects[1];
    }
    if (!rc) rc = sweep_run(exp, out, &tune, sum, stop, err);
    bool go = false;
    err_t choose_err = {0};
    err_code_t crc = choose(exp, out, mpi, !rc && !stop->signal && !stop->on_failure, &go, &choose_err);
    if (!rc && crc) rc = crc, *err = choose_err;
    if (!rc && go) {
        select_apply(exp);
        if (out && (rc = h5out_write_selection(out, exp, err)) == ERR_OK) rc = fail_unchosen(exp, out, todo[1], sum, err);
    }
    /* every rank takes part in the second sweep when rank 0 goes on: a failure
     * writing the choice is its to report, after the workers are released */
    if (go) {
        sweep_stop_t second = {0};
        if (rc && todo[1]) memset(todo[1], 0, n); /* nothing to compute: the sweep only releases the workers */
        err_t sweep_err = {0};
        err_code_t src = sweep_run(exp, out, &final, sum, &second, &sweep_err);
        if (!rc && src) rc = src, *err = sweep_err;
        if (!rc) *stop = second;
    }
    free(todo[0]), free(todo[1]), free(suspects[0]), free(suspects[1]);
    return rc;
}
