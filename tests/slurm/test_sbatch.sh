#!/usr/bin/env bash
# slurm/phasediag.sbatch on a real one-node SLURM (tests/slurm/cluster.sh):
#   tests/slurm/test_sbatch.sh BUILD_DIR|PHASEDIAG SRC_DIR WORKDIR
# 1. sbatch --wait --ntasks=2 of the project's script on tests/jobs/tiny.ini:
#    exit 0, JobState=COMPLETED, the result file written, "points agree".
# 2. A launcher mismatch is refused: srun without PMIx (Open MPI refuses to
#    start), and a single-rank MPI world in a 2-task step (phasediag refuses,
#    naming SLURM_NTASKS); neither writes a result file.
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

echo "total $(($(date +%s) - t0))s"
if [ "$fails" -gt 0 ]; then
  echo "$fails check(s) failed"
  exit 1
fi
echo "all slurm checks passed"
