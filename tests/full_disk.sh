#!/usr/bin/env bash
# A file system without room for the result is refused before training:
# a 256 KiB tmpfs as the output directory; exit 2, the numbers in the
# message, nothing written.  Then a disk that fills up during the run (a
# 40 MiB tmpfs filled once training has started): the checkpoint still
# holds every task (its space was held from the start), the result write
# fails with exit 1 (no crash) and a message saying how to finish; with
# room again the same command trains nothing and writes the result, equal
# to an uninterrupted run.  Skipped (77) where tmpfs cannot be mounted.
# usage: full_disk.sh PHASEDIAG MPIEXEC JOB.ini WORKDIR
set -u
exe=$1 mpiexec=$2 job=$3 work=$4
dir=$work/full
mkdir -p "$dir"
mountpoint -q "$dir" && umount "$dir"
mount -t tmpfs -o size=256k tmpfs "$dir" 2>/dev/null || {
  echo "SKIP: cannot mount a tmpfs here"
  exit 77
}
dir2=$work/full2
trap 'umount "$dir"; mountpoint -q "$dir2" && umount "$dir2"' EXIT
out=$("$mpiexec" -n 2 "$exe" --output "$dir/r.h5" "$job" 2>&1)
st=$?
echo "$out" | grep -m1 "disk space"
files=$(ls -A "$dir")
if ! [ "$st" -eq 2 ] || ! grep -q "not enough disk space for the output file" <<<"$out" ||
  ! grep -q "MiB needed" <<<"$out" || [ -n "$files" ]; then
  echo "FAIL: status $st, files '$files', output:"
  echo "$out" | head -20
  exit 1
fi
echo "full_disk: refused before training: ok"

# the disk fills up during the run: large records (history_points), tasks
# of a few seconds
fail() {
  echo "FAIL: $*"
  exit 1
}
sed -e 's/^history_points = .*/history_points = 8000/' \
  -e 's/^widths = .*/widths = 100, 1000, 3000/' "$job" >"$work/fill.ini"
mkdir -p "$dir2"
mountpoint -q "$dir2" && umount "$dir2"
mount -t tmpfs -o size=40m tmpfs "$dir2" || fail "cannot mount $dir2"
rm -f "$work/ref.h5"
"$mpiexec" -n 2 "$exe" --quiet --output "$work/ref.h5" "$work/fill.ini" >/dev/null 2>&1 ||
  fail "the reference run failed"
"$mpiexec" -n 2 "$exe" --quiet --output "$dir2/r.h5" "$work/fill.ini" >"$work/fill.log" 2>&1 &
pid=$!
for _ in $(seq 200); do [ -e "$dir2/r.h5.ckpt.reserve" ] && break; sleep 0.05; done
dd if=/dev/zero of="$dir2/filler" bs=1M count=100 2>/dev/null
wait $pid
st=$?
grep -v '^ ' "$work/fill.log" | grep -m3 "error\|records"
ndone=$(/usr/bin/python3 -c 'import h5py, sys
print(h5py.File(sys.argv[1], "r").attrs["ndone"])' "$dir2/r.h5.ckpt" 2>/dev/null)
[ "$st" -eq 1 ] || fail "status $st (want 1, no crash) when the disk filled up"
grep -q "the records of all 36 tasks are saved in $dir2/r.h5.ckpt" "$work/fill.log" ||
  fail "no message saying where the records are"
[ "$ndone" = 36 ] || fail "the checkpoint holds '$ndone' of 36 tasks"
[ -e "$dir2/r.h5" ] || [ -e "$dir2/r.h5.tmp" ] && fail "a partial result was left: $(ls "$dir2")"
rm "$dir2/filler"
out=$("$mpiexec" -n 2 "$exe" --output "$dir2/r.h5" "$work/fill.ini" 2>&1) ||
  fail "the resume failed: $out"
grep -q "36 of 36 tasks done" <<<"$out" || fail "the resume trained again: $out"
/usr/bin/python3 "$(dirname "$0")/../analysis/pdcompare" "$work/ref.h5" "$dir2/r.h5" >/dev/null ||
  fail "the finished result differs from the uninterrupted run"
echo "full_disk: disk full during the run: checkpoint complete, exit 1, resumed: ok"
echo "full_disk: PASS"
exit 0
