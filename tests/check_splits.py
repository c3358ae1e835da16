#!/usr/bin/python3
"""Checks the split of a skyscript-build output folder from its meta pickles alone:

    /usr/bin/python3 tests/check_splits.py OUT BLOCK_DEGREES

- the three CSVs list disjoint sets of images;
- spatial disjointness: no block (BLOCK_DEGREES cell of the meta box's centre) holds a
  train image and a val or test image, nor a val and a test image;
- no OSM object (meta osm_type, osm_id) is in two splits.
Prints "ok train N val N test N blocks N" or the problems, exit 1.
"""
import csv
import math
import os
import pickle
import re
import sys

out, block = sys.argv[1], float(sys.argv[2])
problems = []
block_splits, object_splits, counts = {}, {}, {}
seen = set()
for split, name in (("train", "SkyScript_train_unfiltered.csv"), ("val", "SkyScript_val.csv"), ("test", "SkyScript_test.csv")):
    with open(os.path.join(out, name), newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))[1:]
    counts[split] = len(rows)
    for row in rows:
        path = row[0]
        if path in seen:
            problems.append("%s is in two splits" % path)
        seen.add(path)
        with open(os.path.join(out, re.sub(r"^images(\d+)/", r"meta\1/", path)[:-4] + ".pickle"), "rb") as f:
            meta = pickle.load(f)
        west, south, east, north = meta["box"]
        lon = (west + east) / 2 if west <= east else ((west + east + 360) / 2 + 180) % 360 - 180
        lat = (south + north) / 2
        b = (math.floor(lon / block), math.floor(lat / block))
        block_splits.setdefault(b, set()).add(split)
        object_splits.setdefault((meta["osm_type"], meta["osm_id"]), set()).add(split)
for b, splits in block_splits.items():
    if len(splits) > 1:
        problems.append("block %r holds images of %s" % (b, sorted(splits)))
for o, splits in object_splits.items():
    if len(splits) > 1:
        problems.append("object %r is in %s" % (o, sorted(splits)))
if problems:
    print("\n".join(problems[:20]))
    sys.exit(1)
print("ok train %d val %d test %d blocks %d" % (counts["train"], counts["val"], counts["test"], len(block_splits)))
