#!/usr/bin/env python3
"""Checks that the Hugging Face forms of a dataset are what Arrow reads (hub_record.hpp):
OUT/hf/*/metadata.jsonl (imagefolder) and the json member of each webdataset sample.

Arrow, under `datasets`, gives a column one type, inferred from the rows; imagefolder then
refuses splits whose inferred features differ, and webdataset takes the features of five
samples and drops what they lack. So every row of a form must have one type: the same keys
in the same order, no list mixing numbers and lists, no column that is null or an empty list
(its type unknown: a split where it always is would differ from the others). The type of a
value is computed here as Arrow's JSON inference names it (int64, double, string, list<T>,
struct<...>; int64 and double meet as double).

Each row must also say what meta.jsonl says of its image: the captions, the record's keys,
the JSON-text keys loading to meta.jsonl's values ("{}"/"[]" where the image has none).

  check_hub_rows.py OUT     exit 0, or 1 with the problems on stderr
"""
import glob
import io
import json
import os
import sys
import tarfile

out = sys.argv[1]
TEXT_KEYS = {"center_tags": {}, "surrounding_tags": [], "objects": [], "provenance": {}, "polish": {}}
problems = []


def unify(a, b, where):
    if a == b:
        return a
    if {a, b} == {"int64", "double"}:
        return "double"
    if a == "null":
        return b
    if b == "null":
        return a
    if a.startswith("list<") and b.startswith("list<"):
        return "list<%s>" % unify(a[5:-1], b[5:-1], where)
    raise ValueError("%s: %s beside %s" % (where, a, b))


def arrow_type(v, where):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int64"
    if isinstance(v, float):
        return "double"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        t = "null"
        for i, x in enumerate(v):
            t = unify(t, arrow_type(x, "%s[%d]" % (where, i)), where)
        return "list<%s>" % t
    return "struct<%s>" % ",".join("%s:%s" % (k, arrow_type(x, where + "." + k)) for k, x in v.items())


meta = {}  # by image name: stems are unique in a build
for line in open(os.path.join(out, "meta.jsonl"), encoding="utf-8"):
    m = json.loads(line)
    meta[os.path.basename(m["filepath"])] = m


def check_form(name, rows, name_key):
    """rows: (where, row); the same type for all, none with a null in it, each agreeing with meta.jsonl."""
    first = None
    for where, row in rows:
        try:
            t = arrow_type(row, where)
        except ValueError as e:
            problems.append("%s: %s" % (name, e))
            continue
        if "null" in t:
            problems.append("%s: %s has a column of unknown type (null or []): %s" % (name, where, t))
        if first is None:
            first = (where, t)
        elif t != first[1]:
            problems.append("%s: %s's types differ from %s's:\n  %s\n  %s" % (name, where, first[0], t, first[1]))
        m = meta.get(os.path.basename(row.get(name_key, "")))
        if m is None:
            problems.append("%s: %s names %r, not in meta.jsonl" % (name, where, row.get(name_key)))
            continue
        keys = list(row)
        if keys[0] != name_key or "box" not in keys:
            problems.append("%s: %s keys %r" % (name, where, keys))
            continue
        captions = keys[1:keys.index("box")]
        record = keys[keys.index("box"):]
        expected_record = [k for k in m if k != "filepath" and not k.startswith("title")]
        for k in TEXT_KEYS:
            if k not in expected_record:
                expected_record.append(k)
        if sorted(record) != sorted(expected_record):
            problems.append("%s: %s has keys %r, meta.jsonl %r" % (name, where, record, expected_record))
        for f in captions:
            if row[f] != m.get(f, ""):
                problems.append("%s: %s %s is %r, meta.jsonl %r" % (name, where, f, row[f], m.get(f)))
        for f in [k for k in m if k.startswith("title") and k not in captions]:
            problems.append("%s: %s lacks caption %s" % (name, where, f))
        for k in record:
            if k in TEXT_KEYS and not isinstance(row[k], str):
                problems.append("%s: %s %s is not JSON text: %r" % (name, where, k, row[k]))
                continue
            got = json.loads(row[k]) if k in TEXT_KEYS else row[k]
            want = m.get(k, TEXT_KEYS.get(k))
            if got != want:
                problems.append("%s: %s %s is %r, meta.jsonl %r" % (name, where, k, got, want))
    return first


hf_rows = []
for split in ("train", "validation", "test"):
    path = os.path.join(out, "hf", split, "metadata.jsonl")
    if not os.path.exists(path):
        continue
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if len(text.splitlines()) != text.count("\n"):
        problems.append("%s: a record holds a line end str.splitlines() cuts at" % path)
    for i, line in enumerate(text.split("\n")[:-1]):
        hf_rows.append(("hf/%s line %d" % (split, i + 1), json.loads(line)))
check_form("imagefolder", hf_rows, "file_name")

wds_rows = []
for tar_path in sorted(glob.glob(os.path.join(out, "webdataset", "*", "*.tar"))):
    with tarfile.open(tar_path) as t:
        for member in t.getmembers():
            if member.name.endswith(".json"):
                wds_rows.append((os.path.relpath(tar_path, out) + ":" + member.name, json.loads(t.extractfile(member).read().decode("utf-8"))))
check_form("webdataset", wds_rows, "filepath")

print("imagefolder rows %d, webdataset samples %d" % (len(hf_rows), len(wds_rows)))
if problems:
    sys.stderr.write("\n".join(problems[:40]) + "\n")
    sys.exit(1)
