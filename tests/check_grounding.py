#!/usr/bin/python3
"""Checks that a build's pixel geometry (meta `objects`) lands on what the image shows.

    check_grounding.py OUT [--shift FRACTION]

OUT is a build over a rendering of the same OSM data (tests/render_osm_raster.sh paints
every building (185, 80, 60)). For each image naming at least one building, the
buildings' geometry_px is rasterized with PIL and compared with the image's
building-coloured pixels: intersection over union. With --shift, the geometry is first
moved right by FRACTION of the image's width (a wrong grid must score far lower).
Prints `mean_iou X images N` and exits 0; exits 1 naming the first malformed record.
"""
import json
import sys

from PIL import Image, ImageChops, ImageDraw

BUILDING = (185, 80, 60)
TOLERANCE = 45  # JPEG's error at a colour edge stays below this per channel


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)


def building_mask(objects, size, shift):
    """The union of the named buildings' polygons (outer rings filled, holes cleared)."""
    mask = Image.new("1", size, 0)
    draw = ImageDraw.Draw(mask)
    count = 0
    for o in objects:
        if not str(o.get("category", "")).startswith("building=") or "geometry_px" not in o:
            continue
        g = o["geometry_px"]
        if not (isinstance(g, list) and g and isinstance(g[0], list) and g[0] and isinstance(g[0][0], list)
                and g[0][0] and isinstance(g[0][0][0], list)):
            continue  # not an area
        count += 1
        for polygon in g:
            for i, ring in enumerate(polygon):
                points = [(x + shift, y) for x, y in ring]
                if len(points) >= 3:
                    draw.polygon(points, fill=0 if i else 1)
    return mask, count


def main():
    args = sys.argv[1:]
    if not args:
        fail(__doc__)
    out = args[0]
    shift_fraction = float(args[args.index("--shift") + 1]) if "--shift" in args else 0.0
    ious = []
    with open(out + "/meta.jsonl", encoding="utf-8") as f:
        for line in f:
            meta = json.loads(line)
            objects = meta.get("objects")
            if not isinstance(objects, list):
                fail("%s: no objects" % meta.get("filepath"))
            image = Image.open(out + "/" + meta["filepath"]).convert("RGB")
            w, h = image.size
            for o in objects:
                b = o.get("bbox_px")
                if b is not None and not (0 <= b[0] <= b[2] <= w and 0 <= b[1] <= b[3] <= h):
                    fail("%s: bbox_px %r outside the %dx%d image" % (meta["filepath"], b, w, h))
            predicted, count = building_mask(objects, (w, h), shift_fraction * w)
            if count == 0:
                continue
            channels = [c.point(lambda v, ref=ref: 255 if abs(v - ref) < TOLERANCE else 0).convert("1")
                        for c, ref in zip(image.split(), BUILDING)]
            coloured = ImageChops.logical_and(ImageChops.logical_and(channels[0], channels[1]), channels[2])
            inter = ImageChops.logical_and(coloured, predicted).histogram()[-1]
            union = ImageChops.logical_or(coloured, predicted).histogram()[-1]
            if union:
                ious.append(inter / union)
    if not ious:
        fail("%s: no image names a building" % out)
    print("mean_iou %.3f images %d" % (sum(ious) / len(ious), len(ious)))


if __name__ == "__main__":
    main()
