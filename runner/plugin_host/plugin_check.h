/*
 * plugin_check.h: the self-test of `runner check PLUGIN.so`, run on each
 * descriptor the file exports (after the registry has validated it).
 *
 *   optimizers: from the defaults (a required parameter gets a stand-in,
 *     printed), 300 steps on convex quadratics of 1, 10 and 37 parameters
 *     (curvatures 0.5..2): every iterate finite, the loss lower at the end
 *     than at the start, the same bits when init is called again on the
 *     used state (init must reset it), and no write past state_bytes.
 *   layers: on shapes drawn at random (flat and image inputs; the shapes a
 *     layer refuses are skipped, but one must be accepted), batch 3,
 *     training mode: outputs finite, forward repeatable, backward against
 *     central differences of sum(r * forward(x)) for dx and the parameter
 *     gradients (the test suite's check: h = 1e-2, tolerance 2e-2 relative
 *     + 2e-3 absolute), and the same parameter gradients when dx is NULL.
 *   losses: the loss finite and its dx against central differences.
 * Inputs are kept away from 0 (|x| in [0.1, 1]) so that kinks (relu, max)
 * do not fall inside a difference step.
 */
#ifndef RUNNER_PLUGIN_CHECK_H
#define RUNNER_PLUGIN_CHECK_H

#include <runner/plugin.h>
#include <stdbool.h>
#include <stdio.h>

/* The gradient check's step and tolerance, shared with the test suite
 * (tests/layer_rig.h): float32 forward passes limit central differences to
 * ~1e-3 relative, hence a step of 1e-2 and a tolerance of 2e-2 relative +
 * 2e-3 absolute, far below what a wrong formula gives (a sign or a factor
 * is off by 100%). */
#define GRAD_CHECK_STEP 1e-2
#define GRAD_CHECK_REL 2e-2
#define GRAD_CHECK_ABS 2e-3

/* Run the self-test of d, narrating each step to out; true when it passed. */
bool plugin_self_test(FILE *out, const runner_plugin_t *d);

/* One layer's gradient check at given hyperparameters and input shape:
 * true when it passed; what was wrong (or what was seen) into msg. */
bool plugin_check_layer(const runner_plugin_t *d, const double *hp, runner_shape_t in, size_t batch, uint64_t seed,
                        char *msg, size_t len);

#endif
