#!/usr/bin/env bash
# Run every libFuzzer target for a bounded time: tests/fuzz/run.sh BUILD_DIR SECONDS
# Each starts from its seed corpus (and the regression cases); new inputs go
# to BUILD_DIR/fuzz-corpus, crashes to BUILD_DIR/fuzz-crashes. A crash fails
# the run: copy the reproducer into tests/fuzz/regressions/TARGET/, fix the
# bug, and the replay test keeps it fixed.
set -uo pipefail
build=${1:?build dir}
seconds=${2:-60}
src=$(cd "$(dirname "$0")/../.." && pwd)
status=0
for t in config expr idx results; do
  seeds=("$src/tests/fuzz/corpus/$t" "$src/tests/fuzz/regressions/$t")
  [ "$t" = config ] && seeds+=("$src/configs" "$src/tests/hostile")
  mkdir -p "$build/fuzz-corpus/$t" "$build/fuzz-crashes"
  echo "fuzz_$t: ${seconds}s"
  if ! "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$build/fuzz-crashes/$t-" \
      "$build/fuzz-corpus/$t" "${seeds[@]}" >"$build/fuzz-$t.log" 2>&1; then
    echo "fuzz_$t FAILED: reproducer in $build/fuzz-crashes/ (log: $build/fuzz-$t.log)"
    grep -E "ERROR|SUMMARY|Test unit written" "$build/fuzz-$t.log" | head -5
    status=1
  fi
  grep -E "stat::number_of_executed_units|stat::new_units_added" "$build/fuzz-$t.log" | sed "s/^/  fuzz_$t /"
done
exit $status
