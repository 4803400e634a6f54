#!/usr/bin/env bash
# slurm/phasediag.sbatch on a real one-node SLURM (tests/slurm/cluster.sh):
#   tests/slurm/test_sbatch.sh BUILD_DIR|PHASEDIAG SRC_DIR WORKDIR
# 1. sbatch --wait --ntasks=2 of the project's script on tests/jobs/tiny.ini:
#    exit 0, JobState=COMPLETED, the result file written, "points agree".
# 2. A launcher mismatch is refused: srun without PMIx (Open MPI refuses to
#    start), and a single-rank MPI world in a 2-task step (phasediag refuses,
#    naming SLURM_NTASKS); neither writes a result file.
# 3. PD_LAUNCHER is honoured: PD_LAUNCHER="mpirun --display-map" (Open MPI's
#    mpirun inside the allocation, a value of two words) runs the same job:
#    the banner names the launcher, mpirun's job map is in the log, 2 ranks,
#    and the result file equals part 1's (analysis/pdcompare).  Then
#    PD_LAUNCHER=mpirun on tests/slurm/slices.ini (~25 s on 2 ranks): once
#    the checkpoint exists the batch shell gets SIGUSR1 (scancel --batch, what
#    --signal=B:USR1@T does at the time limit), passes it on to mpirun, the
#    ranks checkpoint and exit 3, the job is requeued and resumes; it ends
#    COMPLETED and its result equals an uninterrupted run.
# Exits 77 (skipped) without the slurm-wlm and munge packages or root.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh" "$@"
job=$src/tests/jobs/tiny.ini
t1=$(date +%s)
jobid=$(timeout 300 sbatch --wait --parsable --ntasks=2 --time=10 "${over[@]}" \
  --chdir="$run" --output="$run/job-%j.out" \
  --export=ALL,PHASEDIAG="$exe" "$src/slurm/phasediag.sbatch" "$job")
rc=$?
jobid=${jobid%%;*}
echo "sbatch --wait: job $jobid, exit $rc, $(($(date +%s) - t1))s"
out=$run/job-$jobid.out
if [ "$rc" -eq 0 ]; then
  ok "sbatch --wait exit 0"
else
  fail "sbatch --wait exit $rc"
fi
info=$(scontrol show job "$jobid" 2>&1)
if grep -q 'JobState=COMPLETED' <<<"$info"; then
  ok "JobState=COMPLETED"
else
  fail "job state: $(grep -o 'JobState=[A-Z_]*' <<<"$info")"
fi
if grep -q 'ExitCode=0:0' <<<"$info"; then
  ok "ExitCode=0:0"
else
  fail "$(grep -o 'ExitCode=[0-9:]*' <<<"$info" | head -1)"
fi
if grep -q 'NumTasks=2 ' <<<"$info"; then
  ok "NumTasks=2"
else
  fail "$(grep -o 'NumTasks=[0-9]*' <<<"$info")"
fi
if [ -f "$out" ]; then
  if grep -q '^phasediag.sbatch: job .*, launcher srun --mpi=pmix$' "$out"; then
    ok "default launcher: srun --mpi=pmix"
  else
    fail "the banner does not name the default launcher 'srun --mpi=pmix'"
  fi
  if grep -q 'on 2 ranks' "$out"; then
    ok "the scan ran on 2 ranks"
  else
    fail "the log does not say 'on 2 ranks'"
  fi
  if grep -q 'points agree' "$out"; then
    ok "$(grep 'points agree' "$out")"
  else
    fail "no 'points agree' in $out"
  fi
else
  fail "no job output $out"
fi
# tiny.ini writes [output] file = tiny.h5 in the job's working directory.
if [ -s "$run/tiny.h5" ]; then
  ok "result file $run/tiny.h5"
else
  fail "no result file $run/tiny.h5"
