# All dependencies come from Debian packages (see docs/dependencies.md); nothing is vendored.
find_package(Eigen3 3.4 REQUIRED NO_MODULE)            # libeigen3-dev (incl. unsupported/)
find_package(Boost 1.74 REQUIRED)                      # libboost-dev (odeint is header-only)
find_package(OpenMP REQUIRED COMPONENTS CXX)           # g++'s libgomp
find_package(HDF5 REQUIRED COMPONENTS C HL)            # libhdf5-dev (C API + dimension scales)
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
endif()
