#!/usr/bin/env bash
# Command-line behaviour of phasediag: usage: cli.sh PHASEDIAG MPIEXEC JOB.ini
set -u
exe=$1 mpiexec=$2 job=$3
pass=0 fail=0
check() { # name expected-status pattern command...
  local name=$1 want=$2 pat=$3
  shift 3
  out=$("$@" 2>&1)
  st=$?
  if [ "$st" -ne "$want" ] || ! grep -q -- "$pat" <<<"$out"; then
    echo "FAIL $name: status $st (want $want), output:"
    echo "$out" | head -20
    fail=$((fail + 1))
  else
    echo "ok   $name"
    pass=$((pass + 1))
  fi
}
check help 0 "usage: mpirun -np P phasediag" "$exe" --help
check version 0 "phasediag [0-9]" "$exe" --version
check unknown-option 2 "unknown option '--frobnicate'" "$exe" --frobnicate "$job"
check no-job 2 "no job file given" "$exe"
check two-jobs 2 "one job file expected" "$exe" "$job" "$job"
check bad-group 2 "group-size: expected a positive integer, got 'x'" "$exe" --group-size x "$job"
check bad-slice 2 "--slice: expected I/N with 0 <= I < N" "$exe" --slice 3/3 "$job"
check merge-slice 2 "--slice does not go with merge" "$exe" merge --slice 0/2 --slices 2 "$job"
check merge-nothing 2 "merge: give --slices N or the slice files" "$exe" merge "$job"
check slices-no-merge 2 "--slices goes with merge" "$exe" --slices 2 "$job"
check missing-file 2 "cannot read /nonexistent/job.ini" "$mpiexec" -n 2 "$exe" /nonexistent/job.ini
check plan 0 "= 36 tasks" "$mpiexec" -n 2 "$exe" --check "$job"
div=$(dirname "$job")/diverge.ini
check diverged-recorded 0 "(0.5, 0) m=200 seed 1: diverged" "$mpiexec" -n 2 "$exe" "$div"
check diverged-scan-goes-on 0 "ntk m=200 seed 1: converged" "$mpiexec" -n 2 "$exe" "$div"
check plan-memory 0 "memory: .* MiB of parameters per rank" "$exe" --check "$job"
check slurm-mismatch 2 "SLURM_NTASKS is 3 but MPI has 1 rank" env SLURM_NTASKS=3 "$mpiexec" -n 1 "$exe" --check "$job"
check slurm-step-mismatch 2 "SLURM_STEP_NUM_TASKS is 4 but MPI has 1 rank" env SLURM_NTASKS=3 SLURM_STEP_NUM_TASKS=4 "$mpiexec" -n 1 "$exe" --check "$job"
check slurm-fewer-ranks 0 "is 3 but MPI has 2 ranks" env SLURM_NTASKS=3 "$mpiexec" -n 2 "$exe" --check "$job"
tmp=$(mktemp -d)
printf '[grid]\nschemes = ntk\nwidths = 4000000000\n[output]\nfile = %s/huge.h5\n' "$tmp" >"$tmp/huge.ini"
check too-wide 2 "the widest network does not fit: .* GiB are available" "$mpiexec" -n 2 "$exe" "$tmp/huge.ini"
if [ -e "$tmp/huge.h5" ] || [ -e "$tmp/huge.h5.tmp" ]; then
  echo "FAIL too-wide: an output file was written"
  fail=$((fail + 1))
fi
rm -rf "$tmp"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
