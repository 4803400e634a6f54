# FindFFTW3: double-precision FFTW3 and its MPI library.
# Debian ships neither a CMake package nor a .pc file for libfftw3_mpi.
#
# Defines FFTW3_FOUND and the imported targets FFTW3::fftw3 and
# FFTW3::fftw3_mpi (the latter links the former).
find_path(FFTW3_INCLUDE_DIR fftw3.h)
find_path(FFTW3_MPI_INCLUDE_DIR fftw3-mpi.h HINTS ${FFTW3_INCLUDE_DIR})
find_library(FFTW3_LIBRARY NAMES fftw3)
find_library(FFTW3_MPI_LIBRARY NAMES fftw3_mpi)

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(FFTW3
  REQUIRED_VARS FFTW3_LIBRARY FFTW3_MPI_LIBRARY FFTW3_INCLUDE_DIR
                FFTW3_MPI_INCLUDE_DIR)

if(FFTW3_FOUND AND NOT TARGET FFTW3::fftw3)
  add_library(FFTW3::fftw3 UNKNOWN IMPORTED)
  set_target_properties(FFTW3::fftw3 PROPERTIES
    IMPORTED_LOCATION "${FFTW3_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${FFTW3_INCLUDE_DIR}")
  add_library(FFTW3::fftw3_mpi UNKNOWN IMPORTED)
  set_target_properties(FFTW3::fftw3_mpi PROPERTIES
    IMPORTED_LOCATION "${FFTW3_MPI_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${FFTW3_MPI_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "FFTW3::fftw3;MPI::MPI_C")
endif()
mark_as_advanced(FFTW3_INCLUDE_DIR FFTW3_MPI_INCLUDE_DIR FFTW3_LIBRARY
                 FFTW3_MPI_LIBRARY)
