# Install rules, the CMake package (find_package(phasediag CONFIG) ->
# phasediag::phasediag) and the pkg-config file (phasediag.pc); included at
# the end of the top-level CMakeLists.txt, after every target is defined.
#
#   cmake --install build --prefix P
#
#   P/bin/                         phasediag, pd_bench, pd_ntk_bench,
#                                  pd_fft_bench; pdplot, pdreport, pdsummary,
#                                  pdcompare (links into the analysis folder)
#   P/lib/libphasediag.a           (lib64/ where GNUInstallDirs says so)
#   P/lib/cmake/phasediag/         the CMake package and FindFFTW3.cmake
#   P/lib/pkgconfig/phasediag.pc
#   P/include/phasediag/           the public headers by layer, version.h
#   P/share/phasediag/analysis/    the four commands beside the Python
#                                  package phasediag_analysis
#   P/share/phasediag/jobs/        the job files
#   P/share/doc/phasediag/         README, LICENSE, CITATION.cff
#
# Every installed file names the prefix relative to itself, so the tree can
# be installed with any --prefix (or DESTDIR) and moved afterwards.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(PD_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/phasediag" CACHE STRING
  "Where the CMake package files go, relative to the prefix")
set(PD_INSTALL_PKGDIR "${CMAKE_INSTALL_DATADIR}/phasediag")
set(PD_INSTALL_ANALYSISDIR "${PD_INSTALL_PKGDIR}/analysis")
mark_as_advanced(PD_INSTALL_CMAKEDIR)

# ---- the library's usage requirements, installed form ----------------------
# In the build tree `pd` names the source and build include folders and this
# configuration's find results (library paths, PkgConfig:: targets).  The
# installed package names its own include folder instead, and targets that
# phasediagConfig.cmake creates again on the consumer's side from the same
# find modules: phasediag::hdf5 (HDF5's libraries and include folders, as the
# build used them), LAPACK::LAPACK, PkgConfig::phasediag_<NAME> for each
# PkgConfig::<NAME>.  The build itself sees exactly what it saw before.
function(pd_install_interface target)
  get_target_property(inc ${target} INTERFACE_INCLUDE_DIRECTORIES)
  set(new)
  foreach(d IN LISTS inc)
    list(APPEND new "$<BUILD_INTERFACE:${d}>")
  endforeach()
  list(APPEND new "$<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>")
  set_property(TARGET ${target} PROPERTY INTERFACE_INCLUDE_DIRECTORIES "${new}")

  get_target_property(sys ${target} INTERFACE_SYSTEM_INCLUDE_DIRECTORIES)
  if(sys)
    set(new)
    foreach(d IN LISTS sys)
      list(APPEND new "$<BUILD_INTERFACE:${d}>")
    endforeach()
    set_property(TARGET ${target} PROPERTY
      INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${new}")
  endif()

  get_target_property(libs ${target} INTERFACE_LINK_LIBRARIES)
  set(new)
  set(pkgs)
  set(hdf5_done FALSE)
  set(lapack_done FALSE)
  foreach(l IN LISTS libs)
    if(l IN_LIST HDF5_C_LIBRARIES)
      list(APPEND new "$<BUILD_INTERFACE:${l}>")
      if(NOT hdf5_done)
        list(APPEND new "$<INSTALL_INTERFACE:phasediag::hdf5>")
        set(hdf5_done TRUE)
      endif()
    elseif(l IN_LIST LAPACK_LIBRARIES)
      list(APPEND new "$<BUILD_INTERFACE:${l}>")
      if(NOT lapack_done)
        list(APPEND new "$<INSTALL_INTERFACE:LAPACK::LAPACK>")
        set(lapack_done TRUE)
      endif()
    elseif(l MATCHES "^PkgConfig::(.+)$")
      set(p "${CMAKE_MATCH_1}")
      list(APPEND new "$<BUILD_INTERFACE:${l}>"
        "$<INSTALL_INTERFACE:PkgConfig::phasediag_${p}>")
      if(NOT ${p}_MODULE_NAME)
        message(FATAL_ERROR "phasediag install: no pkg-config module name "
          "for ${l} (${p}_MODULE_NAME)")
      endif()
      list(APPEND pkgs "${p}=${${p}_MODULE_NAME}")
    else()
      list(APPEND new "${l}")
    endif()
  endforeach()
  set_property(TARGET ${target} PROPERTY INTERFACE_LINK_LIBRARIES "${new}")
  # for phasediagConfig.cmake: "NAME=module" per pkg-config dependency
  set(PD_PKGCONFIG_DEPS "${pkgs}" PARENT_SCOPE)
endfunction()
pd_install_interface(pd)
set_target_properties(pd PROPERTIES EXPORT_NAME phasediag)
add_library(phasediag::phasediag ALIAS pd)

# ---- targets ------------------------------------------------------------------
set(PD_INSTALL_PROGRAMS phasediag pd_bench pd_ntk_bench pd_fft_bench)
# libraries found outside the linker's default folders (module systems)
# stay found by the installed programs
set_target_properties(${PD_INSTALL_PROGRAMS} PROPERTIES
  INSTALL_RPATH_USE_LINK_PATH TRUE)
install(TARGETS ${PD_INSTALL_PROGRAMS}
  RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
install(TARGETS pd EXPORT phasediagTargets
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}")
install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/phasediag"
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
  FILES_MATCHING PATTERN "*.h")
install(FILES "${PROJECT_BINARY_DIR}/include/phasediag/version.h"
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/phasediag")

# ---- the CMake package --------------------------------------------------------
install(EXPORT phasediagTargets NAMESPACE phasediag::
  DESTINATION "${PD_INSTALL_CMAKEDIR}")
configure_package_config_file(
  "${PROJECT_SOURCE_DIR}/cmake/phasediagConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/cmake/phasediagConfig.cmake"
  INSTALL_DESTINATION "${PD_INSTALL_CMAKEDIR}")
# 0.x: a minor version may change the interface
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/cmake/phasediagConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}" COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/cmake/phasediagConfig.cmake"
  "${PROJECT_BINARY_DIR}/cmake/phasediagConfigVersion.cmake"
  "${PROJECT_SOURCE_DIR}/cmake/FindFFTW3.cmake"
  DESTINATION "${PD_INSTALL_CMAKEDIR}")

