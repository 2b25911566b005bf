#!/usr/bin/env python3
"""Reference learning rates of torch.optim.lr_scheduler, for tests/test_schedule.c.

Run with Debian's Python (it sees python3-torch):
    /usr/bin/python3 tests/reference/make_schedule_reference.py > tests/fixtures/schedule_reference.json

Each case is a `train.schedule` mapping as a runner config writes it (torch's
class name and arguments; SequentialLR with a `schedulers:` list) and the
torch objects it stands for. The optimizer is SGD at lr 0.1 on one parameter;
the scheduler is built, then stepped STEPS times (ReduceLROnPlateau with the
case's metric sequence). `lr` is the group's lr after construction and after
each step: STEPS + 1 values, written with repr (exact in double).
"""
import json
import math
import sys

import torch
from torch.optim import lr_scheduler as S

STEPS = 60
LR = 0.1

# a metric that improves, stalls, wobbles and improves again
METRIC = [1.0 / (1 + k) if k < 12 else 0.08 + 0.001 * ((k * 7) % 5) if k < 40 else 0.05 - 0.0005 * k
          for k in range(STEPS)]


def make(opt, spec):
    """The torch scheduler for one of our schedule mappings."""
    args = {k: v for k, v in spec.items() if k not in ("name", "interval")}
    name = spec["name"]
    if name == "SequentialLR":
        kids = [make(opt, k) for k in args.pop("schedulers")]
        return S.SequentialLR(opt, kids, **args)
    if name == "OneCycleLR" and "total_steps" not in args and "epochs" not in args:
        args["total_steps"] = STEPS
    return getattr(S, name)(opt, **args)


CASES = [
    {"name": "StepLR", "step_size": 7, "gamma": 0.5},
    {"name": "StepLR", "step_size": 1, "gamma": 0.9},
    {"name": "MultiStepLR", "milestones": [5, 17, 30], "gamma": 0.3},
    {"name": "ConstantLR"},
    {"name": "ConstantLR", "factor": 0.25, "total_iters": 9},
    {"name": "LinearLR"},
    {"name": "LinearLR", "start_factor": 0.05, "end_factor": 0.8, "total_iters": 23},
    {"name": "ExponentialLR", "gamma": 0.93},
    {"name": "PolynomialLR"},
    {"name": "PolynomialLR", "total_iters": 40, "power": 2.5},
    {"name": "CosineAnnealingLR", "T_max": 13},
    {"name": "CosineAnnealingLR", "T_max": 50, "eta_min": 0.001},
    {"name": "CosineAnnealingWarmRestarts", "T_0": 8},
    {"name": "CosineAnnealingWarmRestarts", "T_0": 5, "T_mult": 2, "eta_min": 0.002},
    {"name": "OneCycleLR", "max_lr": 0.5, "cycle_momentum": False},
    {"name": "OneCycleLR", "max_lr": 1.0, "total_steps": 70, "pct_start": 0.25, "anneal_strategy": "linear",
     "div_factor": 10.0, "final_div_factor": 100.0, "cycle_momentum": False},
    {"name": "OneCycleLR", "max_lr": 0.3, "epochs": 6, "steps_per_epoch": 10, "three_phase": True,
     "cycle_momentum": False},
    {"name": "CyclicLR", "base_lr": 0.01, "max_lr": 0.2, "step_size_up": 6, "cycle_momentum": False},
    {"name": "CyclicLR", "base_lr": 0.001, "max_lr": 0.1, "step_size_up": 4, "step_size_down": 9,
     "mode": "triangular2", "cycle_momentum": False},
    {"name": "CyclicLR", "base_lr": 0.01, "max_lr": 0.3, "step_size_up": 5, "mode": "exp_range", "gamma": 0.97,
     "cycle_momentum": False},
    {"name": "ReduceLROnPlateau"},
    {"name": "ReduceLROnPlateau", "mode": "max", "factor": 0.5, "patience": 2, "threshold": 0.01,
     "threshold_mode": "abs", "cooldown": 3, "min_lr": 0.004},
    {"name": "ReduceLROnPlateau", "factor": 0.2, "patience": 0, "min_lr": 0.01, "eps": 0.05},
    {"name": "SequentialLR", "schedulers": [{"name": "LinearLR", "start_factor": 0.1, "total_iters": 5},
                                            {"name": "CosineAnnealingLR", "T_max": 30}], "milestones": [5]},
    {"name": "SequentialLR", "schedulers": [{"name": "ConstantLR", "factor": 0.5, "total_iters": 4},
                                            {"name": "ExponentialLR", "gamma": 0.9},
                                            {"name": "StepLR", "step_size": 3, "gamma": 0.5}],
     "milestones": [6, 20]},
    {"name": "SequentialLR", "schedulers": [{"name": "MultiStepLR", "milestones": [2, 4], "gamma": 0.5},
                                            {"name": "CosineAnnealingWarmRestarts", "T_0": 6, "T_mult": 2},
                                            {"name": "PolynomialLR", "total_iters": 10, "power": 0.5}],
     "milestones": [8, 30]},
]


def run(spec):
    w = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([w], lr=LR)
    sched = make(opt, spec)
    lrs = [opt.param_groups[0]["lr"]]
    for k in range(STEPS):
        opt.step()
        if spec["name"] == "ReduceLROnPlateau":
            sched.step(METRIC[k])
        else:
            sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    return lrs


def main():
    import warnings
    warnings.simplefilter("ignore")
    cases = []
    for spec in CASES:
        case = {"schedule": spec, "lr": run(spec)}
        if spec["name"] == "ReduceLROnPlateau":
            case["metric"] = METRIC
        cases.append(case)
    json.dump({"generator": "tests/reference/make_schedule_reference.py", "torch_version": torch.__version__,
               "optimizer_lr": LR, "steps": STEPS, "cases": cases}, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
