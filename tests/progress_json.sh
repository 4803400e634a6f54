#!/usr/bin/env bash
# --progress-json: tiny.ini at np 2 writes one JSON object per line (a first
# line on the job, one per task, a last one with the summary), every line
# valid JSON, the tasks' statuses, widths and steps those of the result
# file; a second run appends; a bad path is refused with exit status 2
# before any training, and --check creates nothing.
# usage: progress_json.sh PHASEDIAG MPIEXEC JOB.ini WORKDIR
set -u
exe=$1 mpiexec=$2 job=$3 work=$4
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
pass=0 fail=0
ok() {
  echo "ok   $1"
  pass=$((pass + 1))
}
bad() {
  echo "FAIL $1: $2"
  [ $# -gt 2 ] && echo "$3" | head -20
  fail=$((fail + 1))
}

# the run, and every line against the result file
out=$("$mpiexec" -n 2 "$exe" --quiet --progress-json progress.jsonl \
  --output tiny.h5 "$job" 2>&1)
st=$?
if [ $st -eq 0 ] && [ -s progress.jsonl ] && [ -f tiny.h5 ]; then
  ok run
else
  bad run "status $st" "$out"
fi
check=$(/usr/bin/python3 - progress.jsonl tiny.h5 "$job" 2>&1 <<'EOF'
import json, sys
import h5py, numpy as np

path, h5, job = sys.argv[1:4]
def no_nan(name):  # JSON has no NaN or Infinity
    raise ValueError("not JSON: " + name)
with open(path, "rb") as f:
    raw = f.read()
assert raw.endswith(b"\n"), "the last line is not complete"
lines = [json.loads(l.decode("utf-8"), parse_constant=no_nan)
         for l in raw.splitlines()]
with h5py.File(h5, "r") as f:
    gamma = f["/grid/gamma"][()]
    widths = list(f["/grid/width"][()])
    seeds = list(f["/grid/seed"][()])
    status = f["/runs/status"][()]
    steps = f["/runs/steps"][()]
    agree = int(np.sum(f["/phase/agree"][()] == 1))
    classified = int(np.sum(f["/phase/agree"][()] >= 0))
P, W, S = status.shape
tasks = P * W * S
assert tasks == 36, f"tiny.ini has 36 tasks, the file {tasks}"
first, last, rows = lines[0], lines[-1], lines[1:-1]
assert first["event"] == "start", first
assert first["job"] == job and first["tasks"] == tasks, first
assert first["ranks"] == 2 and first["done"] == 0, first
assert first["widths"] == widths and first["seeds"] == seeds, first
assert last["event"] == "end", last
assert last["points"] == P and last["agree"] == agree, (last, agree)
assert last["classified"] == classified, (last, classified)
assert len(rows) == tasks, f"{len(rows)} task lines for {tasks} tasks"
assert all(r["event"] == "task" for r in rows)
assert sorted(r["task"] for r in rows) == list(range(tasks)), "tasks differ"
assert [r["done"] for r in rows] == list(range(1, tasks + 1)), "done counts"
names = {0: "converged", 1: "max_steps", 2: "diverged", 3: "stalled", 4: "stationary"}
keys = {"task", "point", "gamma", "gamma_prime", "label", "width", "seed",
        "status", "steps", "evaluations", "loss", "t_star", "rd_w",
        "seconds", "done", "tasks", "elapsed", "eta", "event", "time"}
for r in rows:
    assert set(r) == keys, sorted(set(r) ^ keys)
    p, w, s = r["point"], widths.index(r["width"]), seeds.index(r["seed"])
    assert r["gamma"] == gamma[p], (r, gamma[p])
    assert r["status"] == names[int(status[p, w, s])], (r, status[p, w, s])
    assert r["steps"] == steps[p, w, s], (r, steps[p, w, s])
    assert r["tasks"] == tasks and r["eta"] is not None and r["eta"] >= 0
    assert r["evaluations"] >= r["steps"] and r["seconds"] >= 0, r
print(f"{len(lines)} lines, {tasks} tasks, {agree} of {P} points agree")
EOF
)
st=$?
if [ $st -eq 0 ]; then ok "lines ($check)"; else bad lines "" "$check"; fi

# a second run appends after the first
"$mpiexec" -n 2 "$exe" --quiet --overwrite --progress-json progress.jsonl \
  --output tiny.h5 "$job" >/dev/null 2>&1
n=$(wc -l <progress.jsonl)
starts=$(grep -c '"event": "start"' progress.jsonl)
if [ "$n" -eq 76 ] && [ "$starts" -eq 2 ]; then
  ok append
else
  bad append "$n lines, $starts start lines (want 76, 2)"
fi

# refusals: exit status 2, the message, no result file, the job untouched
sum=$(cksum <"$job")
refused() { # name pattern progress-file [options...]
  local name=$1 pat=$2 file=$3
  shift 3
  rm -f refused.h5
  out=$("$mpiexec" -n 2 "$exe" --quiet "$@" --progress-json "$file" \
    --output refused.h5 "$job" 2>&1)
  st=$?
  if [ $st -eq 2 ] && grep -qF -- "$pat" <<<"$out" && [ ! -e refused.h5 ] &&
    [ "$(cksum <"$job")" = "$sum" ]; then
    ok "$name"
  else
    bad "$name" "status $st (want 2), want '$pat'" "$out"
  fi
}
mkdir -p adir
refused directory "--progress-json adir is a directory, not a regular file" adir
refused no-such-dir "--progress-json nodir/p.jsonl: cannot open it for appending" nodir/p.jsonl
refused job-file "that is the job file" "$job"
refused output "that is the output file" refused.h5
refused empty "--progress-json: expected a file name" ""
out=$("$mpiexec" -n 1 "$exe" merge --slices 2 --progress-json m.jsonl "$job" 2>&1)
st=$?
if [ $st -eq 2 ] && grep -qF -- "--progress-json does not go with merge" <<<"$out"; then
  ok merge
else
  bad merge "status $st" "$out"
fi
out=$("$exe" --check --progress-json checked.jsonl "$job" 2>&1)
st=$?
if [ $st -eq 0 ] && [ ! -e checked.jsonl ]; then
  ok check-creates-nothing
else
  bad check-creates-nothing "status $st, file: $(ls checked.jsonl 2>&1)" "$out"
fi
out=$("$exe" --check --progress-json nodir/p.jsonl "$job" 2>&1)
st=$?
if [ $st -eq 2 ] && grep -qF "cannot create it" <<<"$out"; then
  ok check-refuses
else
  bad check-refuses "status $st" "$out"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
