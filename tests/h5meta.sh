#!/usr/bin/env bash
# The result file explains itself: descriptions, units, codes as enums,
# dimension scales and labels, variable-length UTF-8 text
# (tests/check_h5meta.py), for tiny.ini at np 1 and 3 (the scheme labels
# are written by rank 0 alone after the parallel close), the F-Principle
# and the linear-theory jobs at np 2; h5dump reads every file, and
# pdcompare finds np 1 and np 3 equal.
# usage: h5meta.sh PHASEDIAG MPIEXEC JOBDIR WORKDIR
set -eu
exe=$1 mpiexec=$2 jobs=$3 work=$4
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work"
cd "$work"
run() { # job np
  rm -f "$1_np$2.h5"
  $mpiexec -n "$2" "$exe" --quiet --output "$1_np$2.h5" "$jobs/$1.ini" \
    >/dev/null
  [ ! -e "$1_np$2.h5.tmp" ] || { echo "FAIL: $1_np$2.h5.tmp left"; exit 1; }
}
run tiny 1
run tiny 3
run fprinciple_small 2
run ntk_small 2
files="tiny_np1.h5 tiny_np3.h5 fprinciple_small_np2.h5 ntk_small_np2.h5"
/usr/bin/python3 "$here/check_h5meta.py" $files
if command -v h5dump >/dev/null; then
  for f in $files; do
    h5dump "$f" >/dev/null || { echo "FAIL: h5dump $f"; exit 1; }
  done
fi
/usr/bin/python3 "$here/../analysis/pdcompare" tiny_np1.h5 tiny_np3.h5 |
  tail -1 | grep -qx EQUAL || { echo "FAIL: pdcompare np1 np3"; exit 1; }
echo "h5meta: ok"
