#!/usr/bin/env bash
# Benchmark: training speed of runner against PyTorch and a textbook numpy
# implementation, one epoch of each network at 1 and 2 threads, then the
# 4-optimizer sweep end to end and peak RSS (bench/train.py says how).
# Usage: bench/train.sh [REPEATS] [NETS]   e.g. bench/train.sh 3 "mlp2 relu5 cnn"
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x build/runner ] || make build
RUNNER_DEPS=bench scripts/install-deps.sh # PyTorch, the peer
exec /usr/bin/python3 bench/train.py "$@"
