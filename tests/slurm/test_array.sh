#!/usr/bin/env bash
# slurm/submit-array on a real one-node SLURM (tests/slurm/cluster.sh):
#   tests/slurm/test_array.sh BUILD_DIR|PHASEDIAG SRC_DIR WORKDIR
# 1. `slurm/submit-array 3 tests/slurm/array.ini --ntasks=N --time=10
#    --chdir=RUN --export=ALL,PHASEDIAG=...` (from another directory)
#    submits the 3 slices (slurm/array.sbatch, phasediag --slice I/3) and
#    the merge (slurm/merge.sbatch, afterok).
# 2. `slurm/submit-array 2 tests/slurm/slices.ini --ntasks=1 ...` (~15 s a
#    slice); once both slices have saved a checkpoint they get SIGUSR1
#    (scancel --signal=USR1: the job steps, as --signal does at a time
#    limit), checkpoint, exit 3 and are requeued by array.sbatch; the
#    requeued slices resume and the merge runs after them.
# Checks, each part: the array tasks and the merge end COMPLETED with
# ExitCode=0:0, each slice logged its banner (part 2: "requeueing", restart
# 1, "resuming from") and wrote OUTPUT.slice-I-of-N.ckpt, the merge started
# after the last slice ended, and the merged result file equals an
# uninterrupted mpiexec run of the same job (analysis/pdcompare).
# PD_ARRAY_NTASKS (default 1) sets the ranks per slice in part 1.
# Exits 77 (skipped) without the slurm-wlm and munge packages or root.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh" "$@"

final='COMPLETED|FAILED|TIMEOUT|CANCELLED|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE|PREEMPTED'

