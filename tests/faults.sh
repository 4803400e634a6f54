#!/usr/bin/env bash
# Hard faults: kill -9 one rank of the scan at random moments, resume, again.
# Each trial resumes from the checkpoint the previous one left (a checkpoint
# every 0.5 s, tests/jobs/restart.ini) and is killed after a random delay;
# the number of completed tasks in the checkpoint must never decrease.  A
# last run completes the scan: the result file must be bitwise the one of
# an uninterrupted run (wall times aside) and the checkpoint gone.
# usage: faults.sh PHASEDIAG MPIEXEC JOB.ini WORKDIR [TRIALS] [SEED]
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/restart_lib.sh"
restart_setup "$@"
trials=${5:-6} seed=${6:-$$}
rm -f A.h5 F.h5 F.h5.ckpt F.h5.ckpt.tmp ./*.log
RANDOM=$seed
echo "faults: seed $seed, $trials trials"

$mpiexec -n 2 "$exe" --quiet "$job" --output A.h5 >A.log 2>&1 || fail "A: exit $?"

prev=-1 complete=0
for i in $(seq 1 "$trials"); do
  np=$((2 + i % 2))           # 3, 2, 3, 2, ...
  r=$((RANDOM % np))          # the rank to kill
  ms=$((300 + RANDOM % 2700)) # after 0.3 .. 3 s
  $mpiexec -n $np "$exe" --quiet "$job" --output F.h5 >"T$i.log" 2>&1 &
  bg=$!
  sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
  pid=$(rank_pid $r F.h5) && kill -9 "$pid"
  # the launcher must end the job: no hang
  await_job $bg F.h5 60 "trial $i: still running 60 s after the kill"
  wait $bg
  rc=$?
  n=$(ndone F.h5.ckpt)
  echo "trial $i: np $np, kill -9 rank $r after ${ms} ms: exit $rc, checkpoint $n tasks"
  if [ $rc -eq 0 ]; then # finished before the kill: nothing left to resume
    complete=1
    [ ! -e F.h5.ckpt ] || fail "trial $i: complete but the checkpoint is left"
    break
  fi
  [ "$n" -ge "$prev" ] || fail "trial $i: checkpoint went from $prev to $n tasks"
  prev=$n
done
if [ $complete -eq 0 ]; then
  $mpiexec -n 2 "$exe" "$job" --output F.h5 >final.log 2>&1 || fail "final run: exit $?"
  if [ "$prev" -gt 0 ]; then
    grep -q "resuming from F.h5.ckpt: $prev of" final.log ||
      fail "final run did not resume from $prev tasks"
  fi
fi
[ ! -e F.h5.ckpt ] || fail "checkpoint not removed"
"$here/../analysis/pdcompare" -q -i /snapshots/seconds A.h5 F.h5 ||
  fail "result after the faults differs from the uninterrupted one"
echo "faults: PASS"
