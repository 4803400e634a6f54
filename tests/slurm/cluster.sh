#!/usr/bin/env bash
# A real one-node SLURM (munged + slurmctld + slurmd) for the tests, run as
# root without systemd or cgroups.  Everything lives under DIR:
#
#   tests/slurm/cluster.sh start DIR   # (re)start; prints the environment
#   tests/slurm/cluster.sh stop DIR    # cancel the jobs, stop the daemons
#   tests/slurm/cluster.sh env DIR     # print the environment again
#
# `start` writes DIR/slurm.conf, DIR/cgroup.conf and a munge key, stops any
# daemons an earlier run left in DIR (by their pid files), starts the three
# daemons and waits until `sinfo` shows the node idle (PD_SLURM_TIMEOUT
# seconds, default 60; on a timeout the logs are printed and it exits 1).
# The last lines it prints are the environment for the clients:
#   export SLURM_CONF=DIR/slurm.conf
# The sockets and the slurmd spool (which holds per-step sockets) live in a
# short directory /tmp/pdslurm.XXXXXX (unix socket paths are limited to 108
# bytes), linked as DIR/run and removed by `stop`.
#
# Needs the Debian packages slurm-wlm and munge.  Must run as root (slurmd
# has to start jobs as the submitting user).
set -euo pipefail

