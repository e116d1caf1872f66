#!/usr/bin/env bash
# Stop the daemons scripts/slurm-up.sh started, by their process ids (and
# nothing else): slurmd, slurmctld, munged. Jobs still in the queue are
# cancelled first.
set -uo pipefail
STATE=${NEUROPLASTIC_SLURM_STATE:-/tmp/neuroplastic-slurm}
[ -s "$STATE/pids" ] || exit 0
scancel --user "$(id -un)" >/dev/null 2>&1 || true
pids=$(tac "$STATE/pids")
for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
for _ in $(seq 100); do
  alive=0
  for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
  [ $alive = 0 ] && break
  sleep 0.1
done
for p in $pids; do kill -KILL "$p" 2>/dev/null || true; done
rm -f "$STATE/pids"
echo "slurm-down: stopped $(echo $pids | wc -w) daemon(s)" >&2
