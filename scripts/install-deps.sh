#!/usr/bin/env bash
# Install the Debian packages runner needs, only those missing.
# Used by `make` (build, run, test); safe to run again.
set -euo pipefail

# build and run (OpenBLAS: the OpenMP build, which shares the runner's thread pool)
pkgs=(build-essential cmake pkg-config libyaml-dev libhdf5-dev hdf5-tools zlib1g-dev libopenblas-openmp-dev)
# sweeps over several processes or nodes: Open MPI (mpirun; the serial HDF5
# above stays the one the runner links: only rank 0 writes)
pkgs+=(openmpi-bin libopenmpi-dev)
# tests: Criterion, netCDF's ncdump, and Debian's Python stack for reading the
# results back (h5py, xarray + h5netcdf) and for the PyTorch reference vectors
pkgs+=(libcriterion-dev netcdf-bin python3-numpy python3-h5py python3-xarray python3-h5netcdf)
# runner-plot (installed with the runner) and its test: matplotlib; YAML for the test;
# headless Chromium renders runner-plot's HTML page as a browser shows it
pkgs+=(python3-matplotlib python3-yaml chromium)
# data: Fashion-MNIST in IDX format (/usr/share/datasets/fashion-mnist), read by the IDX tests
pkgs+=(dataset-fashion-mnist)
case "${RUNNER_DEPS:-}" in
  bench) pkgs+=(python3-torch hyperfine) ;;
  fuzz) pkgs+=(clang libclang-rt-14-dev) ;; # the fuzzer runtime is only a recommended package
  valgrind) pkgs+=(valgrind) ;;
  all) pkgs+=(python3-torch hyperfine clang libclang-rt-14-dev valgrind) ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO=sudo; else
    echo "error: need root (or sudo) to apt-get install: ${missing[*]}" >&2; exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