usage() {
  echo "usage: $0 start|stop|env DIR" >&2
  exit 2
}
[ $# -eq 2 ] || usage
cmd=$1
mkdir -p "$2"
dir=$(cd "$2" && pwd)
conf=$dir/slurm.conf
timeout=${PD_SLURM_TIMEOUT:-60}

log() { echo "[cluster] $*" >&2; }

# A live process (not a zombie: PID 1 of a container may never reap one).
alive() {
  [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null &&
    ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null
}

# Stop a daemon by its pid file (only if the pid is still that program).
stop_pid() {
  local pidfile=$1 name=$2 pid _
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile" 2>/dev/null || true)
  if alive "$pid" && grep -q "$name" "/proc/$pid/comm" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
      alive "$pid" || break
      sleep 0.1
    done
    if alive "$pid"; then
      log "$name ($pid) did not stop; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$pidfile"
}

do_stop() {
  local ctld
  ctld=$(cat "$dir/pids/slurmctld.pid" 2>/dev/null || true)
  if [ -f "$conf" ] && alive "$ctld"; then
    # Cancel what is still queued or running, so no slurmstepd outlives us.
    SLURM_CONF=$conf timeout 10 scancel --quiet --partition=debug \
      2>/dev/null || true
    local _
    for _ in $(seq 50); do
      [ -z "$(SLURM_CONF=$conf timeout 5 squeue -h 2>/dev/null)" ] && break
      sleep 0.2
    done
  fi
  stop_pid "$dir/pids/slurmd.pid" slurmd
  stop_pid "$dir/pids/slurmctld.pid" slurmctld
  stop_pid "$dir/pids/munged.pid" munged
  if [ -L "$dir/run" ]; then
    local run
    run=$(readlink "$dir/run")
    case $run in
    /tmp/pdslurm.*) rm -rf "$run" ;;
    esac
    rm -f "$dir/run"
  fi
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

print_env() {
  echo "export SLURM_CONF=$conf"
}

dump_logs() {
  local f
  for f in "$dir"/log/*; do
    [ -f "$f" ] || continue
    echo "----- $f (last 40 lines) -----" >&2
    tail -n 40 "$f" >&2
  done
  echo "----- sinfo -----" >&2
  SLURM_CONF=$conf timeout 5 sinfo -N -l >&2 || true
  SLURM_CONF=$conf timeout 5 scontrol show node >&2 || true
}

do_start() {
  [ "$(id -u)" -eq 0 ] || {
    log "must run as root"
    exit 1
  }
  local p
  for p in munged slurmctld slurmd sinfo srun sbatch scontrol; do
    command -v "$p" >/dev/null || [ -x "/usr/sbin/$p" ] || {
      log "$p not found: install the Debian packages slurm-wlm and munge"
      exit 1
    }
  done
  export PATH=$PATH:/usr/sbin
  do_stop
  rm -rf "$dir/state" "$dir/log" "$dir/pids" "$dir/munge"
  mkdir -p "$dir/state" "$dir/log" "$dir/pids" "$dir/munge"
  chmod 700 "$dir/munge"
  local run
  run=$(mktemp -d /tmp/pdslurm.XXXXXX)
  chmod 755 "$run"
  ln -sfn "$run" "$dir/run"
  mkdir -p "$run/spool" "$run/munge"
  chmod 755 "$run/munge"

  # munge: our own key, socket, pid and seed files.
  dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
  chmod 400 "$dir/munge/munge.key"
  local sock=$run/munge/munge.socket.2
  munged --force --key-file="$dir/munge/munge.key" --socket="$sock" \
    --pid-file="$dir/pids/munged.pid" --log-file="$dir/log/munged.log" \
    --seed-file="$dir/munge/munged.seed" || {
    log "munged failed to start"
    dump_logs
    exit 1
  }

  # Two free TCP ports for slurmctld and slurmd.
  local base
  base=$((20000 + $(echo "$dir" | cksum | cut -d' ' -f1) % 20000))
  while ! port_free "$base" || ! port_free $((base + 1)); do
    base=$((base + 2))
  done

  local host cpus mem
  host=$(hostname -s)
  cpus=$(nproc)
  mem=$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 * 0.95 }' /proc/meminfo)

  cat >"$conf" <<EOF
# One-node test cluster written by tests/slurm/cluster.sh
ClusterName=pdtest
MailProg=/bin/true
SlurmctldHost=$host
SlurmctldPort=$base
SlurmdPort=$((base + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# cred_expire: also how long a requeued job waits before it may start again
# (default 120 s).
AuthInfo=socket=$sock,cred_expire=10
StateSaveLocation=$dir/state
SlurmdSpoolDir=$run/spool
SlurmctldPidFile=$dir/pids/slurmctld.pid
SlurmdPidFile=$dir/pids/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# No systemd and no cgroup hierarchy of our own in a container: track the
# job's processes through /proc, bind nothing.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
# Configured CPUs and memory win over what slurmd detects.
SlurmdParameters=config_overrides
MpiDefault=none
JobRequeue=1
ReturnToService=2
# Time limits and cancellations act within seconds.
KillWait=2
OverTimeLimit=0
InactiveLimit=0
MinJobAge=600
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
  cat >"$dir/cgroup.conf" <<EOF
# Not used (proctrack/linuxproc, task/none); present so slurmd finds one.
CgroupPlugin=autodetect
IgnoreSystemd=yes
EOF
  # Open MPI jobs start with srun's PMIx plugin where slurm has it.
  if SLURM_CONF=$conf srun --mpi=list 2>&1 | grep -qw pmix; then
    sed -i 's/^MpiDefault=none$/MpiDefault=pmix/' "$conf"
  else
    log "srun has no pmix plugin: MpiDefault=none"
  fi

  export SLURM_CONF=$conf
  # Foreground daemons in their own sessions, pid files written by us.
  setsid slurmctld -D -c -f "$conf" >"$dir/log/slurmctld.out" 2>&1 </dev/null &
  echo $! >"$dir/pids/slurmctld.pid"
  setsid slurmd -D -f "$conf" -N "$host" >"$dir/log/slurmd.out" 2>&1 </dev/null &
  echo $! >"$dir/pids/slurmd.pid"

  local t0 state=""
  t0=$(date +%s)
  while :; do
    state=$(timeout 5 sinfo -h -n "$host" -o %T 2>/dev/null || true)
    [ "$state" = idle ] && break
    for p in slurmctld slurmd; do
      alive "$(cat "$dir/pids/$p.pid")" || {
        log "$p exited"
        dump_logs
        exit 1
      }
    done
    if [ $(($(date +%s) - t0)) -ge "$timeout" ]; then
      log "node $host not idle after ${timeout}s (state '${state:-none}')"
      dump_logs
      exit 1
    fi
    sleep 0.5
  done
  log "node $host idle after $(($(date +%s) - t0))s (ports $base, $((base + 1)))"
  print_env
}

case $cmd in
start) do_start ;;
stop) do_stop ;;
env) print_env ;;
*) usage ;;
esac
