#!/usr/bin/python3
"""Checks a skyscript-build output folder the way its users read it, with the system
python3's own pickle, csv and sqlite3 modules (and PIL for the images):

    /usr/bin/python3 tests/check_dataset.py OUT

- SkyScript_train_unfiltered.csv, SkyScript_val.csv, SkyScript_test.csv: header
  filepath,title,title_multi_objects (+ natural columns); together one row per image,
  every filepath exists, no image without a row;
- every image has its meta pickle: SkyScript's four keys with their types (box: tuple of
  4 floats, west < east or crossing the antimeridian, south < north; time: tuple of 5
  ints; center_tags: dict str->str; surrounding_tags: list of dicts str->str) and the
  extra keys; `objects` starts with the focus, every object's bbox_px inside the image; the box contains the focus object's representative point (catalog.gpkg; for a line, whose
  tile is centred on one of its vertices, the box meets the line's box);
  the stem's year is time[0]'s; the stem is {n|w|a}{osm_id}..._{source}_{yy};
- the JPEG opens as a 3-channel image of size_px x size_px;
- meta.jsonl has the same records;
- no file under a temporary name is left.
Prints "ok N images" or the first problems, exit 1.
"""
import csv
import glob
import json
import os
import pickle
import re
import sqlite3
import sys

from PIL import Image

out = sys.argv[1]
problems = []


def problem(msg):
    problems.append(msg)
    if len(problems) > 20:
        report()


def report():
    if problems:
        print("\n".join(problems[:20]))
        sys.exit(1)


rows = []
for name in ("SkyScript_train_unfiltered.csv", "SkyScript_val.csv", "SkyScript_test.csv"):
    with open(os.path.join(out, name), newline="", encoding="utf-8") as f:
        split_rows = list(csv.reader(f))
    header = split_rows[0]
    if header[:3] != ["filepath", "title", "title_multi_objects"]:
        problem("%s: bad header %r" % (name, header))
    rows += split_rows[1:]
paths = [r[0] for r in rows]
if len(set(paths)) != len(paths):
    problem("duplicate rows")
images = sorted(os.path.relpath(p, out) for p in glob.glob(os.path.join(out, "images*", "*")))
metas = sorted(os.path.relpath(p, out) for p in glob.glob(os.path.join(out, "meta*", "*")))
if sorted(paths) != images:
    problem("CSV rows and image files differ: %d rows, %d images; e.g. %r" %
            (len(paths), len(images), sorted(set(paths) ^ set(images))[:3]))
expected_meta = sorted(re.sub(r"^images(\d+)/(.*)\.jpg$", r"meta\1/\2.pickle", p) for p in paths)
if expected_meta != metas:
    problem("meta files and images differ: %r" % sorted(set(expected_meta) ^ set(metas))[:3])
for p in images + metas:
    if ".partial-" in p:
        problem("temporary file left: " + p)

catalog = sqlite3.connect(os.path.join(out, "catalog.gpkg"))
rep, kinds, boxes = {}, {}, {}
for t, i, kind, lon, lat, x0, x1, y0, y1 in catalog.execute(
        "SELECT osm_type, osm_id, kind, rep_lon, rep_lat, minx, maxx, miny, maxy FROM objects JOIN rtree_objects_geom ON id = fid"):
    rep[(t, i)] = (lon, lat)
    kinds[(t, i)] = kind
    boxes[(t, i)] = (x0, y0, x1, y1)

jsonl = {}
with open(os.path.join(out, "meta.jsonl"), encoding="utf-8") as f:
    for line in f:
        j = json.loads(line)
        jsonl[j["filepath"]] = j
if sorted(jsonl) != sorted(paths):
    problem("meta.jsonl does not list exactly the CSV's images")

stem_re = re.compile(r"^([nwa])(\d+)(r?)_([A-Za-z0-9]{1,8})_(\d\d)$")


def is_str_dict(d):
    return isinstance(d, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in d.items())


