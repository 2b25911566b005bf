#!/usr/bin/env bash
# The numbers the README quotes from runs, regenerated, to paste:
#  - the Fashion-MNIST accuracies of its "What works" table (Training row);
#  - the summary of configs/mnist_optimizers.yaml ("Training networks");
#  - runner report on the same config with seeds: [1, 2] ("Reports and plots").
# test_mnist fails when the README and the build differ (exactly on the CPU
# the README names, within 0.01 on another). Usage: bench/readme_numbers.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
acc() {
    "$build/runner" "configs/$1.yaml" -o "$out/$1.h5" --force --quiet
    /usr/bin/python3 -c 'import h5py, numpy as np, sys
a = np.asarray(h5py.File(sys.argv[1], "r")["test_accuracy"][()]).reshape(-1)
print("%.3f" % a[-1])' "$out/$1.h5"
}
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
echo "== What works, Training row"
echo "Fashion-MNIST test accuracy after 5 epochs $(acc mnist_twolayer) (two-layer sigmoid, SGD)," \
     "$(acc mnist_relu5) (5x100 ReLU, Adam) and $(acc mnist_cnn) (CNN, Adam) (measured on $cpu by" \
     "\`bench/readme_numbers.sh\`; test_mnist holds these numbers to the build)"
echo
echo "== Training networks: \$ build/runner configs/mnist_optimizers.yaml"
"$build/runner" configs/mnist_optimizers.yaml -o "$out/mo.h5" --force | sed "s|$out/mo.h5|results/mnist_optimizers.h5|"
echo
echo "== Reports and plots: runner report results/mnist_optimizers.h5 --tol 0.6 (seeds: [1, 2])"
"$build/runner" configs/mnist_optimizers.yaml --set 'seeds=[1, 2]' -o "$out/mo2.h5" --force --quiet
"$build/runner" report "$out/mo2.h5" --tol 0.6 | sed "s|$out/mo2.h5|results/mnist_optimizers.h5|"
