#!/usr/bin/env bash
# What the evaluation after each epoch costs (issue 22, item 5): one epoch
# of configs/mnist_cnn.yaml (and the MLPs) with the default evaluation (the
# whole training set and the test set, forward only) against one with a
# single sample of each, at 1 and 2 threads, for the runner's kernels and
# OpenBLAS. Wall seconds of the whole run, median of REPEATS.
# Usage: bench/eval_cost.sh [REPEATS] [NETS]
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x build/runner ] || make build
REPEATS=${1:-3}
NETS=${2:-"mnist_cnn mnist_twolayer"}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf "%-16s %-8s %7s %10s %10s %8s\n" config kernels threads "eval s" "no-eval s" "eval %"
for net in $NETS; do
  for kernels in auto openblas; do
    for j in 1 2; do
      full=() none=()
      for _ in $(seq "$REPEATS"); do
        for mode in full none; do
          set=(--set train.epochs=1)
          [ "$mode" = none ] && set+=(--set 'train.eval={train_samples: 1, test_samples: 1}')
          t0=$(date +%s.%N)
          RUNNER_KERNELS=$kernels build/runner "configs/$net.yaml" "${set[@]}" -o "$out/e.h5" --force --quiet -j "$j"
          t=$(echo "$(date +%s.%N) - $t0" | bc)
          if [ "$mode" = full ]; then full+=("$t"); else none+=("$t"); fi
        done
      done
      f=$(printf "%s\n" "${full[@]}" | median) n=$(printf "%s\n" "${none[@]}" | median)
      printf "%-16s %-8s %7d %10.2f %10.2f %7.0f%%\n" "$net" "$kernels" "$j" "$f" "$n" "$(echo "($f - $n) * 100 / $f" | bc -l)"
    done
  done
done
