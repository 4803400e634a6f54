# Shared by tests/restart.sh, restart_inflight.sh, corrupt_state.sh and
# faults.sh, sourced first; each then calls restart_setup "$@".

# restart_setup PHASEDIAG MPIEXEC JOB.ini WORKDIR [...]: $exe, $mpiexec,
# $job, $work and $py (Debian's python3, with h5py), then into WORKDIR.
restart_setup() {
  exe=$1 mpiexec=$2 job=$3 work=$4
  py=/usr/bin/python3
  mkdir -p "$work"
  cd "$work" || exit 1
}

# Print the message and the tail of every log of this directory, exit 1.
fail() {
  {
    echo "FAIL: $*"
    for f in ./*.log; do [ -e "$f" ] && { echo "--- $f"; tail -20 "$f"; }; done
  } >&2
  exit 1
}

# ndone of a checkpoint (-1: none / unreadable)
ndone() {
  $py -c 'import h5py, sys
try:
    print(int(h5py.File(sys.argv[1], "r").attrs["ndone"]))
except Exception:
    print(-1)' "$1"
}

# pid of MPI rank R of the running job writing OUT (from its environment),
# in this directory: tests running side by side (ctest -j) may run a job
# with the same command line elsewhere
rank_pid() {
  local r=$1 out=$2 p
  for p in $(pgrep -f -- "^$exe .*--output $out"); do
    [ "$(readlink "/proc/$p/cwd" 2>/dev/null)" = "$PWD" ] || continue
    if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null |
      grep -qx "OMPI_COMM_WORLD_RANK=$r"; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

# await_job PID OUT SECONDS WHAT: wait for the background job PID writing
# OUT to end (a stop that hangs fails here, not at ctest's limit); after
# SECONDS kill it and its ranks and fail with WHAT
await_job() {
  local bg=$1 out=$2 secs=$3 what=$4 i
  for i in $(seq 1 $((secs * 10))); do
    kill -0 "$bg" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "$bg" $(pgrep -f -- "^$exe .*--output $out") 2>/dev/null
  fail "$what"
}
