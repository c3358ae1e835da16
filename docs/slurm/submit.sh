#!/bin/sh
# A sharded skyscript-build on a Slurm cluster (docs/scale.md): the catalog extracted once
# onto shared storage, a job array of SHARDS workers (`--shard auto` reads
# SLURM_ARRAY_TASK_ID as the shard of SKYSCRIPT_SHARD_COUNT, exported here), and a merge job that starts only when
# every worker has succeeded (afterok). Prints the three job ids.
#
#   SKYSCRIPT_INPUT=/shared/planet.osm.pbf SKYSCRIPT_SOURCES=/shared/sources.toml \
#   SKYSCRIPT_WORK=/shared/skyscript SHARDS=16 docs/slurm/submit.sh
#
# Optional, each a list of flags:
#   SKYSCRIPT_CATALOG_FLAGS  for the extract and every worker: what chooses the catalog's objects
#                            and the sample (--tags, --hidden, --bbox or --polygon, --seed,
#                            --all-below, --cells, --rare-min, --point-tile-px, --max-px, --margin,
#                            --offset), e.g. "--seed 7": a large input is sampled as the extract
#                            reads it, and a worker given other values refuses the catalog
#   SKYSCRIPT_EXTRACT_FLAGS  the extract's own (--node-index, --tmp-dir, --threads)
#   SKYSCRIPT_FLAGS          every worker's own, e.g. "--limit 100000 --in-flight 2"
#   SKYSCRIPT_SBATCH_FLAGS   partition, account, ...: given to all three sbatch calls
# and SKYSCRIPT_BUILD (the binary, default skyscript-build on PATH).
set -eu
: "${SKYSCRIPT_INPUT:?path of the .osm.pbf, on storage every node reads}"
: "${SKYSCRIPT_WORK:?a folder on shared storage: catalog, shards/, dataset/}"
SHARDS=${SHARDS:-16}
here=$(cd "$(dirname "$0")" && pwd)
# The shard count with the workers (the task id is the shard): a task submitted again alone keeps its shard.
SKYSCRIPT_SHARD_COUNT=$SHARDS
export SKYSCRIPT_INPUT SKYSCRIPT_WORK SKYSCRIPT_SHARD_COUNT
mkdir -p "$SKYSCRIPT_WORK/logs"
# shellcheck disable=SC2086 # SKYSCRIPT_SBATCH_FLAGS is a list of flags
extract=$(sbatch --parsable ${SKYSCRIPT_SBATCH_FLAGS:-} --job-name=skyscript-extract --output="$SKYSCRIPT_WORK/logs/extract.out" \
  "$here/skyscript-extract.sbatch")
# shellcheck disable=SC2086
shards=$(sbatch --parsable ${SKYSCRIPT_SBATCH_FLAGS:-} --array=0-$((SHARDS - 1)) --dependency=afterok:"$extract" \
  --output="$SKYSCRIPT_WORK/logs/shard-%a.out" "$here/skyscript-shards.sbatch")
# shellcheck disable=SC2086
merge=$(sbatch --parsable ${SKYSCRIPT_SBATCH_FLAGS:-} --dependency=afterok:"$shards" --job-name=skyscript-merge \
  --output="$SKYSCRIPT_WORK/logs/merge.out" "$here/skyscript-merge.sbatch")
echo "$extract $shards $merge"
