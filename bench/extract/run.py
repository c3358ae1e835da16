#!/usr/bin/env python3
"""bench/extract: our `extract` against two `osmium export -f geojsonseq` anchors.

plain:    `osmium export -f geojsonseq INPUT` with no config: every tagged object with
          all its tags, areas assembled. The fastest osmium command doing at least our
          work (it reads, locates and assembles the same; it writes more objects).
filtered: the same with a config whose include_tags are the keys of our vocabulary,
          linear_tags our closed-way-is-a-line rules, type/id attributes. Slower than
          plain (osmium filters tags per object), so its ratio flatters us: printed
          for comparison with earlier figures only.

Inputs (--inputs, comma-separated) are real extracts tiled --sizes times by
bench-tile-input. On each size the three commands run in turn, --rounds times; the
medians of wall time and the largest peak RSS of each are printed with the ratios
ours / anchor (below 1.0: we are faster or smaller), and the ratio of CPU time (user +
system), which stays meaningful on a machine shared with other work. Goal: time <= 1.0
and RSS <= 1.5 against plain, on one thread.

Ours runs twice: --threads 1 (every object on the reading thread) and --threads N (N: the
cores, 2 here), the ways on N workers. The parallel share p of the one-thread wall time
comes from Amdahl's law, T_N = T_1 * ((1 - p) + p / N), so p = (1 - T_N / T_1) * N / (N - 1),
and the same law gives the time on 16 and 64 cores: T_1 * ((1 - p) + p / 16). It counts
as parallel only what more threads sped up on this machine (the decoding pool and the
catalog writer already run beside the reading thread at --threads 1).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# Mirrors osm/area_rules.cpp: closed ways with these tags are lines.
LINEAR_TAGS = ["highway", "barrier", "railway", "waterway", "aerialway", "route",
               "natural=coastline,cliff,ridge,arete,tree_row,earth_bank",
               "man_made=embankment,pipeline,cutline,groyne",
               "power=line,minor_line,cable", "aeroway=taxiway,runway"]


def timed(cmd, poll=None):
    """Runs cmd; returns (wall seconds, peak RSS bytes, user+system CPU seconds). poll(pid),
    when given, is called every 0.1 s while it runs."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    done = threading.Event()
    watcher = threading.Thread(target=lambda: [poll(proc.pid) for _ in iter(lambda: done.wait(0.1), True)]) if poll else None
    if watcher:
        watcher.start()
    _, status, usage = os.wait4(proc.pid, 0)
    done.set()
    if watcher:
        watcher.join()
    wall = time.monotonic() - start
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bench/extract: failed: {' '.join(cmd)}\n{err}")
    return wall, usage.ru_maxrss * 1024, usage.ru_utime + usage.ru_stime


