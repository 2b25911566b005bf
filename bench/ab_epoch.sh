#!/usr/bin/env bash
# Benchmark: one CNN epoch (training only) with two runner builds, run
# interleaved so the machine's slow and fast spells fall on both; prints
# each run's epoch_seconds and final train_loss (the bits must agree).
# Usage: bench/ab_epoch.sh OLD_RUNNER NEW_RUNNER [THREADS] [REPEATS] [CONFIG]
#   e.g. git worktree add /tmp/old HEAD~1 && (cd /tmp/old && make build)
#        bench/ab_epoch.sh /tmp/old/build/runner build/runner 2 4
set -euo pipefail
cd "$(dirname "$0")/.."
old=$1 new=$2 threads=${3:-2} repeats=${4:-3} config=${5:-configs/mnist_cnn.yaml}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for r in $(seq "$repeats"); do
  for v in old new; do
    bin=$old; [ "$v" = new ] && bin=$new
    "$bin" "$config" --set train.epochs=1 --set "train.eval={train_samples: 1, test_samples: 1}" \
      -j "$threads" -o "$out/$v.h5" --force --quiet > /dev/null
    /usr/bin/python3 -c "
import h5py, sys
with h5py.File(sys.argv[1], 'r') as f:
    print('%s %.3f s  train_loss %r' % (sys.argv[2], float(f['epoch_seconds'][...].reshape(-1)[1]),
                                        float(f['train_loss'][...].reshape(-1)[-1])))" "$out/$v.h5" "$v"
  done
done
