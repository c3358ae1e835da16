#!/usr/bin/env python3
"""bench/read_sample: what sampling in the read costs against the full extract it replaces.

Liechtenstein tiled --copies times (default 512: 240 MB, 4.1 M catalog rows) by
bench-tile-input; then, alternately --rounds times, the full catalog (`--read-sample off`, the
anchor) and the catalog sampled in the read (`--read-sample on --cells 2000`, the default
sources), each at the machine's thread count. Prints every run's wall and CPU time, peak RSS
and rows, and the ratio of the sampled to the full run (median and best of the rounds; goal
<= 1.15, issue 25). The sampled catalog must hold only full-catalog rows: checked on the
last round, column for column.

  /usr/bin/python3 bench/read_sample/run.py --binary build/skyscript-build [--copies 512] [--rounds 3]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "bench", "extract"))
from run import timed  # noqa: E402  (bench/extract/run.py: wall, peak RSS, CPU of one command)


def rows(out):
    return int(subprocess.run(["sqlite3", os.path.join(out, "catalog.gpkg"), "SELECT count(*) FROM objects"],
                              capture_output=True, text=True, check=True).stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "skyscript-build"))
    ap.add_argument("--tiler", default=None, help="bench-tile-input (default: next to --binary)")
    ap.add_argument("--input", default=os.path.join(ROOT, "tests", "data", "osm", "liechtenstein-2013-08-03.osm.pbf"))
    ap.add_argument("--copies", type=int, default=512)
    ap.add_argument("--cells", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "bench-read-sample"))
    args = ap.parse_args()
    tiler = args.tiler or os.path.join(os.path.dirname(os.path.abspath(args.binary)), "bench-tile-input")
    os.makedirs(args.work, exist_ok=True)
    pbf = os.path.join(args.work, f"input-{args.copies}x.osm.pbf")
    if not os.path.exists(pbf):
        subprocess.run([tiler, args.input, str(args.copies), pbf], check=True, stdout=subprocess.DEVNULL)
    full_out, sampled_out = os.path.join(args.work, "full"), os.path.join(args.work, "sampled")
    runs = {"full": [], "sampled": []}
    print(f"bench/read_sample: {os.path.basename(args.input)} tiled {args.copies}x ({os.path.getsize(pbf) / 1e6:.0f} MB), "
          f"--cells {args.cells}, {os.cpu_count()} cores, {args.rounds} rounds alternated")
    print(f"{'run':<8} {'wall s':>8} {'CPU s':>8} {'RSS MB':>8} {'rows':>10}")
    for _ in range(args.rounds):
        for name, out, extra in (("full", full_out, ["--read-sample", "off"]),
                                 ("sampled", sampled_out, ["--read-sample", "on", "--cells", str(args.cells)])):
            shutil.rmtree(out, ignore_errors=True)
            wall, rss, cpu = timed([args.binary, "extract", pbf, "-o", out, "-q"] + extra)
            runs[name].append((wall, cpu, rss, rows(out)))
            print(f"{name:<8} {wall:>8.2f} {cpu:>8.2f} {rss / 1e6:>8.0f} {runs[name][-1][3]:>10}", flush=True)
    # The sampled rows are full-catalog rows, column for column (fid and geometry included).
    missing = subprocess.run(["sqlite3", os.path.join(sampled_out, "catalog.gpkg"),
                              f"ATTACH '{os.path.join(full_out, 'catalog.gpkg')}' AS f; "
                              "SELECT count(*) FROM (SELECT * FROM objects EXCEPT SELECT * FROM f.objects)"],
                             capture_output=True, text=True, check=True).stdout.strip()
    wall_ratios = [s[0] / f[0] for f, s in zip(runs["full"], runs["sampled"])]
    cpu_ratios = [s[1] / f[1] for f, s in zip(runs["full"], runs["sampled"])]
    kept = runs["sampled"][-1][3] / runs["full"][-1][3]
    print(f"sampled rows: {kept:.2f} of the full catalog's; not full-catalog rows: {missing}")
    print(f"ratio sampled / full, wall: median {statistics.median(wall_ratios):.2f}, best {min(wall_ratios):.2f} "
          f"(rounds {', '.join(f'{r:.2f}' for r in wall_ratios)}); CPU: median {statistics.median(cpu_ratios):.2f}   (goal <= 1.15)")
    shutil.rmtree(full_out, ignore_errors=True)
    shutil.rmtree(sampled_out, ignore_errors=True)


if __name__ == "__main__":
    main()
