#!/usr/bin/env bash
# A single-node SLURM on this machine, to try the workflow's SLURM profile locally (and for
# tests/test_cluster.py). Debian (apt-get; tested on Debian 12, SLURM 22.05), root, no systemd needed.
#
#   bash scripts/slurm_local.sh up      install (if missing) slurmctld slurmd slurm-client munge,
#                                       write /etc/slurm/slurm.conf, start munged, slurmctld and
#                                       slurmd in the background, wait until the node is idle
#   bash scripts/slurm_local.sh down    stop the daemons this script started (by recorded PID)
#                                       and remove the slurm.conf it wrote
#   bash scripts/slurm_local.sh status  PIDs and `sinfo`
#
# No accounting (no slurmdbd): job status comes from `squeue`, which keeps finished jobs for
# MinJobAge seconds; the workflow profile sets `slurm-status-command: squeue`.
# Environment: SLURM_LOCAL_STATE (PID files, default /run/dcpower-slurm),
# SLURM_LOCAL_TIMEOUT (seconds to wait for the node, default 60).
set -euo pipefail

STATE=${SLURM_LOCAL_STATE:-/run/dcpower-slurm}
TIMEOUT=${SLURM_LOCAL_TIMEOUT:-60}
CONF=/etc/slurm/slurm.conf # the default path: the jobstep plugin drops SLURM_CONF in jobs
MARKER="# written by dcpower scripts/slurm_local.sh"
LOGDIR=/var/log/slurm
PACKAGES=(slurmctld slurmd slurm-client munge)

die() {
  echo "slurm_local: error: $*" >&2
  exit 1
}
log() { echo "slurm_local: $*" >&2; }

# PID recorded in $STATE/<name>.pid, if that process is alive and is <name>.
owned_pid() {
  local name=$1 pid
  [ -f "$STATE/$name.pid" ] || return 1
  pid=$(cat "$STATE/$name.pid")
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "$name" || return 1
  echo "$pid"
}

install_packages() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get"
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 || die "apt-get update failed"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 \
    || die "apt-get install ${missing[*]} failed"
}

write_conf() {
  if [ -f "$CONF" ] && ! grep -qF "$MARKER" "$CONF"; then
    die "$CONF exists and was not written by this script; not overwriting a real SLURM setup"
  fi
  local host cpus mem
  host=$(hostname -s)
  cpus=$(nproc --all)
  mem=$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)
  mkdir -p /etc/slurm "$LOGDIR" /var/lib/slurm/slurmctld /var/lib/slurm/slurmd
  chown slurm:slurm "$LOGDIR" /var/lib/slurm/slurmctld
  cat >"$CONF.tmp" <<EOF
$MARKER
# Single node, bound to 127.0.0.1, no accounting, no cgroups (works without systemd).
ClusterName=dcpower-local
SlurmctldHost=$host(127.0.0.1)
SlurmUser=slurm
SlurmdUser=root
AuthType=auth/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$LOGDIR/jobcomp.log
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
# finished jobs stay visible to squeue for 10 min (Snakemake's status checks need >= 3x the
# initial status-check delay)
MinJobAge=600
SlurmdParameters=config_overrides
SlurmctldPidFile=$STATE/slurmctld.daemon.pid
SlurmdPidFile=$STATE/slurmd.daemon.pid
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldLogFile=$LOGDIR/slurmctld.log
SlurmdLogFile=$LOGDIR/slurmd.log
SlurmctldTimeout=30
SlurmdTimeout=60
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  mv "$CONF.tmp" "$CONF"
}

