#!/usr/bin/env bash
# The README's table of job file keys is the output of phasediag
# --help-config (the key table of src/job/confkeys.c), line for line; its
# job template passes --check.
# usage: help_config.sh PHASEDIAG README.md
set -u
exe=$1 readme=$2
got=$(mktemp) want=$(mktemp)
trap 'rm -f "$got" "$want"' EXIT
if ! "$exe" --help-config >"$got"; then
  echo "FAIL: phasediag --help-config exited with status $?"
  exit 1
fi
sed -n '/^<!-- BEGIN generated key table -->$/,/^<!-- END generated key table -->$/p' \
  "$readme" | sed '1d;$d' >"$want"
if [ ! -s "$want" ]; then
  echo "FAIL: $readme has no generated key table between its BEGIN and END lines"
  exit 1
fi
if ! diff -u "$want" "$got"; then
  echo "FAIL: the README's key table differs from phasediag --help-config"
  echo "(replace the lines between the BEGIN and END lines of README.md's"
  echo "\"Job file keys\" with the output of phasediag --help-config)"
  exit 1
fi
echo "ok: README key table = phasediag --help-config ($(wc -l <"$got") lines)"

# the README's job template parses and passes --check
# in a folder of its own: --check refuses an output file that exists
tdir=$(mktemp -d)
tmpl=$tdir/template.ini
trap 'rm -f "$got" "$want"; rm -rf "$tdir"' EXIT
sed -n '/^<!-- BEGIN job template -->$/,/^<!-- END job template -->$/p' \
  "$readme" | sed '1,2d;$d' | sed '$d' >"$tmpl"
if [ ! -s "$tmpl" ]; then
  echo "FAIL: $readme has no job template between its BEGIN and END lines"
  exit 1
fi
out=$(cd "$tdir" && "$exe" --check "$tmpl" 2>&1)
st=$?
if [ $st -ne 0 ] || ! grep -q "tasks" <<<"$out"; then
  echo "FAIL: phasediag --check on the README's job template exited $st"
  echo "$out" | head -20
  exit 1
fi
echo "ok: the README's job template passes --check ($(grep -c . "$tmpl") lines)"
