#!/usr/bin/env bash
# Training in the span of the data (span.h) is the same training:
#   1. tests/jobs/span.ini (18 points in d = 40, test points included; gd)
#      at np 1, 2, 3, 4 and 7: pdcompare EQUAL (every result bitwise the
#      same at any rank count but the NTK eigenvalues, see equal()), and
#      at np 3 in groups of one rank with the NTK's too; the log names the
#      span (18 of 40);
#   2. the same job with [model] span = off (the input space) at np 2:
#      every number within 1e-10 relative (tests/check_span.py), and the
#      files' effective_dim attributes 18 and 40;
#   3. both again with integrator = rkc (np 1 = np 3, span = off within
#      1e-10);
#   4. --check counts the parameter memory by the span (3 x 20 x 8 = 480
#      bytes per neuron) instead of d (3 x 42 x 8 = 1008);
#   5. hundreds of steps on real images: 20 Fashion-MNIST images
#      (d = 784, span 20), widths 200 and 600, span against off within
#      1e-10 (skipped without Debian's dataset-fashion-mnist, unless
#      CI=true).
# usage: span.sh PHASEDIAG MPIEXEC JOBDIR WORKDIR
set -eu
exe=$1 mpiexec=$2 jobs=$3 work=$4
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
mkdir -p "$work"
cd "$work"
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
run() { # OUT NP JOB: one group of NP ranks (each run cut NP ways)
  rm -f "$1"
  $mpiexec -n "$2" "$exe" --group-size "$2" --output "$1" "$3" >"$1.log" 2>&1 ||
    { tail -20 "$1.log"; fail "$1: exit status $?"; }
}
# /ntk/*: ScaLAPACK's eigensolver rounds differently on another process
# grid, in the input space as well (eigenvalues within 2e-15 relative);
# the group of np ranks is a grid of np processes
equal() { # A B
  "$py" "$here/../analysis/pdcompare" -i '/ntk/*' "$1" "$2" | tail -1 |
    grep -qx EQUAL || fail "pdcompare $1 $2 is not EQUAL"
}
off() { # JOB: the job in the input space
  cat "$1"
  printf '\n[model]\nspan = off\n'
}
rkc() { sed 's/^\[train\]$/[train]\nintegrator = rkc/' "$1"; }

cp "$jobs/span.ini" span.ini
off span.ini >off.ini
rkc span.ini >rkc.ini
rkc off.ini >rkc_off.ini

for np in 1 2 3 4 7; do run "span_np$np.h5" $np span.ini; done
grep -q "the inputs span 18 of 40 dimensions" span_np1.h5.log ||
  fail "the log does not name the span (18 of 40)"
for np in 2 3 4 7; do equal span_np1.h5 "span_np$np.h5"; done
# 3 groups of one rank: the same calls as at np 1, the NTK's too (one
# BLAS thread, whatever MPI's placement allows: blas.h)
$mpiexec -n 3 "$exe" --output groups3.h5 span.ini >groups3.log 2>&1 ||
  fail "groups3: exit status $?"
"$py" "$here/../analysis/pdcompare" span_np1.h5 groups3.h5 | tail -1 |
  grep -qx EQUAL || fail "np 3 in groups of one is not np 1's, NTK included"
run off.h5 2 off.ini
grep -q "the inputs span" off.h5.log && fail "span = off trained in the span"
"$py" "$here/check_span.py" span_np2.h5 off.h5 18 40

run rkc_np1.h5 1 rkc.ini
run rkc_np3.h5 3 rkc.ini
equal rkc_np1.h5 rkc_np3.h5
run rkc_off.h5 2 rkc_off.ini
"$py" "$here/check_span.py" rkc_np1.h5 rkc_off.h5 18 40

$mpiexec -n 2 "$exe" --check span.ini >check.log 2>&1 || fail "--check"
grep -q "(480 bytes per neuron)" check.log ||
  { cat check.log; fail "--check does not count 480 bytes per neuron"; }
$mpiexec -n 2 "$exe" --check off.ini >check_off.log 2>&1 || fail "--check off"
grep -q "(1008 bytes per neuron)" check_off.log ||
  { cat check_off.log; fail "--check off does not count 1008 bytes"; }

images=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
if [ ! -e "$images" ]; then
  [ "${CI:-}" = true ] && fail "CI=true and no $images"
  echo "span: ok (Fashion-MNIST part skipped: no $images)"
  exit 0
fi
cat >mnist.ini <<'JOB'
[data]
source = idx
n = 20
[grid]
gamma = 0.75, 1.5
gamma_prime = 0
widths = 200, 600
seeds = 1
[train]
tol = 1e-6
history_points = 32
[features]
cap = 32
[output]
file = mnist.h5
JOB
off mnist.ini >mnist_off.ini
run mnist.h5 2 mnist.ini
run mnist_off.h5 2 mnist_off.ini
"$py" "$here/check_span.py" --min-steps 500 mnist.h5 mnist_off.h5 20 784
echo "span: ok"
