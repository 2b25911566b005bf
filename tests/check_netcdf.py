#!/usr/bin/env python3
"""The results file as other tools see it: ncdump, h5py and xarray (h5netcdf).

Run by CTest with Debian's Python (/usr/bin/python3 sees python3-h5py,
python3-xarray, python3-h5netcdf):
    check_netcdf.py BUILD/runner OUTDIR
Prints one line per check and ends with 'N passed, M failed'.
"""
import os
import shutil
import subprocess
import sys

import h5py
import numpy as np
import xarray as xr

runner, out = sys.argv[1], sys.argv[2]
shutil.rmtree(out, ignore_errors=True)
os.makedirs(out)
passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok   %s" % name)
    else:
        failed += 1
        print("FAIL %s %s" % (name, detail))


def run(config, path):
    r = subprocess.run([runner, config, "-o", path, "--quiet"], capture_output=True, text=True)
    check("runner %s" % config, r.returncode == 0, r.stderr)


m = os.path.join(out, "momentum_sweep.h5")
o = os.path.join(out, "optimizers_2d.h5")
run("configs/momentum_sweep.yaml", m)
run("configs/optimizers_2d.yaml", o)

# ncdump reads the header with named dimensions (no phony_dim_N)
r = subprocess.run(["ncdump", "-h", m], capture_output=True, text=True)
check("ncdump -h exits 0", r.returncode == 0, r.stderr)
check("ncdump shows named dimensions", "optimizer.lr = 4" in r.stdout and "step = 7" in r.stdout
      and "phony_dim" not in r.stdout, r.stdout[:400])
check("ncdump shows params(optimizer.lr, optimizer.momentum, step, param)",
      "params(optimizer.lr, optimizer.momentum, step, param)" in r.stdout)

# xarray with the h5netcdf engine: labelled dimensions, coordinates, selection by value
ds = xr.open_dataset(m, engine="h5netcdf")
check("xarray dims", dict(ds.sizes) == {"optimizer.lr": 4, "optimizer.momentum": 4, "step": 7, "param": 1},
      str(dict(ds.sizes)))
check("xarray params dims", ds.params.dims == ("optimizer.lr", "optimizer.momentum", "step", "param"))
check("coordinate values", list(ds["optimizer.lr"].values) == [0.01, 0.1, 0.6, 0.9])
traj = ds.params.sel({"optimizer.lr": 0.1, "optimizer.momentum": 0.9}).values.ravel()
check("select a cell by its values", np.allclose(traj[:5], [-5, -4, -2.3, -0.31, 1.543], atol=1e-5), str(traj))
check("status all ok", int((ds.status == 1).sum()) == 16)
check("status codes documented", ds.status.attrs.get("flag_meanings") == "pending ok diverged failed"
      and list(ds.status.attrs.get("flag_values")) == [0, 1, 2, 3])
check("run_state codes documented", ds.run_state.attrs.get("flag_meanings") == "running complete interrupted stopped"
      and list(ds.run_state.attrs.get("flag_values")) == [0, 1, 2, 3] and int(ds.run_state) == 1)
check("the file names its cell kind", ds.attrs.get("cell_kind") == "analytic", str(ds.attrs.get("cell_kind")))
check("config recorded", "optimizer.lr: [0.01, 0.1, 0.6, 0.9]" in ds.attrs["config_text"])
check("resolved config recorded", "dampening: 0" in ds.attrs["resolved_config"])
check("plugins recorded", ds.attrs["plugins"].startswith("sgd 1.0.0"))
check("strings are str", isinstance(ds.attrs["runner_version"], str) and isinstance(ds.param.values[0], str))
ds.close()

ds = xr.open_dataset(o, engine="h5netcdf")
check("run axis labelled by strings", list(ds.run.values) == ["SGD", "Momentum", "Nesterov", "AdaGrad", "RMSProp", "Adam"],
      str(ds.run.values))
check("param names", list(ds.param.values) == ["x", "y"])
final = ds.loss.isel(step=-1)
check("every optimizer descends", bool((final < ds.loss.isel(step=0)).all()))
check("optimizer_config per run", ds.optimizer_config.sel(run="Adam").item().startswith("adam(lr=0.3"))
ds.close()

