#!/usr/bin/python3
"""Training speed: runner against PyTorch and textbook numpy, in one run.

    bench/train.sh [REPEATS] [NETS]      e.g. bench/train.sh 3 "mlp2 relu5 cnn"

Part 1, one epoch (60,000 samples at batch 100, training steps only, no
evaluation) of each network at 1 and 2 threads: runner's epoch_seconds from
its output file, the peers' own timers around the same loop
(bench/train_peers.py). Each tool trains 2 epochs per repeat and counts its
faster one; repeats are interleaved so machine noise hits all alike; the
table shows the median over repeats and each peer's time over runner's.
Part 2, configs/mnist_optimizers.yaml end to end (process start to exit)
against the same four trainings and evaluations in PyTorch, both on all
threads. Last, the peak RSS of every tool's runs, the CNN's included.
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

import h5py

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNNER = os.path.join(ROOT, "build", "runner")
PEERS = os.path.join(ROOT, "bench", "train_peers.py")
CONFIG = {"mlp2": "mnist_twolayer", "relu5": "mnist_relu5", "cnn": "mnist_cnn"}
PY = "/usr/bin/python3"


def run(cmd, env_extra=None):
    """Run cmd; its stdout, wall seconds and peak RSS in MiB (wait4's rusage
    is this child's own, not the running maximum over all children; Linux
    keeps the high-water mark across exec, so this Python's ~45 MiB is a floor)."""
    env = dict(os.environ, **(env_extra or {}))
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, text=True)
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
        out.seek(0), err.seek(0)
        if p.returncode != 0:
            sys.exit("%s failed (%d): %s" % (" ".join(cmd), p.returncode, err.read()))
        return out.read(), wall, usage.ru_maxrss / 1024.0


def runner_epoch(net, threads, tmp, kernels=None):
    """kernels: RUNNER_KERNELS for this run (None: the default, the runner's own)."""
    out = os.path.join(tmp, net + ".h5")
    _, _, rss = run([RUNNER, os.path.join(ROOT, "configs", CONFIG[net] + ".yaml"), "--set", "train.epochs=2", "-o",
                      out, "--force", "--quiet", "-j", str(threads)], {"RUNNER_KERNELS": kernels} if kernels else None)
    with h5py.File(out, "r") as f:
        return float(min(f["epoch_seconds"][..., 1:].reshape(-1))), rss


def peer_epoch(peer, net, threads):
    blas = "1" if peer == "torch" else str(threads)
    out, _, rss = run([PY, PEERS, peer, net, str(threads), "2"], {"OPENBLAS_NUM_THREADS": blas})
    line = next(l for l in out.splitlines() if l.startswith("epoch_seconds"))
    return min(float(v) for v in line.split()[1:]), rss


def main():
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    nets = (sys.argv[2] if len(sys.argv) > 2 else "mlp2 relu5 cnn").split()
    threads_list = [1, 2]
    # "openblas": the runner with RUNNER_KERNELS=openblas, its products by
    # OpenBLAS instead of its own kernels. BENCH_TOOLS picks some of them.
    tools = os.environ.get("BENCH_TOOLS", "runner openblas torch numpy").split()
    times, rss = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(repeats):
            for net in nets:
                for t in threads_list:
                    for tool in tools:
                        s, mib = (runner_epoch(net, t, tmp) if tool == "runner" else
                                  runner_epoch(net, t, tmp, "openblas") if tool == "openblas" else
                                  peer_epoch(tool, net, t))
                        times.setdefault((net, t, tool), []).append(s)
                        rss[(net, tool)] = max(rss.get((net, tool), 0.0), mib)
                        print("  repeat %d %-5s %d thread(s) %-6s %.3f s" % (r + 1, net, t, tool, s), flush=True)
        print("\nOne epoch of training (60,000 samples, batch 100), median of %d; ratio = peer / runner" % repeats)
        peers = [tool for tool in tools if tool != "runner"]
        print("%-6s %7s %9s" % ("net", "threads", "runner s") + "".join(" %10s" % (p + " s") for p in peers) +
              "".join(" %10s" % (p + " x") for p in peers))
        for net in nets:
            for t in threads_list:
                m = {tool: statistics.median(times[(net, t, tool)]) for tool in tools}
                print("%-6s %7d %9.3f" % (net, t, m["runner"]) + "".join(" %10.3f" % m[p] for p in peers) +
                      "".join(" %9.2fx" % (m[p] / m["runner"]) for p in peers))
        if "torch" not in tools:
            return

        print("\nconfigs/mnist_optimizers.yaml end to end (4 trainings x 2000 steps, evaluations included), 2 threads")
        sweep = {"runner": [], "torch": []}
        for _ in range(repeats):
            _, w, mib = run([RUNNER, os.path.join(ROOT, "configs", "mnist_optimizers.yaml"), "-o",
                             os.path.join(tmp, "opt.h5"), "--force", "--quiet", "-j", "2"])
            sweep["runner"].append(w)
            rss[("sweep", "runner")] = max(rss.get(("sweep", "runner"), 0.0), mib)
            _, w, mib = run([PY, PEERS, "torch-sweep", "2"], {"OPENBLAS_NUM_THREADS": "1"})
            sweep["torch"].append(w)
            rss[("sweep", "torch")] = max(rss.get(("sweep", "torch"), 0.0), mib)
        mr, mt = statistics.median(sweep["runner"]), statistics.median(sweep["torch"])
        print("runner %.2f s, torch %.2f s (medians of %d): torch / runner = %.2fx" % (mr, mt, repeats, mt / mr))

        print("\nPeak RSS over the runs above, MiB")
        for key in sorted(rss):
            print("%-6s %-7s %7.0f" % (key[0], key[1], rss[key]))


if __name__ == "__main__":
    main()
