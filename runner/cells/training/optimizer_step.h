/*
 * optimizer_step.h: a training cell's optimizer step, shared out over the
 * threads when the optimizer is elementwise (RUNNER_EXT_ELEMENTWISE_STEP,
 * plugin.h) and the cell has the machine. Each element's update is the
 * same arithmetic in any range, so the bits do not depend on the threads.
 */
#ifndef RUNNER_OPTIMIZER_STEP_H
#define RUNNER_OPTIMIZER_STEP_H

#include <runner/plugin.h>

typedef struct {
    const runner_optimizer_ops_t *ops;
    const runner_elementwise_step_t *elementwise; /* NULL: step only */
} optimizer_step_t;

/* The optimizer's operations, and its elementwise extension when it has a
 * usable one (a table too small for apply counts as none). */
optimizer_step_t optimizer_step_of(const runner_plugin_t *d);

/* One step of w[n] by g[n]: RUNNER_OK, or RUNNER_FAIL with err filled. */
int optimizer_step(const optimizer_step_t *o, void *state, size_t n, float *w, const float *g, runner_err_t *err);

#endif
