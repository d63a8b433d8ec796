#!/bin/bash
# The same shards without Slurm: any runner that starts `mfl compare --shard i/k` for
# i = 0..k-1 and then `mfl merge` gives the same bits. Usage:
#
#   SHARDS=4 JOBS=2 bash examples/slurm/run_local.sh
#
# With GNU parallel installed the shards run JOBS at a time; otherwise a plain bash loop runs
# them JOBS at a time with background jobs.
set -euo pipefail
MFL=${MFL:-mfl}
CONFIG=${CONFIG:-examples/gap_1d.toml}
OUT=${OUT:-gap_1d}
SHARDS=${SHARDS:-4}
JOBS=${JOBS:-2}
MFL_ARGS=${MFL_ARGS:-}
export MFL CONFIG OUT SHARDS MFL_ARGS

shard() { # one shard, one thread (JOBS shards side by side)
    # shellcheck disable=SC2086
    "$MFL" compare "$CONFIG" $MFL_ARGS --shard "$1/$SHARDS" --threads 1 --quiet --force \
        -o "$OUT.shard$1.h5"
}
export -f shard

if command -v parallel >/dev/null; then
    seq 0 $((SHARDS - 1)) | parallel --halt now,fail=1 -j "$JOBS" shard {}
else
    pids=()
    for i in $(seq 0 $((SHARDS - 1))); do
        shard "$i" &
        pids+=($!)
        if ((${#pids[@]} >= JOBS)); then
            wait "${pids[0]}"
            pids=("${pids[@]:1}")
        fi
    done
    for p in "${pids[@]}"; do wait "$p"; done
fi
# shellcheck disable=SC2086
"$MFL" merge "$OUT".shard*.h5 --quiet --force -o "$OUT.h5"
