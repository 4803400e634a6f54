# Sourced by the scripts: Open MPI as root needs these, and runs with more
# ranks than cores need oversubscription.  Set here, never in the library.
export OMPI_ALLOW_RUN_AS_ROOT=1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
