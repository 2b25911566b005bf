#!/usr/bin/env python3
"""The same work as bench/sweep_10k.yaml in numpy, vectorised over the cells.

10,000 cells (100 lr x 100 momentum) x 1,000 steps of torch-style momentum SGD
on x^2/20 + y^2 from (-7, 2) in float32, recording params, loss and gradient
norm at every step, then written to HDF5 with h5py (the same 160 MB as the
runner writes). numpy gets its best layout: step-major arrays, in-place
ufuncs, one h5py write per array. Usage: numpy_sweep.py OUT.h5
"""
import sys

import h5py
import numpy as np

STEPS, N_LR, N_MOM = 1000, 100, 100
out = sys.argv[1]

lr_axis = np.logspace(-3, -0.5, N_LR)
mom_axis = np.linspace(0, 0.9, N_MOM)
lr = np.repeat(lr_axis, N_MOM).astype(np.float32)[:, None]   # cell-major, momentum fastest
mom = np.tile(mom_axis, N_LR).astype(np.float32)[:, None]
n = N_LR * N_MOM
scale = np.array([0.1, 2.0], dtype=np.float32)               # gradient of x^2/20 + y^2 is (x/10, 2y)
coef = np.array([0.05, 1.0], dtype=np.float32)

params = np.empty((STEPS + 1, n, 2), dtype=np.float32)
loss = np.empty((STEPS + 1, n), dtype=np.float32)
gnorm = np.empty((STEPS + 1, n), dtype=np.float32)
w = np.empty((n, 2), dtype=np.float32)
w[:] = (-7.0, 2.0)
g = np.empty_like(w)
buf = np.empty_like(w)
tmp = np.empty_like(w)
for t in range(STEPS + 1):
    np.multiply(w, scale, out=g)
    params[t] = w
    np.multiply(w, w, out=tmp)
    np.dot(tmp, coef, out=loss[t])
    np.multiply(g, g, out=tmp)
    np.sqrt(tmp.sum(axis=1), out=gnorm[t])
    if t == STEPS:
        break
    if t == 0:
        buf[:] = g
    else:
        np.multiply(buf, mom, out=buf)
        np.add(buf, g, out=buf)
    np.multiply(buf, lr, out=tmp)
    np.subtract(w, tmp, out=w)

with h5py.File(out, "w") as f:
    f.create_dataset("params", data=params)
    f.create_dataset("loss", data=loss)
    f.create_dataset("grad_norm", data=gnorm)
    f.create_dataset("optimizer.lr", data=lr_axis)
    f.create_dataset("optimizer.momentum", data=mom_axis)
