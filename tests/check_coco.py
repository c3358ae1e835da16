#!/usr/bin/python3
"""Reads a build's COCO files (--format coco) as a detection or captioning loader would.

    check_coco.py OUT

Every annotations_{train,val,test}.json loads with json; its images exist in OUT at their
size and are exactly the rows of the split's SkyScript CSV; ids are unique across the three
files; every annotation names an image and a category of the file; an object annotation's
bbox lies in its image and holds its polygons or line; each image's first object is its
focus (the image's OSM id) and its captions are the CSV row's. Prints
`ok coco IMAGES images OBJECTS objects CAPTIONS captions CATEGORIES categories`, or names
the first problem and exits 1.
"""
import csv
import json
import os
import sys

from PIL import Image

SPLITS = {"train": "SkyScript_train_unfiltered.csv", "val": "SkyScript_val.csv", "test": "SkyScript_test.csv"}
EPS = 0.011  # the files' 2 decimals


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)


def within(points, box, where):
    x, y, w, h = box
    for px, py in points:
        if not (x - EPS <= px <= x + w + EPS and y - EPS <= py <= y + h + EPS):
            fail("%s: point (%s, %s) outside its bbox %r" % (where, px, py, box))


def main():
    if len(sys.argv) != 2:
        fail(__doc__)
    out = sys.argv[1]
    image_ids, annotation_ids, categories = set(), set(), None
    totals = {"images": 0, "objects": 0, "captions": 0}
    for split, csv_name in SPLITS.items():
        path = os.path.join(out, "annotations_%s.json" % split)
        with open(path, encoding="utf-8") as f:
            coco = json.load(f)
        for key in ("images", "annotations", "categories"):
            if not isinstance(coco.get(key), list):
                fail("%s: no %s list" % (path, key))
        cats = {c["id"]: c["name"] for c in coco["categories"]}
        if len(cats) != len(coco["categories"]) or any("=" not in n for n in cats.values()):
            fail("%s: categories ids repeat or a name is not key=value" % path)
        if categories is not None and cats != categories:
            fail("%s: categories differ from the other splits'" % path)
        categories = cats
        with open(os.path.join(out, csv_name), newline="", encoding="utf-8") as f:
            rows = {r["filepath"]: r for r in csv.DictReader(f)}
        images = {}
        for im in coco["images"]:
            if im["id"] in image_ids:
                fail("%s: image id %s repeats" % (path, im["id"]))
            image_ids.add(im["id"])
            file_path = os.path.join(out, im["file_name"])
            if not os.path.isfile(file_path):
                fail("%s: image %s does not exist" % (path, im["file_name"]))
            with Image.open(file_path) as pixels:
                if pixels.size != (im["width"], im["height"]):
                    fail("%s: %s is %r, not %dx%d" % (path, im["file_name"], pixels.size, im["width"], im["height"]))
            images[im["id"]] = im
        if sorted(im["file_name"] for im in images.values()) != sorted(rows):
            fail("%s: its images are not the rows of %s" % (path, csv_name))
        first_object, captions = {}, {}
        for a in coco["annotations"]:
            where = "%s: annotation %s" % (path, a.get("id"))
            if a["id"] in annotation_ids:
                fail("%s repeats its id" % where)
            annotation_ids.add(a["id"])
            if a["image_id"] not in images:
                fail("%s names image %s, not in the file" % (where, a["image_id"]))
            if a["category_id"] not in cats:
                fail("%s names category %s, not in the file" % (where, a["category_id"]))
            im = images[a["image_id"]]
            if "caption" in a:
                captions.setdefault(a["image_id"], {})[a["caption_field"]] = a["caption"]
                totals["captions"] += 1
                continue
            totals["objects"] += 1
            first_object.setdefault(a["image_id"], a)
            x, y, w, h = a["bbox"]
            if not (x >= 0 and y >= 0 and w >= 0 and h >= 0 and x + w <= im["width"] + EPS and y + h <= im["height"] + EPS):
                fail("%s: bbox %r outside the %dx%d image" % (where, a["bbox"], im["width"], im["height"]))
            if a["iscrowd"] != 0 or not isinstance(a["segmentation"], list):
                fail("%s: iscrowd or segmentation malformed" % where)
            for polygon in a["segmentation"]:
                if len(polygon) < 6 or len(polygon) % 2:
                    fail("%s: a polygon of %d numbers" % (where, len(polygon)))
                within(zip(polygon[0::2], polygon[1::2]), a["bbox"], where)
            for part in a.get("line_px", []):
                within(part, a["bbox"], where)
            if a["segmentation"] and a["area"] <= 0:
                fail("%s: a polygon of no area" % where)
        for image_id, im in images.items():
            focus = first_object.get(image_id)
            if focus and (focus["role"] != "focus" or focus["osm_id"] != im["osm_id"] or focus["osm_type"] != im["osm_type"]):
                fail("%s: image %s's first object is not its focus" % (path, im["file_name"]))
            row = rows[im["file_name"]]
            got = captions.get(image_id, {})
            want = {k: v for k, v in row.items() if k != "filepath"}
            if got != want:
                fail("%s: image %s's captions %r are not the CSV's %r" % (path, im["file_name"], got, want))
        totals["images"] += len(images)
    print("ok coco %d images %d objects %d captions %d categories" % (totals["images"], totals["objects"], totals["captions"], len(categories)))


if __name__ == "__main__":
    main()
