# All dependencies come from Debian packages (see docs/dependencies.md); nothing is vendored.
find_package(Eigen3 3.4 REQUIRED NO_MODULE)            # libeigen3-dev (incl. unsupported/)
find_package(Boost 1.74 REQUIRED)                      # libboost-dev (odeint is header-only)
find_package(OpenMP REQUIRED COMPONENTS CXX)           # g++'s libgomp
# Debian installs serial and parallel HDF5 side by side, and installing libhdf5-openmpi-dev switches
# the hdf5.pc alternative to the MPI flavour: ask for the one we mean (docs/distributed.md).
option(SDESCORE_MPI "MPI runs of sdesim writing one file with parallel HDF5 (docs/distributed.md)" OFF)
if(SDESCORE_MPI)
  find_package(MPI REQUIRED COMPONENTS C)               # libopenmpi-dev
  set(HDF5_PREFER_PARALLEL TRUE)
  if(NOT HDF5_C_COMPILER_EXECUTABLE AND EXISTS /usr/bin/h5pcc)
    set(HDF5_C_COMPILER_EXECUTABLE /usr/bin/h5pcc)      # libhdf5-openmpi-dev
  endif()
else()
  set(HDF5_PREFER_PARALLEL FALSE)
  if(NOT HDF5_C_COMPILER_EXECUTABLE AND EXISTS /usr/bin/h5cc)
    set(HDF5_C_COMPILER_EXECUTABLE /usr/bin/h5cc)       # libhdf5-dev: the serial wrapper
  endif()
endif()
find_package(HDF5 REQUIRED COMPONENTS C HL)            # libhdf5-dev (C API + dimension scales)
if(SDESCORE_MPI AND NOT HDF5_IS_PARALLEL)
  message(FATAL_ERROR "SDESCORE_MPI=ON needs parallel HDF5 (Debian: libhdf5-openmpi-dev, scripts/deps.sh --mpi); "
                      "found a serial HDF5 at ${HDF5_C_LIBRARY_hdf5}")
elseif(NOT SDESCORE_MPI AND HDF5_IS_PARALLEL)
  message(FATAL_ERROR "a serial build found the parallel HDF5 (${HDF5_C_LIBRARY_hdf5}); set "
                      "HDF5_C_COMPILER_EXECUTABLE=/usr/bin/h5cc or configure with -DSDESCORE_MPI=ON")
endif()
find_package(CLI11 CONFIG REQUIRED)                    # libcli11-dev
find_package(doctest REQUIRED)                         # doctest-dev
find_package(hwy 1.0 CONFIG REQUIRED)                    # libhwy-dev (SIMD kernels with runtime CPU dispatch)
find_path(RANDOM123_INCLUDE_DIR Random123/philox.h REQUIRED)   # librandom123-dev (header-only)
if(NOT TARGET Random123::Random123)
  add_library(Random123::Random123 INTERFACE IMPORTED)
  set_target_properties(Random123::Random123 PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${RANDOM123_INCLUDE_DIR}")
endif()
if(NOT TARGET sdescore_hdf5)
  add_library(sdescore_hdf5 INTERFACE)
  target_include_directories(sdescore_hdf5 SYSTEM INTERFACE ${HDF5_INCLUDE_DIRS})
  target_link_libraries(sdescore_hdf5 INTERFACE ${HDF5_LIBRARIES} ${HDF5_HL_LIBRARIES})
  target_compile_definitions(sdescore_hdf5 INTERFACE ${HDF5_DEFINITIONS})
  if(SDESCORE_MPI)
    target_link_libraries(sdescore_hdf5 INTERFACE MPI::MPI_C)  # hdf5.h includes mpi.h
    # SDESCORE_MPI: the MPI entry points; OMPI_SKIP_MPICXX: no OpenMPI C++ bindings (unlinked, unused).
    target_compile_definitions(sdescore_hdf5 INTERFACE SDESCORE_MPI=1 OMPI_SKIP_MPICXX=1 MPICH_SKIP_MPICXX=1)
  endif()
endif()
