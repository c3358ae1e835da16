#!/usr/bin/env python3
"""bench/scale: extract wall time, objects/s and peak memory as the input grows.

A real extract (default Liechtenstein, 0.6 MB) tiled N times by bench-tile-input, for
each N of --sizes (default 1, 8, 64, 512, 2048: 0.6 MB to ~1 GB of PBF; 9216 makes the
4.3 GB point, ~10 minutes on 2 cores), each with the node indexes of --indexes (default
auto, flex_mem in memory below 8 GB, and sparse_file_array, file-backed under --tmp-dir).
A size is skipped when the work disk cannot hold its PBF and catalog (up to 6x the PBF),
and so is the next size once a run takes more than --max-seconds. Prints one row per
run, with two peaks of memory: RSS (ru_maxrss: counts the file-backed index's mapped
pages, page cache the kernel can take back) and anon (the largest RssAnon sampled from
/proc every 0.1 s: what the run itself holds), and a least-squares fit of seconds per
GB of PBF, the basis of the planet estimate in docs/performance.md ("Planet scale").
Each run is made at every --threads count (default 1 and the cores: pass 2's workers), with
the speed-up and the parallel share by wall time (Amdahl: p = (1 - T_N / T_1) N / (N - 1)).

  /usr/bin/python3 bench/scale/run.py --binary build/skyscript-build [--sizes 1,8,64,512,2048,9216]
"""
import argparse
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "bench", "extract"))
from run import timed  # noqa: E402  (bench/extract/run.py: wall, peak RSS, CPU of one command)


def peak_anon(peak):
    """A poll for timed(): keeps in peak[0] the largest RssAnon (bytes) of the process."""
    def poll(pid):
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("RssAnon:"):
                        peak[0] = max(peak[0], int(line.split()[1]) * 1024)
        except OSError:
            pass  # ended between two polls
    return poll


PBF_BYTES_PER_COPY = 592630  # liechtenstein-2013-08-03.osm.pbf; the tiled file is about N x this


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "skyscript-build"))
    ap.add_argument("--tiler", default=None, help="bench-tile-input (default: next to --binary)")
    ap.add_argument("--input", default=os.path.join(ROOT, "tests", "data", "osm", "liechtenstein-2013-08-03.osm.pbf"))
    ap.add_argument("--sizes", default="1,8,64,512,2048")
    ap.add_argument("--indexes", default="auto,sparse_file_array")
    ap.add_argument("--max-seconds", type=float, default=300, help="no larger size once a run takes longer")
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "bench-scale"))
    ap.add_argument("--keep", action="store_true", help="keep the tiled inputs")
    ap.add_argument("--threads", default=f"1,{os.cpu_count() or 1}", help="extract --threads counts, each run at every one")
    args = ap.parse_args()
    tiler = args.tiler or os.path.join(os.path.dirname(os.path.abspath(args.binary)), "bench-tile-input")
    os.makedirs(args.work, exist_ok=True)
    copy_bytes = os.path.getsize(args.input)

    print(f"bench/scale: {os.path.basename(args.input)} tiled {args.sizes}x on {os.cpu_count()} cores")
    print(f"{'size':>6} {'PBF MB':>8} {'index':<18} {'thr':>3} {'objects':>10} {'wall s':>8} {'CPU s':>8} {'objects/s':>10} {'RSS MB':>8} "
          f"{'anon MB':>8} {'tiling s':>8} {'speed-up':>8} {'par.':>5}")
    thread_counts = [int(t) for t in args.threads.split(",")]
    points = {t: [] for t in thread_counts}  # (PBF bytes, wall seconds, objects) of the auto runs
    for n in [int(s) for s in args.sizes.split(",")]:
        expected = n * copy_bytes
        if shutil.disk_usage(args.work).free < 7 * expected + (1 << 30):
            print(f"{n:>5}x {expected / 1e6:>8.0f} skipped: the work disk cannot hold the input and its catalog")
            break
        pbf = os.path.join(args.work, f"input-{n}x.osm.pbf")
        tiling = 0.0
        if not os.path.exists(pbf):
            start = time.monotonic()
            subprocess.run([tiler, args.input, str(n), pbf], check=True, stdout=subprocess.DEVNULL)
            tiling = time.monotonic() - start
        too_long = False
        for index in args.indexes.split(","):
            first_wall = None
            for threads in thread_counts:
                out = os.path.join(args.work, f"out-{n}x")
                anon = [0]
                wall, rss, cpu = timed([args.binary, "extract", pbf, "-o", out, "-q", "--read-sample", "off", "--node-index", index,
                                        "--tmp-dir", args.work, "--threads", str(threads)], poll=peak_anon(anon))
                objects = int(subprocess.run(["sqlite3", os.path.join(out, "catalog.gpkg"), "SELECT count(*) FROM objects"],
                                             capture_output=True, text=True, check=True).stdout)
                shutil.rmtree(out)
                first_wall = first_wall or wall
                par = (1 - wall / first_wall) * threads / (threads - 1) if threads > 1 else 0.0
                print(f"{n:>5}x {os.path.getsize(pbf) / 1e6:>8.1f} {index:<18} {threads:>3} {objects:>10} {wall:>8.1f} {cpu:>8.1f} "
                      f"{objects / wall:>10.0f} {rss / 1e6:>8.0f} {anon[0] / 1e6:>8.0f} {tiling:>8.0f} {first_wall / wall:>8.2f} "
                      f"{par:>5.2f}", flush=True)
                tiling = 0.0
                if index == "auto":
                    points[threads].append((os.path.getsize(pbf), wall, objects, cpu))
                too_long = too_long or wall > args.max_seconds
        if not args.keep:
            os.remove(pbf)
        if too_long:
            print(f"stopping: a run took more than {args.max_seconds:.0f} s")
            break
    for threads, runs in points.items():
        big = [p for p in runs if p[0] >= 20e6]  # below ~20 MB start-up dominates
        if len(big) >= 2:
            # Least squares through the origin: seconds = k x GB.
            k = sum(b / 1e9 * w for b, w, _, _ in big) / sum((b / 1e9) ** 2 for b, _, _, _ in big)
            kc = sum(b / 1e9 * c for b, _, _, c in big) / sum((b / 1e9) ** 2 for b, _, _, _ in big)
            per_gb = sum(o for _, _, o, _ in big) / sum(b / 1e9 for b, _, _, _ in big)
            print(f"fit, --threads {threads}: {k:.1f} s and {kc:.1f} CPU-s per GB of PBF ({per_gb / 1e6:.1f} M objects per GB) "
                  f"on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
