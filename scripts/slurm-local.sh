#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, from Debian's slurm-wlm and
# munge packages, for the tests of `siamese run --executor slurm`.
#   scripts/slurm-local.sh start    start munged, slurmctld and slurmd (as root)
#   scripts/slurm-local.sh stop     stop them again
#   scripts/slurm-local.sh status   exit 0 when the cluster answers
# Both start and stop are idempotent. The node has every CPU of the machine
# and the memory /proc/meminfo reports; the partition is called debug.
# The configuration is written to /etc/slurm/slurm.conf unless a file not
# written by this script is already there, which the script leaves alone.
set -euo pipefail

conf=${SLURM_CONF:-/etc/slurm/slurm.conf}
marker="# written by siamese scripts/slurm-local.sh"
state=/var/lib/slurm
logs=/var/log/slurm

# running NAME: a live (not zombie) process NAME exists.
running() { pgrep -x -r D,I,R,S "$1" >/dev/null; }

die() { echo "slurm-local: $*" >&2; exit 1; }

answers() { scontrol ping 2>/dev/null | grep -q 'is UP' && sinfo -h -o %T 2>/dev/null | grep -Eq '^(idle|mixed|allocated)'; }

write_conf() {
  if [[ -e $conf ]] && ! grep -qF "$marker" "$conf"; then
    die "$conf exists and was not written by this script; leaving it (and the cluster) alone"
  fi
  local mem
  mem=$(awk '/^MemTotal:/ {print int($2/1024)}' /proc/meminfo)
  mkdir -p "$(dirname "$conf")"
  cat >"$conf" <<EOF
$marker
ClusterName=local
SlurmctldHost=localhost
SlurmUser=slurm
AuthType=auth/munge
StateSaveLocation=$state/slurmctld
SlurmdSpoolDir=$state/slurmd
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
ReturnToService=1
MinJobAge=3600
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$logs/jobcomp.log
SlurmctldLogFile=$logs/slurmctld.log
SlurmdLogFile=$logs/slurmd.log
NodeName=localhost CPUs=$(nproc) RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
}

start() {
  if answers; then
    echo "slurm-local: already running"
    return 0
  fi
  [[ $(id -u) == 0 ]] || die "start needs root (the daemons run as root, slurm and munge)"
  for cmd in munged slurmctld slurmd; do
    command -v "$cmd" >/dev/null || [[ -x /usr/sbin/$cmd ]] || die "$cmd not found: apt-get install slurm-wlm munge"
  done
  export PATH=/usr/sbin:$PATH
  write_conf
  mkdir -p "$state/slurmctld" "$state/slurmd" "$logs"
  chown slurm:slurm "$state/slurmctld" "$logs"

  if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    chown munge:munge /run/munge /var/log/munge /var/lib/munge
    [[ -f /etc/munge/munge.key ]] || { mungekey --create 2>/dev/null || /usr/sbin/create-munge-key -f; }
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
    runuser -u munge -- munged
    for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
    munge -n | unmunge >/dev/null || die "munged does not answer"
  fi

  running slurmctld || slurmctld
  running slurmd || slurmd
  for _ in $(seq 100); do
    running slurmctld || break
    answers && { echo "slurm-local: up ($(sinfo -h -o '%P %D node(s) %c CPUs %m MB %T'))"; return 0; }
    sleep 0.1
  done
  # A node that an earlier run left down comes back once told so.
  scontrol update NodeName=localhost State=RESUME 2>/dev/null || true
  for _ in $(seq 50); do
    answers && { echo "slurm-local: up ($(sinfo -h -o '%P %D node(s) %c CPUs %m MB %T'))"; return 0; }
    sleep 0.1
  done
  sinfo -N -l >&2 || true
  tail -n 20 "$logs/slurmctld.log" "$logs/slurmd.log" >&2 || true
  die "the cluster did not come up"
}

stop() {
  export PATH=/usr/sbin:$PATH
  if running slurmctld || running slurmd; then
    scontrol shutdown >/dev/null 2>&1 || true
    for _ in $(seq 100); do
      running slurmctld || running slurmd || break
      sleep 0.1
    done
    for d in slurmctld slurmd; do
      if pid=$(pgrep -x -r D,I,R,S "$d"); then kill $pid 2>/dev/null || true; fi
    done
  fi
  if [[ -f /run/munge/munged.pid ]]; then
    kill "$(cat /run/munge/munged.pid)" 2>/dev/null || true
  fi
  echo "slurm-local: stopped"
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  status) answers ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