for row in rows:
    path = row[0]
    stem = os.path.basename(path)[:-4]
    m = stem_re.match(stem)
    if not m:
        problem("bad stem " + stem)
        continue
    meta_path = os.path.join(out, re.sub(r"^images(\d+)/", r"meta\1/", path)[:-4] + ".pickle")
    with open(meta_path, "rb") as f:
        meta = pickle.load(f)
    for key in ("box", "time", "center_tags", "surrounding_tags", "osm_type", "osm_id", "source", "gsd_m", "size_px", "focus_tag"):
        if key not in meta:
            problem("%s: no key %s" % (meta_path, key))
    box, time = meta["box"], meta["time"]
    if not (isinstance(box, tuple) and len(box) == 4 and all(isinstance(v, float) for v in box)):
        problem("%s: box is not a tuple of 4 floats: %r" % (meta_path, box))
        continue
    if not (isinstance(time, tuple) and len(time) == 5 and all(isinstance(v, int) for v in time)):
        problem("%s: time is not a tuple of 5 ints: %r" % (meta_path, time))
    if not is_str_dict(meta["center_tags"]) or not meta["center_tags"]:
        problem("%s: center_tags is not a non-empty dict of str" % meta_path)
    if not (isinstance(meta["surrounding_tags"], list) and all(is_str_dict(d) and d for d in meta["surrounding_tags"])):
        problem("%s: surrounding_tags is not a list of dicts of str" % meta_path)
    if len(meta["surrounding_tags"]) > 50:
        problem("%s: more than 50 surrounding objects" % meta_path)
    # objects (issue 22): the focus first, then the surroundings the caption draws from, each
    # with its visible tags and its place in the image's pixels, inside the image.
    objects = meta.get("objects", [])
    if not objects or objects[0].get("role") != "focus" or objects[0].get("osm_id") != meta["osm_id"]:
        problem("%s: objects does not start with the focus object" % meta_path)
    for o in objects:
        bb = o.get("bbox_px")
        if o.get("role") not in ("focus", "surrounding") or not is_str_dict(o.get("tags", None)):
            problem("%s: an object without a role or tags: %r" % (meta_path, o))
        elif "=" not in str(o.get("category", "")) or (o["role"] == "focus" and o["category"] != meta["focus_tag"]):
            problem("%s: object %s/%s has no key=value category (the focus's: focus_tag)" % (meta_path, o.get("osm_type"), o.get("osm_id")))
        elif bb is None:
            if o.get("role") == "surrounding":
                problem("%s: a named surrounding object with no pixels: %r" % (meta_path, o))
        elif not (len(bb) == 4 and 0 <= bb[0] <= bb[2] <= meta["size_px"] and 0 <= bb[1] <= bb[3] <= meta["size_px"]):
            problem("%s: bbox_px %r is not within the %d px image" % (meta_path, bb, meta["size_px"]))
        elif not o.get("geometry_px") or not 0 < o.get("visible_share", 0) <= 1:
            problem("%s: object %s/%s has no geometry_px or visible_share" % (meta_path, o.get("osm_type"), o.get("osm_id")))
    if len([o for o in objects if o.get("role") == "surrounding"]) > len(meta["surrounding_tags"]):
        problem("%s: more surrounding objects than the caption draws from" % meta_path)
    kind, osm_id, relation_mark, source, yy = m.groups()
    if meta["osm_id"] != int(osm_id) or meta["source"] != source:
        problem("%s: osm_id/source differ from the stem" % meta_path)
    if kind == "n" and meta["osm_type"] != "n" or kind == "w" and meta["osm_type"] != "w" or relation_mark and meta["osm_type"] != "r":
        problem("%s: osm_type %s does not fit the stem" % (meta_path, meta["osm_type"]))
    if "%02d" % (time[0] % 100) != yy:
        problem("%s: year %d does not match the stem's %s" % (meta_path, time[0], yy))
    west, south, east, north = box
    key = (meta["osm_type"], meta["osm_id"])
    lon, lat = rep[key]
    inside_lon = west <= lon <= east if west <= east else (lon >= west or lon <= east)
    if kinds[key] == "w":
        # A line's tile is centred on one of its vertices, not on its midpoint: the box meets the line's box.
        x0, y0, x1, y1 = boxes[key]
        if not (south < north and x0 <= east and x1 >= west and y0 <= north and y1 >= south):
            problem("%s: box %r does not meet the focus line's box %r" % (meta_path, box, boxes[key]))
    elif not (south < north and inside_lon and south <= lat <= north):
        problem("%s: box %r does not contain the focus object's point %r" % (meta_path, box, (lon, lat)))
    with Image.open(os.path.join(out, path)) as im:
        if im.format != "JPEG" or im.mode != "RGB" or im.size != (meta["size_px"], meta["size_px"]):
            problem("%s: %s %s %r, expected an RGB JPEG of %d px" % (path, im.format, im.mode, im.size, meta["size_px"]))
        im.load()
    j = jsonl.get(path)
    if j is None or j["center_tags"] != meta["center_tags"] or tuple(j["box"]) != box or j["title"] != row[1]:
        problem("%s: meta.jsonl record differs from the pickle or the CSV" % path)

report()
print("ok %d images" % len(rows))
