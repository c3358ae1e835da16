"""Checks what a build publishes (issue 24) with the system python3: the dataset card's YAML
header and counts against the files, every image's licence and attribution against its
source's, the Hugging Face ImageFolder layout against the CSVs, and croissant.json against the
Croissant 1.0 required properties and the files' sha256.

  check_publish.py OUT LICENCE ATTRIBUTION"""
import csv
import glob
import hashlib
import json
import os
import pickle
import re
import sys

import yaml

out, licence, attribution = sys.argv[1:4]


def rows(name):
    with open(os.path.join(out, name), newline="") as f:
        return list(csv.DictReader(f))


splits = {"train": rows("SkyScript_train_unfiltered.csv"), "validation": rows("SkyScript_val.csv"), "test": rows("SkyScript_test.csv")}
total = sum(len(r) for r in splits.values())
assert total > 0

# Every image: OSM's terms and its source's, in meta.jsonl and the pickle.
lines = [json.loads(l) for l in open(os.path.join(out, "meta.jsonl"))]
assert len(lines) == total
for m in lines:
    assert m["licence"] == {"osm": "ODbL-1.0", "imagery": licence}, m["licence"]
    assert m["attribution"] == "(c) OpenStreetMap contributors; " + attribution, m["attribution"]
    p = pickle.load(open(os.path.join(out, m["filepath"].replace("images", "meta").replace(".jpg", ".pickle")), "rb"))
    assert p["licence"] == m["licence"] and p["attribution"] == m["attribution"]

# report.json: the terms per source, with their images.
report = json.load(open(os.path.join(out, "report.json")))
assert report["licences"]["osm"] == {"licence": "ODbL-1.0", "attribution": "(c) OpenStreetMap contributors", "images": total}, report["licences"]
assert [(s["licence"], s["attribution"], s["images"]) for s in report["licences"]["sources"]] == [(licence, attribution, total)]

# The card: a YAML header the Hub reads, and counts that are the files'.
card = open(os.path.join(out, "README.md")).read()
assert card.startswith("---\n")
header = yaml.safe_load(card.split("---\n")[1])
assert header["license"] == "other"
assert sorted(header["licenses"]) == sorted(["ODbL-1.0", licence]), header["licenses"]
expected_size = "n<1K" if total < 1000 else "1K<n<10K"
assert header["size_categories"] == [expected_size]
configs = {c["config_name"]: {d["split"]: d["path"] for d in c["data_files"]} for c in header["configs"]}
assert configs["default"] == {"train": "SkyScript_train_unfiltered.csv", "validation": "SkyScript_val.csv", "test": "SkyScript_test.csv"}
assert set(configs) >= {"default", "imagefolder", "webdataset"}, configs
for config in configs.values():
    for path in config.values():
        assert glob.glob(os.path.join(out, path)), path
assert "| RENDER | %s |" % format(total, ",") in card
for name, r in (("SkyScript_train_unfiltered.csv", splits["train"]), ("SkyScript_val.csv", splits["validation"]), ("SkyScript_test.csv", splits["test"])):
    assert "| `%s` | %s |" % (name, format(len(r), ",")) in card, name
assert "| RENDER | %s | %s | %s |" % (licence, attribution, format(total, ",")) in card
assert "data as of 20" in card and "ODbL 1.0" in card

# The Hugging Face ImageFolder layout: the CSV's images, in its order, hard links.
for split, r in splits.items():
    meta = [json.loads(l) for l in open(os.path.join(out, "hf", split, "metadata.jsonl"))]
    assert [m["file_name"] for m in meta] == [os.path.basename(x["filepath"]) for x in r], split
    assert [m["title"] for m in meta] == [x["title"] for x in r]
    for m, x in zip(meta, r):
        a, b = os.stat(os.path.join(out, "hf", split, m["file_name"])), os.stat(os.path.join(out, x["filepath"]))
        assert (a.st_ino, a.st_dev) == (b.st_ino, b.st_dev)
        assert m["licence"]["imagery"] == licence
    assert sorted(os.listdir(os.path.join(out, "hf", split))) == sorted([m["file_name"] for m in meta] + ["metadata.jsonl"])

# Croissant 1.0: the required properties, the files' checksums, fields that are columns.
c = json.load(open(os.path.join(out, "croissant.json")))
for key in ("@context", "@type", "conformsTo", "name", "description", "license", "url", "creator", "distribution", "recordSet"):
    assert key in c, key
assert c["@type"] == "sc:Dataset" and c["conformsTo"] == "http://mlcommons.org/croissant/1.0"
# The OSM data's date, when its PBF's header tells one (recommended by Croissant, not required).
assert "datePublished" not in c or re.fullmatch(r"\d{4}-\d{2}-\d{2}", c["datePublished"])
assert "https://opendatacommons.org/licenses/odbl/1-0/" in c["license"] and licence in c["license"]
south, west, north, east = map(float, c["spatialCoverage"]["geo"]["box"].split())
for m in lines:  # every image's box inside the dataset's
    w, s, e, n = m["box"]
    assert west - 1e-6 <= w and e <= east + 1e-6 and south - 1e-6 <= s and n <= north + 1e-6
assert c["temporalCoverage"] == "2021"
files = {}
for d in c["distribution"]:
    assert d["@type"] in ("cr:FileObject", "cr:FileSet")
    if d["@type"] == "cr:FileObject":
        data = open(os.path.join(out, d["contentUrl"]), "rb").read()
        assert d["sha256"] == hashlib.sha256(data).hexdigest(), d["@id"]
        assert d["contentSize"] == "%d B" % len(data)
        files[d["@id"]] = d["contentUrl"]
    else:
        assert glob.glob(os.path.join(out, d["includes"]))
for rs in c["recordSet"]:
    for f in rs["field"]:
        src = f["source"]
        if "fileObject" in src:
            header_row = open(os.path.join(out, files[src["fileObject"]["@id"]])).readline().strip().split(",")
            assert src["extract"]["column"] in header_row, (f["@id"], header_row)
# The same file read as linked data (rdflib's JSON-LD parser, with the file's own context):
# the terms expand to schema.org's, Dublin Core's and Croissant's properties.
import rdflib

g = rdflib.Graph().parse(data=json.dumps(c), format="json-ld")
SC, DCT, CR = rdflib.Namespace("https://schema.org/"), rdflib.Namespace("http://purl.org/dc/terms/"), rdflib.Namespace("http://mlcommons.org/croissant/")
datasets = list(g.subjects(rdflib.RDF.type, SC.Dataset))
assert len(datasets) == 1
for p in (SC.name, SC.description, SC.license, SC.url, SC.creator, DCT.conformsTo, SC.distribution, CR.recordSet, SC.spatialCoverage) + ((SC.datePublished,) if "datePublished" in c else ()):
    assert (datasets[0], p, None) in g, p
assert len(list(g.subjects(rdflib.RDF.type, CR.FileObject))) == len(files)
fields = list(g.subjects(rdflib.RDF.type, CR.Field))
assert fields and all((f, CR.source, None) in g and (f, CR.dataType, None) in g for f in fields)
print("ok", total)
