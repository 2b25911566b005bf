/*
 * image_shape.h: the input check the image layers (conv2d, maxpool,
 * avgpool) share (a plugin-private header, not part of the ABI).
 */
#ifndef RUNNER_PLUGINS_IMAGE_SHAPE_H
#define RUNNER_PLUGINS_IMAGE_SHAPE_H

#include <runner/plugin.h>
#include <stdio.h>

/* RUNNER_OK for a (channels, height, width) input; otherwise the reason,
 * with the fix (the host names the layer, its line and the shape). */
static inline int require_image(const runner_shape_t *in, runner_err_t *err)
{
    if (in->rank == 3) return RUNNER_OK;
    snprintf(err->msg, sizeof err->msg,
             "it needs images (channels, height, width): put it before flatten and affine, and keep "
             "data.flatten false");
    return RUNNER_FAIL;
}

#endif
