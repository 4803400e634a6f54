#!/usr/bin/env bash
# A file system without room for the result is refused before training:
# a 256 KiB tmpfs as the output directory; exit 2, the numbers in the
# message, nothing written.  Skipped (77) where tmpfs cannot be mounted.
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
trap 'umount "$dir"' EXIT
out=$("$mpiexec" -n 2 "$exe" --output "$dir/r.h5" "$job" 2>&1)
st=$?
echo "$out" | grep -m1 "disk space"
files=$(ls -A "$dir")
if [ "$st" -eq 2 ] && grep -q "not enough disk space for the output file" <<<"$out" &&
  grep -q "MiB needed" <<<"$out" && [ -z "$files" ]; then
  echo "full_disk: PASS"
  exit 0
fi
echo "FAIL: status $st, files '$files', output:"
echo "$out" | head -20
exit 1
