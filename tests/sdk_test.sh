#!/usr/bin/env bash
# The plugin SDK as a user meets it: install the runner into a prefix, build
# examples/custom_optimizer (Lion) and examples/custom_layer (leaky ReLU) out
# of tree against it (CMake's find_package(Runner), and pkg-config alone),
# `runner check` them with the installed runner, run their sweeps beside the
# bundled plugins, install one into the runner's plugin directory so that no
# --plugin-path is needed, and draw the results with the installed runner-plot.
# Usage: sdk_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
work=$build/sdk-test
prefix=$work/prefix
rm -rf "$work"
mkdir -p "$work/pkgconfig-build"
step() { echo "== $*"; }
# Output to a file, then grep it: `cmd | grep -q` under pipefail fails at
# random when grep exits early and cmd dies of SIGPIPE.
has() { grep -q -- "$1" "$2" || { echo "$2 lacks '$1':"; cat "$2"; exit 1; }; }

step "cmake --install into $prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null
for f in bin/runner bin/runner-plot include/runner/plugin.h lib/cmake/Runner/RunnerConfig.cmake \
         lib/cmake/Runner/RunnerConfigVersion.cmake lib/pkgconfig/runner-plugin.pc \
         lib/runner/plugins/sgd.so share/man/man1/runner.1; do
  test -e "$prefix/$f" || { echo "missing after install: $f"; exit 1; }
done

for ex in custom_optimizer custom_layer; do
  step "build examples/$ex against the installed SDK"
  cmake -S "$src/examples/$ex" -B "$work/$ex" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
  cmake --build "$work/$ex" >/dev/null
done
step "build lion.c with pkg-config only"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror -shared -fPIC $(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags runner-plugin) \
  "$src/examples/custom_optimizer/lion.c" -o "$work/pkgconfig-build/lion.so" -lm

runner=$prefix/bin/runner
for so in "$work/custom_optimizer/lion.so" "$work/custom_layer/leaky_relu.so" "$work/pkgconfig-build/lion.so"; do
  step "runner check $so"
  "$runner" check "$so" | tee "$work/check.txt"
  # lion's elementwise step (ABI 1.5) is found and gives step's bits in ranges
  case $so in *lion.so) has "same bits after a second init and stepped in ranges" "$work/check.txt" ;; esac
done

step "Lion in a sweep beside SGD and Adam (bundled plugins found by the installed runner)"
cd "$work"
"$runner" "$src/examples/custom_optimizer/lion_vs_adam.yaml" --plugin-path "$work/custom_optimizer" -o lion.h5 | tee lion.txt
has "^Lion " lion.txt
"$runner" report lion.h5 --csv >lion.csv
has "^Lion,1,0,0," lion.csv

step "installed into the runner's plugin directory: found without --plugin-path"
cmake --install "$work/custom_optimizer" >/dev/null
"$runner" plugins >plugins.txt
has "lib/runner/plugins/lion.so" plugins.txt
"$runner" "$src/examples/custom_optimizer/lion_vs_adam.yaml" -o lion2.h5 --quiet

step "leaky ReLU in a training sweep beside ReLU"
"$runner" "$src/examples/custom_layer/leaky_vs_relu.yaml" --plugin-path "$work/custom_layer" -o leaky.h5 \
  --set train.limit=1000 --set train.epochs=1 | tee leaky.txt
has "^LeakyReLU " leaky.txt

step "installed runner-plot and man page"
"$prefix/bin/runner-plot" lion.h5 -o figures >figures.txt
has "lion_paths.png" figures.txt
if command -v man >/dev/null; then
  MANPATH="$prefix/share/man" man -w runner >man.txt
  has "$prefix/share/man/man1/runner.1" man.txt
fi
echo "sdk: all steps passed"
