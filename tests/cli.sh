#!/usr/bin/env bash
# Command-line behaviour of phasediag: usage: cli.sh PHASEDIAG MPIEXEC
set -u
exe=$1
mpiexec=$2
fail=0
check() { # name expected-status pattern command...
  local name=$1 want=$2 pat=$3
  shift 3
  out=$("$@" 2>&1)
  st=$?
  if [ "$st" -ne "$want" ] || ! grep -q -- "$pat" <<<"$out"; then
    echo "FAIL $name: status $st (want $want), output:"
    echo "$out" | head -20
    fail=$((fail + 1))
  else
    echo "ok   $name"
  fi
}
check help 0 "usage: mpirun" "$exe" --help
check version 0 "phasediag [0-9]" "$exe" --version
check unknown-option 2 "unknown option '--frobnicate'" "$exe" --frobnicate
check bad-scheme 2 "option --scheme: bad or missing value 'glorot'" "$exe" --scheme glorot
check bad-width 2 "option --widths" "$exe" --widths 10,abc
check odd-asi-width 2 "is odd" "$exe" --widths 101
check missing-value 2 "option --gamma: bad or missing value" "$exe" --gamma
check demo-np2 0 "slope d log RD / d log m" "$mpiexec" -n 2 "$exe" --quiet --scheme ntk --widths 100,200,400
echo "$((8 - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
