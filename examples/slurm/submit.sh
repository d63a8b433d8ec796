#!/bin/bash
# Submit a sharded gap study and its merge: the merge job starts only when every array task
# has succeeded (--dependency=afterok). Usage (from the repository root, or set CONFIG):
#
#   SHARDS=8 bash examples/slurm/submit.sh
#
# The variables of compare.sbatch (MFL, CONFIG, OUT, MFL_ARGS) are passed on to the jobs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
SHARDS=${SHARDS:-8}
array=$(sbatch --parsable --array=0-$((SHARDS - 1)) "$here/compare.sbatch")
array=${array%%;*}
merge=$(sbatch --parsable --dependency=afterok:"$array" "$here/merge.sbatch")
merge=${merge%%;*}
echo "submitted the $SHARDS shards as job $array and their merge as job $merge"
echo "watch them with: squeue -j $array,$merge; the table is printed into mfl-merge_$merge.out"
