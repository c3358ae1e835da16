#!/usr/bin/python3
"""Validates a STAC API's collections and items against the STAC 1.0.0 JSON schemas in
tests/data/stac-schemas (offline: every $ref resolves to a bundled file), with Debian's
python3-jsonschema:

    /usr/bin/python3 tests/check_stac_schemas.py API_ROOT        # a running API
    /usr/bin/python3 tests/check_stac_schemas.py --item FILE.json # one item (or a list of items)

For an API: GET /collections, then each collection (/collections/{id}), its items
(/collections/{id}/items, following `next` links) and one POST /search over it, every
collection and item validated. Prints "ok: N collections, M items", or each problem and exits 1.
"""
import json
import os
import sys
import urllib.request

import jsonschema

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "stac-schemas")


def load_store():
    store = {}
    for root, _, files in os.walk(HERE):
        for name in files:
            if name.endswith(".json"):
                with open(os.path.join(root, name), encoding="utf-8") as f:
                    schema = json.load(f)
                store[schema["$id"].rstrip("#")] = schema
    store["http://json-schema.org/draft-07/schema"] = jsonschema.Draft7Validator.META_SCHEMA
    return store


STORE = load_store()
SPEC = "https://schemas.stacspec.org/v1.0.0"


def validator(kind):
    schema = STORE["%s/%s-spec/json-schema/%s.json" % (SPEC, kind, kind)]
    resolver = jsonschema.RefResolver.from_schema(schema, store=STORE)
    # A $ref the store lacks would be fetched from the network: refuse instead.
    resolver.resolve_remote = lambda uri: (_ for _ in ()).throw(RuntimeError("schema not bundled: " + uri))
    return jsonschema.Draft7Validator(schema, resolver=resolver)


ITEM, COLLECTION = validator("item"), validator("collection")
problems = []


def check(v, doc, what):
    for e in sorted(v.iter_errors(doc), key=lambda e: list(e.path)):
        problems.append("%s: %s at /%s" % (what, e.message[:200], "/".join(str(p) for p in e.path)))


def get(url, body=None):
    req = urllib.request.Request(url, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"} if body is not None else {})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--item":
        with open(sys.argv[2], encoding="utf-8") as f:
            doc = json.load(f)
        items = doc if isinstance(doc, list) else [doc]
        for i, it in enumerate(items):
            check(ITEM, it, "item %s" % (it.get("id", i) if isinstance(it, dict) else i))
        n_items, n_collections = len(items), 0
    elif len(sys.argv) == 2:
        root = sys.argv[1].rstrip("/")
        collections = get(root + "/collections")["collections"]
        n_items = 0
        for c in collections:
            check(COLLECTION, c, "collection %s (in /collections)" % c.get("id"))
            check(COLLECTION, get("%s/collections/%s" % (root, c["id"])), "collection %s" % c["id"])
            url, pages = "%s/collections/%s/items" % (root, c["id"]), 0
            while url and pages < 100:
                page = get(url)
                for it in page["features"]:
                    check(ITEM, it, "item %s" % it.get("id"))
                    n_items += 1
                url = next((l["href"] for l in page.get("links", []) if l.get("rel") == "next"), None)
                pages += 1
            for it in get(root + "/search", {"collections": [c["id"]], "limit": 100})["features"]:
                check(ITEM, it, "item %s (in /search)" % it.get("id"))
        n_collections = len(collections)
    else:
        sys.exit(__doc__)
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    print("ok: %d collections, %d items" % (n_collections, n_items))


main()