fi
if [ "$fails" -gt 0 ]; then
  echo "----- $out -----"
  cat "$out" 2>/dev/null
  echo "----- scontrol show job -----"
  echo "$info"
fi

# 2. Launcher mismatches.
mm=$work/mismatch
rm -rf "$mm"
mkdir -p "$mm"
cd "$mm" || exit 1
# srun without PMIx: Open MPI finds no PMI server and refuses (it does not
# run single-rank copies of the scan).
timeout 120 srun -n 2 "${over[@]}" --mpi=none "$exe" --quiet --output "$mm/none.h5" \
  --overwrite "$job" >"$mm/none.log" 2>&1
rc=$?
if [ "$rc" -ne 0 ]; then
  ok "srun --mpi=none refused (exit $rc)"
else
  fail "srun --mpi=none exit 0"
fi
[ ! -e "$mm/none.h5" ] || fail "srun --mpi=none wrote $mm/none.h5"
# A single-rank MPI world in a step SLURM says has 2 tasks (what srun
# without PMIx gives with an MPI that does not refuse by itself: many
# single-rank copies, each running the whole scan): phasediag's own check.
timeout 120 srun -n 1 --mpi=pmix \
  env SLURM_NTASKS=2 SLURM_STEP_NUM_TASKS=2 "$exe" --quiet \
  --output "$mm/ntasks.h5" --overwrite "$job" >"$mm/ntasks.log" 2>&1
rc=$?
if [ "$rc" -ne 0 ] && grep -qE 'SLURM_(NTASKS|STEP_NUM_TASKS)' "$mm/ntasks.log"; then
  ok "SLURM_NTASKS mismatch refused (exit $rc): $(grep -m1 -E 'SLURM_(NTASKS|STEP_NUM_TASKS)' "$mm/ntasks.log")"
else
  fail "SLURM_NTASKS mismatch: exit $rc"
  cat "$mm/ntasks.log"
fi
[ ! -e "$mm/ntasks.h5" ] || fail "the mismatch run wrote $mm/ntasks.h5"

# 3. PD_LAUNCHER.  wait_job ID: poll until the job ends for good (a
# requeued job goes back to PENDING); sets info and state.
wait_job() {
  local id=$1 limit=$(($(date +%s) + ${PD_LAUNCHER_TIMEOUT:-300})) last="" now
  while :; do
    info=$(scontrol show job "$id" 2>&1)
    state=$(grep -o 'JobState=[A-Z_]*' <<<"$info" | cut -d= -f2)
    now="JobState=$state $(grep -o 'Restarts=[0-9]*' <<<"$info")"
    [ "$now" != "$last" ] && stamp "job $id: $now" && last=$now
    case $state in
    COMPLETED | FAILED | TIMEOUT | CANCELLED | NODE_FAIL | OUT_OF_MEMORY | \
      BOOT_FAIL | DEADLINE | PREEMPTED) return ;;
    esac
    if [ "$(date +%s)" -ge "$limit" ]; then
      fail "job $id not finished in time (state ${state:-?})"
      scancel "$id" 2>/dev/null
      return
    fi
    sleep 1
  done
}
# job_ok ID OUT: COMPLETED, ExitCode=0:0; on failure the log and the job.
job_ok() {
  local bad=$fails
  if [ "$state" = COMPLETED ] && grep -q 'ExitCode=0:0' <<<"$info"; then
    ok "job $1: JobState=COMPLETED ExitCode=0:0"
  else
    fail "job $1: JobState=${state:-?} $(grep -o 'ExitCode=[0-9:]*' <<<"$info" | head -1)"
  fi
  [ "$fails" -eq "$bad" ] || {
    echo "----- $2 -----"
    cat "$2" 2>/dev/null
    echo "$info"
  }
}
lr=$work/launcher
rm -rf "$lr"
mkdir -p "$lr"
jobid=$(PD_LAUNCHER="mpirun --display-map" sbatch --parsable --ntasks=2 \
  --time=10 "${over[@]}" --chdir="$lr" --output="$lr/job-%j.out" \
  --export=ALL,PHASEDIAG="$exe" "$src/slurm/phasediag.sbatch" "$job")