# ---- the pkg-config file ------------------------------------------------------
# Its Requires and Libs are what the build linked, read from the targets the
# library links (pkg-config modules by name, the rest as -L/-l flags).
# libphasediag is a static archive, so every program that links it links its
# dependencies too: they are in Requires and Libs, not in the .private fields
# that pkg-config prints only with --static.
function(pd_pc_flags item)
  if(item MATCHES "\\$<" OR item STREQUAL "")
    return() # generator expressions: none in what the library links today
  endif()
  if(item MATCHES "^PkgConfig::(.+)$")
    set(p "${CMAKE_MATCH_1}")
    list(APPEND PC_REQUIRES "${${p}_MODULE_NAME}")
  elseif(TARGET "${item}")
    if(item IN_LIST PC_SEEN)
      return()
    endif()
    list(APPEND PC_SEEN "${item}")
    get_target_property(type "${item}" TYPE)
    if(NOT type STREQUAL "INTERFACE_LIBRARY")
      foreach(prop IMPORTED_LOCATION_RELEASE IMPORTED_LOCATION_NOCONFIG
          IMPORTED_LOCATION)
        get_target_property(loc "${item}" ${prop})
        if(loc)
          pd_pc_flags("${loc}")
          break()
        endif()
      endforeach()
    endif()
    get_target_property(incs "${item}" INTERFACE_INCLUDE_DIRECTORIES)
    foreach(d IN LISTS incs)
      if(d AND NOT d MATCHES "\\$<"
          AND NOT d IN_LIST CMAKE_C_IMPLICIT_INCLUDE_DIRECTORIES)
        list(APPEND PC_CFLAGS "-I${d}")
      endif()
    endforeach()
    get_target_property(opts "${item}" INTERFACE_LINK_OPTIONS)
    foreach(o IN LISTS opts)
      if(o AND NOT o MATCHES "\\$<")
        list(APPEND PC_LIBS "${o}")
      endif()
    endforeach()
    get_target_property(deps "${item}" INTERFACE_LINK_LIBRARIES)
    foreach(d IN LISTS deps)
      if(d)
        pd_pc_flags("${d}")
      endif()
    endforeach()
  elseif(item MATCHES "^-")
    list(APPEND PC_LIBS "${item}")
  elseif(IS_ABSOLUTE "${item}")
    get_filename_component(dir "${item}" DIRECTORY)
    get_filename_component(name "${item}" NAME)
    if(name MATCHES "^lib(.+)\\.(so|a|dylib)(\\.[0-9.]*)?$")
      if(NOT dir IN_LIST CMAKE_C_IMPLICIT_LINK_DIRECTORIES)
        list(APPEND PC_LIBS "-L${dir}")
      endif()
      list(APPEND PC_LIBS "-l${CMAKE_MATCH_1}")
    else()
      list(APPEND PC_LIBS "${item}")
    endif()
  else()
    list(APPEND PC_LIBS "-l${item}")
  endif()
  set(PC_REQUIRES "${PC_REQUIRES}" PARENT_SCOPE)
  set(PC_CFLAGS "${PC_CFLAGS}" PARENT_SCOPE)
  set(PC_LIBS "${PC_LIBS}" PARENT_SCOPE)
  set(PC_SEEN "${PC_SEEN}" PARENT_SCOPE)
