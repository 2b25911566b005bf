#!/usr/bin/env python3
"""Reference trajectories of torch.optim.LBFGS, for tests/test_optimizers.c.

Run with Debian's Python (it sees python3-torch):
    /usr/bin/python3 tests/reference/make_lbfgs_reference.py > tests/fixtures/lbfgs_reference.json

Each case runs STEPS calls of opt.step(closure) from w0 and records w after
each call and torch's cumulative closure calls (state['func_evals']). The
closure computes the objective and its gradient by hand in float32, one
0-d operation at a time, in the order the C test repeats:
  quadratic   f = sum_i ((a_i * w_i) * w_i) * 0.5 (summed left to right),
              g = a * w
  rosenbrock  p = 1 - x, q = y - x * x, f = p * p + 100 * (q * q),
              g = (-2 * p - (400 * x) * q, 200 * q)
PyTorch 1.13 semantics, float32.
"""
import json
import sys

import torch

STEPS = 20
A4 = [1.0, 0.5, 2.0, 0.1]
W4 = [1.0, -2.0, 0.5, 3.0]
A12 = [round(0.01 * 10 ** (3 * i / 11), 6) for i in range(12)]  # condition number 1000, 12 parameters
W12 = [(-1) ** i * (1.0 + 0.25 * i) for i in range(12)]
ROSEN0 = [-1.5, 2.0]


def quadratic(a):
    a_t = [torch.tensor(v, dtype=torch.float32) for v in a]

    def objective(w):
        f = torch.tensor(0.0, dtype=torch.float32)
        for i in range(len(a_t)):
            f = f + ((a_t[i] * w[i]) * w[i]) * 0.5
        return f, torch.stack([a_t[i] * w[i] for i in range(len(a_t))])
    return objective


def rosenbrock(w):
    x, y = w[0], w[1]
    p = 1 - x
    q = y - x * x
    f = p * p + 100 * (q * q)
    return f, torch.stack([-2 * p - (400 * x) * q, 200 * q])


# (problem, a or None, w0, our hyperparameters, torch kwargs)
CASES = [
    ("quadratic", A4, W4, {}, {}),
    ("quadratic", A4, W4, {"line_search_fn": "strong_wolfe"}, {"line_search_fn": "strong_wolfe"}),
    ("quadratic", A12, W12, {"lr": 0.5, "max_iter": 5, "history_size": 3},
     {"lr": 0.5, "max_iter": 5, "history_size": 3}),
    ("quadratic", A12, W12, {"history_size": 3, "line_search_fn": "strong_wolfe"},
     {"history_size": 3, "line_search_fn": "strong_wolfe"}),
    ("rosenbrock", None, ROSEN0, {"lr": 0.1, "max_iter": 4}, {"lr": 0.1, "max_iter": 4}),
    ("rosenbrock", None, ROSEN0, {"line_search_fn": "strong_wolfe"}, {"line_search_fn": "strong_wolfe"}),
    ("rosenbrock", None, ROSEN0, {"max_iter": 10, "max_eval": 7, "tolerance_change": 1e-5,
                                  "line_search_fn": "strong_wolfe"},
     {"max_iter": 10, "max_eval": 7, "tolerance_change": 1e-5, "line_search_fn": "strong_wolfe"}),
    ("rosenbrock", None, ROSEN0, {"history_size": 2, "tolerance_grad": 1e-3, "line_search_fn": "strong_wolfe"},
     {"history_size": 2, "tolerance_grad": 1e-3, "line_search_fn": "strong_wolfe"}),
    # a short first try: the line search extrapolates; a long one: it zooms
    ("quadratic", A12, W12, {"lr": 0.01, "line_search_fn": "strong_wolfe"}, {"lr": 0.01, "line_search_fn": "strong_wolfe"}),
    ("rosenbrock", None, ROSEN0, {"lr": 0.02, "line_search_fn": "strong_wolfe"},
     {"lr": 0.02, "line_search_fn": "strong_wolfe"}),
    ("rosenbrock", None, ROSEN0, {"lr": 30.0, "line_search_fn": "strong_wolfe"},
     {"lr": 30.0, "line_search_fn": "strong_wolfe"}),
    ("quadratic", A12, W12, {"lr": 40.0, "history_size": 5, "line_search_fn": "strong_wolfe"},
     {"lr": 40.0, "history_size": 5, "line_search_fn": "strong_wolfe"}),
    # the zoom moves a trial off the bracket's edge; a step too small to change the loss
    ("rosenbrock", None, ROSEN0, {"lr": 1000.0, "history_size": 2, "line_search_fn": "strong_wolfe"},
     {"lr": 1000.0, "history_size": 2, "line_search_fn": "strong_wolfe"}),
    ("quadratic", A12, W12, {"lr": 1e-20, "line_search_fn": "strong_wolfe"},
     {"lr": 1e-20, "line_search_fn": "strong_wolfe"}),
]


def trajectory(problem, a, w0, kwargs):
    objective = quadratic(a) if problem == "quadratic" else rosenbrock
    w = torch.tensor(w0, dtype=torch.float32, requires_grad=True)
    opt = torch.optim.LBFGS([w], **kwargs)

    def closure():
        f, g = objective(w.detach())
        w.grad = g.clone()
        return f
    rows, evals = [w.detach().tolist()], []
    for _ in range(STEPS):
        opt.step(closure)
        rows.append(w.detach().tolist())  # float32 values, exact as Python floats
        evals.append(opt.state[w]["func_evals"])
    return rows, evals


def main():
    cases = []
    for problem, a, w0, ours, kwargs in CASES:
        rows, evals = trajectory(problem, a, w0, kwargs)
        cases.append({
            "problem": problem, "a": a or [], "w0": w0, "params": ours,
            "torch": "torch.optim.LBFGS(%s)" % ", ".join("%s=%r" % kv for kv in kwargs.items()),
            "trajectory": rows, "func_evals": evals,
        })
    json.dump({"generator": "tests/reference/make_lbfgs_reference.py", "torch_version": torch.__version__,
               "steps": STEPS, "cases": cases}, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