jobid=${jobid%%;*}
stamp "PD_LAUNCHER='mpirun --display-map': job $jobid"
wait_job "$jobid"
out=$lr/job-$jobid.out
job_ok "$jobid" "$out"
if grep -q '^phasediag.sbatch: job .*, launcher mpirun --display-map$' "$out" 2>/dev/null &&
  grep -q 'JOB MAP' "$out" && grep -q 'on 2 ranks' "$out"; then
  ok "PD_LAUNCHER='mpirun --display-map': banner, mpirun's job map, 2 ranks"
else
  fail "PD_LAUNCHER='mpirun --display-map': no launcher banner, 'JOB MAP' or 'on 2 ranks' in $out"
fi
if [ -s "$lr/tiny.h5" ] && [ -s "$run/tiny.h5" ]; then
  if c=$("$py" "$cmp" "$lr/tiny.h5" "$run/tiny.h5" 2>&1); then
    ok "mpirun = srun --mpi=pmix: $(tail -n 2 <<<"$c" | tr '\n' ' ')"
  else
    fail "mpirun's result differs from srun's:"
    echo "$c"
  fi
else
  fail "no result file $lr/tiny.h5 (or $run/tiny.h5)"
fi

# SIGUSR1 to the batch shell reaches mpirun's ranks: stop, requeue, resume.
sj=$here/slices.ini
sg=$work/launcher-signal
rm -rf "$sg"
mkdir -p "$sg"
jobid=$(PD_LAUNCHER=mpirun sbatch --parsable --ntasks=2 --time=10 "${over[@]}" \
  --chdir="$sg" --output="$sg/job-%j.out" \
  --export=ALL,PHASEDIAG="$exe" "$src/slurm/phasediag.sbatch" "$sj")
jobid=${jobid%%;*}
stamp "PD_LAUNCHER=mpirun, slices.ini: job $jobid"
sent=0
for _ in $(seq 120); do
  if [ -s "$sg/slices.h5.ckpt" ]; then
    scancel --batch --signal=USR1 "$jobid" && sent=1
    break
  fi
  [[ $(scontrol show job "$jobid" 2>&1) =~ JobState=(PENDING|RUNNING) ]] || break
  sleep 1
done
if [ "$sent" = 1 ]; then
  stamp "SIGUSR1 to the batch shell of job $jobid"
else
  fail "job $jobid wrote no checkpoint while running: not signalled"
fi
wait_job "$jobid"
out=$sg/job-$jobid.out
job_ok "$jobid" "$out"
if grep -q '^phasediag.sbatch: SIGUSR1: passed on to mpirun' "$out" 2>/dev/null &&
  grep -q 'stopped by a signal' "$out" &&
  grep -q "^phasediag.sbatch: checkpointed (status 3): requeueing job $jobid" "$out" &&
  grep -q "^phasediag.sbatch: job $jobid, restart [1-9].*, launcher mpirun$" "$out" &&
  grep -q 'resuming from' "$out"; then
  ok "SIGUSR1 passed on to mpirun: stopped, requeued, $(grep 'resuming from' "$out" | tail -1 | sed 's/^.*resuming/resuming/')"
else
  fail "no 'passed on to mpirun' / stop / requeueing / restart banner / resume in $out"
  cat "$out" 2>/dev/null
fi
ref=$work/launcher-ref
rm -rf "$ref"
mkdir -p "$ref"
compare_uninterrupted "$sg/slices.h5" "$ref" slices.h5 "$sj"

echo "total $(($(date +%s) - t0))s"
if [ "$fails" -gt 0 ]; then
  echo "$fails check(s) failed"
  exit 1
fi
echo "all slurm checks passed"
