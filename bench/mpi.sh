#!/usr/bin/env bash
# Benchmark: one sweep over 1, 2 and 3 MPI ranks on this machine, end to end
# (mpirun start, every rank loading the config, compute, rank 0 writing):
# the 10,000-cell x 1,000-step momentum sweep (160 MB written, writer-bound)
# and a 12-cell training sweep (compute-bound), each against the runner
# alone. Then the writer's throughput, the serial part of any MPI sweep.
# Usage: bench/mpi.sh [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/.."
repeats=${1:-5}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
[ -x build/runner ] || make build
command -v mpirun >/dev/null || { echo "mpirun not found: apt-get install openmpi-bin libopenmpi-dev" >&2; exit 1; }
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
cores=$(nproc)
# ranks x threads never above the cores, except 3 ranks on 2 cores (oversubscribed, as CI runs it)
mpi() { echo "mpirun --oversubscribe --bind-to none -x OMP_NUM_THREADS=$2 -np $1 build/runner"; }
t2=$(( cores / 2 > 0 ? cores / 2 : 1 ))

for cfg in bench/sweep_10k.yaml bench/train_sweep.yaml; do
  echo "== $cfg ($cores cores)"
  /usr/bin/python3 bench/compare.py "$repeats" \
    "alone=build/runner $cfg -o $out/a.h5 --force --quiet -j $cores" \
    "np1=$(mpi 1 "$cores") $cfg -o $out/1.h5 --force --quiet" \
    "np2=$(mpi 2 "$t2") $cfg -o $out/2.h5 --force --quiet" \
    "np3=$(mpi 3 1) $cfg -o $out/3.h5 --force --quiet"
done

echo "== the writer (rank 0), from the summary of 2-rank runs"
for cfg in bench/sweep_10k.yaml bench/train_sweep.yaml bench/small_cells.yaml; do
  printf '%-26s ' "$cfg"
  $(mpi 2 "$t2") "$cfg" -o "$out/w.h5" --force | grep -E '^writer:|cells in' | tr '\n' ' '
  echo
done
