#!/usr/bin/python3
"""Checks OUT/benchmarks/ against the objects' tags, reading the class file on its own and
the benchmark files as SkyScript's test_zero_shot_classification.py does (pd.read_csv,
labels looked up in classnames.txt):

    /usr/bin/python3 tests/check_benchmarks.py OUT CLASSES_TSV PER_CLASS

- each set folder has classnames.txt (every class of the set, in file order) and
  img_txt_pairs_test.csv (filepath,label); every label is a class name;
- every row's image is in val or test, never in SkyScript_train_unfiltered.csv, and no
  train image shows the same OSM object;
- the label is right: the image's meta center_tags carry every tag of one alternative of
  that class, and of no other class of the set;
- with PER_CLASS 0, every val/test image whose tags fit exactly one class of a set is
  listed; otherwise no class has more than PER_CLASS rows.
Prints "ok" and the row counts, or the problems, exit 1.
"""
import csv
import os
import pickle
import re
import sys

import pandas as pd

out, tsv, per_class = sys.argv[1], sys.argv[2], int(sys.argv[3])
folders = {"cls": "SkyScript_cls", "roof_shape": "roof_shape", "road_smoothness": "smoothness", "road_surface": "surface"}
sets = {}
with open(tsv, encoding="utf-8") as f:
    for line in f:
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        s, name, alts = line.split("\t")
        sets.setdefault(s, []).append((name, [dict(kv.split("=", 1) for kv in alt.split("+")) for alt in alts.split(" | ")]))


def fits(tags, alternatives):
    return any(all(k in tags and (v == "*" or tags[k] == v) for k, v in alt.items()) for alt in alternatives)


def meta_of(path):
    with open(os.path.join(out, re.sub(r"^images(\d+)/", r"meta\1/", path)[:-4] + ".pickle"), "rb") as f:
        return pickle.load(f)


def paths(name):
    with open(os.path.join(out, name), newline="", encoding="utf-8") as f:
        return [r[0] for r in list(csv.reader(f))[1:]]


train = set(paths("SkyScript_train_unfiltered.csv"))
held_out = paths("SkyScript_val.csv") + paths("SkyScript_test.csv")
train_objects = {(m["osm_type"], m["osm_id"]) for m in map(meta_of, train)}
problems, counts = [], []
for s, classes in sets.items():
    d = os.path.join(out, "benchmarks", folders[s])
    with open(os.path.join(d, "classnames.txt"), encoding="utf-8") as f:
        names = [line.strip() for line in f]
    if names != [c[0] for c in classes]:
        problems.append("%s: classnames.txt differs from the class file" % s)
    df = pd.read_csv(os.path.join(d, "img_txt_pairs_test.csv"), sep=",")
    if list(df.columns) != ["filepath", "label"]:
        problems.append("%s: columns %r" % (s, list(df.columns)))
    label2idx = {x: i for i, x in enumerate(names)}
    listed = {}
    for path, label in zip(df["filepath"].tolist(), df["label"].tolist()):
        if label not in label2idx:
            problems.append("%s: label %r is no class name" % (s, label))
            continue
        if path in train:
            problems.append("%s: %s is a training image" % (s, path))
        meta = meta_of(path)
        if (meta["osm_type"], meta["osm_id"]) in train_objects:
            problems.append("%s: %s shows an object of the training split" % (s, path))
        matched = [n for n, alts in classes if fits(meta["center_tags"], alts)]
        if matched != [label]:
            problems.append("%s: %s labelled %r, its tags %r fit %r" % (s, path, label, meta["center_tags"], matched))
        listed[path] = label
    per = {}
    for label in listed.values():
        per[label] = per.get(label, 0) + 1
    if per_class > 0 and any(n > per_class for n in per.values()):
        problems.append("%s: a class has more than %d rows: %r" % (s, per_class, per))
    if per_class == 0:
        for path in held_out:
            matched = [n for n, alts in classes if fits(meta_of(path)["center_tags"], alts)]
            if len(matched) == 1 and listed.get(path) != matched[0]:
                problems.append("%s: %s (%s) is missing" % (s, path, matched[0]))
    counts.append("%s %d" % (folders[s], len(listed)))
if problems:
    print("\n".join(problems[:20]))
    sys.exit(1)
print("ok " + ", ".join(counts))
