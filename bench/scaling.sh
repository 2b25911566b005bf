#!/usr/bin/env bash
# Benchmark: thread scaling on a many-core machine (issue 22, item 4), one
# call; bench/scaling.py says what it runs. Usage: bench/scaling.sh [REPEATS] [THREADS...]
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x build/runner ] || make build
exec /usr/bin/python3 bench/scaling.py "$@"
