#!/usr/bin/env bash
# Nothing a user owns is lost or clobbered (through the real binary, np 2):
# outputs that are inputs, devices, FIFOs, directories or empty names; a
# checkpoint that is the output or an input; the lock against a second run
# and a file appearing at the output path during the run; names too long
# for MPI-IO; FIFOs as inputs; the status file behind a signalled mpirun;
# merge's argument order and non-checkpoint slices; an HDF5 data file held
# by a writer; group-size warnings; --check of the output; an unwritable
# checkpoint directory; a damaged checkpoint; out-of-range scales in the
# progress line; a quoted file name.
# usage: nothing_lost.sh PHASEDIAG MPIEXEC WORKDIR
set -u
exe=$1 mpiexec=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
pass=0 fail=0
ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() {
  echo "FAIL $1"
  shift
  printf '%s\n' "$@" | head -12
  fail=$((fail + 1))
}
# expect NAME STATUS PATTERN [phasediag args...]: np 2, 60 s at most
expect() {
  local name=$1 want=$2 pat=$3
  shift 3
  out=$(timeout 60 "$mpiexec" -n 2 "$exe" "$@" 2>&1 </dev/null)
  st=$?
  if [ "$st" -eq "$want" ] && grep -q -- "$pat" <<<"$out"; then
    ok "$name"
  else
    bad "$name: status $st (want $want), pattern '$pat'" "$out"
  fi
}
sum() { md5sum "$1" | cut -d' ' -f1; }

# a one-task job (a second on two ranks) and an HDF5 data file
cat >job.ini <<'EOF'
[data]
builtin = paper1d
[grid]
schemes = ntk
widths = 100
seeds = 1
[train]
tol = 1e-4
[output]
file = out.h5
EOF
$py -c 'import h5py, numpy as np
x = np.linspace(-1, 1, 8)[:, None]
with h5py.File("data.h5", "w") as f:
    f["x"] = x; f["y"] = np.sin(3 * x[:, 0])' || exit 1
sed 's/^builtin = paper1d/source = hdf5\nfile = data.h5/' job.ini >hjob.ini

# 1. an output that is an input of the job, a device, a FIFO or a directory
jsum=$(sum job.ini) dsum=$(sum data.h5)
expect out-is-job 2 "output file job.ini is the job file" --overwrite --output job.ini job.ini
expect out-is-data 2 "output file data.h5 is the data file data.h5" --overwrite --output data.h5 hjob.ini
ln -f data.h5 data-link.h5
expect out-is-data-link 2 "is the data file" --overwrite --output data-link.h5 hjob.ini
[ "$(sum job.ini)" = "$jsum" ] && [ "$(sum data.h5)" = "$dsum" ] &&
  ok inputs-untouched || bad inputs-untouched "job or data file changed"
expect out-dev-null 2 "is a character device" --overwrite --output /dev/null job.ini
[ -c /dev/null ] && ok dev-null-still-a-device || bad dev-null-still-a-device "$(ls -l /dev/null)"
mkfifo out.fifo
expect out-fifo 2 "is a FIFO" --overwrite --output out.fifo job.ini
mkdir -p adir
expect out-dir 2 "adir is a directory; give a file name, e.g. adir/result.h5" --output adir job.ini
grep -q -- "--overwrite" <<<"$out" && bad out-dir-no-overwrite-advice "$out" || ok out-dir-no-overwrite-advice
expect out-slash 2 "ends in '/'" --output adir/ job.ini
expect out-empty 2 "output file name is empty" --output '' job.ini

# 2. a checkpoint that is the output, the job file or the data file
printf '[run]\ncheckpoint = out.h5\n' | cat job.ini - >ck_out.ini
expect ckpt-is-output 2 "checkpoint out.h5 is the output file out.h5" ck_out.ini
printf '[run]\ncheckpoint = ck_job.ini\n' | cat job.ini - >ck_job.ini
expect ckpt-is-job 2 "checkpoint ck_job.ini is the job file" ck_job.ini
printf '[run]\ncheckpoint = data.h5\n' | cat hjob.ini - >ck_data.ini
expect ckpt-is-data 2 "checkpoint data.h5 is the data file" ck_data.ini
printf '[run]\ncheckpoint = /nonexistent/dir/ck\n' | cat job.ini - >ck_nodir.ini
expect ckpt-dir-unwritable 2 "cannot write the checkpoint /nonexistent/dir/ck" ck_nodir.ini
[ ! -e out.h5 ] && ok nothing-written || bad nothing-written "$(ls)"

# 3. the lock, and a file that appears at the output path during the run
cp "$here/jobs/restart_inflight.ini" long.ini # two tasks of several seconds
"$mpiexec" -n 2 "$exe" --quiet --output long.h5 long.ini >A.log 2>&1 &
apid=$!
for _ in $(seq 600); do [ -e long.h5.lock ] && break; sleep 0.1; done
# at once, while A has just started: a file appears at A's output path
echo "not yours" >long.h5
expect lock-refuses-second-run 2 "long.h5 is in use by another run: the lock file long.h5.lock is held by pid" --overwrite --output long.h5 long.ini
wait $apid
st=$?
if [ $st -eq 1 ] && [ "$(cat long.h5)" = "not yours" ] && [ -s long.h5.tmp ] &&
  grep -q "long.h5 appeared during the run, so it was not replaced; the result is kept in long.h5.tmp" A.log; then
  ok appeared-file-kept
