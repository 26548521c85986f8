#!/usr/bin/env bash
# Opt-in: the Debian packages of the MPI build (cmake --preset mpi, docs/distributed.md), on top
# of scripts/deps.sh. Not used by setup.sh or test.sh: the default build stays serial.
# Installing libhdf5-openmpi-dev switches Debian's hdf5.pc alternative to the MPI flavour;
# cmake/SdescoreDependencies.cmake asks for the serial or parallel library explicitly.
set -euo pipefail
"$(dirname "$0")/deps.sh"
packages=(libopenmpi-dev openmpi-bin libhdf5-openmpi-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "[deps-mpi] all ${#packages[@]} MPI packages present"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "[deps-mpi] installing: ${missing[*]}"
$SUDO apt-get update -q
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
