#!/usr/bin/env bash
# Benchmark: the host's blocks of the layers' large products at 1 to 32
# threads, and the time they predict on that many cores (bench/blocks.c).
# Usage: bench/blocks.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
[ -x "$BUILD/runner" ] || make build
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cc -O2 -fopenmp -Irunner -Iinclude bench/blocks.c "$BUILD/librunner_core.a" -lopenblas -lm -o "$out/blocks"
"$out/blocks"
