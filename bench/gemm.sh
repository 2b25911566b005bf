#!/usr/bin/env bash
# Benchmark: the runner's matrix kernels against single-threaded OpenBLAS on
# the layers' products (bench/gemm.c). Usage: bench/gemm.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
[ -x "$BUILD/runner" ] || make build
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cc -O2 -fno-tree-loop-distribute-patterns -Irunner -Iinclude bench/gemm.c runner/kernels/gemm.c \
  "$BUILD"/CMakeFiles/gemm_tile_*.dir/runner/kernels/gemm_tile.c.o -lopenblas -lm -o "$out/gemm"
"$out/gemm"
