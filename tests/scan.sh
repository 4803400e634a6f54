#!/usr/bin/env bash
# The scan end to end: the same job at np 1, 2 and 4 (and 4 ranks in groups
# of 2) gives bitwise-identical HDF5 numbers, the documented layout, and the
# theorem's regime away from the boundary.
# usage: scan.sh PHASEDIAG MPIEXEC JOB.ini WORKDIR
set -eu
exe=$1 mpiexec=$2 job=$3 work=$4
mkdir -p "$work"
cd "$work"
rm -f scan_np*.h5
$mpiexec -n 1 "$exe" --quiet "$job" --output scan_np1.h5 >/dev/null
$mpiexec -n 2 "$exe" --quiet "$job" --output scan_np2.h5 >/dev/null
$mpiexec -n 4 "$exe" --quiet "$job" --output scan_np4.h5 >/dev/null
$mpiexec -n 4 "$exe" --quiet --group-size 2 "$job" --output scan_np4g2.h5 >/dev/null
test ! -e scan_np1.h5.tmp
/usr/bin/python3 "$(dirname "$0")/check_scan.py" scan_np1.h5 scan_np2.h5 scan_np4.h5 scan_np4g2.h5