else
  bad appeared-file-kept "status $st, long.h5: $(head -c 40 long.h5)" "$(cat A.log)"
fi
[ ! -e long.h5.lock ] && [ ! -e long.h5.ckpt.lock ] && ok locks-released || bad locks-released "$(ls)"
rm -f long.h5*
printf 'pid 999999999\nhost %s\nsince 2000-01-01T00:00:00Z\njob gone.ini\n' "$(hostname)" >out.h5.lock
expect stale-lock-taken-over 0 "taking over the lock out.h5.lock" job.ini
[ -s out.h5 ] && [ ! -e out.h5.lock ] && ok stale-lock-result || bad stale-lock-result "$(ls)"
rm -f out.h5

# 4. names that only fail at the end fail at the start
long=$(printf 'n%.0s' $(seq 240))
t0=$(date +%s)
expect name-too-long 2 "is too long (240 characters)" --output "$long" job.ini
ls | grep -q '^nnnn' && bad long-name-nothing-written "$(ls)" || ok long-name-nothing-written

# 7. FIFOs as inputs are refused, not read
mkfifo job.fifo
expect job-fifo 2 "job file job.fifo is a FIFO" job.fifo
rm -f data.fifo && mkfifo data.fifo
sed 's/^file = data.h5/file = data.fifo/' hjob.ini >fifo_data.ini
expect data-fifo 2 "data file data.fifo is a FIFO" fifo_data.ini

# 8. mpirun stopped by SIGTERM returns 1; the status file says 3
rm -f st long.h5*
"$mpiexec" -n 2 "$exe" --quiet --status-file st --output long.h5 long.ini >B.log 2>&1 &
bpid=$!
for _ in $(seq 600); do [ -e long.h5.ckpt.reserve ] && break; sleep 0.1; done
sleep 1
kill -TERM $bpid
wait $bpid
st=$?
if [ "$(cat st 2>/dev/null)" = "3 stopped" ] && [ -e long.h5.ckpt ]; then
  ok "status-file-after-sigterm (mpirun returned $st)"
else
  bad status-file-after-sigterm "mpirun $st, status '$(cat st 2>/dev/null)'" "$(cat B.log)"
fi
expect status-file-resume 0 "" --quiet --status-file st --output long.h5 long.ini
[ "$(cat st)" = "0 done" ] && ok status-file-done || bad status-file-done "$(cat st)"

# 9. merge takes the job and the slices in any order; bad slices are input
for i in 0 1; do
  "$mpiexec" -n 2 "$exe" --quiet --slice $i/2 --output m.h5 "$here/jobs/tiny.ini" >/dev/null 2>&1
done
expect merge-slices-first 0 "points agree" merge m.h5.slice-0-of-2.ckpt m.h5.slice-1-of-2.ckpt --output m1.h5 "$here/jobs/tiny.ini"
expect merge-job-first 0 "points agree" merge "$here/jobs/tiny.ini" m.h5.slice-0-of-2.ckpt m.h5.slice-1-of-2.ckpt --output m2.h5
$py "$here/../analysis/pdcompare" m1.h5 m2.h5 >/dev/null && ok merge-orders-equal || bad merge-orders-equal "m1.h5 and m2.h5 differ"
expect merge-result-as-slice 2 "not a phasediag checkpoint" merge m1.h5 --output m3.h5 "$here/jobs/tiny.ini"
expect checkpoint-as-job 2 "is an HDF5 file (a checkpoint or a result file?), not a job file" m.h5.slice-0-of-2.ckpt

# 11. an HDF5 data file held open by a writer
$py -c 'import h5py, time, sys
f = h5py.File("data.h5", "a")
open("held", "w").close()
time.sleep(120)' &
hpid=$!
for _ in $(seq 600); do [ -e held ] && break; sleep 0.1; done
expect data-locked 2 "data.h5: locked by another process that has it open for writing" hjob.ini
kill $hpid 2>/dev/null
wait $hpid 2>/dev/null

# 13. smaller things
expect group-larger-than-np 0 "group size 4 is larger than the 2 ranks" --check --group-size 4 "$here/jobs/tiny.ini"
out=$(timeout 60 "$mpiexec" -n 3 "$exe" --check --group-size 2 "$here/jobs/tiny.ini" 2>&1)
grep -q "3 ranks in groups of 2: the last group has 3 ranks" <<<"$out" && ok group-uneven || bad group-uneven "$out"
expect check-validates-output 2 "adir is a directory" --check --output adir job.ini
rm -f out.h5*
echo "not a checkpoint" >out.h5.ckpt
expect damaged-checkpoint-advice 2 "pass --overwrite to discard it" job.ini
expect damaged-checkpoint-overwrite 0 "discarding out.h5.ckpt" --overwrite job.ini
rm -f out.h5*
expect diverged-reason 0 "not trained: the initial scales are out of range" --output div.h5 "$here/jobs/diverge.ini"
sed 's/^file = out.h5/file = "quoted.h5"/' job.ini >quoted.ini
expect quoted-file-name 0 "wrote quoted.h5" quoted.ini
[ -s quoted.h5 ] && ok quoted-name-stripped || bad quoted-name-stripped "$(ls)"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
