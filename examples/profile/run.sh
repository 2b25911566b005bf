#!/usr/bin/env bash
# Six optimizers on five 2-D objectives, each objective one problem, compared
# by performance profiles (README, "Across problems"):
#   examples/profile/run.sh [BUILD_DIR]   -> results/profile/*.h5, the table, results/profile/compare_profile.png
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
mkdir -p results/profile
files=()
for p in elliptic rosenbrock beale booth himmelblau; do
  "$build/runner" "examples/profile/$p.yaml" -o "results/profile/$p.h5" --force --quiet
  files+=("results/profile/$p.h5")
done
"$build/runner" compare "${files[@]}" --tol 1e-6
/usr/bin/python3 tools/runner-plot --profile "${files[@]}" --tol 1e-6 --runner "$build/runner" -o results/profile
