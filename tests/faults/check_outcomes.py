#!/usr/bin/python3
"""What became of every planned job of a build, from its state DB and its files, as
tests/faults counts it (system python3: sqlite3, and PIL to decode the images):

    /usr/bin/python3 check_outcomes.py OUT [REFERENCE_OUT]

Prints one JSON object:
  jobs          planned jobs (rows of `jobs`)
  done          fetched or written, with an image on disk
  failed        failed with a non-empty reason
  lost          neither: still planned, failed with no reason, or done with no image file
  corrupt       images on disk that do not decode fully, or not at their job's size
  stray         files under images*/ no done job names (partial or orphaned files)
  wrong_pixels  done images whose bytes differ from REFERENCE_OUT's image of the same job
                (a build of the same jobs with no fault), when given and it has that job done
  compared      how many images were compared with REFERENCE_OUT
  done_ids, failed_ids  the job ids, for the test's own expectations
  examples      a few lost/corrupt/stray/wrong names, for the message
"""
import glob
import json
import os
import sqlite3
import sys

from PIL import Image


def jobs_of(out):
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(out, "state.sqlite"), uri=True)
    rows = db.execute("SELECT job_id, status, reason, part, stem, width, height FROM jobs").fetchall()
    db.close()
    return rows


def image_path(out, part, stem):
    return os.path.join(out, "images%d" % part, stem + ".jpg")


def main():
    out = sys.argv[1]
    ref = sys.argv[2] if len(sys.argv) > 2 else None
    rows = jobs_of(out)
    ref_images = {}
    if ref:
        for job_id, status, _, part, stem, _, _ in jobs_of(ref):
            if status in ("fetched", "written") and stem:
                ref_images[job_id] = image_path(ref, part, stem)
    r = {"jobs": len(rows), "done": 0, "failed": 0, "lost": 0, "corrupt": 0, "stray": 0, "wrong_pixels": 0, "compared": 0,
         "done_ids": [], "failed_ids": [], "examples": []}
    named = set()
    for job_id, status, reason, part, stem, width, height in rows:
        if status in ("fetched", "written"):
            path = image_path(out, part, stem or "")
            named.add(os.path.abspath(path))
            if not stem or not os.path.isfile(path):
                r["lost"] += 1
                r["examples"].append("job %d %s with no image %s" % (job_id, status, path))
                continue
            r["done"] += 1
            r["done_ids"].append(job_id)
            try:
                with Image.open(path) as im:
                    im.load()  # decodes every scan line: a cut JPEG raises
                    if im.size != (width, height) or im.mode != "RGB":
                        raise ValueError("%s %dx%d, expected RGB %dx%d" % (im.mode, im.size[0], im.size[1], width, height))
            except Exception as e:  # noqa: BLE001 (any decoding failure is a corrupt image)
                r["corrupt"] += 1
                r["examples"].append("corrupt %s: %s" % (path, e))
                continue
            if job_id in ref_images:
                r["compared"] += 1
                with open(path, "rb") as a, open(ref_images[job_id], "rb") as b:
                    if a.read() != b.read():
                        r["wrong_pixels"] += 1
                        r["examples"].append("job %d: %s differs from %s" % (job_id, path, ref_images[job_id]))
        elif status == "failed" and reason and reason.strip():
            r["failed"] += 1
            r["failed_ids"].append(job_id)
        else:
            r["lost"] += 1
            r["examples"].append("job %d %s, reason %r" % (job_id, status, reason))
    for path in glob.glob(os.path.join(out, "images*", "*")):
        if os.path.abspath(path) not in named:
            r["stray"] += 1
            r["examples"].append("stray " + path)
    r["examples"] = r["examples"][:12]
    print(json.dumps(r))


if __name__ == "__main__":
    main()
