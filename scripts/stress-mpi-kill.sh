#!/bin/bash
# stress-mpi-kill.sh: kill rank 1 of a 3-rank job at random moments and
# print, per kill, whether Open MPI reported a batch cut off mid-transfer
# ("Read -1, expected N, errno = 3") and the file's run_state (2 is
# interrupted: what rank 0 must write whatever the timing). test_mpi kills
# once per run; this finds the rare timings (about 1 kill in 40 cuts a batch
# when two CPU hogs share the machine: run `yes >/dev/null &` twice first).
#
#   scripts/stress-mpi-kill.sh [RUNNER [KILLS]]   # default build/runner, 40
set -u
RUNNER=$(realpath "${1:-build/runner}")
KILLS=${2:-40}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
cat > sweep.yaml <<'YAML'
name: shared
steps: 2000
problem: {expression: "sin(x)*cos(y) + x^2/20 + y^2", start: [-3, 2]}
optimizer: {name: adam, lr: 0.01}
grid:
  optimizer.lr: {logspace: [-3, 0, 100]}
runs:
  - {label: adam, grid: {optimizer.beta1: {linspace: [0.5, 0.95, 40]}}}
  - {label: rms, optimizer: {name: rmsprop}, grid: {optimizer.alpha: {linspace: [0.5, 0.99, 40]}}}
YAML
root=(); [ "$(id -u)" = 0 ] && root=(--allow-run-as-root)
for i in $(seq "$KILLS"); do
    rm -f k.h5 k.h5.cells-in-flight
    mpirun "${root[@]}" --oversubscribe --mca odls_base_sigkill_timeout 5 -np 3 "$RUNNER" sweep.yaml -o k.h5 \
        --quiet > log 2>&1 &
    job=$!
    while [ ! -e k.h5 ] && kill -0 $job 2>/dev/null; do sleep 0.01; done
    sleep 0.$((RANDOM % 9 + 1))
    for p in $(pgrep -f "$RUNNER sweep.yaml"); do
        grep -qz "OMPI_COMM_WORLD_RANK=1" "/proc/$p/environ" 2>/dev/null && kill -9 "$p"
    done
    wait $job
    state=$(/usr/bin/python3 -c "import h5py; print(int(h5py.File('k.h5', 'r')['run_state'][()]))" 2>&1 | tail -1)
    echo "kill $i: cut_off_batch=$(grep -c 'Read -1' log) run_state=$state"
done
