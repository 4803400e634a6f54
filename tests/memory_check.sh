#!/usr/bin/env bash
# The per-rank memory estimate (memest.h) through the real binary:
#   (a) --check of a job with many samples and a tiny width prints an
#       estimate dominated by the per-sample buffers, between bounds
#       computed here from n; the job run for one step stays below it
#       (peak resident size) and not far under it;
#   (b) jobs that would not fit the node's free memory are refused with
#       exit status 2 before any training, nothing written: the NTK
#       observer's n x n kernels (n = 2e5), and the per-sample buffers of
#       a data set sized from the free memory.
# usage: memory_check.sh PHASEDIAG MPIEXEC WORKDIR
set -u
exe=$1 mpiexec=$2 dir=$3
rm -rf "$dir"
mkdir -p "$dir"
cd "$dir" || exit 1
pass=0 fail=0
ok() {
  echo "ok   $1"
  pass=$((pass + 1))
}
bad() {
  echo "FAIL $1"
  [ -n "${2:-}" ] && echo "$2" | head -20
  fail=$((fail + 1))
}

# "6.61 GiB" -> bytes
to_bytes() {
  awk -v v="$1" -v u="$2" 'BEGIN {
    n = split("B KiB MiB GiB TiB PiB EiB", U, " ")
    for (i = 1; i <= n; i++) if (U[i] == u) { printf "%.0f\n", v * 1024 ^ (i - 1); exit }
    print -1 }'
}
# the bytes of part NAME ("data", "per-sample buffers", ...) or of the
# total ("total") in a --check output
part_bytes() {
  local out=$1 name=$2 line v u
  line=$(grep "^memory per rank (estimate):" <<<"$out")
  if [ "$name" = total ]; then
    read -r v u < <(sed -E 's/^memory per rank \(estimate\): ([0-9.e+]+) ([KMGTPE]?i?B) =.*/\1 \2/' <<<"$line")
  else
    read -r v u < <(grep -oE "(=|\+) $name [0-9.e+]+ [KMGTPE]?i?B" <<<"$line" |
      awk '{ print $(NF - 1), $NF }')
  fi
  [ -n "${v:-}" ] && to_bytes "$v" "$u" || echo -1
}
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }

job() { # name n [extra ini lines]
  printf '[data]\nbuiltin = sines\nn = %s\n[grid]\nschemes = ntk\nwidths = 2\n[train]\nmax_steps = 1\n%s\n[output]\nfile = %s/%s.h5\n' \
    "$2" "${3:-}" "$dir" "$1" >"$1.ini"
}

# ---- (a) the estimate of a data-heavy job -------------------------------
n=1000000
job big "$n"
out=$("$exe" --check big.ini 2>&1)
st=$?
total=$(part_bytes "$out" total)
data=$(part_bytes "$out" data)
samples=$(part_bytes "$out" "per-sample buffers")
# every rank holds x and y (8 (d + 1) bytes a sample, d = 1) and per sample
# an exact accumulator (560 bytes, repsum.h), the net's residual and lane
# partials and the trainer's vectors; 700 bytes a sample is a generous
# upper end, plus the libraries and the checkpoint buffers
lo=$((n * (16 + 560 + 40)))
hi=$((n * 700 * 3 / 2 + 128 * 1048576))
if [ "$st" -ne 0 ]; then
  bad "check-estimate: --check exited $st" "$out"
elif ! grep -q "memory: .* MiB of parameters per rank" <<<"$out"; then
  bad "check-estimate: no parameter line" "$out"
elif ! grep -q "largest: the per-sample buffers (n = 1e+06 samples" <<<"$out"; then
  bad "check-estimate: the per-sample buffers are not the largest part" "$out"
elif ! ge "$total" "$lo" || ! ge "$hi" "$total"; then
  bad "check-estimate: total $total bytes outside [$lo, $hi]" "$out"
elif ! ge "$data" $((n * 16 * 99 / 100)) || ! ge $((n * 16 * 101 / 100)) "$data"; then
  bad "check-estimate: data $data bytes, expected about $((n * 16))" "$out"
elif ! ge "$samples" $((n * 560)); then
  bad "check-estimate: per-sample buffers $samples bytes < 560 n" "$out"
else
  ok "check-estimate ($total bytes for n = $n)"
fi

# the real run's peak resident size against the estimate: never above it,
# at least 1/1.5 of it
if command -v python3 >/dev/null; then
  rss=$(python3 -c '
import resource, subprocess, sys
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL).returncode
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024 if r == 0 else -r)
' "$exe" --quiet big.ini)
  if ! ge "$rss" 1; then
    bad "measured-rss: the run failed ($rss)"
  elif ! ge "$total" "$rss"; then
    bad "measured-rss: estimate $total below the peak resident size $rss"
  elif ! ge $((rss * 3 / 2)) "$total"; then
    bad "measured-rss: estimate $total more than 1.5 x the peak $rss"
  else
    ok "measured-rss (peak $rss bytes, estimate $total)"
  fi
  rm -f big.h5
else
  echo "skip measured-rss: no python3"
fi

# ---- (b) refusals before training ---------------------------------------
refused() { # name pattern output-file command...
  local name=$1 pat=$2 file=$3
  shift 3
  out=$("$@" 2>&1)
  st=$?
  if [ "$st" -ne 2 ]; then
    bad "$name: status $st (want 2)" "$out"
  elif ! grep -q -- "$pat" <<<"$out"; then
    bad "$name: no '$pat'" "$out"
  elif grep -qE "^\[[0-9]+/[0-9]+\]|steps, loss" <<<"$out"; then
    bad "$name: a task ran" "$out"
  elif ls "$file"* >/dev/null 2>&1; then
    bad "$name: something was written: $(ls "$file"*)" "$out"
  else
    ok "$name"
  fi
}

# the NTK kernels: four n x n matrices of 8 bytes at n = 2e5 are 1.2 TiB
job kernels 200000 "$(printf '[ntk]\nenabled = true\n')"
refused kernels-refused \
  "the scan does not fit: .* GiB are available; the largest part is the NTK kernels (n = 2e+05" \
  "$dir/kernels.h5" "$mpiexec" -n 2 "$exe" kernels.ini

# the per-sample buffers: 4 ranks on this node, each about 670 bytes a
# sample (the data itself is 16), +10%: n = free / 2000 asks for 1.5 times
# the free memory (the data on all ranks is 3% of it)
free=$(($(getconf _AVPHYS_PAGES) * $(getconf PAGESIZE)))
n=$((free / 2000))
if [ "$n" -gt 200000000 ]; then
  echo "skip samples-refused: $free bytes free would need n = $n"
else
  job samples "$n"
  refused samples-refused \
    "the scan does not fit: 4 ranks on this node x .* GiB are available; the largest part is the per-sample buffers (n = " \
    "$dir/samples.h5" "$mpiexec" -n 4 "$exe" samples.ini
fi

echo "memory_check: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