# a ragged study (issue 19: each optimizer its own learning rates): one
# `cell` dimension, the axes coordinate variables over it, NaN where a cell
# lacks one; xarray attaches them (CF `coordinates`) and selects a run's cells
t = os.path.join(out, "tuned_2d.h5")
run("configs/tuned_2d.yaml", t)
ds = xr.open_dataset(t, engine="h5netcdf")
check("ragged: one cell dimension", dict(ds.sizes) == {"cell": 41, "step": 31, "param": 2}, str(dict(ds.sizes)))
check("ragged: loss over (cell, step)", ds.loss.dims == ("cell", "step"))
check("ragged: run and optimizer.lr are coordinates of cell",
      {"run", "optimizer.lr"} <= set(ds.coords) and ds.coords["optimizer.lr"].dims == ("cell",), str(ds.coords))
adam = ds.sel(cell=ds.run == "Adam")
check("ragged: select one run's cells", adam.sizes["cell"] == 7 and set(adam.run.values) == {"Adam"}, str(adam.sizes))
check("ragged: that run's own rates", np.allclose(adam["optimizer.lr"].values, np.logspace(-2, 0.5, 7), rtol=1e-15),
      str(adam["optimizer.lr"].values))
sgd = ds.sel(cell=ds.run == "SGD")
check("ragged: exclude left SGD's rate 1 out", sgd.sizes["cell"] == 6 and 1.0 not in sgd["optimizer.lr"].values)
check("ragged: each cell's optimizer", all(str(v).startswith("adam(lr=") for v in adam.optimizer_config.values))
best = adam.loss.isel(step=-1).argmin().item()
check("ragged: the best Adam rate by value", float(adam["optimizer.lr"][best]) > 0.01)
ds.close()
r = subprocess.run(["ncdump", "-h", t], capture_output=True, text=True)
check("ragged: ncdump shows loss(cell, step)", r.returncode == 0 and "loss(cell, step)" in r.stdout, r.stdout[:400])

# a study with select: (issue 19): two phases in one file, `phase` a
# coordinate, `selected_cell` the choice, fixed-length text decoded to str
sel_cfg = os.path.join(out, "select.yaml")
with open(sel_cfg, "w") as f:
    f.write("name: sel\nsteps: 30\nproblem: {objective: elliptic, start: [-7, 2]}\nruns:\n"
            "  - {label: SGD, optimizer: {name: sgd}, grid: {optimizer.lr: [0.01, 0.1, 0.3]}}\n"
            "  - {label: Adam, optimizer: {name: adam}, grid: {optimizer.lr: [0.01, 0.3, 1.0]}}\n"
            "select: {metric: final_loss, rerun: {seeds: [1, 2]}}\n")
s_path = os.path.join(out, "select.h5")
run(sel_cfg, s_path)
ds = xr.open_dataset(s_path, engine="h5netcdf")
check("select: phase is a coordinate of cell", "phase" in ds.coords and ds.phase.dims == ("cell",))
final = ds.sel(cell=ds.phase == "final")
check("select: 2 groups x 2 seeds", final.sizes["cell"] == 4 and list(final.run.values) == ["SGD", "SGD", "Adam", "Adam"],
      str(final.run.values))
check("select: text decodes to str", isinstance(final.optimizer_config.values[0], str), repr(final.optimizer_config.values[0]))
tune = ds.sel(cell=ds.phase == "tune")
for label in ("SGD", "Adam"):
    cells = tune.sel(cell=tune.run == label)
    best = int(cells.cell[int(cells.loss.isel(step=-1).argmin())])
    mine = final.sel(cell=final.run == label)
    check("select: %s reruns its lowest final loss" % label, set(mine.selected_cell.values) == {best},
          "%s vs %d" % (mine.selected_cell.values, best))
    check("select: %s's final cells carry the chosen rate" % label,
          set(mine["optimizer.lr"].values) == {float(ds["optimizer.lr"][best])})
check("select: tuning cells choose nothing", set(tune.selected_cell.values) == {-1})
check("select: the rule is recorded", "final_loss" in ds.attrs.get("select", ""), str(ds.attrs.get("select")))
ds.close()

# h5py sees dimension scales
with h5py.File(m, "r") as f:
    check("h5py dimension scale on params",
          [d.label for d in f["params"].dims] == ["optimizer.lr", "optimizer.momentum", "step", "param"],
          str([d.label for d in f["params"].dims]))

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