start_munge() {
  if owned_pid munged >/dev/null; then return 0; fi
  if [ ! -s /etc/munge/munge.key ]; then
    log "creating /etc/munge/munge.key"
    mkdir -p /etc/munge
    if command -v mungekey >/dev/null; then
      mungekey --create --keyfile=/etc/munge/munge.key
    else
      dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
    fi
  fi
  chown -R munge:munge /etc/munge
  chmod 0700 /etc/munge
  chmod 0400 /etc/munge/munge.key
  mkdir -p /run/munge /var/lib/munge /var/log/munge
  chown munge:munge /run/munge /var/lib/munge /var/log/munge
  chmod 0755 /run/munge # clients (slurmctld runs as user slurm) must reach the socket
  if munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
    log "a munged not started by this script is running; using it"
    return 0
  fi
  setsid setpriv --reuid=munge --regid=munge --init-groups /usr/sbin/munged --foreground \
    </dev/null >>"$LOGDIR/munged.out" 2>&1 &
  echo $! >"$STATE/munged.pid"
  local i
  for i in $(seq 1 50); do
    munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  die "munged did not start; see $LOGDIR/munged.out"
}

start_daemon() { # name, binary args...
  local name=$1
  shift
  if owned_pid "$name" >/dev/null; then return 0; fi
  setsid "$@" </dev/null >>"$LOGDIR/$name.out" 2>&1 &
  echo $! >"$STATE/$name.pid"
}

node_state() { sinfo -h -N -o '%T' 2>/dev/null | head -1; }

cmd_up() {
  [ "$(id -u)" -eq 0 ] || die "must run as root (installs packages, writes /etc/slurm)"
  local t0=$SECONDS
  install_packages
  mkdir -p "$STATE"
  write_conf
  start_munge
  if ! owned_pid slurmctld >/dev/null && scontrol ping 2>/dev/null | grep -q UP; then
    die "a slurmctld not started by this script is already answering; stop it first"
  fi
  start_daemon slurmctld /usr/sbin/slurmctld -D -i
  start_daemon slurmd /usr/sbin/slurmd -D
  local state=""
  while [ $((SECONDS - t0)) -lt "$TIMEOUT" ]; do
    for name in slurmctld slurmd; do
      # alive by PID: right after the fork the process may not have exec'd its binary yet
      kill -0 "$(cat "$STATE/$name.pid" 2>/dev/null)" 2>/dev/null || die "$name exited; last log lines:
$(tail -n 20 "$LOGDIR/$name.log" "$LOGDIR/$name.out" 2>/dev/null)"
    done
    state=$(node_state)
    case "$state" in
      idle* | mixed* | allocated*) break ;;
      down* | drain*) scontrol update nodename="$(hostname -s)" state=resume 2>/dev/null || true ;;
    esac
    sleep 0.5
  done
  case "$state" in
    idle* | mixed* | allocated*) ;;
    *) die "node not idle after ${TIMEOUT}s (state: '${state:-no answer}'); see $LOGDIR/slurmctld.log and $LOGDIR/slurmd.log" ;;
  esac
  log "up in $((SECONDS - t0)) s: $(sinfo -h -o '%P %D %T %c cpus %m MB')"
}

cmd_down() {
  local name pid i
  for name in slurmd slurmctld munged; do
    if pid=$(owned_pid "$name"); then
      kill -TERM "$pid" 2>/dev/null || true
      for i in $(seq 1 100); do
        [ -d "/proc/$pid" ] || break
        sleep 0.1
      done
      if [ -d "/proc/$pid" ]; then
        log "$name ($pid) did not stop on TERM; killing"
        kill -KILL "$pid" 2>/dev/null || true
      fi
      log "stopped $name ($pid)"
    fi
    rm -f "$STATE/$name.pid" "$STATE/$name.daemon.pid"
  done
  # the config this script wrote points SLURM's clients at the controller just stopped: each
  # client call (Snakemake's SLURM plugin runs `scontrol show config` at every start) would
  # wait ~9 s for it; without the config they fail at once. `up` writes it again.
  if [ -f "$CONF" ] && grep -qF "$MARKER" "$CONF"; then
    rm -f "$CONF"
    log "removed $CONF (written by this script)"
  fi
}

cmd_status() {
  local name pid rc=0
  for name in munged slurmctld slurmd; do
    if pid=$(owned_pid "$name"); then echo "$name: running (pid $pid)"; else
      echo "$name: not running (by this script)"
      rc=1
    fi
  done
  [ $rc -eq 0 ] && { sinfo 2>&1 || rc=1; }
  return $rc
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *)
    echo "usage: $0 up|down|status" >&2
    exit 2
    ;;
esac