endfunction()

set(PC_REQUIRES)
set(PC_CFLAGS)
set(PC_LIBS)
set(PC_SEEN)
# the build-tree form of what the library links (pd_install_interface wrapped
# it in BUILD_INTERFACE)
get_target_property(_pd_links pd LINK_LIBRARIES)
foreach(_l IN LISTS _pd_links)
  pd_pc_flags("${_l}")
endforeach()
foreach(_d IN LISTS HDF5_C_INCLUDE_DIRS)
  if(NOT _d IN_LIST CMAKE_C_IMPLICIT_INCLUDE_DIRECTORIES)
    list(APPEND PC_CFLAGS "-I${_d}")
  endif()
endforeach()
get_target_property(_pd_defs pd INTERFACE_COMPILE_DEFINITIONS)
foreach(_d IN LISTS _pd_defs)
  if(_d AND NOT _d MATCHES "\\$<")
    list(APPEND PC_CFLAGS "-D${_d}")
  endif()
endforeach()
if(PD_NATIVE)
  list(APPEND PC_CFLAGS "-DPD_NATIVE")
endif()
foreach(_v PC_REQUIRES PC_CFLAGS PC_LIBS)
  list(REMOVE_DUPLICATES ${_v})
  list(JOIN ${_v} " " ${_v})
endforeach()
set(PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
set(PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
# ${pcfiledir}: the folder of the .pc file, so the prefix moves with it
file(RELATIVE_PATH PC_PREFIX_FROM_PCDIR
  "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
string(REGEX REPLACE "/$" "" PC_PREFIX_FROM_PCDIR "${PC_PREFIX_FROM_PCDIR}")
configure_file("${PROJECT_SOURCE_DIR}/cmake/phasediag.pc.in"
  "${PROJECT_BINARY_DIR}/cmake/phasediag.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/cmake/phasediag.pc"
  DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")

# ---- analysis, jobs, documents ------------------------------------------------
# The commands find the package beside their real location (they resolve
# symbolic links), so they are installed beside it and linked into bin/.
install(DIRECTORY "${PROJECT_SOURCE_DIR}/analysis/phasediag_analysis"
  DESTINATION "${PD_INSTALL_ANALYSISDIR}"
  FILES_MATCHING PATTERN "*.py" PATTERN "__pycache__" EXCLUDE)
set(PD_ANALYSIS_COMMANDS pdplot pdreport pdsummary pdcompare)
foreach(_c IN LISTS PD_ANALYSIS_COMMANDS)
  install(PROGRAMS "${PROJECT_SOURCE_DIR}/analysis/${_c}"
    DESTINATION "${PD_INSTALL_ANALYSISDIR}")
endforeach()
install(FILES "${PROJECT_SOURCE_DIR}/analysis/README.md"
  DESTINATION "${PD_INSTALL_ANALYSISDIR}")
install(CODE "
  set(_pd_prefix \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}\")
  set(_pd_bin \"${CMAKE_INSTALL_BINDIR}\")
  set(_pd_ana \"${PD_INSTALL_ANALYSISDIR}\")
  foreach(_pd_v _pd_bin _pd_ana)
    if(NOT IS_ABSOLUTE \"\${\${_pd_v}}\")
      set(\${_pd_v} \"\${_pd_prefix}/\${\${_pd_v}}\")
    endif()
  endforeach()
  file(RELATIVE_PATH _pd_rel \"\${_pd_bin}\" \"\${_pd_ana}\")
  file(MAKE_DIRECTORY \"\${_pd_bin}\")
  foreach(_pd_c ${PD_ANALYSIS_COMMANDS})
    message(STATUS \"Installing: \${_pd_bin}/\${_pd_c} -> \${_pd_rel}/\${_pd_c}\")
    file(CREATE_LINK \"\${_pd_rel}/\${_pd_c}\" \"\${_pd_bin}/\${_pd_c}\" SYMBOLIC)
    list(APPEND CMAKE_INSTALL_MANIFEST_FILES \"\${_pd_bin}/\${_pd_c}\")
  endforeach()
")
install(DIRECTORY "${PROJECT_SOURCE_DIR}/jobs/"
  DESTINATION "${PD_INSTALL_PKGDIR}/jobs"
  FILES_MATCHING PATTERN "*.ini")
foreach(_f README.md LICENSE CITATION.cff)
  if(EXISTS "${PROJECT_SOURCE_DIR}/${_f}")
    install(FILES "${PROJECT_SOURCE_DIR}/${_f}"
      DESTINATION "${CMAKE_INSTALL_DOCDIR}")
  endif()
endforeach()
