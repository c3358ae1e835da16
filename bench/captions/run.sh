#!/usr/bin/env bash
# bench/captions: extract a real catalog (Liechtenstein), then time captions on its tag sets.
set -euo pipefail
build="${1:-build}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$root/$build/bench-captions-data"
"$root/$build/skyscript-build" extract "$root/tests/data/osm/liechtenstein-2013-08-03.osm.pbf" -o "$work" -q
taskset -c 0 "$root/$build/bench-captions" "$work/catalog.gpkg"
