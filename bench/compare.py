#!/usr/bin/env python3
"""Time commands side by side, in one run, and print the ratio.

Usage: compare.py REPEATS NAME=COMMAND NAME=COMMAND ...
Runs the commands interleaved REPEATS times (so machine noise hits both alike),
prints min and median wall seconds of each and the ratio of medians of every
command to the first.
"""
import statistics
import subprocess
import sys
import time

repeats = int(sys.argv[1])
cmds = [a.split("=", 1) for a in sys.argv[2:]]
times = {name: [] for name, _ in cmds}
for _ in range(repeats):
    for name, cmd in cmds:
        t0 = time.perf_counter()
        r = subprocess.run(cmd, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        dt = time.perf_counter() - t0
        if r.returncode != 0:
            sys.exit("%s failed (%d): %s" % (name, r.returncode, r.stderr))
        times[name].append(dt)
first = cmds[0][0]
base = statistics.median(times[first])
print("%-12s %10s %10s %12s" % ("", "min s", "median s", "vs " + first))
for name, _ in cmds:
    med = statistics.median(times[name])
    print("%-12s %10.3f %10.3f %11.2fx" % (name, min(times[name]), med, med / base))
