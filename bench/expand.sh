#!/usr/bin/env bash
# Benchmark: how long loading and expanding a 100,000-cell study takes
# (bench/study_100k.yaml: a Sobol search of 50,000 samples x 2 runs), every
# cell resolved and validated: `runner --dry-run`, which summarises a large
# study instead of printing every cell; and bench/study_100k_ragged.yaml,
# the same size as a ragged study (each run its own search and grid).
# Usage: bench/expand.sh [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/.."
repeats=${1:-5}
[ -x build/runner ] || make build
/usr/bin/python3 bench/compare.py "$repeats" \
  "dry-run=build/runner bench/study_100k.yaml --dry-run" \
  "dry-run --all-cells=build/runner bench/study_100k.yaml --dry-run --all-cells" \
  "ragged dry-run=build/runner bench/study_100k_ragged.yaml --dry-run"
