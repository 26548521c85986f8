#!/usr/bin/env bash
# Installs sdescore's Debian packages (only those missing), plus any packages given as arguments
# (deps-mpi.sh). Used by setup.sh, test.sh and .ci/run.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config ccache
  libeigen3-dev libboost-dev libhdf5-dev libcli11-dev doctest-dev librandom123-dev libhwy-dev libtomlplusplus-dev
  python3 python3-numpy python3-h5py python3-xarray python3-h5netcdf python3-matplotlib python3-scipy
  python3-dev python3-pybind11 python3-pytest python3-tqdm
  "$@"
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "[deps] all ${#packages[@]} Debian packages present"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "[deps] installing: ${missing[*]}"
$SUDO apt-get update -q
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
