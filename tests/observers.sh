#!/usr/bin/env bash
# The snapshot observers end to end: the small 1-D F-Principle job and the
# small linear-theory jobs (relu; tanh, whose infinite-width NTK is a
# quadrature) at np 1 and at np 2 (one group of 2, so the observers split
# their work), checked by tests/check_observers.py.
# usage: observers.sh PHASEDIAG MPIEXEC JOBDIR WORKDIR
set -eu
exe=$1 mpiexec=$2 jobs=$3 work=$4
mkdir -p "$work"
cd "$work"
for job in fprinciple_small ntk_small ntk_tanh; do
  for np in 1 2; do
    rm -f "${job}_np$np.h5"
    $mpiexec -n $np "$exe" --quiet --group-size $np \
      --output "${job}_np$np.h5" "$jobs/$job.ini" >/dev/null
  done
done
/usr/bin/python3 "$(dirname "$0")/check_observers.py" fprinciple_small_np1.h5 \
  fprinciple_small_np2.h5 ntk_small_np1.h5 ntk_small_np2.h5 \
  ntk_tanh_np1.h5 ntk_tanh_np2.h5
