# install() and export() of the library targets, with a generated sdescoreConfig.cmake, so an
# outside project can
#   find_package(sdescore REQUIRED)
#   target_link_libraries(app PRIVATE sdescore::sim)     # or ::core, ::ensemble, ::io, ...
# against an install (cmake --install build --prefix P; CMAKE_PREFIX_PATH=P) or the build tree
# (sdescore_DIR=<build>). tests/consumer checks both ends.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(_layers core random ensemble io nn score reference eval study modelfile app sim)
set(_targets)
foreach(layer ${_layers})
  if(TARGET sdescore_${layer})
    set_target_properties(sdescore_${layer} PROPERTIES EXPORT_NAME ${layer})
    list(APPEND _targets sdescore_${layer})
  endif()
endforeach()
# Private helpers the static libraries name in their link interface ($<LINK_ONLY:...>), and the
# HDF5 wrapper (Debian's include and library paths).
list(APPEND _targets sdescore_warnings sdescore_native sdescore_hdf5)

set(SDESCORE_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/sdescore)
install(TARGETS ${_targets} EXPORT sdescoreTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT devel
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT devel
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/lib/sdescore ${PROJECT_SOURCE_DIR}/models/sdescore
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT devel FILES_MATCHING PATTERN "*.hpp")
install(FILES ${PROJECT_BINARY_DIR}/lib/sdescore/version.hpp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/sdescore
        COMPONENT devel)
install(EXPORT sdescoreTargets NAMESPACE sdescore:: DESTINATION ${SDESCORE_CMAKE_DIR} COMPONENT devel)
export(EXPORT sdescoreTargets NAMESPACE sdescore:: FILE ${PROJECT_BINARY_DIR}/sdescoreTargets.cmake)

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/sdescoreConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/sdescoreConfig.cmake INSTALL_DESTINATION ${SDESCORE_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/sdescoreConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/sdescoreConfig.cmake ${PROJECT_BINARY_DIR}/sdescoreConfigVersion.cmake
        DESTINATION ${SDESCORE_CMAKE_DIR} COMPONENT devel)
