#!/usr/bin/python3
"""Thread scaling on a many-core machine (issue 22, item 4), in one call.

    bench/scaling.sh [REPEATS] [THREADS...]     e.g. bench/scaling.sh 3 1 2 4 8 16

For each thread count, the best of REPEATS runs of:
  compute   bench/scaling_compute.yaml: 2,000 analytic cells whose steps cost
            ~1 us and record 16 bytes (compute-bound)
  train16   bench/scaling_train.yaml: 16 equal training cells (two-layer net)
  io10k     bench/sweep_10k.yaml: 10,000 cells x 1,000 steps, 160 MB (the
            writer's rate bounds it)
  cnn       one CNN cell (configs/mnist_cnn.yaml, 1 epoch of 60,000 samples,
            training only: epoch_seconds), the runner's kernels, OpenBLAS's
            (RUNNER_KERNELS=openblas) and PyTorch's same epoch (bench/train_peers.py)
The sweeps count the runner's own sweep time (its summary line: the data
loaded and the file created before it starts); the CNN counts the epoch.
Then what could explain a per-core gap: the CPU, its caches and NUMA
nodes, the kernels picked, page faults per CNN epoch (perf stat, if there),
and the CNN at the most threads with each kernel path, with the threads
bound to cores (OMP_PROC_BIND), and with memory interleaved over the NUMA
nodes (numactl, if there); last, bench/blocks.sh's model of the products'
blocks against the CNN measured here (if a C compiler is there). Prints
markdown tables for bench/README.md.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

import h5py

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNNER = os.path.join(ROOT, "build", "runner")
PY = "/usr/bin/python3"
# Fashion-MNIST's directory: RUNNER_BENCH_DATA where the machine has no
# /usr/share/datasets (a lent machine: copy the 30 MB into an ignored folder
# of the checkout, carry it, and name it here; train_peers.py reads it too).
DATA = os.environ.get("RUNNER_BENCH_DATA", "/usr/share/datasets/fashion-mnist")
DATA_SET = ["--set", "data.dir=" + DATA]
CNN_SET = ["--set", "train.epochs=1", "--set", "train.eval={train_samples: 1, test_samples: 1}"] + DATA_SET


def sh(cmd, env=None, check=True):
    r = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, **(env or {})))
    if check and r.returncode != 0:
        sys.exit("%s failed (%d): %s" % (" ".join(cmd), r.returncode, r.stderr[-2000:]))
    return r


def sweep_seconds(config, threads, tmp, extra=()):
    """The runner's sweep time from its summary line ("N cells in X s on T threads")."""
    r = sh([RUNNER, os.path.join(ROOT, config)] + list(extra) + ["-o", os.path.join(tmp, "s.h5"), "--force", "-j", str(threads)])
    m = re.search(r"cells in ([0-9.]+) s", r.stdout)
    return float(m.group(1))


def cnn_epoch(threads, tmp, kernels=None, prefix=(), env=None):
    out = os.path.join(tmp, "cnn.h5")
    e = dict(env or {})
    if kernels:
        e["RUNNER_KERNELS"] = kernels
    sh(list(prefix) + [RUNNER, os.path.join(ROOT, "configs", "mnist_cnn.yaml")] + CNN_SET +
       ["-o", out, "--force", "--quiet", "-j", str(threads)], e)
    with h5py.File(out, "r") as f:
        return float(f["epoch_seconds"][..., 1:].reshape(-1)[0])


def torch_cnn(threads):
    r = sh([PY, os.path.join(ROOT, "bench", "train_peers.py"), "torch", "cnn", str(threads), "1"],
           {"OPENBLAS_NUM_THREADS": "1", "RUNNER_BENCH_DATA": DATA})
    line = next(l for l in r.stdout.splitlines() if l.startswith("epoch_seconds"))
    return min(float(v) for v in line.split()[1:])


def best(f, repeats):
    return min(f() for _ in range(repeats))


