#!/usr/bin/env bash
# --check's wall-time estimate: on a job whose every task runs its whole
# step budget (tests/jobs/estimate.ini), the time --check says the budget
# says the scan would take must match the scan's measured wall time within
# a factor of 3 either way (calibration and run on the same machine,
# moments apart; a smoke test: the arithmetic is test_estimate's).  Also:
# the estimate names its calibration, and np 3 in groups of 2 calibrates
# the scan's one group of 3.
# usage: check_estimate.sh PHASEDIAG MPIEXEC JOB.ini WORKDIR
set -u
exe=$1 mpiexec=$2 job=$3 work=$4
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
pass=0 fail=0
ok() {
  echo "ok   $1"
  pass=$((pass + 1))
}
bad() {
  echo "FAIL $1: $2"
  [ $# -gt 2 ] && echo "$3" | head -20
  fail=$((fail + 1))
}

out=$("$mpiexec" -n 2 "$exe" --check "$job" 2>&1)
st=$?
bound=$(echo "$out" | sed -n 's/.*would take about [0-9:]* (\([0-9]*\) s);.*/\1/p')
if [ $st -eq 0 ] && echo "$out" | grep -q "calibrated on this machine" &&
  [ -n "$bound" ]; then
  ok "check prints the estimate ($bound)"
else
  bad check "status $st, no estimate" "$out"
fi

out=$("$mpiexec" -n 2 "$exe" --quiet --output run.h5 "$job" 2>&1)
st=$?
wall=$(/usr/bin/python3 -c "
import h5py, numpy as np
f = h5py.File('run.h5')
s, m = f['/runs/status'][...], int(f['/runs/steps'][...].min())
assert (s == 1).all(), f'statuses {s.ravel()}: not every task ran its budget'
print(f.attrs['wall_seconds'])
" 2>&1)
if [ $st -eq 0 ] && [[ $wall =~ ^[0-9.]+$ ]]; then
  ok "run ($wall s, every task at max_steps)"
else
  bad run "status $st" "$out$wall"
fi

b=$bound
# the estimate rounds to whole seconds: compare with at least 1 s
if [ -n "$b" ] && awk -v b="$b" -v w="$wall" \
  'BEGIN { if (b < 1) b = 1; exit !(w <= 3 * b && b <= 3 * (w < 1 ? 1 : w)) }'; then
  ok "estimate ${b} s against ${wall} s measured"
else
  bad estimate "the budget bound ${b} s is not within 3x of ${wall} s"
fi

out=$("$mpiexec" -n 3 "$exe" --check --group-size 2 "$job" 2>&1)
st=$?
if [ $st -eq 0 ] && echo "$out" | grep -q "calibrated on this machine just now (.*): 1 group of 3 ranks"; then
  ok "np 3 in groups of 2: one group of 3"
else
  bad idle "status $st" "$out"
fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
