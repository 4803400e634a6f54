#!/usr/bin/env bash
# Checkpoint / restart / signals, end to end (tests/jobs/restart.ini, 30
# tasks, a checkpoint every 0.5 s):
#   A  the scan uninterrupted at np 2;
#   B  the same at np 2, SIGTERM to rank 1 once a checkpoint holds a task:
#      exit status 3, a checkpoint with some but not all tasks;
#   -  a checkpoint of another job (the job file edited) is refused with exit
#      status 2 and a message naming both files and the config hash;
#      --resume without a checkpoint is refused with exit status 2;
#   C  resume at np 3 as ONE group of 3 ranks, SIGUSR1 to rank 2 (not a
#      leader: the in-group agreement) once more tasks are done: exit 3, the
#      checkpoint never loses a task;
#   D  resume at np 3 (3 groups), SIGTERM to rank 0 (the master): exit 3;
#   E  resume at np 3 to the end: exit 0, the checkpoint removed, and the
#      result file bitwise equal to A (except the wall times).
# usage: restart.sh PHASEDIAG MPIEXEC JOB.ini WORKDIR
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/restart_lib.sh"
restart_setup "$@"
rm -f A.h5 B.h5 B.h5.ckpt B.h5.ckpt.tmp C.h5 edited.ini ./*.log



# interrupt NP SIGNAL RANK MIN_DONE LOG [options]: run B.h5 in the background,
# wait until its checkpoint holds more than MIN_DONE tasks, signal RANK,
# expect exit status 3.  Prints the new ndone.
interrupt() {
  local np=$1 sig=$2 r=$3 min=$4 log=$5
  shift 5
  $mpiexec -n "$np" "$exe" "$@" "$job" --output B.h5 >"$log" 2>&1 &
  local bg=$! n=-1 i
  for i in $(seq 1 600); do
    n=$(ndone B.h5.ckpt)
    [ "$n" -gt "$min" ] && break
    kill -0 $bg 2>/dev/null || break
    sleep 0.1
  done
  [ "$n" -gt "$min" ] || fail "$log: no checkpoint with more than $min tasks appeared"
  local pid
  pid=$(rank_pid "$r" B.h5) || fail "$log: rank $r not found"
  kill -"$sig" "$pid"
  await_job $bg B.h5 60 "$log: still running 60 s after SIG$sig to rank $r"
  wait $bg
  local rc=$?
  [ $rc -eq 3 ] || fail "$log: exit status $rc after SIG$sig to rank $r, expected 3"
  grep -q "stopped by a signal" "$log" || fail "$log: no stop message"
  local after
  after=$(ndone B.h5.ckpt)
  [ "$after" -ge "$n" ] || fail "$log: checkpoint went from $n to $after tasks"
  [ "$after" -lt 30 ] || fail "$log: all tasks done before the signal (too fast)"
  echo "$log: SIG$sig to rank $r at $n tasks done -> exit 3, checkpoint holds $after" >&2
  echo "$after"
}

t0=$(date +%s)
$mpiexec -n 2 "$exe" --quiet "$job" --output A.h5 >A.log 2>&1 || fail "A: exit $?"
[ ! -e A.h5.ckpt ] || fail "A: checkpoint left behind"

nb=$(interrupt 2 TERM 1 0 B.log --quiet) || exit 1

# a checkpoint of another job is refused, and left alone
sed 's/^tol = 1e-6/tol = 2e-6/' "$job" >edited.ini
cmp -s "$job" edited.ini && fail "edited.ini is not edited"
$mpiexec -n 1 "$exe" --quiet edited.ini --output B.h5 >M.log 2>&1
rc=$?
[ $rc -eq 2 ] || fail "mismatching checkpoint: exit status $rc, expected 2"
grep -q "checkpoint B.h5.ckpt does not belong to job edited.ini" M.log ||
  fail "mismatch message does not name both files"
grep -q "config hash" M.log || fail "mismatch message does not name the hash"
[ "$(ndone B.h5.ckpt)" -eq "$nb" ] || fail "the refused run touched the checkpoint"
# --resume without a checkpoint
$mpiexec -n 1 "$exe" --quiet --resume "$job" --output C.h5 >R.log 2>&1
rc=$?
[ $rc -eq 2 ] || fail "--resume without checkpoint: exit status $rc, expected 2"
grep -q "no checkpoint C.h5.ckpt" R.log || fail "--resume message"

nc=$(interrupt 3 USR1 2 "$nb" C.log --quiet --group-size 3) || exit 1
nd=$(interrupt 3 TERM 0 "$nc" D.log --quiet) || exit 1

$mpiexec -n 3 "$exe" "$job" --output B.h5 >E.log 2>&1 || fail "E: exit $?"
grep -q "resuming from B.h5.ckpt: $nd of 30 tasks done" E.log ||
  fail "E: did not resume from $nd tasks"
ran=$(grep -cE '^\[ *[0-9]+/30\]' E.log)
[ "$ran" -eq $((30 - nd)) ] || fail "E: ran $ran tasks, expected the $((30 - nd)) left"
[ ! -e B.h5.ckpt ] || fail "E: checkpoint not removed"
"$here/../analysis/pdcompare" -q -i /snapshots/seconds A.h5 B.h5 ||
  fail "resumed result differs from the uninterrupted one"
echo "restart: PASS ($(($(date +%s) - t0)) s; checkpoints held $nb, $nc, $nd of 30 tasks)"