def main():
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    n = os.cpu_count()
    threads = [int(t) for t in sys.argv[2:]] or [t for t in (1, 2, 4, 8, 16, 32, 64) if t <= n]
    print("## Machine\n")
    lscpu = sh(["lscpu"], check=False).stdout
    for key in ("Model name", "CPU(s)", "Thread(s) per core", "Socket(s)", "NUMA node(s)", "L1d", "L2", "L3"):
        m = re.search(r"^%s:\s*(.+)$" % re.escape(key), lscpu, re.M)
        if m:
            print("- %s: %s" % (key, m.group(1).strip()))
    print("- " + sh([RUNNER, "--version"]).stdout.strip().replace("\n", "\n- "))
    torch_ok = sh([PY, "-c", "import torch"], check=False).returncode == 0
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for t in threads:
            rows[t] = {
                "compute": best(lambda: sweep_seconds("bench/scaling_compute.yaml", t, tmp), repeats),
                "train16": best(lambda: sweep_seconds("bench/scaling_train.yaml", t, tmp, DATA_SET), repeats),
                "io10k": best(lambda: sweep_seconds("bench/sweep_10k.yaml", t, tmp), repeats),
                "cnn": best(lambda: cnn_epoch(t, tmp), repeats),
                "cnn openblas": best(lambda: cnn_epoch(t, tmp, "openblas"), repeats),
            }
            if torch_ok:
                rows[t]["cnn torch"] = best(lambda: torch_cnn(t), repeats)
            print("  %d thread(s) done: %s" % (t, rows[t]), file=sys.stderr, flush=True)
        cols = list(rows[threads[0]])
        print("\n## Seconds (best of %d) and speed-up over 1 thread\n" % repeats)
        print("| threads | " + " | ".join(cols) + " |")
        print("|---" * (len(cols) + 1) + "|")
        for t in threads:
            print("| %d | " % t + " | ".join("%.3f (%.1fx)" % (rows[t][c], rows[threads[0]][c] / rows[t][c])
                                              for c in cols) + " |")
        top = threads[-1]
        print("\n## The CNN epoch at %d threads, one change at a time (best of %d)\n" % (top, repeats))
        print("| variant | seconds |")
        print("|---|---|")
        variants = [("default", {}, (), None), ("avx2 kernels", {}, (), "avx2"), ("avx512 kernels", {}, (), "avx512"),
                    ("openblas", {}, (), "openblas"),
                    ("OMP_PROC_BIND=close OMP_PLACES=cores", {"OMP_PROC_BIND": "close", "OMP_PLACES": "cores"}, (), None),
                    ("OMP_PROC_BIND=spread OMP_PLACES=cores", {"OMP_PROC_BIND": "spread", "OMP_PLACES": "cores"}, (), None)]
        if shutil.which("numactl"):
            variants.append(("numactl --interleave=all", {}, ("numactl", "--interleave=all"), None))
        for name, env, prefix, kernels in variants:
            try:
                s = best(lambda: cnn_epoch(top, tmp, kernels, prefix, env), repeats)
                print("| %s | %.3f |" % (name, s))
            except SystemExit as e:  # a path this CPU lacks
                print("| %s | - (%s) |" % (name, str(e).splitlines()[-1][:80]))
        if shutil.which("perf"):
            print("\n## perf stat of one CNN run (1 and %d threads)\n" % top)
            for t in (1, top):
                r = sh(["perf", "stat", "-x,", "-e", "task-clock,page-faults,cycles,instructions", RUNNER,
                        os.path.join(ROOT, "configs", "mnist_cnn.yaml")] + CNN_SET +
                       ["-o", os.path.join(tmp, "p.h5"), "--force", "--quiet", "-j", str(t)], check=False)
                stats = {l.split(",")[2]: l.split(",")[0] for l in r.stderr.splitlines() if l.count(",") >= 3}
                print("- %d thread(s): %s" % (t, ", ".join("%s %s" % (k, v) for k, v in stats.items())))
        if shutil.which("cc"):
            r = sh([os.path.join(ROOT, "bench", "blocks.sh")], check=False)
            print("\n## The products' blocks per thread count (bench/blocks.sh)\n")
            print("    " + (r.stdout if r.returncode == 0 else r.stderr[-2000:]).strip().replace("\n", "\n    "))


if __name__ == "__main__":
    main()
