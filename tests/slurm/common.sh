# Shared start of the SLURM tests (sourced):
#   . common.sh BUILD_DIR|PHASEDIAG SRC_DIR WORKDIR
# Sets exe, src, work, here, py, cmp; fail/ok/stamp and the count `fails`;
# exits 77 (skipped) without the slurm-wlm and munge packages or root;
# starts a one-node cluster in WORKDIR/cluster (stopped on exit) and exports
# its SLURM_CONF; makes an empty WORKDIR/run (`run`); `over` holds
# --overcommit on a one-CPU machine.
[ $# -eq 3 ] || {
  echo "usage: $0 BUILD_DIR|PHASEDIAG SRC_DIR WORKDIR" >&2
  exit 2
}
if [ -d "$1" ]; then exe=$1/phasediag; else exe=$1; fi
exe=$(realpath "$exe")
src=$(cd "$2" && pwd)
mkdir -p "$3"
work=$(cd "$3" && pwd)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export PATH=$PATH:/usr/sbin
# The tests choose the launcher of the slurm/ scripts themselves (the
# default, srun --mpi=pmix, unless a test sets PD_LAUNCHER for one job).
unset PD_LAUNCHER

for p in munged slurmctld slurmd sbatch srun scontrol mpiexec; do
  command -v "$p" >/dev/null || {
    echo "SKIP: $p not found (Debian packages slurm-wlm, munge)"
    exit 77
  }
done
[ "$(id -u)" -eq 0 ] || {
  echo "SKIP: the test cluster runs as root"
  exit 77
}
[ -x "$exe" ] || {
  echo "FAIL: no executable $exe"
  exit 1
}
py=/usr/bin/python3
cmp=$src/analysis/pdcompare

fails=0
fail() {
  echo "FAIL: $*"
  fails=$((fails + 1))
}
ok() { echo "ok: $*"; }

t0=$(date +%s)
stamp() { echo "[$(($(date +%s) - t0))s] $*"; }
cluster=$work/cluster
trap '"$here/cluster.sh" stop "$cluster"' EXIT
envline=$("$here/cluster.sh" start "$cluster") || {
  echo "FAIL: the cluster did not start"
  exit 1
}
eval "$envline"
stamp "cluster up: SLURM_CONF=$SLURM_CONF"

run=$work/run
rm -rf "$run"
mkdir -p "$run"
# One CPU (not this project's machines): two tasks share it.
over=()
[ "$(nproc)" -ge 2 ] || over=(--overcommit)

# compare_uninterrupted RESULT REFDIR NAME JOB: run JOB at np 2 without
# SLURM into REFDIR/NAME and compare it with RESULT (pdcompare); ok or fail.
compare_uninterrupted() {
  local res=$1 ref=$2 name=$3 job=$4 t1 rc c
  t1=$(date +%s)
  (cd "$ref" && timeout 300 mpiexec -n 2 "$exe" --quiet --output "$ref/$name" \
    --overwrite "$job" >"$ref/ref.log" 2>&1)
  rc=$?
  stamp "uninterrupted run: exit $rc, $(($(date +%s) - t1))s"
  if [ "$rc" -ne 0 ]; then
    fail "the uninterrupted run exited $rc"
    cat "$ref/ref.log"
  elif [ -s "$res" ]; then
    if c=$("$py" "$cmp" "$res" "$ref/$name" 2>&1); then
      ok "pdcompare: $(tail -n 2 <<<"$c" | tr '\n' ' ')"
    else
      fail "pdcompare (exit $?):"
      echo "$c"
    fi
  fi
}