def thread_cpu(pid):
    """{tid: (name, CPU seconds)} of a running process's threads (nothing once it is gone)."""
    out = {}
    tick = os.sysconf("SC_CLK_TCK")
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            out[int(tid)] = (name, (int(fields[11]) + int(fields[12])) / tick)
    except (FileNotFoundError, ProcessLookupError, IndexError):
        pass
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "skyscript-build"))
    ap.add_argument("--tiler", default=None, help="bench-tile-input (default: next to --binary)")
    data = os.path.join(ROOT, "tests", "data", "osm")
    ap.add_argument("--inputs", default=",".join(os.path.join(data, f) for f in
                                                 ("liechtenstein-2013-08-03.osm.pbf", "monaco-latest.osm.pbf")))
    ap.add_argument("--sizes", default="64")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "bench-extract"))
    ap.add_argument("--node-index", default="auto",
                    help="ours: auto (in memory here), or dense_file_array, the planet's (its locations stored by the workers)")
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    tiler = args.tiler or os.path.join(os.path.dirname(os.path.abspath(args.binary)), "bench-tile-input")
    os.makedirs(args.work, exist_ok=True)

    vocab = subprocess.run([args.binary, "tags", "--list"], check=True, capture_output=True, text=True).stdout
    keys = sorted({line.split("=", 1)[0] for line in vocab.splitlines()
                   if "\t" in line and line.split("\t")[1] in ("feature", "attribute")})
    config = os.path.join(args.work, "osmium-export.json")
    with open(config, "w") as f:
        json.dump({"attributes": {"type": True, "id": True}, "linear_tags": LINEAR_TAGS,
                   "area_tags": None, "include_tags": keys}, f)

    print(f"bench/extract: sizes {args.sizes}x, {args.rounds} rounds, {cores} cores, ours with --node-index {args.node_index}; "
          f"anchors: osmium export -f geojsonseq "
          f"plain and filtered (config: {len(keys)} keys); ratio = ours (--threads 1) / anchor")
    print(f"{'input':<28} {'MB':>6} {'objects':>8} {'ours s':>7} {'plain s':>7} {'filt s':>7} "
          f"{'t/plain':>7} {'t/filt':>7} {'cpu/pl':>6} {'ours MB':>7} {'plain MB':>8} {'filt MB':>7} {'m/plain':>7} {'m/filt':>7}")
    for source in args.inputs.split(","):
        name = os.path.basename(source).split(".")[0]
        for n in [int(s) for s in args.sizes.split(",")]:
            pbf = os.path.join(args.work, f"{name}-{n}x.osm.pbf")
            if not os.path.exists(pbf):
                subprocess.run([tiler, source, str(n), pbf], check=True, stdout=subprocess.DEVNULL)
            runs = {"ours": [], "ours_n": [], "plain": [], "filtered": []}
            with tempfile.TemporaryDirectory(dir=args.work) as tmp:
                out = os.path.join(tmp, "osmium.geojsonseq")
                ours = [args.binary, "extract", pbf, "-o", os.path.join(tmp, "ours"), "-q", "--read-sample", "off",
                        "--node-index", args.node_index, "--tmp-dir", tmp, "--threads"]
                cmds = {"ours": ours + ["1"], "ours_n": ours + [str(cores)],
                        "plain": ["osmium", "export", "-O", "-f", "geojsonseq", pbf, "-o", out],
                        "filtered": ["osmium", "export", "-O", "-f", "geojsonseq", "-c", config, pbf, "-o", out]}
                threads_seen = {}  # the N-thread run's threads: the last sample of each

                def sample(pid):
                    for tid, v in thread_cpu(pid).items():
                        threads_seen[(pid, tid)] = v
                for _ in range(args.rounds):
                    for k, cmd in cmds.items():
                        runs[k].append(timed(cmd, sample if k == "ours_n" else None))
                objects = subprocess.run(["sqlite3", os.path.join(tmp, "ours", "catalog.gpkg"),
                                          "SELECT count(*) FROM objects"], capture_output=True, text=True).stdout.strip()
            t = {k: statistics.median(r[0] for r in v) for k, v in runs.items()}
            m = {k: max(r[1] for r in v) for k, v in runs.items()}
            c = {k: statistics.median(r[2] for r in v) for k, v in runs.items()}
            print(f"{name + f' x{n}':<28} {os.path.getsize(pbf) / 1e6:>6.1f} {objects:>8} {t['ours']:>7.2f} "
                  f"{t['plain']:>7.2f} {t['filtered']:>7.2f} {t['ours'] / t['plain']:>7.2f} {t['ours'] / t['filtered']:>7.2f} "
                  f"{c['ours'] / c['plain']:>6.2f} {m['ours'] / 1e6:>7.0f} {m['plain'] / 1e6:>8.0f} {m['filtered'] / 1e6:>7.0f} "
                  f"{m['ours'] / m['plain']:>7.2f} {m['ours'] / m['filtered']:>7.2f}", flush=True)
            if cores > 1:
                p = (1 - t["ours_n"] / t["ours"]) * cores / (cores - 1)
                # The serial share, measured: the CPU of the two threads no core count multiplies
                # (the reading thread: nodes, relations, rows in order; the catalog writer) over
                # the whole run's CPU, summed over the rounds of the N-thread run.
                pids = {pid for pid, _ in threads_seen}
                serial = sum(v[1] for (pid, tid), v in threads_seen.items() if tid == pid or v[0] == "catalog_writer")
                reading = sum(v[1] for (pid, tid), v in threads_seen.items() if tid == pid)
                total = sum(v[1] for v in threads_seen.values())
                sh = serial / total if total else 1.0
                amdahl = {k: c["ours_n"] * (sh + (1 - sh) / k) for k in (16, 64)}
                print(f"{'':<28} threads 1: {t['ours']:.2f} s wall, {c['ours']:.2f} s CPU; threads {cores}: {t['ours_n']:.2f} s wall, "
                      f"{c['ours_n']:.2f} s CPU ({t['ours_n'] / t['plain']:.2f} of plain); speed-up {t['ours'] / t['ours_n']:.2f} "
                      f"(parallel share by wall time {p:.2f})", flush=True)
                print(f"{'':<28} serial share of the CPU (reading thread {reading / total:.2f} + catalog writer "
                      f"{(serial - reading) / total:.2f}, {len(pids)} runs): {sh:.2f}; Amdahl, CPU x (s + (1 - s) / cores): "
                      f"16 cores {amdahl[16]:.2f} s ({amdahl[16] / t['ours']:.2f} of one thread), 64 cores {amdahl[64]:.2f} s "
                      f"({amdahl[64] / t['ours']:.2f}); bound by the busiest serial thread alone: {reading / len(pids):.2f} s", flush=True)


if __name__ == "__main__":
    main()
