#!/usr/bin/env bash
# Benchmark: what --isolate costs (every batch of cells computed in child
# processes, so that a crashing or hanging cell costs that cell), interleaved
# in one run: the 10,000-cell analytic sweep (many short cells: the fork per
# batch is all there is to pay) and the 12-cell training sweep (a 240 MB
# process forked per batch; the children's kernels run on one thread).
# Usage: bench/isolation.sh [REPEATS] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
repeats=${1:-5}
threads=${2:-$(nproc)}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
[ -x build/runner ] || make build
echo "analytic: 10,000 cells x 1,000 steps, $threads thread(s)"
/usr/bin/python3 bench/compare.py "$repeats" \
  "in-process=build/runner bench/sweep_10k.yaml -o $out/a.h5 --force --quiet -j $threads" \
  "isolated=build/runner bench/sweep_10k.yaml -o $out/b.h5 --force --quiet -j $threads --isolate"
echo "training: 12 cells x 1 epoch of the 784-100-10 net, $threads thread(s)"
/usr/bin/python3 bench/compare.py "$repeats" \
  "in-process=build/runner bench/train_sweep.yaml -o $out/c.h5 --force --quiet -j $threads" \
  "isolated=build/runner bench/train_sweep.yaml -o $out/d.h5 --force --quiet -j $threads --isolate"
