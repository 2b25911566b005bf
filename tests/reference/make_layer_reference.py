#!/usr/bin/env python3
"""Reference forward and backward passes of torch.nn layers, for tests/test_image_layers.c.

Run with Debian's Python (it sees python3-torch):
    /usr/bin/python3 tests/reference/make_layer_reference.py > tests/fixtures/layer_reference.json

Each case: a layer plugin's name and hyperparameters, the per-sample input
shape, a batch x, the layer's parameters in our flat layout, and dy. Torch
computes y, dx and the parameter gradients (for batchnorm also the running
statistics after that one training step, and the evaluation output with
them) in float64 from the same float32 values, so the C side's float32
error is all that the test's tolerance has to cover.

Conventions the cases pin down: conv2d weights are (F, C, k, k) row-major
then the bias; pooling stride 0 means the window size; our batchnorm
momentum m is torch's 1 - m.
"""
import json

import torch
import torch.nn.functional as F

torch.manual_seed(0)


def f32(shape):
    """Random values that float32 holds exactly, as float64."""
    return torch.randn(*shape, dtype=torch.float32).double()


def flat(t):
    return [float(v) for v in t.detach().reshape(-1)]


def conv_case(B, C, H, W, filters, size, stride, pad):
    x = f32((B, C, H, W)).requires_grad_()
    w = (f32((filters, C, size, size)) * 0.3).requires_grad_()
    b = f32((filters,)).requires_grad_()
    y = F.conv2d(x, w, b, stride=stride, padding=pad)
    dy = f32(y.shape)
    y.backward(dy)
    return {
        "layer": "conv2d",
        "params": {"filters": filters, "size": size, "stride": stride, "pad": pad},
        "in": [C, H, W], "batch": B,
        "x": flat(x), "weights": flat(w) + flat(b), "dy": flat(dy),
        "y": flat(y), "dx": flat(x.grad), "dparams": flat(w.grad) + flat(b.grad),
    }


def pool_case(name, B, C, H, W, size, stride):
    x = f32((B, C, H, W)).requires_grad_()
    s = stride or size
    y = (F.max_pool2d if name == "maxpool" else F.avg_pool2d)(x, size, stride=s)
    dy = f32(y.shape)
    y.backward(dy)
    return {
        "layer": name, "params": {"size": size, "stride": stride},
        "in": [C, H, W], "batch": B,
        "x": flat(x), "weights": [], "dy": flat(dy),
        "y": flat(y), "dx": flat(x.grad), "dparams": [],
    }


def batchnorm_case(B, shape, momentum):
    C = shape[0]
    x = (f32((B, *shape)) * 2 + 0.5).requires_grad_()
    gamma = (f32((C,)) * 0.5 + 1).requires_grad_()
    beta = f32((C,)).requires_grad_()
    mean, var = torch.zeros(C, dtype=torch.float64), torch.ones(C, dtype=torch.float64)
    y = F.batch_norm(x, mean, var, gamma, beta, training=True, momentum=1 - momentum, eps=1e-5)
    dy = f32(y.shape)
    y.backward(dy)
    y_eval = F.batch_norm(x.detach(), mean, var, gamma.detach(), beta.detach(), training=False, eps=1e-5)
    return {
        "layer": "batchnorm", "params": {"momentum": momentum},
        "in": list(shape), "batch": B,
        "x": flat(x), "weights": flat(gamma) + flat(beta), "dy": flat(dy),
        "y": flat(y), "dx": flat(x.grad), "dparams": flat(gamma.grad) + flat(beta.grad),
        "state": flat(mean) + flat(var), "y_eval": flat(y_eval),
    }


CASES = [
    conv_case(2, 1, 6, 6, filters=2, size=3, stride=1, pad=0),
    conv_case(2, 2, 5, 6, filters=3, size=3, stride=2, pad=1),
    conv_case(1, 3, 7, 5, filters=4, size=2, stride=3, pad=2),
    conv_case(3, 2, 4, 4, filters=5, size=1, stride=1, pad=0),
    conv_case(2, 1, 28, 28, filters=3, size=5, stride=1, pad=0),
    pool_case("maxpool", 2, 2, 5, 5, size=2, stride=0),
    pool_case("maxpool", 2, 3, 7, 6, size=3, stride=2),
    pool_case("avgpool", 2, 2, 6, 6, size=2, stride=0),
    pool_case("avgpool", 1, 3, 5, 7, size=3, stride=1),
    batchnorm_case(4, (5,), momentum=0.9),
    batchnorm_case(3, (2, 3, 4), momentum=0.5),
]

print(json.dumps({"generator": "tests/reference/make_layer_reference.py",
                  "torch": torch.__version__, "cases": CASES}, indent=None))
