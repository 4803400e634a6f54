#!/usr/bin/env bash
# The install of a built tree, as a cluster user without root does it:
#
#   cmake --install BUILD --prefix P      (into a temporary folder, then moved:
#                                          the installed tree is relocatable)
#
# then: the installed files are there (every public header, the CMake package,
# phasediag.pc, the analysis commands and their package, the job files) and
# none of the package files names the source or build tree; every installed
# header compiles on its own with pkg-config's flags; a program outside the
# project (tests/install/consumer.c) builds against the package with
# find_package(phasediag CONFIG) and, separately, with mpicc and
# `pkg-config --cflags --libs phasediag`, and runs; the installed phasediag
# checks an installed job file and runs a small job; the installed pdsummary
# reads its result.
#
# usage: test_install.sh CMAKE BUILD_DIR SOURCE_DIR MPIEXEC JOB.ini
# The temporary folder is removed on success and kept (its path printed) on
# failure.
set -euo pipefail
if [ $# -ne 5 ]; then
  echo "usage: $0 CMAKE BUILD_DIR SOURCE_DIR MPIEXEC JOB.ini" >&2
  exit 2
fi
cmake=$1 build=$(cd "$2" && pwd -P) src=$(cd "$3" && pwd -P) mpiexec=$4 job=$5

# Open MPI as root, more ranks than cores (the test environment sets them too)
export OMPI_ALLOW_RUN_AS_ROOT=${OMPI_ALLOW_RUN_AS_ROOT:-1}
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=${OMPI_ALLOW_RUN_AS_ROOT_CONFIRM:-1}
export OMPI_MCA_rmaps_base_oversubscribe=${OMPI_MCA_rmaps_base_oversubscribe:-1}
# nothing from the source tree may help the installed commands
unset PYTHONPATH PKG_CONFIG_PATH CMAKE_PREFIX_PATH

work=$(mktemp -d "${TMPDIR:-/tmp}/phasediag-install.XXXXXX")
work=$(cd "$work" && pwd -P)
ok=0
trap 'if [ $ok = 1 ]; then rm -rf "$work"; else echo "kept $work" >&2; fi' EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
step() { echo "== $*"; }

step "cmake --install $build --prefix $work/stage, moved to $work/prefix"
"$cmake" --install "$build" --prefix "$work/stage" >"$work/install.log" ||
  { cat "$work/install.log" >&2; fail "cmake --install"; }
mv "$work/stage" "$work/prefix"
P=$work/prefix

step "the installed files"
for f in bin/phasediag bin/pd_bench bin/pd_ntk_bench bin/pd_fft_bench; do
  if [ ! -f "$P/$f" ] || [ ! -x "$P/$f" ]; then
    fail "$f missing or not executable"
  fi
done
for c in pdplot pdreport pdsummary pdcompare; do
  [ -x "$P/bin/$c" ] || fail "bin/$c missing"
done
[ -f "$P/share/phasediag/analysis/phasediag_analysis/__init__.py" ] ||
  fail "share/phasediag/analysis/phasediag_analysis missing"
for j in "$src"/jobs/*.ini; do
  [ -f "$P/share/phasediag/jobs/$(basename "$j")" ] ||
    fail "share/phasediag/jobs/$(basename "$j") missing"
done
lib=$(find "$P" -name libphasediag.a)
[ -n "$lib" ] || fail "libphasediag.a missing"
libdir=$(dirname "$lib")
[ "$(basename "$libdir")" = lib ] || [ "$(basename "$libdir")" = lib64 ] ||
  fail "libphasediag.a in $libdir"
for f in cmake/phasediag/phasediagConfig.cmake \
  cmake/phasediag/phasediagConfigVersion.cmake \
  cmake/phasediag/phasediagTargets.cmake cmake/phasediag/FindFFTW3.cmake \
  pkgconfig/phasediag.pc; do
  [ -f "$libdir/$f" ] || fail "$libdir/$f missing"
done
[ -f "$P/include/phasediag/version.h" ] || fail "include/phasediag/version.h"
headers=$(cd "$src/include" && find phasediag -name '*.h' | sort)
[ -n "$headers" ] || fail "no headers in $src/include"
for h in $headers; do
  [ -f "$P/include/$h" ] || fail "include/$h not installed"
done
if grep -rlF -e "$src" -e "$build" "$libdir/cmake" "$libdir/pkgconfig" \
  "$P/share/phasediag"; then
  fail "installed package files name the source or build tree (above)"
fi

step "pkg-config phasediag"
export PKG_CONFIG_PATH=$libdir/pkgconfig
pkg-config --exists --print-errors phasediag || fail "pkg-config phasediag"
cflags=$(pkg-config --cflags phasediag)
libs=$(pkg-config --libs phasediag)
echo "cflags: $cflags"
echo "libs: $libs"
read -ra cflags_a <<<"$cflags"
read -ra libs_a <<<"$libs"
mpicc=$(dirname "$(command -v "$mpiexec")")/mpicc
[ -x "$mpicc" ] || mpicc=$(command -v mpicc) || fail "no mpicc"

step "every installed header compiles on its own"
for h in $headers version.h; do
  h=${h#phasediag/}
  printf '#include "phasediag/%s"\n' "$h" |
    "$mpicc" -std=c11 -Wall -Wextra -Werror "${cflags_a[@]}" -fsyntax-only -x c - ||
    fail "phasediag/$h does not compile on its own"
done

version=$("$P/bin/phasediag" --version | awk '{print $2}')
[ -n "$version" ] || fail "phasediag --version"
expect="consumer: ok phasediag $version on 2 ranks: ntk is linear"

step "a CMake project: find_package(phasediag CONFIG)"
"$cmake" -S "$src/tests/install" -B "$work/consumer" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$P" >"$work/consumer.log" ||
  { cat "$work/consumer.log" >&2; fail "configuring the consumer"; }
"$cmake" --build "$work/consumer" >>"$work/consumer.log" ||
  { cat "$work/consumer.log" >&2; fail "building the consumer"; }
out=$("$mpiexec" -n 2 "$work/consumer/consumer")
echo "$out"
case $out in "$expect"*) ;; *) fail "consumer (CMake): '$out'" ;; esac

step "mpicc \$(pkg-config --cflags --libs phasediag)"
"$mpicc" -std=c11 -Wall -Wextra -Werror -o "$work/consumer_pc" \
  "$src/tests/install/consumer.c" "${cflags_a[@]}" "${libs_a[@]}" ||
  fail "building the consumer with pkg-config"
out_pc=$("$mpiexec" -n 2 "$work/consumer_pc")
echo "$out_pc"
[ "$out_pc" = "$out" ] || fail "consumer (pkg-config): '$out_pc'"

step "the installed phasediag"
cd "$work"
"$mpiexec" -n 1 "$P/bin/phasediag" --check \
  "$P/share/phasediag/jobs/grid.ini" >check.log ||
  { cat check.log >&2; fail "phasediag --check share/phasediag/jobs/grid.ini"; }
"$mpiexec" -n 2 "$P/bin/phasediag" --quiet --output small.h5 "$job" \
  >run.log || { cat run.log >&2; fail "phasediag $job"; }
tail -n 1 run.log
grep -q "points agree" run.log || fail "no classification in the output"
[ -f small.h5 ] || fail "no result file"

step "the installed pdsummary"
"$P/bin/pdsummary" small.h5 >summary.log ||
  { cat summary.log >&2; fail "pdsummary small.h5"; }
grep "^points:" summary.log || fail "pdsummary: no counts"
grep -q "version *$version" summary.log || fail "pdsummary: no version"
"$P/bin/pdsummary" --json small.h5 |
  /usr/bin/python3 -c 'import json, sys; json.load(sys.stdin)' ||
  fail "pdsummary --json"

ok=1
echo "install: ok"
