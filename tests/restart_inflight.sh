#!/usr/bin/env bash
# Tasks in flight survive a stop (tests/jobs/restart_inflight.ini: 2 long
# tasks):
#   A  the scan uninterrupted at np 2 (2 groups of 1);
#   B  the same, SIGTERM to rank 1 in the middle of both tasks: exit 3 and a
#      state file B.h5.ckpt.task-T per task;
#   C  resume at np 3 with --group-size 2 (one group of 3 ranks: another
#      partition of the neurons), SIGUSR1 to rank 2 once a task has resumed:
#      exit 3 (or 0 if both finished first);
#   D  resume at np 1 to the end (if C stopped);
#   E  again from scratch, kill -9 of rank 1 in the middle of both tasks
#      (the tasks save their state every [run] checkpoint_interval = 0.5 s);
#   F  resume at np 3 (3 groups of 1) from those periodic states.
# Every resume must log "task T resumed at step S" with S > 0 for a task
# that was stopped, the resumed runs must take fewer steps than A, no state
# file may be left, and the result must be bitwise A's (pdcompare EQUAL).
# usage: restart_inflight.sh PHASEDIAG MPIEXEC JOB.ini WORKDIR
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/restart_lib.sh"
restart_setup "$@"
rm -f A.h5 A.h5.ckpt* B.h5 B.h5.ckpt* ./*.log

# both tasks have a state file (the periodic saves, every 0.5 s of a task's
# training, write the first ones early in tasks of several seconds; a task
# removes its file when it completes): both are in flight
states() {
  [ -e B.h5.ckpt.task-0 ] && [ -e B.h5.ckpt.task-1 ]
}

# run NP SIGNAL RANK PATTERN DELAY LOG [options]: run B.h5 in the background;
# once LOG matches PATTERN (STATES: once states holds) wait DELAY seconds
# and signal RANK; prints the exit status.
run_signal() {
  local np=$1 sig=$2 r=$3 pat=$4 delay=$5 log=$6 i
  shift 6
  $mpiexec -n "$np" "$exe" "$@" "$job" --output B.h5 >"$log" 2>&1 &
  local bg=$!
  for i in $(seq 1 12000); do
    if [ "$pat" = STATES ]; then
      states && break
    else
      grep -q -- "$pat" "$log" && break
    fi
    kill -0 $bg 2>/dev/null || break
    sleep 0.01
  done
  sleep "$delay"
  local pid
  if kill -0 $bg 2>/dev/null && pid=$(rank_pid "$r" B.h5); then
    kill -"$sig" "$pid"
    echo "$log: SIG$sig to rank $r" >&2
  fi
  await_job $bg B.h5 120 "$log: still running 120 s after SIG$sig to rank $r"
  wait $bg
  echo $?
}

# "task T resumed at step S" lines of a log: prints the sum of S, fails if
# one has S = 0
resumed_steps() {
  local log=$1 sum=0 s
  for s in $(sed -n 's/.*task [0-9]* resumed at step \([0-9]*\).*/\1/p' "$log"); do
    [ "$s" -gt 0 ] || fail "$log: a task resumed at step 0"
    sum=$((sum + s))
  done
  echo $sum
}

t0=$(date +%s)
$mpiexec -n 2 "$exe" "$job" --output A.h5 >A.log 2>&1 || fail "A: exit $?"
ta=$(sed -n 's/.*wrote A.h5 (\([0-9.]*\) s).*/\1/p' A.log)
[ -n "$ta" ] || fail "A: no scan time"
steps_a=$($py -c 'import h5py, sys
print(int(h5py.File(sys.argv[1], "r")["runs/steps"][...].sum()))' A.h5)
ls A.h5.ckpt* >/dev/null 2>&1 && fail "A: checkpoint or state files left"

# B: stop with both tasks in flight
rc=$(run_signal 2 TERM 1 STATES 0.3 B.log) || exit 1
[ "$rc" -eq 3 ] || fail "B: exit status $rc, expected 3 (stopped mid-task)"
states || fail "B: not 2 state files"
[ "$(grep -c "task [0-9]* stopped at step" B.log)" -eq 2 ] ||
  fail "B: not 2 'stopped at step' lines"

# C: another partition (one group of 3), stopped again a little after the
# resume
rc=$(run_signal 3 USR1 2 "resumed at step" 1 C.log --group-size 2) || exit 1
rs_c=$(resumed_steps C.log) || exit 1
[ "$rs_c" -gt 0 ] || fail "C: no task resumed mid-task"
last=C.log
if [ "$rc" -eq 3 ]; then
  $mpiexec -n 1 "$exe" "$job" --output B.h5 >D.log 2>&1 || fail "D: exit $?"
  rs_d=$(resumed_steps D.log) || exit 1
  [ "$rs_d" -gt 0 ] || fail "D: no task resumed mid-task"
  last=D.log
else
  [ "$rc" -eq 0 ] || fail "C: exit status $rc"
fi
# the last run trained fewer steps than A did
rs_last=$(resumed_steps $last) || exit 1
[ "$rs_last" -gt 0 ] || fail "$last: nothing resumed"
[ $((steps_a - rs_last)) -lt "$steps_a" ] || fail "$last: no steps saved"
ls B.h5.ckpt* >/dev/null 2>&1 && fail "state files or checkpoint left behind"
out=$("$here/../analysis/pdcompare" A.h5 B.h5) ||
  fail "resumed result differs from the uninterrupted one: $out"
echo "$out" | tail -1
echo "$out" | grep -q EQUAL || fail "pdcompare did not say EQUAL"
# E: periodic states ([run] checkpoint_interval = 0.5 s of a task's
# training): kill -9 of rank 1 in the middle of both tasks, nothing saved at
# the kill; F: resumed at np 3 (3 groups of 1) from the last periodic states
rm -f B.h5 B.h5.ckpt*
$mpiexec -n 2 "$exe" "$job" --output B.h5 >E.log 2>&1 &
bg=$!
for i in $(seq 1 12000); do
  states && break
  kill -0 $bg 2>/dev/null || break
  sleep 0.01
done
sleep 0.3
states || fail "E: not 2 periodic state files"
pid=$(rank_pid 1 B.h5) || fail "E: rank 1 not found (finished too soon?)"
kill -9 "$pid"
wait $bg
rc=$?
[ "$rc" -ne 0 ] || fail "E: exit status 0 after kill -9"
$mpiexec -n 3 "$exe" "$job" --output B.h5 >F.log 2>&1 || fail "F: exit $?"
rs_f=$(resumed_steps F.log) || exit 1
# rank 1's task can only have resumed from a periodic state
[ "$(grep -c "resumed at step" F.log)" -eq 2 ] ||
  fail "F: not both tasks resumed (no periodic state?)"
ls B.h5.ckpt* >/dev/null 2>&1 && fail "F: state files or checkpoint left behind"
out=$("$here/../analysis/pdcompare" A.h5 B.h5) ||
  fail "F: resumed result differs from the uninterrupted one: $out"
echo "$out" | tail -1
echo "$out" | grep -q EQUAL || fail "F: pdcompare did not say EQUAL"

echo "restart_inflight: PASS ($(($(date +%s) - t0)) s; A: $steps_a steps in" \
  "$ta s; resumed at steps summing to $rs_c (np 3) and ${rs_d:-none} (np 1);" \
  "the last run trained $((steps_a - rs_last)) steps; after kill -9 resumed" \
  "at steps summing to $rs_f)"
