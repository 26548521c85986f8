#!/usr/bin/env bash
# Opt-in: the Debian packages of the MPI build (cmake --preset mpi, docs/distributed.md), on top
# of scripts/deps.sh (python3-mpi4py: the Python module's comm=). Used by test.sh (after the serial suite), not by setup.sh: the default build stays serial.
# Installing libhdf5-openmpi-dev switches Debian's hdf5.pc alternative to the MPI flavour;
# cmake/SdescoreDependencies.cmake asks for the serial or parallel library explicitly.
set -euo pipefail
exec "$(dirname "$0")/deps.sh" libopenmpi-dev openmpi-bin libhdf5-openmpi-dev python3-mpi4py
