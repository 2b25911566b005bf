#!/usr/bin/env python3
"""Reference trajectories of torch.optim on a quadratic, for tests/test_optimizers.c.

Run with Debian's Python (it sees python3-torch):
    /usr/bin/python3 tests/reference/make_optimizer_reference.py > tests/fixtures/optimizer_reference.json

Objective: f(w) = sum(a_i * w_i^2) / 2, so grad = a * w, computed in float32
exactly as the C test computes it (set by hand, no autograd, so both sides do
the same one multiplication). PyTorch 1.13 semantics, float32, single-tensor
path (foreach=False). Each case names our optimizer plugin and its
hyperparameters, and the torch class and arguments that must match it.
"""
import json
import sys

import torch

STEPS = 40
A = [1.0, 0.5, 2.0, 0.1]
W0 = [1.0, -2.0, 0.5, 3.0]

# (our name, our hyperparameters, torch class, torch kwargs, a, w0)
CASES = [
    # the source material's checks: f = w^2/2 from w = 1
    ("sgd", {"lr": 0.01, "momentum": 0.9}, "SGD", {"lr": 0.01, "momentum": 0.9}, [1.0], [1.0]),
    ("adagrad", {"lr": 0.01}, "Adagrad", {"lr": 0.01}, [1.0], [1.0]),
    # sgd and every option
    ("sgd", {"lr": 0.1}, "SGD", {"lr": 0.1}, A, W0),
    ("sgd", {"lr": 0.05, "momentum": 0.9}, "SGD", {"lr": 0.05, "momentum": 0.9}, A, W0),
    ("sgd", {"lr": 0.05, "momentum": 0.8, "dampening": 0.3}, "SGD",
     {"lr": 0.05, "momentum": 0.8, "dampening": 0.3}, A, W0),
    ("sgd", {"lr": 0.05, "momentum": 0.9, "nesterov": True}, "SGD",
     {"lr": 0.05, "momentum": 0.9, "nesterov": True}, A, W0),
    ("sgd", {"lr": 0.05, "weight_decay": 0.1}, "SGD", {"lr": 0.05, "weight_decay": 0.1}, A, W0),
    ("sgd", {"lr": 0.01, "momentum": 0.5, "maximize": True}, "SGD",
     {"lr": 0.01, "momentum": 0.5, "maximize": True}, A, W0),
    ("momentum", {}, "SGD", {"lr": 0.01, "momentum": 0.9}, A, W0),
    ("momentum", {"lr": 0.1, "momentum": 0.5, "weight_decay": 0.01}, "SGD",
     {"lr": 0.1, "momentum": 0.5, "weight_decay": 0.01}, A, W0),
    ("nesterov", {}, "SGD", {"lr": 0.01, "momentum": 0.9, "nesterov": True}, A, W0),
    ("nesterov", {"lr": 0.1, "momentum": 0.7}, "SGD", {"lr": 0.1, "momentum": 0.7, "nesterov": True}, A, W0),
    # adagrad
    ("adagrad", {"lr": 0.5}, "Adagrad", {"lr": 0.5}, A, W0),
    ("adagrad", {"lr": 0.5, "lr_decay": 0.01, "weight_decay": 0.1, "initial_accumulator_value": 0.1,
                 "eps": 1e-6}, "Adagrad",
     {"lr": 0.5, "lr_decay": 0.01, "weight_decay": 0.1, "initial_accumulator_value": 0.1, "eps": 1e-6}, A, W0),
    ("adagrad", {"lr": 0.1, "maximize": True}, "Adagrad", {"lr": 0.1, "maximize": True}, A, W0),
    # rmsprop
    ("rmsprop", {}, "RMSprop", {}, A, W0),
    ("rmsprop", {"lr": 0.05, "alpha": 0.9, "eps": 1e-6}, "RMSprop", {"lr": 0.05, "alpha": 0.9, "eps": 1e-6}, A, W0),
    ("rmsprop", {"lr": 0.01, "centered": True}, "RMSprop", {"lr": 0.01, "centered": True}, A, W0),
    ("rmsprop", {"lr": 0.01, "momentum": 0.5}, "RMSprop", {"lr": 0.01, "momentum": 0.5}, A, W0),
    ("rmsprop", {"lr": 0.01, "momentum": 0.5, "centered": True, "weight_decay": 0.1}, "RMSprop",
     {"lr": 0.01, "momentum": 0.5, "centered": True, "weight_decay": 0.1}, A, W0),
    ("rmsprop", {"lr": 0.01, "maximize": True}, "RMSprop", {"lr": 0.01, "maximize": True}, A, W0),
    # adam
    ("adam", {}, "Adam", {}, A, W0),
    ("adam", {"lr": 0.1}, "Adam", {"lr": 0.1}, A, W0),
    ("adam", {"lr": 0.1, "amsgrad": True}, "Adam", {"lr": 0.1, "amsgrad": True}, A, W0),
    ("adam", {"lr": 0.05, "beta1": 0.5, "beta2": 0.9, "eps": 1e-3}, "Adam",
     {"lr": 0.05, "betas": (0.5, 0.9), "eps": 1e-3}, A, W0),
    ("adam", {"lr": 0.05, "weight_decay": 0.1}, "Adam", {"lr": 0.05, "weight_decay": 0.1}, A, W0),
    ("adam", {"lr": 0.01, "maximize": True}, "Adam", {"lr": 0.01, "maximize": True}, A, W0),
    # adamw
    ("adamw", {}, "AdamW", {}, A, W0),
    ("adamw", {"lr": 0.1, "weight_decay": 0.1}, "AdamW", {"lr": 0.1, "weight_decay": 0.1}, A, W0),
    ("adamw", {"lr": 0.1, "weight_decay": 0.05, "amsgrad": True, "beta1": 0.8}, "AdamW",
     {"lr": 0.1, "weight_decay": 0.05, "amsgrad": True, "betas": (0.8, 0.999)}, A, W0),
    # adamax (issue 21)
    ("adamax", {}, "Adamax", {}, A, W0),
    ("adamax", {"lr": 0.1, "beta1": 0.8, "beta2": 0.9, "eps": 1e-3}, "Adamax",
     {"lr": 0.1, "betas": (0.8, 0.9), "eps": 1e-3}, A, W0),
    ("adamax", {"lr": 0.05, "weight_decay": 0.1}, "Adamax", {"lr": 0.05, "weight_decay": 0.1}, A, W0),
    ("adamax", {"lr": 0.01, "maximize": True}, "Adamax", {"lr": 0.01, "maximize": True}, A, W0),
    # nadam
    ("nadam", {}, "NAdam", {}, A, W0),
    ("nadam", {"lr": 0.1, "beta1": 0.8, "beta2": 0.9, "eps": 1e-3}, "NAdam",
     {"lr": 0.1, "betas": (0.8, 0.9), "eps": 1e-3}, A, W0),
    ("nadam", {"lr": 0.05, "weight_decay": 0.1, "momentum_decay": 0.01}, "NAdam",
     {"lr": 0.05, "weight_decay": 0.1, "momentum_decay": 0.01}, A, W0),
    # radam: rho_t passes 5 at step 6 with beta2 = 0.999, earlier with a smaller beta2
    ("radam", {}, "RAdam", {}, A, W0),
    ("radam", {"lr": 0.1, "beta1": 0.8, "beta2": 0.9, "eps": 1e-3}, "RAdam",
     {"lr": 0.1, "betas": (0.8, 0.9), "eps": 1e-3}, A, W0),
    ("radam", {"lr": 0.05, "weight_decay": 0.1}, "RAdam", {"lr": 0.05, "weight_decay": 0.1}, A, W0),
    # adadelta
    ("adadelta", {}, "Adadelta", {}, A, W0),
    ("adadelta", {"lr": 0.5, "rho": 0.95, "eps": 1e-4}, "Adadelta", {"lr": 0.5, "rho": 0.95, "eps": 1e-4}, A, W0),
    ("adadelta", {"lr": 2.0, "weight_decay": 0.1, "maximize": True}, "Adadelta",
     {"lr": 2.0, "weight_decay": 0.1, "maximize": True}, A, W0),
    # asgd (the iterates; torch's running average is not an output)
    ("asgd", {}, "ASGD", {}, A, W0),
    ("asgd", {"lr": 0.1, "lambd": 0.01, "alpha": 0.5, "t0": 5}, "ASGD", {"lr": 0.1, "lambd": 0.01, "alpha": 0.5, "t0": 5},
     A, W0),
    ("asgd", {"lr": 0.05, "weight_decay": 0.1, "maximize": True}, "ASGD",
     {"lr": 0.05, "weight_decay": 0.1, "maximize": True}, A, W0),
    # rprop: etas and step_sizes split
    ("rprop", {}, "Rprop", {}, A, W0),
    ("rprop", {"lr": 0.05, "eta_minus": 0.3, "eta_plus": 1.5, "step_size_min": 1e-3, "step_size_max": 0.1}, "Rprop",
     {"lr": 0.05, "etas": (0.3, 1.5), "step_sizes": (1e-3, 0.1)}, A, W0),
    ("rprop", {"lr": 0.01, "maximize": True}, "Rprop", {"lr": 0.01, "maximize": True}, A, W0),
]


def trajectory(cls, kwargs, a, w0):
    w = torch.tensor(w0, dtype=torch.float32, requires_grad=True)
    a_t = torch.tensor(a, dtype=torch.float32)
    opt = getattr(torch.optim, cls)([w], foreach=False, **kwargs)
    rows = [w.detach().tolist()]
    for _ in range(STEPS):
        opt.zero_grad()
        w.grad = (a_t * w.detach()).clone()
        opt.step()
        rows.append(w.detach().tolist())  # float32 values, exact as Python floats
    return rows


def main():
    cases = []
    for name, ours, cls, kwargs, a, w0 in CASES:
        cases.append({
            "optimizer": name, "params": ours,
            "torch": "torch.optim.%s(%s)" % (cls, ", ".join("%s=%r" % kv for kv in kwargs.items())),
            "a": a, "w0": w0, "trajectory": trajectory(cls, kwargs, a, w0),
        })
    json.dump({"generator": "tests/reference/make_optimizer_reference.py", "torch_version": torch.__version__,
               "steps": STEPS, "cases": cases}, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