# scan NAME N JOB.ini NTASKS SIGNAL: submit-array N slices of JOB.ini with
# NTASKS ranks each in $work/NAME; SIGNAL=1: USR1 to the running slices once
# each has a checkpoint.  Checks as above.
scan() {
  local name=$1 n=$2 job=$3 ntasks=$4 signal=$5
  local run=$work/$name ref=$work/$name-ref out
  out=$(sed -n 's/^file *= *//p' "$job")
  echo "===== $name: $n slices of $(basename "$job"), $ntasks task(s) each ====="
  rm -rf "$run" "$ref"
  mkdir -p "$run" "$ref"
  local over=()
  [ "$(nproc)" -ge "$ntasks" ] || over=(--overcommit)
  # From another directory: the slices and the merge must both honour
  # --chdir and --export.
  local sub rc
  sub=$(cd / && "$src/slurm/submit-array" "$n" "$job" --ntasks="$ntasks" \
    --time=10 "${over[@]}" --chdir="$run" --export=ALL,PHASEDIAG="$exe" 2>&1)
  rc=$?
  echo "submit-array: $sub"
  if [ "$rc" -ne 0 ] || ! [[ $sub =~ ^slices:\ job\ ([0-9]+)\;\ merge:\ job\ ([0-9]+)$ ]]; then
    fail "submit-array exit $rc"
    return
  fi
  local array=${BASH_REMATCH[1]} merge=${BASH_REMATCH[2]}
  stamp "submitted: slices $array, merge $merge"

  local limit=$(($(date +%s) + ${PD_ARRAY_TIMEOUT:-180}))
  local last="" state="" info slices now signalled=0 i
  while :; do
    info=$(scontrol show job "$merge" 2>&1)
    state=$(grep -o 'JobState=[A-Z_]*' <<<"$info" | cut -d= -f2)
    slices=$(scontrol show job "$array" 2>/dev/null |
      grep -o 'JobState=[A-Z_]*' | cut -d= -f2 | sort | uniq -c | xargs)
    now="merge $state $(grep -o 'Reason=[^ ]*' <<<"$info"); slices: $slices"
    if [ "$now" != "$last" ]; then
      stamp "$now"
      last=$now
    fi
    [[ $state =~ ^($final)$ ]] && break
    if [ "$signal" = 1 ] && [ "$signalled" = 0 ] &&
      [ "$slices" = "$n RUNNING" ]; then
      local have=0
      for i in $(seq 0 $((n - 1))); do
        [ -s "$run/$out.slice-$i-of-$n.ckpt" ] && have=$((have + 1))
      done
      if [ "$have" -eq "$n" ]; then
        for i in $(seq 0 $((n - 1))); do
          scancel --signal=USR1 "${array}_$i" ||
            fail "scancel --signal=USR1 ${array}_$i"
        done
        stamp "SIGUSR1 to the job steps of ${array}_0..$((n - 1))"
        signalled=1
      fi
    fi
    # A failed slice leaves the merge's dependency unsatisfiable (the merge
    # is submitted with --kill-on-invalid-dep, so this is a fallback).
    if grep -q 'Reason=DependencyNeverSatisfied' <<<"$info"; then
      fail "the merge's dependency can never be satisfied (a slice failed)"
      scancel "$merge" 2>/dev/null
      break
    fi
    if [ "$(date +%s)" -ge "$limit" ]; then
      fail "merge job $merge not finished in time (state ${state:-?})"
      scancel "$array" "$merge" 2>/dev/null
      break
    fi
    sleep 1
  done
  [ "$signal" = 1 ] && [ "$signalled" = 0 ] &&
    fail "the slices were never running together with checkpoints: not signalled"

  # The array tasks.
  local ainfo ncomp nok log
  ainfo=$(scontrol show job "$array" 2>&1)
  ncomp=$(grep -c 'JobState=COMPLETED' <<<"$ainfo")
  nok=$(grep -c 'ExitCode=0:0' <<<"$ainfo")
  if [ "$ncomp" -eq "$n" ] && [ "$nok" -eq "$n" ]; then
    ok "$n array tasks COMPLETED, ExitCode=0:0"
  else
    fail "array tasks: $ncomp of $n COMPLETED, $nok with ExitCode=0:0"
  fi
  for i in $(seq 0 $((n - 1))); do
    log=$run/phasediag-${array}_$i.out
    if grep -q "^array.sbatch: slice $i of $n, restart 0, $ntasks tasks" "$log" 2>/dev/null; then
      ok "slice $i: $(grep -m1 '^array.sbatch:' "$log")"
    else
      fail "slice $i: no banner 'array.sbatch: slice $i of $n' in $log"
    fi
    if [ "$signal" = 1 ]; then
      if grep -q 'stopped by a signal' "$log" &&
        grep -q '^array.sbatch: checkpointed (status 3): requeueing' "$log" &&
        grep -q "^array.sbatch: slice $i of $n, restart [1-9]" "$log" &&
        grep -q 'resuming from' "$log"; then
        ok "slice $i: stopped, requeued, $(grep "^array.sbatch: slice $i of $n, restart [1-9]" "$log" | tail -1 | sed 's/^array.sbatch: //'), $(grep 'resuming from' "$log" | tail -1 | sed 's/^.*resuming/resuming/')"
      else
        fail "slice $i: no stop / requeueing / restart >= 1 banner / resume in $log"
      fi
    fi
    [ -s "$run/$out.slice-$i-of-$n.ckpt" ] ||
      fail "slice $i wrote no $run/$out.slice-$i-of-$n.ckpt"
  done
  # The merge: after every slice ended.
  if [ "$state" = COMPLETED ]; then
    ok "merge JobState=COMPLETED"
  else
    fail "merge JobState=${state:-?}"
  fi
  if grep -q 'ExitCode=0:0' <<<"$info"; then
    ok "merge ExitCode=0:0"
  else
    fail "merge $(grep -o 'ExitCode=[0-9:]*' <<<"$info" | head -1)"
  fi
  local mstart aend
  mstart=$(grep -o 'StartTime=[0-9T:-]*' <<<"$info" | cut -d= -f2)
  aend=$(grep -o 'EndTime=[0-9T:-]*' <<<"$ainfo" | cut -d= -f2 | sort | tail -1)
  if [ -n "$mstart" ] && [ -n "$aend" ] && [[ ! $mstart < $aend ]]; then
    ok "the merge started ($mstart) after the last slice ended ($aend)"
  else
    fail "merge start '$mstart', last slice end '$aend'"
  fi
  local mlog=$run/phasediag-merge-$merge.out
  if [ -f "$mlog" ]; then
    echo "----- merge log (last 3 lines) -----"
    tail -n 3 "$mlog"
    echo "-----"
  else
    fail "no merge log $mlog"
  fi
  local res=$run/$out
  if [ -s "$res" ]; then
    ok "merged result file $res"
  else
    fail "no merged result file $res"
  fi

  # The uninterrupted run.
  compare_uninterrupted "$res" "$ref" "$out" "$job"

  if [ "$fails" -gt 0 ]; then
    for f in "$run"/*.out; do
      [ -f "$f" ] || continue
      echo "----- $f -----"
      cat "$f"
    done
    echo "----- scontrol show job $array -----"
    echo "$ainfo"
    echo "----- scontrol show job $merge -----"
    echo "$info"
  fi
}

scan plain 3 "$here/array.ini" "${PD_ARRAY_NTASKS:-1}" 0
scan requeue 2 "$here/slices.ini" 1 1

stamp "total"
if [ "$fails" -gt 0 ]; then
  echo "$fails check(s) failed"
  exit 1
fi
echo "all array checks passed"
