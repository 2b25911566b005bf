#!/usr/bin/env bash
# Benchmark: the 10,000-cell x 1,000-step momentum sweep end to end (process
# start, YAML, compute, 160 MB HDF5 write), runner vs numpy vectorised over
# cells, interleaved in one run. Usage: bench/sweep.sh [REPEATS] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
repeats=${1:-5}
threads=${2:-$(nproc)}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
[ -x build/runner ] || make build
echo "10,000 cells x 1,000 steps, $threads thread(s) for runner; numpy is single-threaded by nature"
/usr/bin/python3 bench/compare.py "$repeats" \
  "runner=build/runner bench/sweep_10k.yaml -o $out/runner.h5 --force --quiet -j $threads" \
  "numpy=OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/numpy_sweep.py $out/numpy.h5"
ls -l "$out"
