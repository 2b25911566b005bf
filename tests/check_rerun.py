"""check_rerun.py RUNNER WORKDIR: the results file is the experiment (issue 17).

Every shipped config (shortened as tests/shipped_configs.txt says) runs once;
then again from its file both ways: its resolved_config saved as a config,
and `runner FILE.h5 -o NEW.h5`. Every numeric dataset must be the same bits
(timings aside) and every per-cell record the same text.
"""
import os
import subprocess
import sys

import h5py
import numpy as np

runner, work = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
TIMINGS = {"wall_seconds", "epoch_seconds", "end_time"}
failures = []


def run(*args):
    p = subprocess.run([runner, *args, "--quiet"], capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"runner {' '.join(args)} exited {p.returncode}: {p.stderr}")


def compare(name, a_path, b_path, how):
    with h5py.File(a_path, "r") as a, h5py.File(b_path, "r") as b:
        if set(a.keys()) != set(b.keys()):
            failures.append(f"{name} ({how}): datasets {sorted(a.keys())} vs {sorted(b.keys())}")
            return 0
        n = 0
        for key in a:
            if key in TIMINGS:
                continue
            x, y = np.asarray(a[key][()]), np.asarray(b[key][()])
            if x.dtype.kind in "fiu":
                same = x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()
            else:
                same = x.shape == y.shape and np.array_equal(x, y)
            if not same:
                failures.append(f"{name} ({how}): dataset {key} differs")
            n += 1
        if a.attrs["config_fingerprint"] != b.attrs["config_fingerprint"]:
            failures.append(f"{name} ({how}): fingerprints differ")
        return n


here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "shipped_configs.txt")) as f:
    entries = [line.split() for line in f if line.strip() and not line.startswith("#")]
listed = {e[0] for e in entries}
shipped = {n[:-5] for n in os.listdir("configs") if n.endswith(".yaml")}
if listed != shipped:
    failures.append(f"tests/shipped_configs.txt lists {sorted(listed)}, configs/ has {sorted(shipped)}")

for name, *shorten in entries:
    first = os.path.join(work, f"{name}.h5")
    run(f"configs/{name}.yaml", *shorten, "-o", first, "--force")
    resolved = os.path.join(work, f"{name}.resolved.yaml")
    with h5py.File(first, "r") as f:
        text = f.attrs["resolved_config"]
    with open(resolved, "w") as f:
        f.write(text)
    as_config = os.path.join(work, f"{name}.from_config.h5")
    run(resolved, "-o", as_config, "--force")
    from_file = os.path.join(work, f"{name}.from_file.h5")
    run(first, "-o", from_file, "--force")
    n = compare(name, first, as_config, "resolved_config as a config")
    compare(name, first, from_file, "runner FILE.h5")
    print(f"{name}: {n} datasets the same bits both ways")

if failures:
    print("\n".join(failures))
    sys.exit(1)
print(f"all {len(entries)} shipped configs rerun from their files bit for bit")
