#!/usr/bin/python3
"""Reads OUT/webdataset/{train,val,test}/ as WebDataset and OpenCLIP do, with python's own
tarfile and PIL:

    /usr/bin/python3 tests/check_webdataset.py OUT

- every NNNNN.tar opens with tarfile and is grouped into samples the way webdataset's
  tariterators group them: the key is the member name up to its first dot, a sample is a
  run of adjacent members with one key; a key must not come back after another key
  (members not adjacent), and each sample has exactly jpg, txt and json;
- the jpg decodes as a 3-channel image, txt is the json's title, the json has the meta
  keys and its filepath names the image the CSV of that split lists (when the CSVs exist);
- sizes.json lists every shard with its sample count (OpenCLIP's get_dataset_size);
Prints "ok N samples" or the problems, exit 1.
"""
import csv
import glob
import io
import json
import os
import sys
import tarfile

from PIL import Image

out = sys.argv[1]
problems = []
total = 0
csv_names = {"train": "SkyScript_train_unfiltered.csv", "val": "SkyScript_val.csv", "test": "SkyScript_test.csv"}
for split in ("train", "val", "test"):
    d = os.path.join(out, "webdataset", split)
    with open(os.path.join(d, "sizes.json")) as f:
        sizes = json.load(f)
    shards = sorted(os.path.basename(p) for p in glob.glob(os.path.join(d, "*.tar")))
    if sorted(sizes) != shards:
        problems.append("%s: sizes.json names %r, shards are %r" % (split, sorted(sizes), shards))
    keys = []
    for shard in shards:
        samples, seen, current = [], set(), None
        with tarfile.open(os.path.join(d, shard)) as tar:
            for member in tar:
                key, ext = member.name.split(".", 1)
                if key != current:
                    if key in seen:
                        problems.append("%s/%s: members of %s are not adjacent" % (split, shard, key))
                    seen.add(key)
                    current = key
                    samples.append((key, {}))
                samples[-1][1][ext] = tar.extractfile(member).read()
        if sizes.get(shard) != len(samples):
            problems.append("%s/%s: sizes.json says %r, the tar has %d samples" % (split, shard, sizes.get(shard), len(samples)))
        for key, parts in samples:
            if sorted(parts) != ["jpg", "json", "txt"]:
                problems.append("%s/%s: sample %s has %r" % (split, shard, key, sorted(parts)))
                continue
            with Image.open(io.BytesIO(parts["jpg"])) as im:
                if len(im.getbands()) != 3:
                    problems.append("%s: %s.jpg has %d bands" % (shard, key, len(im.getbands())))
                im.load()
            meta = json.loads(parts["json"])
            if parts["txt"].decode("utf-8") != meta["title"] or not meta["title_multi_objects"]:
                problems.append("%s: %s.txt differs from its json's title" % (shard, key))
            for k in ("box", "time", "center_tags", "surrounding_tags"):
                if k not in meta:
                    problems.append("%s: %s.json has no %s" % (shard, key, k))
            if os.path.basename(meta["filepath"]) != key + ".jpg":
                problems.append("%s: %s.json names %s" % (shard, key, meta["filepath"]))
            keys.append(meta["filepath"])
    total += len(keys)
    csv_path = os.path.join(out, csv_names[split])
    if os.path.exists(csv_path):
        with open(csv_path, newline="", encoding="utf-8") as f:
            listed = [r[0] for r in list(csv.reader(f))[1:]]
        if listed != keys:
            problems.append("%s: the shards' samples differ from %s" % (split, csv_names[split]))
if problems:
    print("\n".join(problems[:20]))
    sys.exit(1)
print("ok %d samples" % total)
