#!/usr/bin/env bash
# A one-node SLURM cluster for the tests (test/slurm/): Debian's slurm-wlm
# and munge, started as root without systemd — munged (as the munge user),
# slurmctld and slurmd. The process ids of what this script started go to
# $NEUROPLASTIC_SLURM_STATE/pids (default /tmp/neuroplastic-slurm);
# scripts/slurm-down.sh stops exactly those. Fails with a clear message
# (never skips) when the cluster cannot be started.
set -euo pipefail
STATE=${NEUROPLASTIC_SLURM_STATE:-/tmp/neuroplastic-slurm}
die() { echo "slurm-up: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root (it installs packages and starts daemons)"
if ! command -v slurmctld >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
  echo "slurm-up: installing slurm-wlm and munge" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge) >/dev/null || die "could not install slurm-wlm and munge with apt-get"
fi
mkdir -p "$STATE"
if scontrol ping >/dev/null 2>&1 && scontrol ping 2>/dev/null | grep -q UP; then
  echo "slurm-up: a SLURM controller is already running; using it (nothing to stop afterwards)" >&2
  : > "$STATE/pids"
  exit 0
fi
host=$(hostname -s)
# slurmd resolves its own short name.
getent hosts "$host" >/dev/null 2>&1 || echo "127.0.1.1 $host" >> /etc/hosts

# munge: its directories must exist and belong to the munge user, with a key.
mkdir -p /run/munge /var/lib/munge /var/log/munge /etc/munge
[ -s /etc/munge/munge.key ] || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
chown -R munge:munge /run/munge /var/lib/munge /var/log/munge /etc/munge
chmod 0700 /etc/munge /var/lib/munge /var/log/munge
chmod 0755 /run/munge
chmod 0400 /etc/munge/munge.key

mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
cpus=$(nproc)
mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))
cat > /etc/slurm/slurm.conf <<CONF
# Written by neuroplastic's scripts/slurm-up.sh: a one-node test cluster.
ClusterName=neuroplastic
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
KillWait=5
MinJobAge=600
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF

: > "$STATE/pids"
runuser -u munge -- /usr/sbin/munged --force || die "munged did not start (see /var/log/munge/munged.log)"
for _ in $(seq 50); do [ -s /run/munge/munged.pid ] && break; sleep 0.1; done
[ -s /run/munge/munged.pid ] || die "munged wrote no pid file"
cat /run/munge/munged.pid >> "$STATE/pids"
munge -n | unmunge >/dev/null 2>&1 || die "munge does not authenticate (munge -n | unmunge failed)"

/usr/sbin/slurmctld -i || die "slurmctld did not start (see /var/log/slurm/slurmctld.log)"
for _ in $(seq 100); do [ -s "$STATE/slurmctld.pid" ] && scontrol ping 2>/dev/null | grep -q UP && break; sleep 0.1; done
[ -s "$STATE/slurmctld.pid" ] || die "slurmctld wrote no pid file (see /var/log/slurm/slurmctld.log)"
cat "$STATE/slurmctld.pid" >> "$STATE/pids"
/usr/sbin/slurmd || die "slurmd did not start (see /var/log/slurm/slurmd.log)"
for _ in $(seq 100); do [ -s "$STATE/slurmd.pid" ] && break; sleep 0.1; done
[ -s "$STATE/slurmd.pid" ] || die "slurmd wrote no pid file (see /var/log/slurm/slurmd.log)"
cat "$STATE/slurmd.pid" >> "$STATE/pids"

# The node must come up idle (a node left down by an earlier run is resumed).
for _ in $(seq 150); do
  st=$(sinfo -h -n "$host" -o %t 2>/dev/null || true)
  case "$st" in idle*|mix*|alloc*) echo "slurm-up: one-node cluster up ($host, $cpus CPUs); pids in $STATE/pids" >&2; exit 0 ;;
    down*|drain*|unk*) scontrol update nodename="$host" state=resume >/dev/null 2>&1 || true ;; esac
  sleep 0.2
done
die "node $host did not become idle (sinfo: ${st:-nothing}; see /var/log/slurm/slurmd.log)"
