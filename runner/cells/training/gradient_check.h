/*
 * gradient_check.h: a configured network's backpropagation against
 * numerical gradients (`runner check CONFIG`), as the textbook's
 * gradient_check does for its nets, layer by layer.
 *
 * The network of a cell, initialised from the cell's seed, takes the first
 * few training samples in training mode (dropout masks held fixed between
 * evaluations; batchnorm on batch statistics). For up to `per_layer`
 * parameters of each layer (all when it has fewer, else half spread evenly
 * over it and half those of the largest gradients), the analytic gradient of the data loss (the L2 term of
 * train.weight_decay is left out: it is not backpropagated) is compared
 * with the central differences (L(w + h) - L(w - h)) / 2h at h = 1e-2,
 * 3e-3, 1e-3, 3e-4 and 1e-4, and with the one-sided ones, (L(w + h) - L(w)) / h and
 * (L(w) - L(w - h)) / h; the closest counts.
 *
 * Why several: float32 networks. The loss of one forward pass carries
 * rounding of about 1e-7 relative, which a small h magnifies (1e-4: about
 * 1e-3 in the gradient, hence GRADCHECK_ATOL: a gradient smaller than that
 * cannot be told from zero by differences in float32); a large h meets curvature (batchnorm over three
 * samples: 4% off at h = 1e-3 on one weight whose gradient is 5) and ReLU
 * or max-pool kinks. At a kink only a one-sided difference is the
 * gradient: a conv bias starts at 0, and over the black background of an
 * image every output of it is exactly 0, a ReLU input at its kink, where
 * the backward pass takes relu'(0) = 0 (torch's convention): measured, the
 * central difference was 15 times the gradient (0.064 for 0.0042), the
 * backward one equal to it. A correct gradient agrees with one of these;
 * a wrong one with none. Where the two one-sided differences disagree with
 * each other at every h (a ReLU input within 1e-4 of its kink: a net whose
 * activations shrink to 1e-5, std init at 0.01, has them everywhere), no
 * difference decides: the parameter is counted as at a kink, not failed. A layer passes when every checked parameter is within
 * GRADCHECK_ATOL + GRADCHECK_RTOL * max(|analytic|, |numeric|).
 */
#ifndef RUNNER_CELLS_TRAINING_GRADIENT_CHECK_H
#define RUNNER_CELLS_TRAINING_GRADIENT_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "base/error.h"

#define GRADCHECK_STEPS 5
extern const double gradcheck_h[GRADCHECK_STEPS]; /* 1e-2, 3e-3, 1e-3, 3e-4, 1e-4 */
#define GRADCHECK_ATOL 2e-3
#define GRADCHECK_RTOL 1e-2

struct cell;

typedef struct {
    size_t checked;            /* parameters compared */
    size_t at_kinks;           /* of them, undecidable: the one-sided differences disagree at every h */
    double max_abs, max_rel;   /* |analytic - numeric|, and that over max(|a|, |n|) */
    size_t worst;              /* the parameter (within the layer) of max_abs */
    double worst_analytic, worst_numeric;
    bool ok;
} layer_check_t;

/* Check one cell's network on `samples` training samples, up to per_layer
 * parameters a layer; out[i] for layer i (n_layers entries; layers without
 * parameters have checked == 0). */
err_code_t gradient_check(const struct cell *cell, size_t samples, size_t per_layer, layer_check_t *out, err_t *err);

#endif
