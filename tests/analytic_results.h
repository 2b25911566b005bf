/*
 * analytic_results.h: an analytic sweep's results file read back whole, and
 * the bitwise comparisons the resume and MPI tests make against a run that
 * was not interrupted. Test-only.
 */
#ifndef RUNNER_TEST_ANALYTIC_RESULTS_H
#define RUNNER_TEST_ANALYTIC_RESULTS_H

#include "e2e_helpers.h"
#include "results/h5out.h"

typedef struct {
    size_t n_cells, S, P;
    float *params, *loss, *grad_norm;
    int8_t *status;
    int8_t run_state;
} results_t;

static bool read_results(const char *file, results_t *r)
{
    hid_t f = H5Fopen(in_dir(file), H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return false;
    H5Fclose(f);
    size_t n, n_loss, n_params;
    r->status = read_all(file, "status", H5T_NATIVE_INT8, 1, &r->n_cells);
    r->loss = read_all(file, "loss", H5T_NATIVE_FLOAT, 4, &n_loss);
    r->grad_norm = read_all(file, "grad_norm", H5T_NATIVE_FLOAT, 4, &n_loss);
    r->params = read_all(file, "params", H5T_NATIVE_FLOAT, 4, &n_params);
    int8_t *state = read_all(file, "run_state", H5T_NATIVE_INT8, 1, &n);
    r->run_state = *state;
    free(state);
    r->S = n_loss / r->n_cells;
    r->P = n_params / n_loss;
    return true;
}

static void free_results(results_t *r)
{
    free(r->params), free(r->loss), free(r->grad_norm), free(r->status);
}

/* Every cell `got` marks done holds the reference's numbers, bit for bit. */
static size_t check_done_cells(const results_t *got, const results_t *ref, const char *when)
{
    cr_assert_eq(got->n_cells, ref->n_cells);
    size_t done = 0, S = ref->S, P = ref->P;
    for (size_t c = 0; c < ref->n_cells; c++) {
        if (got->status[c] == STATUS_PENDING) continue;
        done++;
        cr_assert_eq(got->status[c], ref->status[c], "%s: cell %zu status %d, uninterrupted %d", when, c,
                     got->status[c], ref->status[c]);
        cr_assert_eq(memcmp(got->loss + c * S, ref->loss + c * S, S * 4), 0, "%s: cell %zu loss differs", when, c);
        cr_assert_eq(memcmp(got->grad_norm + c * S, ref->grad_norm + c * S, S * 4), 0, "%s: cell %zu grad_norm", when, c);
        cr_assert_eq(memcmp(got->params + c * S * P, ref->params + c * S * P, S * P * 4), 0, "%s: cell %zu params",
                     when, c);
    }
    return done;
}

static void expect_identical(const results_t *got, const results_t *ref, const char *when)
{
    cr_assert_eq(check_done_cells(got, ref, when), ref->n_cells, "%s: not every cell is done", when);
    cr_expect_eq(got->run_state, RUN_COMPLETE, "%s: run_state %d", when, got->run_state);
}

#endif
