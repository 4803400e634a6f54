#!/usr/bin/env bash
# Classification when runs do not reach tol: the scan of
# tests/jobs/matched_loss.ini (an 8-point oscillating target on which every
# point has runs that stop before tol) at np 2, checked by
# tests/check_matched.py.
# usage: matched_loss.sh PHASEDIAG MPIEXEC JOB.ini WORKDIR
set -eu
exe=$1 mpiexec=$2 job=$3 work=$4
mkdir -p "$work"
cd "$work"
rm -f matched_loss.h5 matched_loss.h5.*
$mpiexec -n 2 "$exe" --quiet "$job" --output matched_loss.h5 >table.txt
cat table.txt
/usr/bin/python3 "$(dirname "$0")/check_matched.py" matched_loss.h5 table.txt
