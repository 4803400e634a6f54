#!/usr/bin/env bash
# Damaged checkpoints are detected by their checksums (tests/jobs/
# corrupt_state.ini: 2 tasks that run one after the other at np 1):
#   A  the scan uninterrupted at np 2 (2 groups of 1);
#   B  the same at np 1, SIGTERM once the second task has saved a periodic
#      state: exit 3, a checkpoint B.h5.ckpt holding task 0 and the state
#      file B.h5.ckpt.task-1 (a copy of the checkpoint becomes D.h5.ckpt);
#      run again, up to 3 times, if the scan ended before the signal;
#   C  bytes of task 1's parameters flipped in its state file, resumed at
#      np 2 in one group of 2: the file is ignored with a warning naming it
#      and the checksum, task 1 trains from step 0 (no "resumed at step"),
#      exit 0, and the result is bitwise A's (pdcompare EQUAL);
#   D  one value of /records in the checkpoint D.h5.ckpt changed in place
#      (h5py; the attributes kept): the run is refused with exit status 2
#      and a message saying the checkpoint is damaged and that --overwrite
#      discards it; with --overwrite the scan starts over, completes, and
#      its result is bitwise A's.
# usage: corrupt_state.sh PHASEDIAG MPIEXEC JOB.ini WORKDIR
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/restart_lib.sh"
restart_setup "$@"
rm -f A.h5 A.h5.ckpt* B.h5 B.h5.ckpt* D.h5 D.h5.ckpt* ./*.log

# pdcompare A.h5 FILE says EQUAL, or fail with WHAT
same_as_a() {
  local out
  out=$("$here/../analysis/pdcompare" A.h5 "$1") ||
    fail "$2: result differs from the uninterrupted one: $out"
  echo "$out" | grep -q EQUAL || fail "$2: pdcompare did not say EQUAL"
}

t0=$(date +%s)
$mpiexec -n 2 "$exe" "$job" --output A.h5 >A.log 2>&1 || fail "A: exit $?"

# B: stop in the middle of task 1 (task 0 done): SIGTERM to the rank as
# soon as task 1 has saved its first periodic state; prints the exit status
# (0: the scan ended before the signal landed)
stop_b() {
  $mpiexec -n 1 "$exe" "$job" --output B.h5 >B.log 2>&1 &
  local bg=$! pid
  for _ in $(seq 1 12000); do
    [ -e B.h5.ckpt.task-1 ] && break
    kill -0 $bg 2>/dev/null || break
    sleep 0.01
  done
  if pid=$(rank_pid 0 B.h5); then
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 1200); do
      kill -0 $bg 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 $bg 2>/dev/null; then
      kill -9 $bg "$pid" 2>/dev/null
      fail "B: still running 120 s after SIGTERM"
    fi
  fi
  wait $bg
  echo $?
}
# a loaded machine can hold this script back until the task has ended:
# then again (the tasks take seconds, the signal normally lands at once)
for try in 1 2 3; do
  rc=$(stop_b) || exit 1
  [ "$rc" -ne 0 ] && break
  echo "B: the scan ended before the signal (try $try)" >&2
  rm -f B.h5 B.h5.ckpt*
done
[ "$rc" -eq 3 ] || fail "B: exit status $rc, expected 3 (stopped mid-task)"
[ -e B.h5.ckpt.task-1 ] || fail "B: no state file of task 1"
[ "$(ndone B.h5.ckpt)" -eq 1 ] || fail "B: the checkpoint does not hold 1 task"
$py -c 'import h5py, sys
sys.exit(0 if "records_crc32c" in h5py.File(sys.argv[1], "r").attrs else 1)' \
  B.h5.ckpt || fail "B: no records_crc32c attribute in the checkpoint"
cp B.h5.ckpt D.h5.ckpt

# C: flip 16 bytes in the middle of the parameters of task 1's state (the
# offset from the file's header: docs/output.md)
steps=$($py - B.h5.ckpt.task-1 <<'PY'
import struct, sys
with open(sys.argv[1], "r+b") as f:
    I = struct.unpack("=24q", f.read(8 + 8 * 24)[8:])
    ln, n, d, m, nhist = I[4], I[5], I[6], I[7], I[9]
    off = 8 + 8 * 24 + 8 * 24 + 32 * nhist + 8 * (2 * n + ln)
    off += 8 * ((d + 2) * m // 2)
    f.seek(off)
    b = bytes(x ^ 0xFF for x in f.read(16))
    f.seek(off)
    f.write(b)
print(I[10])
PY
) || fail "C: cannot damage the state file"
[ "$steps" -gt 0 ] || fail "C: the state file is at step $steps"
$mpiexec -n 2 "$exe" --group-size 2 "$job" --output B.h5 >C.log 2>&1 ||
  fail "C: exit $?"
grep -q "ignoring the state file B.h5.ckpt.task-1 (checksum" C.log ||
  fail "C: no warning about the damaged state file"
grep -q "task 1 resumed at step" C.log && fail "C: resumed a damaged state"
grep -q "resuming from B.h5.ckpt: 1 of 2 tasks done" C.log ||
  fail "C: did not resume from the checkpoint"
ls B.h5.ckpt* >/dev/null 2>&1 && fail "C: state files or checkpoint left"
same_as_a B.h5 C

# D: one value of /records changed in place (its lowest bit)
$py - D.h5.ckpt <<'PY' || fail "D: cannot damage the checkpoint"
import h5py, numpy as np, sys
with h5py.File(sys.argv[1], "r+") as f:
    r = f["records"]
    row = r[0, :]
    k = next(i for i in range(2, row.size) if np.isfinite(row[i]))
    v = row[k:k + 1].copy().view(np.uint64)
    v ^= np.uint64(1)
    r[0, k] = v.view(np.float64)[0]
PY
$mpiexec -n 2 "$exe" "$job" --output D.h5 >D.log 2>&1
rc=$?
[ "$rc" -eq 2 ] || fail "D: exit status $rc, expected 2 (damaged checkpoint)"
grep -q "damaged" D.log || fail "D: the message does not say 'damaged'"
grep -q -- "--overwrite" D.log || fail "D: the message does not name --overwrite"
[ -e D.h5 ] && fail "D: a result file was written"
$mpiexec -n 2 "$exe" "$job" --output D.h5 --overwrite >E.log 2>&1 ||
  fail "E: exit $? with --overwrite"
grep -q "discarding D.h5.ckpt" E.log || fail "E: no 'discarding' warning"
grep -q "resuming from" E.log && fail "E: resumed the damaged checkpoint"
same_as_a D.h5 E

echo "corrupt_state: PASS ($(($(date +%s) - t0)) s; task 1 damaged at" \
  "step $steps and retrained from step 0; damaged checkpoint refused," \
  "then discarded with --overwrite)"
