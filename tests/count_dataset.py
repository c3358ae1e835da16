#!/usr/bin/python3
"""Counts a build folder independently of skyscript-build (python3's own sqlite3, csv,
os and json), for tests/test_report.cpp to compare with OUT/report.json.

usage: count_dataset.py OUT   -> one JSON object on stdout
"""
import collections
import csv
import json
import os
import re
import sqlite3
import sys


def failure_class(reason):
    """The report's class of a failure reason: every URL "URL", every decimal number "N"."""
    def url(m):
        rest = m.group(0).split("://", 1)[1]
        return "URL" + rest[len(rest.rstrip(":,;.)")):]
    return re.sub(r"[0-9]+\.[0-9]+", "N", re.sub(r"[A-Za-z]+://\S*", url, reason))


def main(out):
    db = sqlite3.connect("file:" + os.path.join(out, "state.sqlite") + "?mode=ro", uri=True)
    jobs = db.execute("SELECT status, source, focus_tag, title, year, gsd, reason, center_tags FROM jobs").fetchall()
    by_status = collections.Counter(j[0] for j in jobs)
    written = [j for j in jobs if j[0] == "written"]
    failed = [j for j in jobs if j[0] == "failed"]
    tags = collections.Counter(j[2] for j in written)
    center = set()
    for j in written:
        for k, v in json.loads(j[7]).items():
            center.add(k + "=" + v)
    counts = {
        "jobs": len(jobs),
        "by_status": {s: by_status.get(s, 0) for s in ("planned", "fetched", "written", "failed")},
        "pairs": len(written),
        "pairs_by_source": dict(collections.Counter(j[1] for j in written)),
        "pairs_by_year": {str(k): v for k, v in collections.Counter(j[4] or 0 for j in written).items()},
        "pairs_by_gsd": {("%.2f" % k): v for k, v in collections.Counter(round(j[5], 2) for j in written).items()},
        "distinct_focus_tags": len(tags),
        "distinct_center_tags": len(center),
        "distinct_titles": len(set(j[3] for j in written)),
        "sources": len(set(j[1] for j in written)),
        "tags_ge_100": sum(1 for n in tags.values() if n >= 100),
        "tags_ge_1000": sum(1 for n in tags.values() if n >= 1000),
        "tags_ge": {str(t): sum(1 for n in tags.values() if n >= t) for t in (1, 2, 5, 10, 20, 50)},
        "tag_counts": dict(tags),
        "failed": len(failed),
        "failure_reasons": dict(collections.Counter(failure_class(j[6] or "") for j in failed)),
        "failure_messages": len(set(j[6] or "" for j in failed)),
        "skipped": dict(db.execute("SELECT reason, objects FROM skipped").fetchall()),
        "stages": [r[0] for r in db.execute("SELECT stage FROM stages")],
    }
    images = meta = 0
    for name in os.listdir(out):
        path = os.path.join(out, name)
        if not os.path.isdir(path):
            continue
        for f in os.listdir(path):
            if ".partial-" in f:
                continue
            images += name.startswith("images") and f.endswith(".jpg")
            meta += name.startswith("meta") and f.endswith(".pickle")
    csv_rows = {}
    for name in os.listdir(out):
        if name.startswith("SkyScript_") and name.endswith(".csv"):
            with open(os.path.join(out, name), newline="", encoding="utf-8") as f:
                csv_rows[name] = sum(1 for _ in csv.reader(f)) - 1
    with open(os.path.join(out, "meta.jsonl"), encoding="utf-8") as f:
        jsonl = sum(1 for line in f if line.strip())
    counts["files"] = {"images": images, "meta": meta, "csv_rows": csv_rows, "meta_jsonl_lines": jsonl}
    json.dump(counts, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
