#!/usr/bin/env bash
# The condense observer through the binary: tests/jobs/condense_small.ini
# at np 1 and on one group of 3 ranks (each network split over 3 ranks),
# checked by tests/check_condense.py: the /condensation datasets bitwise
# equal, and tanh from a small initialization condensed on at most 2
# orientations in the initial stage.
# usage: condense.sh PHASEDIAG MPIEXEC JOBDIR WORKDIR
set -eu
exe=$1 mpiexec=$2 jobs=$3 work=$4
mkdir -p "$work"
cd "$work"
for np in 1 3; do
  rm -f "condense_np$np.h5"
  $mpiexec -n $np "$exe" --quiet --group-size $np \
    --output "condense_np$np.h5" "$jobs/condense_small.ini" >/dev/null
done
/usr/bin/python3 "$(dirname "$0")/check_condense.py" condense_np1.h5 \
  condense_np3.h5
