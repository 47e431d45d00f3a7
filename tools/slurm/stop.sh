#!/usr/bin/env bash
# Stop the private Slurm cluster that tools/slurm/start.sh started in DIR, and only it.
#
#   tools/slurm/stop.sh DIR [--remove]
#
# Cancels the cluster's jobs, stops its slurmd, slurmctld and munged by the pid files in
# DIR, then ends any job process still carrying SLURM_CONF=DIR/slurm.conf in its
# environment (job steps outlive slurmd). Other clusters and processes are left alone.
# --remove deletes DIR afterwards.
set -uo pipefail

DIR=${1:-}
if [ -z "$DIR" ] || [ ! -d "$DIR" ]; then
  echo "usage: tools/slurm/stop.sh DIR [--remove]   (DIR: the folder given to start.sh)" >&2
  exit 2
fi
DIR=$(cd "$DIR" && pwd)
export PATH="$PATH:/usr/sbin:/sbin"
CONF="$DIR/slurm.conf"
unset SLURM_CONF

alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }
pid_of() { [ -f "$1" ] && tr -dc '0-9' <"$1" || true; }

# 1. Cancel this cluster's jobs while the controller is still up, give them a moment.
ctld=$(pid_of "$DIR/slurmctld.pid")
if [ -f "$CONF" ] && alive "$ctld"; then
  SLURM_CONF="$CONF" timeout 10 scancel --full --quiet --user "$(id -un)" 2>/dev/null || true
  for _ in $(seq 1 25); do
    left=$(SLURM_CONF="$CONF" timeout 5 squeue -h -t running,completing -o %i 2>/dev/null | wc -l)
    [ "$left" = 0 ] && break
    sleep 0.2
  done
fi

# 2. The daemons, by their pid files: TERM, then KILL after 5 s.
stop_pid() {
  local pid=$1
  alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    alive "$pid" || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}
stop_pid "$(pid_of "$DIR/slurmd.pid")" &
stop_pid "$ctld" &
wait
stop_pid "$(pid_of "$DIR/munge/munged.pid")"

# 3. Leftover job steps and job processes of this cluster only: slurmstepd processes and
#    processes carrying SLURM_JOB_ID, whose environment has SLURM_CONF=DIR/slurm.conf.
if [ -f "$CONF" ]; then
  for env in $(grep -lzxF "SLURM_CONF=$CONF" /proc/[0-9]*/environ 2>/dev/null); do
    pid=${env#/proc/}
    pid=${pid%/environ}
    [ "$pid" = "$$" ] && continue
    if grep -qz '^SLURM_JOB_ID=' "$env" 2>/dev/null ||
      grep -qz '^slurmstepd' "/proc/$pid/cmdline" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
fi

if [ "${2:-}" = "--remove" ]; then
  rm -rf "$DIR"
fi
exit 0
