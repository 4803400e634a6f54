#!/usr/bin/env bash
# slurm/phasediag.sbatch reaching its time limit on a real one-node SLURM
# (tests/slurm/cluster.sh):
#   tests/slurm/test_requeue.sh BUILD_DIR|PHASEDIAG SRC_DIR WORKDIR
# The job tests/slurm/requeue.ini (~75 s of work on 2 ranks) is submitted
# with --ntasks=2 --time=1 --signal=USR1@50: SLURM sends SIGUSR1 to the
# ranks when 50 s of the minute are left (slurmctld checks the limits every
# ~30 s, so 10 to 40 s into the run), phasediag writes its checkpoint and
# exits 3, the script requeues the job, and the requeued job (which starts
# ~12 s later: cred_expire=10) resumes from the checkpoint; if it is
# signalled again it is requeued again.  Checks: the log shows the stop, the
# exit-3 handling and "requeueing", a banner with restart >= 1 and a
# "resuming from" line; the final JobState is COMPLETED with ExitCode=0:0
# and Restarts >= 1; the result file equals an uninterrupted mpiexec run of
# the same job (analysis/pdcompare); the checkpoint is gone.
# Exits 77 (skipped) without the slurm-wlm and munge packages or root.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh" "$@"
job=$here/requeue.ini

jobid=$(sbatch --parsable --ntasks=2 --time=1 --signal=USR1@50 "${over[@]}" \
  --chdir="$run" --output="$run/job-%j.out" \
  --export=ALL,PHASEDIAG="$exe" "$src/slurm/phasediag.sbatch" "$job")
rc=$?
jobid=${jobid%%;*}
[ "$rc" -eq 0 ] && [ -n "$jobid" ] || {
  echo "FAIL: sbatch exit $rc"
  exit 1
}
stamp "submitted job $jobid"
out=$run/job-$jobid.out

# Poll until the job ends for good (a requeued job goes back to PENDING).
limit=${PD_REQUEUE_TIMEOUT:-300}
last="" state=""
while :; do
  info=$(scontrol show job "$jobid" 2>&1)
  state=$(grep -o 'JobState=[A-Z_]*' <<<"$info" | cut -d= -f2)
  restarts=$(grep -o 'Restarts=[0-9]*' <<<"$info" | cut -d= -f2)
  if [ "$state/$restarts" != "$last" ]; then
    stamp "JobState=$state Restarts=$restarts $(grep -o 'Reason=[^ ]*' <<<"$info")"
    last=$state/$restarts
  fi
  case $state in
  COMPLETED | FAILED | TIMEOUT | CANCELLED | NODE_FAIL | OUT_OF_MEMORY | \
    BOOT_FAIL | DEADLINE | PREEMPTED) break ;;
  esac
  if [ $(($(date +%s) - t0)) -ge "$limit" ]; then
    fail "job $jobid not finished after ${limit}s (state ${state:-?})"
    scancel "$jobid" 2>/dev/null
    break
  fi
  sleep 1
done

if [ "$state" = COMPLETED ]; then
  ok "JobState=COMPLETED"
else
  fail "JobState=${state:-?}"
fi
if grep -q 'ExitCode=0:0' <<<"$info"; then
  ok "ExitCode=0:0"
else
  fail "$(grep -o 'ExitCode=[0-9:]*' <<<"$info" | head -1)"
fi
if [ "${restarts:-0}" -ge 1 ]; then
  ok "Restarts=$restarts"
else
  fail "Restarts=${restarts:-?} (the job was never requeued)"
fi

if [ -f "$out" ]; then
  echo "----- job log (banners, stops, resumes) -----"
  grep -E 'phasediag.sbatch|stopped by a signal|resuming from|stop|wrote|points agree' "$out"
  echo "-----"
  if grep -q 'stopped by a signal' "$out"; then
    ok "phasediag stopped on the time-limit signal and checkpointed"
  else
    fail "no 'stopped by a signal' in the log"
  fi
  if grep -q "checkpointed (status 3): requeueing job $jobid" "$out"; then
    ok "exit 3 handled: requeueing"
  else
    fail "no 'checkpointed (status 3): requeueing job $jobid' in the log"
  fi
  if grep -qE "^phasediag.sbatch: job $jobid, restart [1-9]" "$out"; then
    ok "requeued run: $(grep -E "^phasediag.sbatch: job $jobid, restart [1-9]" "$out" | tail -1)"
  else
    fail "no banner with restart >= 1 (SLURM_RESTART_COUNT) in the log"
  fi
  if grep -q 'resuming from' "$out"; then
    ok "$(grep 'resuming from' "$out" | tail -1 | sed 's/^.*resuming/resuming/')"
  else
    fail "no 'resuming from' in the log"
  fi
else
  fail "no job output $out"
fi
res=$run/requeue.h5
if [ -s "$res" ]; then
  ok "result file $res"
else
  fail "no result file $res"
fi
if [ -e "$res.ckpt" ]; then
  fail "the checkpoint $res.ckpt is still there"
else
  ok "checkpoint removed"
fi

# The uninterrupted run (after the job: two ranks on this machine's cores).
ref=$work/ref
rm -rf "$ref"
mkdir -p "$ref"
compare_uninterrupted "$res" "$ref" requeue.h5 "$job"

if [ "$fails" -gt 0 ]; then
  echo "----- $out -----"
  cat "$out" 2>/dev/null
  echo "----- scontrol show job -----"
  echo "$info"
  echo "----- slurmctld.log (job $jobid) -----"
  grep -E "JobId=$jobid|$jobid" "$cluster/log/slurmctld.log" 2>/dev/null | tail -30
fi
stamp "total"
if [ "$fails" -gt 0 ]; then
  echo "$fails check(s) failed"
  exit 1
fi
echo "all requeue checks passed"
