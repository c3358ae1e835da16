#!/usr/bin/env python3
"""bench/extract: our `extract` against `osmium export -f geojsonseq` (the anchor).

Inputs are a real extract tiled 1x, 8x and 64x by bench-tile-input. On each size the
two commands run alternately (ours, osmium, ours, osmium, ...); the medians of wall
time and the peak RSS of each process are printed with their ratios (ours / osmium:
below 1.0 means we are faster or smaller).

osmium export gets the equivalent filter: a config whose include_tags are the keys
of our vocabulary (so it exports the same objects and drops other tags), whose
linear_tags are our closed-way-is-a-line rules, and with type/id attributes.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# Mirrors osm/area_rules.cpp: closed ways with these tags are lines.
LINEAR_TAGS = ["highway", "barrier", "railway", "waterway", "aerialway", "route",
               "natural=coastline,cliff,ridge,arete,tree_row,earth_bank",
               "man_made=embankment,pipeline,cutline,groyne",
               "power=line,minor_line,cable", "aeroway=taxiway,runway"]


def timed(cmd):
    """Runs cmd; returns (wall seconds, peak RSS bytes)."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bench/extract: failed: {' '.join(cmd)}\n{err}")
    return wall, usage.ru_maxrss * 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "skyscript-build"))
    ap.add_argument("--tiler", default=None, help="bench-tile-input (default: next to --binary)")
    ap.add_argument("--input", default=os.path.join(ROOT, "tests", "data", "osm", "liechtenstein-2013-08-03.osm.pbf"))
    ap.add_argument("--sizes", default="1,8,64")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "bench-extract"))
    args = ap.parse_args()
    tiler = args.tiler or os.path.join(os.path.dirname(os.path.abspath(args.binary)), "bench-tile-input")
    os.makedirs(args.work, exist_ok=True)

    vocab = subprocess.run([args.binary, "tags", "--list"], check=True, capture_output=True, text=True).stdout
    keys = sorted({line.split("=", 1)[0] for line in vocab.splitlines()
                   if "\t" in line and line.split("\t")[1] in ("feature", "attribute")})
    config = os.path.join(args.work, "osmium-export.json")
    with open(config, "w") as f:
        json.dump({"attributes": {"type": True, "id": True}, "linear_tags": LINEAR_TAGS,
                   "area_tags": None, "include_tags": keys}, f)

    print(f"bench/extract: {os.path.basename(args.input)} tiled {args.sizes}x, {args.rounds} rounds, "
          f"anchor: osmium export -f geojsonseq (config: {len(keys)} keys)")
    print(f"{'size':>5} {'input MB':>9} {'objects':>9} {'ours s':>8} {'osmium s':>9} {'time ratio':>10} "
          f"{'ours MB':>8} {'osmium MB':>10} {'RSS ratio':>9}")
    for n in [int(s) for s in args.sizes.split(",")]:
        pbf = os.path.join(args.work, f"input-{n}x.osm.pbf")
        if not os.path.exists(pbf):
            subprocess.run([tiler, args.input, str(n), pbf], check=True)
        ours_t, ours_m, theirs_t, theirs_m = [], [], [], []
        with tempfile.TemporaryDirectory(dir=args.work) as tmp:
            for _ in range(args.rounds):
                t, m = timed([args.binary, "extract", pbf, "-o", os.path.join(tmp, "ours"), "-q"])
                ours_t.append(t); ours_m.append(m)
                t, m = timed(["osmium", "export", "-O", "-f", "geojsonseq", "-c", config, pbf,
                              "-o", os.path.join(tmp, "osmium.geojsonseq")])
                theirs_t.append(t); theirs_m.append(m)
            objects = subprocess.run(["sqlite3", os.path.join(tmp, "ours", "catalog.gpkg"),
                                      "SELECT count(*) FROM objects"], capture_output=True, text=True).stdout.strip()
        ot, tt = statistics.median(ours_t), statistics.median(theirs_t)
        om, tm = max(ours_m), max(theirs_m)
        print(f"{n:>4}x {os.path.getsize(pbf) / 1e6:>9.1f} {objects:>9} {ot:>8.2f} {tt:>9.2f} {ot / tt:>10.2f} "
              f"{om / 1e6:>8.0f} {tm / 1e6:>10.0f} {om / tm:>9.2f}", flush=True)


if __name__ == "__main__":
    main()
