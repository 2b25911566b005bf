#!/usr/bin/env bash
# Benchmark (issue 20, item 6): a 1,000,000-cell x 100-step results file
# (2.1 GB: lr x momentum, 1000 x 1000, on the elliptic bowl): the sweep,
# `runner report`, runner-plot's figures and its HTML page, each with its
# wall time and peak memory (GNU time). runner-plot reads such a file
# lazily: the final losses in 64 MB slabs, the rows it draws on demand; the
# figures draw the best 10 cells (and say so) and the heatmap every cell.
# Usage: bench/plot_big.sh [DIR]   (DIR: where the 2.1 GB file goes; default /tmp)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-/tmp}
[ -x build/runner ] || make build
cat > "$dir/plot_big.yaml" <<'YAML'
name: plot_big
steps: 100
problem: {objective: elliptic, start: [-7, 2]}
optimizer: {name: momentum, lr: 0.1}
grid:
  optimizer.lr: {logspace: [-4, 0, 1000]}
  optimizer.momentum: {linspace: [0, 0.99, 1000]}
YAML
measure() { # label, command...
  local label=$1; shift
  /usr/bin/time -f "$label: %e s, %M KB peak" "$@" > /dev/null 2> "$dir/plot_big.time" || { cat "$dir/plot_big.time"; exit 1; }
  tail -1 "$dir/plot_big.time"
}
measure "sweep (1,000,000 cells)" build/runner "$dir/plot_big.yaml" -o "$dir/plot_big.h5" --force --quiet --max-cells 1000000
ls -l "$dir/plot_big.h5" | awk '{printf "file: %.2f GB\n", $5 / 1e9}'
measure "runner report" build/runner report "$dir/plot_big.h5" --by optimizer.momentum
measure "runner-plot (paths, loss, heatmap)" /usr/bin/python3 tools/runner-plot "$dir/plot_big.h5" -o "$dir/plot_big_figures" --runner build/runner
measure "runner-plot --html" /usr/bin/python3 tools/runner-plot "$dir/plot_big.h5" --html -o "$dir/plot_big_figures" --runner build/runner
rm -f "$dir/plot_big.h5" "$dir/plot_big.yaml" "$dir/plot_big.time"
