#!/usr/bin/env bash
# Malformed job files: exit status 2, the expected message (file, line, key,
# what was expected), and no output file created or touched.
# usage: bad_configs.sh PHASEDIAG MPIEXEC DIR WORKDIR
set -u
exe=$1 mpiexec=$2 dir=$3 work=$4
mkdir -p "$work" && cd "$work" || exit 1
pass=0 fail=0
while IFS=$'\t' read -r file fragment; do
  [ -z "$file" ] && continue
  case "$file" in \#*) continue ;; esac
  rm -f ./*.h5 ./*.h5.tmp
  out=$($mpiexec -n 2 "$exe" "$dir/$file" 2>&1 </dev/null)
  st=$?
  made=$(ls ./*.h5 ./*.h5.tmp 2>/dev/null)
  if [ $st -eq 2 ] && grep -qF -- "$fragment" <<<"$out" && [ -z "$made" ]; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "FAIL $file: status $st, files '$made', expected '$fragment', got:"
    echo "$out" | head -5
  fi
done <"$dir/expected.tsv"
# a file that exists is not clobbered without overwrite
echo keep >existing.h5
printf '[grid]\nschemes = ntk\nwidths = 100\n[output]\nfile = existing.h5\n' >clobber.ini
out=$($mpiexec -n 2 "$exe" clobber.ini 2>&1 </dev/null)
st=$?
if [ $st -eq 2 ] && grep -q "exists" <<<"$out" && [ "$(cat existing.h5)" = keep ]; then
  pass=$((pass + 1))
else
  fail=$((fail + 1))
  echo "FAIL clobber: status $st: $out"
fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ] && [ $pass -ge 12 ]
