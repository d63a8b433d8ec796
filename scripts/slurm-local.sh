#!/usr/bin/env bash
# A real single-node Slurm on this machine, for tests and for trying examples/slurm/:
#
#   bash scripts/slurm-local.sh start DIR   # install slurm-wlm + munge with apt when missing,
#                                            # write DIR/slurm.conf for this host, start munged,
#                                            # slurmctld and slurmd (all as root, state, spool,
#                                            # logs and sockets inside DIR), wait until the node
#                                            # is idle; prints `export SLURM_CONF=DIR/slurm.conf`
#   bash scripts/slurm-local.sh stop DIR    # stop the daemons started in DIR (by their pidfiles)
#
# Needs root. Nothing outside DIR is written (apart from the apt install), and the daemons use
# their own ports and munge socket, so a system Slurm or munge is not touched. When a daemon
# does not come up, `start` exits 1 and prints that daemon's own log.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
if [[ -z "$cmd" || -z "$dir" ]]; then
    echo "usage: $0 start|stop DIR" >&2
    exit 2
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

log_of() { # name, file: print a daemon's log for the failure message
    echo "---- $1 log ($2) ----" >&2
    if [[ -s "$2" ]]; then tail -n 40 "$2" >&2; else echo "(empty or missing)" >&2; fi
}

stop_pidfile() { # name, pidfile
    local pf=$2
    [[ -s "$pf" ]] || return 0
    local pid
    pid=$(cat "$pf")
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pf"
}

if [[ "$cmd" == stop ]]; then
    stop_pidfile slurmd "$dir/slurmd.pid"
    stop_pidfile slurmctld "$dir/slurmctld.pid"
    stop_pidfile munged "$dir/munged.pid"
    echo "stopped the Slurm daemons of $dir"
    exit 0
fi
[[ "$cmd" == start ]] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

if [[ $(id -u) -ne 0 ]]; then
    echo "error: slurm-local.sh start needs root (it runs slurmctld, slurmd and munged)" >&2
    exit 1
fi
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
    || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
    echo "installing slurm-wlm and munge with apt ..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq slurm-wlm munge >&2
fi

host=$(hostname -s)
cpus=$(nproc)
# RealMemory below what is free now, so that slurmd accepts the node
free_mb=$(awk '/MemAvailable/ {print int($2 / 1024)}' /proc/meminfo)
mem=$((free_mb / 2))
((mem > 8192)) && mem=8192
((mem < 256)) && mem=256
# ports of our own (derived from DIR, away from Slurm's default 6817/6818)
base=$((20000 + $(echo "$dir" | cksum | cut -d' ' -f1) % 20000))
ctl_port=$base
d_port=$((base + 1))

mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
chmod 700 "$dir/munge"
if [[ ! -s "$dir/munge/munge.key" ]]; then
    dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
    chmod 400 "$dir/munge/munge.key"
fi

cat >"$dir/slurm.conf" <<EOF
# a single-node Slurm for tests (scripts/slurm-local.sh)
ClusterName=mfllocal
SlurmctldHost=$host
SlurmctldPort=$ctl_port
SlurmdPort=$d_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.sock
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
MinJobAge=600
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$dir/slurm.conf"

# munged: our own key, socket, pid, log and seed file
munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.sock" \
    --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" \
    --seed-file="$dir/munge/munge.seed" >"$dir/munged.out" 2>&1 || {
    echo "error: munged did not start:" >&2
    cat "$dir/munged.out" >&2
    log_of munged "$dir/munged.log"
    exit 1
}

wait_pidfile() { # name, pidfile, log
    for _ in $(seq 100); do
        if [[ -s "$2" ]] && kill -0 "$(cat "$2")" 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "error: $1 did not start (no live process in $2):" >&2
    [[ -s "$dir/$1.out" ]] && cat "$dir/$1.out" >&2
    log_of "$1" "$3"
    bash "$0" stop "$dir" >/dev/null 2>&1 || true
    exit 1
}
wait_pidfile munged "$dir/munged.pid" "$dir/munged.log"

slurmctld -c -f "$SLURM_CONF" >"$dir/slurmctld.out" 2>&1 || {
    echo "error: slurmctld did not start:" >&2
    cat "$dir/slurmctld.out" >&2
    log_of slurmctld "$dir/slurmctld.log"
    bash "$0" stop "$dir" >/dev/null 2>&1 || true
    exit 1
}
wait_pidfile slurmctld "$dir/slurmctld.pid" "$dir/slurmctld.log"
slurmd -f "$SLURM_CONF" >"$dir/slurmd.out" 2>&1 || {
    echo "error: slurmd did not start:" >&2
    cat "$dir/slurmd.out" >&2
    log_of slurmd "$dir/slurmd.log"
    bash "$0" stop "$dir" >/dev/null 2>&1 || true
    exit 1
}
wait_pidfile slurmd "$dir/slurmd.pid" "$dir/slurmd.log"

# the node must register and become idle
for _ in $(seq 300); do
    state=$(sinfo -h -n "$host" -o %t 2>/dev/null || true)
    if [[ "$state" == idle* ]]; then
        echo "export SLURM_CONF=$SLURM_CONF"
        exit 0
    fi
    sleep 0.1
done
echo "error: the node $host did not become idle within 30 s (sinfo: '${state:-no answer}'):" >&2
log_of slurmctld "$dir/slurmctld.log"
log_of slurmd "$dir/slurmd.log"
bash "$0" stop "$dir" >/dev/null 2>&1 || true
exit 1
