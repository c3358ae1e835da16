#!/usr/bin/env python3
"""A loopback STAC API (Item Search) with a Planetary-Computer-style SAS token endpoint and a
range-serving, token-checking COG endpoint, for the tests of the `stac` source kind (issue 21).

    python3 stac_api_server.py --items ITEMS.json [--collections COLLECTIONS.json]
        [--cog-dir DIR] [--sign] [--token-life-s S] [--token-valid-s S] [--advertise-expiry-s S] [--secure-link-secret SECRET]
        [--default-limit N] [--max-limit N] [--next-style full|merge|token] [--get-only]
        [--latency-ms MS] [--fail-asset NAME:STATUS[:COUNT]]... [--without query|sortby|filter]...
        [--moved PREFIX] [--relative-links] [--stuck-next] [--drop-next]
    python3 stac_api_server.py --self-test

Prints its port, serves 127.0.0.1 only, ends when stdin closes (tests/loopback_server.py).
Standard library only; run with /usr/bin/python3.  What the behaviour rests on (spec sections,
provider behaviour) is in notes/stac-research.md.

Items (--items): a JSON list of STAC Items, each with id, collection, geometry (Polygon or
MultiPolygon, WGS84), properties.datetime (or start_/end_datetime), assets with hrefs;
bbox, stac_version, type and links are filled in when missing, and the EO extension is listed
when an item has eo:cloud_cover.  "{base}" in an asset href becomes http://127.0.0.1:PORT, so an
item can point at this server's own /cog/ before the port is known.  Collections come from the
items (extent computed) unless --collections gives them (a JSON list of STAC Collections).

  GET  /                               landing page: conformsTo, links (self, root, conformance,
                                       data, search GET and, unless --get-only, search POST)
  GET  /conformance                    the conformance classes below
  GET  /collections, /collections/{id} the collections (404 for an unknown one)
  POST /search, GET /search            Item Search: bbox (2D/3D; west > east crosses the
                                       antimeridian), intersects (any GeoJSON geometry; exact
                                       intersection with the item footprint), datetime (instant,
                                       closed or half-open interval), collections, ids, limit
                                       (default --default-limit, clamped to --max-limit), query
                                       (eq neq lt lte gt gte in), CQL2-JSON filter (and or not
                                       = <> < <= > >= isNull s_intersects t_intersects and the
                                       pre-CQL2 name anyinteracts), sortby; anything else is 400
                                       with {"code", "description"}.  Default order: datetime
                                       descending; ties always broken by id, then collection.
                                       --get-only: POST /search is 405, as a GET-only server.
  GET  /api/sas/v1/token/{collection}  {"msft:expiry": "...Z", "token": "st=..&se=..&sp=rl&..&sig=.."}
                                       valid --token-life-s (default 3600); 404 for an unknown
                                       collection.  Counted per collection.
  GET  /api/sas/check                  for nginx auth_request: the original URI (header
                                       X-Original-URI) is checked as /cog/ would; 204 or 403.
  GET|HEAD /cog/{name}                 the file --cog-dir/{name}: Range (single, suffix, multiple
                                       as multipart/byteranges), 206 + Content-Range, 416 past the
                                       end; with --sign the query string must carry a token this
                                       server issued, unexpired and for a collection whose items
                                       use this file, or 403 with an Azure Blob Storage XML body
                                       (Code AuthenticationFailed, header x-ms-error-code).
  GET  /stats                          what it saw (see STATE); not counted itself.
  any  PREFIX/...                      --moved PREFIX: 301 to the same path without PREFIX
                                       (an API that moved, as http:// to https://), any method.

--relative-links: `next` hrefs relative to the page's URL ("search?..."), and each asset href
of the form {base}/cog/NAME relative to its item's self link ("../../../cog/NAME"), as STAC
allows.  --stuck-next: every page's `next` link repeats the first page's (a server that loops).
--drop-next: no page has a `next` link, numberMatched still counts every match (Planetary
Computer's outage of 2026-01, notes/stac-research.md section 2).

Paging: a page that is not the last carries a `next` link.  GET: href = the same query plus
token=T.  POST, by --next-style, the three shapes live servers use:
  full   body = the whole request body plus "token": T, no merge   (stac-fastapi-pgstac, so
         Planetary Computer; stac-server, so Earth Search, does the same with its own key)
  merge  body = {"token": T}, "merge": true: the client merges it into its original body
         (geoadmin service-stac, so data.geo.admin.ch, with "cursor")
  token  body = {"token": T}, no merge: the client sends that body alone (the spec's example)
A request carrying a token must otherwise equal the search the token came from (limit aside):
for full and merge, the original body; for token, nothing else.  Anything else is 400, so a
client that drops or mangles the search while paging fails loudly instead of getting page 2 of
something else.

Fault switches: --latency-ms delays every answer but /stats (the bench's injected latency);
--fail-asset NAME:STATUS[:COUNT] answers /cog/NAME with STATUS (an Azure-like XML error: 404
BlobNotFound, 500 InternalError, others ServerBusy/...) for the first COUNT requests, or always.

How the tests combine it with nginx (nginx-light, a real server with range support, is what
issue 21 asks to serve the COGs): nginx cannot check a SAS token by itself, so
  * unsigned sources (Earth Search, swisstopo presets): items' hrefs point at nginx, which
    serves the COGs made with `gdal_translate -of COG`; this server only answers searches;
  * signed sources (Planetary Computer): either
      a. items' hrefs use {base}/cog/NAME: this server serves the bytes and checks the token,
         with Azure-shaped error bodies, per-reason counts and the fault switches; simplest; or
      b. nginx serves them and checks the token itself.  Debian 12's nginx (1.22.1) is built
         with http_secure_link_module and http_auth_request_module.  With
         --secure-link-secret SECRET the token's sig is base64url(md5("<ex> SECRET")) without
         padding and ex the expiry as a Unix time (the space is part of the hashed string), so
         this nginx location checks it without a round trip (403 to a bad and an expired sig):
             location /signed/ {
                 secure_link $arg_sig,$arg_ex;
                 secure_link_md5 "$secure_link_expires SECRET";
                 if ($secure_link = "")  { return 403; }
                 if ($secure_link = "0") { return 403; }
                 alias COG_DIR/;
             }
         or, keeping this server's per-reason counts (nginx sends its own 403 page), via
         auth_request:
             location /signed/ { auth_request /_sas; alias COG_DIR/; }
             location = /_sas { internal; proxy_pass http://127.0.0.1:PORT/api/sas/check;
                                proxy_pass_request_body off; proxy_set_header Content-Length "";
                                proxy_set_header X-Original-URI $request_uri; }
         (/api/sas/check reads the name after the last "/" of the original path.)  Both
         locations were checked with Debian 12's nginx binary: 206 with a valid token, 403
         without one, with a tampered one and after expiry.
GDAL can sign by itself: /vsicurl?pc_url_signing=yes&pc_collection=C&url=URL-ENCODED-HREF with
VSICURL_PC_SAS_TOKEN_URL=http://127.0.0.1:PORT/api/sas/v1/token/ reads /cog/ here (GDAL 3.6.2).
It reuses a token only while it has more than about a minute left, so with --token-life-s under
60 it fetches a token for every request: give such tests a longer life, or sign in the client.
A GET of /cog/ without Range is counted in cog_whole_file (GDAL sends one when
CPL_VSIL_CURL_USE_HEAD=NO), so a test can assert that no image was downloaded whole.
"""
import argparse
import base64
import datetime as dt
import hashlib
import json
import os
import re
import secrets
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

from loopback_server import send_body, serve

STAC_VERSION = "1.0.0"
EO_EXTENSION = "https://stac-extensions.github.io/eo/v1.1.0/schema.json"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"

# What this server implements, under the URIs that clients look for on the landing page
# (item-search README, the query, sort and filter extension READMEs: see the notes).
CONFORMANCE = [
    "https://api.stacspec.org/v1.0.0/core",
    "https://api.stacspec.org/v1.0.0/collections",
    "https://api.stacspec.org/v1.0.0/item-search",
    "https://api.stacspec.org/v1.0.0/item-search#query",
    "https://api.stacspec.org/v1.0.0/item-search#sort",
    "https://api.stacspec.org/v1.0.0/item-search#filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    # Not temporal-functions: of its operators only t_intersects is here (the one the filter
    # extension's examples use); claiming the class would promise t_before and the rest.
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
]

WITHOUT = set()  # extensions left out by --without (query, sortby, filter), as swisstopo's API lacks sortby and filter

SEARCH_KEYS = {"bbox", "intersects", "datetime", "collections", "ids", "limit", "query", "filter",
               "filter-lang", "filter-crs", "sortby", "token"}


class Invalid(Exception):
    """A request this server answers 400 (the spec's answer to what a server does not support)."""


# --------------------------------------------------------------------------------------------
# Time: RFC 3339 as the STAC API profiles it (implementation.md, "datetime Parameter Handling").
# --------------------------------------------------------------------------------------------
RFC3339 = re.compile(r"^(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(\.\d+)?([Zz]|[+-]\d\d:\d\d)$")


def parse_time(s, what="datetime"):
    """An aware UTC datetime from an RFC 3339 string; fractions beyond microseconds are cut."""
    m = RFC3339.match(s) if isinstance(s, str) else None
    if not m:
        raise Invalid("%s: %r is not an RFC 3339 date-time (e.g. 2021-07-01T10:00:00Z)" % (what, s))
    y, mo, d, h, mi, sec = (int(m.group(i)) for i in range(1, 7))
    frac = (m.group(7) or ".0")[1:7].ljust(6, "0")
    zone = m.group(8).upper()
    tz = dt.timezone.utc if zone == "Z" else dt.timezone(
        (1 if zone[0] == "+" else -1) * dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    try:
        return dt.datetime(y, mo, d, h, mi, min(sec, 59), int(frac), tz).astimezone(dt.timezone.utc)
    except ValueError as e:
        raise Invalid("%s: %r: %s" % (what, s, e))


def parse_interval(s):
    """(start, end) of the datetime parameter, None for an open end; an instant is (t, t)."""
    if not isinstance(s, str) or not s:
        raise Invalid("datetime: expected a string")
    if "/" not in s:
        t = parse_time(s)
        return t, t
    a, _, b = s.partition("/")
    start = None if a in ("", "..") else parse_time(a)
    end = None if b in ("", "..") else parse_time(b)
    if start is None and end is None:
        raise Invalid("datetime: only one end of an interval may be open")
    if start and end and start > end:
        raise Invalid("datetime: the interval starts after it ends")
    return start, end


def item_interval(item):
    p = item["properties"]
    if p.get("datetime") is not None:
        t = parse_time(p["datetime"], "item datetime")
        return t, t
    return parse_time(p["start_datetime"], "start_datetime"), parse_time(p["end_datetime"], "end_datetime")


def overlaps(a, b):
    """Whether two closed intervals (None = open end) meet."""
    return (a[1] is None or b[0] is None or a[1] >= b[0]) and (b[1] is None or a[0] is None or b[1] >= a[0])


# --------------------------------------------------------------------------------------------
# Geometry: exact intersection of GeoJSON geometries in the plane (lon/lat as given).  Two
# geometries meet when an edge of one meets an edge of the other, or a vertex of one lies in
# (or on) a polygon of the other; touching counts, as in DE-9IM intersects.  Holes are rings
# like the others: a point is in a polygon when it is on a ring or inside an odd number of them.
# --------------------------------------------------------------------------------------------
def _ring(coords, what):
    pts = [(float(p[0]), float(p[1])) for p in coords]
    if len(pts) < 4 or pts[0] != pts[-1]:
        raise Invalid("%s: a linear ring needs 4 or more positions, first equal to last" % what)
    return pts


def parts(geom, what="geometry"):
    """(points, segments, polygons) of a GeoJSON geometry; a polygon is a list of closed rings."""
    if not isinstance(geom, dict) or "type" not in geom:
        raise Invalid("%s: expected a GeoJSON geometry object" % what)
    t, c = geom["type"], geom.get("coordinates")
    pts, segs, polys = [], [], []
    try:
        if t == "Point":
            pts.append((float(c[0]), float(c[1])))
        elif t == "MultiPoint":
            pts += [(float(p[0]), float(p[1])) for p in c]
        elif t in ("LineString", "MultiLineString"):
            for line in ([c] if t == "LineString" else c):
                line = [(float(p[0]), float(p[1])) for p in line]
                if len(line) < 2:
                    raise Invalid("%s: a LineString needs 2 or more positions" % what)
                pts += line
                segs += list(zip(line, line[1:]))
        elif t in ("Polygon", "MultiPolygon"):
            for poly in ([c] if t == "Polygon" else c):
                rings = [_ring(r, what) for r in poly]
                if not rings:
                    raise Invalid("%s: a Polygon needs a ring" % what)
                polys.append(rings)
                for r in rings:
                    pts += r[:-1]
                    segs += list(zip(r, r[1:]))
        elif t == "GeometryCollection":
            for g in geom.get("geometries", []):
                p, s, q = parts(g, what)
                pts += p
                segs += s
                polys += q
        else:
            raise Invalid("%s: unknown geometry type %r" % (what, t))
    except (TypeError, IndexError, ValueError):
        raise Invalid("%s: malformed %s coordinates" % (what, t))
    return pts, segs, polys


def _orient(a, b, c):
    v = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
    return (v > 0) - (v < 0)


def _on_segment(p, a, b):
    return (_orient(a, b, p) == 0 and min(a[0], b[0]) <= p[0] <= max(a[0], b[0])
            and min(a[1], b[1]) <= p[1] <= max(a[1], b[1]))


def segments_meet(a, b, c, d):
    o1, o2, o3, o4 = _orient(a, b, c), _orient(a, b, d), _orient(c, d, a), _orient(c, d, b)
    if o1 != o2 and o3 != o4 and 0 not in (o1, o2, o3, o4):
        return True
    return _on_segment(c, a, b) or _on_segment(d, a, b) or _on_segment(a, c, d) or _on_segment(b, c, d)


def in_polygon(p, rings):
    inside = False
    for r in rings:
        for a, b in zip(r, r[1:]):
            if _on_segment(p, a, b):
                return True
            if (a[1] > p[1]) != (b[1] > p[1]) and p[0] < a[0] + (p[1] - a[1]) * (b[0] - a[0]) / (b[1] - a[1]):
                inside = not inside
    return inside


def geometries_meet(pa, pb):
    """Whether the parts() of two geometries intersect."""
    pts_a, segs_a, polys_a = pa
    pts_b, segs_b, polys_b = pb
    if any(segments_meet(a, b, c, d) for a, b in segs_a for c, d in segs_b):
        return True
    if any(in_polygon(p, poly) for p in pts_a for poly in polys_b):
        return True
    if any(in_polygon(p, poly) for p in pts_b for poly in polys_a):
        return True
    # Lone points and lines against each other (no polygon involved).
    if any(p == q for p in pts_a for q in pts_b):
        return True
    return (any(_on_segment(p, c, d) for p in pts_a for c, d in segs_b)
            or any(_on_segment(p, a, b) for p in pts_b for a, b in segs_a))


def bbox_parts(bbox, what="bbox"):
    """parts() of a STAC bbox: 4 or 6 numbers; west > east is a box across the antimeridian."""
    if (not isinstance(bbox, list) or len(bbox) not in (4, 6)
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in bbox)):
        raise Invalid("%s: expected 4 or 6 numbers" % what)
    w, s, e, n = (bbox[0], bbox[1], bbox[2], bbox[3]) if len(bbox) == 4 else (bbox[0], bbox[1], bbox[3], bbox[4])
    if s > n:
        raise Invalid("%s: south %s is north of north %s" % (what, s, n))
    boxes = [(w, s, e, n)] if w <= e else [(w, s, 180.0, n), (-180.0, s, e, n)]
    polys = [{"type": "Polygon", "coordinates": [[[a, b], [c, b], [c, d], [a, d], [a, b]]]} for a, b, c, d in boxes]
    return parts({"type": "GeometryCollection", "geometries": polys}, what)


# --------------------------------------------------------------------------------------------
# Property access shared by query, filter and sortby.
# --------------------------------------------------------------------------------------------
TIME_FIELDS = {"datetime", "start_datetime", "end_datetime", "created", "updated"}


def field_name(name, what):
    if not isinstance(name, str) or not name:
        raise Invalid("%s: expected a property name" % what)
    return name[len("properties."):] if name.startswith("properties.") else name


def field_value(item, name):
    """The value of a queryable: id and collection at the top, the rest in properties; times parsed."""
    if name in ("id", "collection"):
        return item.get(name)
    v = item["properties"].get(name)
    if name in TIME_FIELDS and v is not None:
        return parse_time(v, name)
    return v


def comparable(a, b):
    num = (int, float)
    return ((isinstance(a, num) and not isinstance(a, bool) and isinstance(b, num) and not isinstance(b, bool))
            or (isinstance(a, str) and isinstance(b, str)) or (isinstance(a, bool) and isinstance(b, bool))
            or (isinstance(a, dt.datetime) and isinstance(b, dt.datetime)))


COMPARE = {"=": lambda a, b: a == b, "<>": lambda a, b: a != b, "<": lambda a, b: a < b,
           "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


# --------------------------------------------------------------------------------------------
# The query extension ("STACQL"): {"prop": {"op": value, ...}, ...}, all conditions and-ed.
# --------------------------------------------------------------------------------------------
QUERY_OPS = {"eq": "=", "neq": "<>", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}


def compile_query(query):
    if not isinstance(query, dict):
        raise Invalid("query: expected an object {property: {operator: value}}")
    tests = []
    for prop, ops in query.items():
        name = field_name(prop, "query")
        if not isinstance(ops, dict) or not ops:
            raise Invalid("query: %s: expected {operator: value}" % prop)
        for op, value in ops.items():
            if op == "in":
                if not isinstance(value, list):
                    raise Invalid("query: %s: in needs a list" % prop)
                values = [parse_time(v, prop) if name in TIME_FIELDS else v for v in value]
                tests.append(lambda it, n=name, vs=values: field_value(it, n) in vs)
            elif op in QUERY_OPS:
                if name in TIME_FIELDS:
                    value = parse_time(value, "query " + prop)
                elif not isinstance(value, (int, float, str, bool)):
                    raise Invalid("query: %s %s: expected a number, string or boolean" % (prop, op))

                def test(it, n=name, f=COMPARE[QUERY_OPS[op]], v=value):
                    x = field_value(it, n)
                    return x is not None and comparable(x, v) and f(x, v)
                tests.append(test)
            else:
                raise Invalid("query: operator %r is not supported (eq neq lt lte gt gte in)" % op)
    return lambda item: all(t(item) for t in tests)


# --------------------------------------------------------------------------------------------
# CQL2-JSON (filter extension; OGC 21-065r2).  Compiled once, so a malformed filter is a 400
# before any item is looked at.  Operands: {"property": name}, numbers, strings, booleans,
# {"timestamp": ...}, {"date": ...}, {"interval": [a, b]} ("..": open), GeoJSON, {"bbox": [...]}.
# A bare string is a string: a time must come as {"timestamp": ...}, as CQL2 says.
# --------------------------------------------------------------------------------------------
def _literal(node, what):
    if isinstance(node, bool) or isinstance(node, (int, float, str)) or node is None:
        return ("value", node)
    if isinstance(node, dict):
        if "property" in node:
            return ("property", field_name(node["property"], what))
        if "timestamp" in node:
            return ("value", parse_time(node["timestamp"], what + " timestamp"))
        if "date" in node:
            if not isinstance(node["date"], str) or not re.match(r"^\d{4}-\d\d-\d\d$", node["date"]):
                raise Invalid("%s: date must be YYYY-MM-DD" % what)
            return ("value", parse_time(node["date"] + "T00:00:00Z"))
        if "interval" in node:
            iv = node["interval"]
            if not isinstance(iv, list) or len(iv) != 2:
                raise Invalid("%s: interval needs two ends" % what)
            ends = []
            for e in iv:
                if e == "..":
                    ends.append(None)
                elif isinstance(e, dict) and ("timestamp" in e or "date" in e):
                    ends.append(_literal(e, what)[1])
                elif isinstance(e, str) and re.match(r"^\d{4}-\d\d-\d\d$", e):
                    ends.append(parse_time(e + "T00:00:00Z"))
                else:
                    ends.append(parse_time(e, what + " interval"))
            return ("interval", (ends[0], ends[1]))
        if "bbox" in node:
            return ("geometry", bbox_parts(node["bbox"], what + " bbox"))
        if "type" in node:
            return ("geometry", parts(node, what))
        if "op" in node:
            raise Invalid("%s: functions and nested expressions are not supported as operands" % what)
    raise Invalid("%s: unsupported operand %s" % (what, json.dumps(node)[:80]))


def compile_filter(expr):
    if not isinstance(expr, dict) or "op" not in expr:
        raise Invalid("filter: expected a CQL2-JSON expression {\"op\": ..., \"args\": [...]}")
    op, args = expr["op"], expr.get("args")
    if isinstance(op, str):
        op = op.lower()
    if not isinstance(args, list):
        raise Invalid("filter: %s: args must be a list" % op)
    if op in ("and", "or"):
        if len(args) < 2:
            raise Invalid("filter: %s needs two or more args" % op)
        subs = [compile_filter(a) for a in args]
        return (lambda it: all(s(it) for s in subs)) if op == "and" else (lambda it: any(s(it) for s in subs))
    if op == "not":
        if len(args) != 1:
            raise Invalid("filter: not takes one arg")
        sub = compile_filter(args[0])
        return lambda it: not sub(it)
    if op == "isnull":
        if len(args) != 1:
            raise Invalid("filter: isNull takes one arg")
        kind, name = _literal(args[0], "filter isNull")
        if kind != "property":
            raise Invalid("filter: isNull takes a property")
        return lambda it: field_value(it, name) is None
    if op in COMPARE:
        if len(args) != 2:
            raise Invalid("filter: %s takes two args" % op)
        (k1, a), (k2, b) = _literal(args[0], "filter " + op), _literal(args[1], "filter " + op)
        if k1 != "property" or k2 != "value":
            raise Invalid("filter: %s: expected a property, then a literal (property-property "
                          "comparisons are not supported)" % op)
        if a in TIME_FIELDS and not isinstance(b, dt.datetime):
            raise Invalid("filter: %s compares the time %s: give {\"timestamp\": ...}" % (op, a))
        if a not in TIME_FIELDS and isinstance(b, dt.datetime):
            raise Invalid("filter: %s compares %s, not a time, with a timestamp" % (op, a))
        f = COMPARE[op]

        def test(it, name=a, v=b):
            x = field_value(it, name)
            return x is not None and comparable(x, v) and f(x, v)
        return test
    if op == "s_intersects":
        if len(args) != 2:
            raise Invalid("filter: s_intersects takes two args")
        lits = [_literal(a, "filter s_intersects") for a in args]
        kinds = sorted(k for k, _ in lits)
        if kinds != ["geometry", "property"]:
            raise Invalid("filter: s_intersects takes the geometry property and a geometry")
        prop = [v for k, v in lits if k == "property"][0]
        geom = [v for k, v in lits if k == "geometry"][0]
        if prop != "geometry":
            raise Invalid("filter: s_intersects: only the property geometry is spatial here")
        return lambda it: it["_parts"] is not None and geometries_meet(it["_parts"], geom)
    if op in ("t_intersects", "anyinteracts"):
        if len(args) != 2:
            raise Invalid("filter: %s takes two args" % op)
        (k1, a), (k2, b) = _literal(args[0], "filter " + op), _literal(args[1], "filter " + op)
        if k1 != "property" or a not in TIME_FIELDS or k2 not in ("value", "interval"):
            raise Invalid("filter: %s takes a time property and a timestamp or interval" % op)
        if k2 == "value":
            if not isinstance(b, dt.datetime):
                raise Invalid("filter: %s: expected {\"timestamp\": ...} or {\"interval\": [...]}" % op)
            b = (b, b)
        if a == "datetime":
            return lambda it: overlaps(item_interval(it), b)

        def test(it, name=a, iv=b):
            x = field_value(it, name)
            return x is not None and overlaps((x, x), iv)
        return test
    raise Invalid("filter: operator %r is not supported" % expr["op"])


# --------------------------------------------------------------------------------------------
# Sorting (sort extension): POST takes [{"field", "direction"}], GET "+a,-b".  Items without the
# field go last either way; id, then collection, break ties so that pages never overlap.
# --------------------------------------------------------------------------------------------
def parse_sortby(value, method):
    if value is None:
        return [("datetime", "desc")]
    if method == "GET":
        if not isinstance(value, str):
            raise Invalid("sortby: expected +field,-field")
        keys = []
        for f in value.split(","):
            f = f.strip()
            d = "desc" if f.startswith("-") else "asc"
            keys.append((field_name(f.lstrip("+-").strip(), "sortby"), d))
        return keys
    if not isinstance(value, list) or not value:
        raise Invalid("sortby: POST takes a list of {\"field\": ..., \"direction\": \"asc\"|\"desc\"}")
    keys = []
    for s in value:
        if not isinstance(s, dict) or "field" not in s or set(s) - {"field", "direction"}:
            raise Invalid("sortby: each entry is {\"field\": ..., \"direction\": ...}")
        d = s.get("direction", "asc")
        if d not in ("asc", "desc"):
            raise Invalid("sortby: direction must be asc or desc, not %r" % d)
        keys.append((field_name(s["field"], "sortby"), d))
    return keys


def sort_items(items, keys):
    out = sorted(items, key=lambda it: (it["id"], it["collection"]))
    for name, direction in reversed(keys):
        def key(it, n=name):
            v = item_interval(it)[0] if n == "datetime" else field_value(it, n)
            return v
        present = [it for it in out if key(it) is not None]
        missing = [it for it in out if key(it) is None]
        try:
            present.sort(key=key, reverse=(direction == "desc"))
        except TypeError:
            raise Invalid("sortby: %s has values of mixed types" % name)
        out = present + missing
    return out


# --------------------------------------------------------------------------------------------
# A search: the request, whichever method, normalised to one shape, checked, then run.
# --------------------------------------------------------------------------------------------
def params_from_query_string(qs):
    """The GET parameters in the shape of a POST body (lists, numbers and objects decoded)."""
    raw = urllib.parse.parse_qs(qs, keep_blank_values=True)
    out = {}
    for k, vs in raw.items():
        if len(vs) != 1:
            raise Invalid("%s: given more than once" % k)
        v = vs[0]
        try:
            if k == "bbox":
                out[k] = [float(x) for x in v.split(",")]
            elif k in ("collections", "ids"):
                out[k] = [x for x in v.split(",") if x]
            elif k == "limit":
                out[k] = int(v)
            elif k in ("intersects", "query"):
                out[k] = json.loads(v)
            else:
                out[k] = v
        except ValueError:
            raise Invalid("%s: cannot be parsed: %r" % (k, v[:80]))
    if "filter" in out:
        if out.get("filter-lang") != "cql2-json":
            raise Invalid("filter: GET defaults to cql2-text, which this server does not support; "
                          "send filter-lang=cql2-json")
        try:
            out["filter"] = json.loads(out["filter"])
        except ValueError:
            raise Invalid("filter: not JSON")
    return out


def prepare(params, method, default_limit, max_limit):
    """The checked search: predicates, sort keys and page size, or Invalid."""
    if not isinstance(params, dict):
        raise Invalid("the body must be a JSON object")
    unknown = set(params) - SEARCH_KEYS
    if unknown:
        raise Invalid("not supported here: %s" % ", ".join(sorted(unknown)))
    tests = []
    if "bbox" in params and "intersects" in params:
        raise Invalid("bbox and intersects are exclusive")
    if "bbox" in params:
        box = bbox_parts(params["bbox"])
        tests.append(lambda it, g=box: it["_parts"] is not None and geometries_meet(it["_parts"], g))
    if "intersects" in params:
        area = parts(params["intersects"], "intersects")
        tests.append(lambda it, g=area: it["_parts"] is not None and geometries_meet(it["_parts"], g))
    if "datetime" in params:
        iv = parse_interval(params["datetime"])
        tests.append(lambda it: overlaps(item_interval(it), iv))
    for key in ("collections", "ids"):
        if key in params:
            v = params[key]
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                raise Invalid("%s: expected a list of strings" % key)
            field, allowed = ("collection" if key == "collections" else "id"), set(v)
            tests.append(lambda it, f=field, a=allowed: it[f] in a)
    for ext in WITHOUT:  # an extension this server does not offer (--without): refused, as such servers do
        if ext in params:
            raise Invalid("%s: this API does not support it (not in its conformance classes)" % ext)
    if "query" in params:
        tests.append(compile_query(params["query"]))
    if "filter-crs" in params and params["filter-crs"] != CRS84:
        raise Invalid("filter-crs: only %s" % CRS84)
    if "filter-lang" in params and params["filter-lang"] != "cql2-json":
        raise Invalid("filter-lang: only cql2-json is supported")
    if "filter" in params:
        tests.append(compile_filter(params["filter"]))
    limit = params.get("limit", default_limit)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise Invalid("limit: expected an integer of 1 or more")
    return {"tests": tests, "sort": parse_sortby(params.get("sortby"), method),
            "limit": min(limit, max_limit)}


def matching(items, prepared):
    return sort_items([it for it in items if all(t(it) for t in prepared["tests"])], prepared["sort"])


def canonical(params):
    """The search a request asks for, paging aside: what a token is tied to."""
    return json.dumps({k: v for k, v in params.items() if k not in ("token", "limit")}, sort_keys=True)


class Pager:
    """Search tokens: each names the search it came from and the offset of the next page."""

    def __init__(self, style):
        self.style = style
        self.lock = threading.Lock()
        self.tokens = {}  # token -> (method, canonical search, params without token, offset)

    def resolve(self, params, method):
        """(params of the search to run, offset) for a request, or Invalid."""
        if "token" not in params:
            return params, 0
        with self.lock:
            entry = self.tokens.get(params["token"])
        if entry is None:
            raise Invalid("token: unknown (a token is only good for the server that issued it)")
        t_method, t_search, t_params, offset = entry
        if t_method != method:
            raise Invalid("token: issued for a %s search, used with %s" % (t_method, method))
        rest = canonical(params)
        if method == "POST" and self.style == "token":
            if rest != canonical({}):
                raise Invalid("token: the next link's body is the whole body (merge is false); "
                              "it came with %s" % rest)
        elif rest != t_search:
            raise Invalid("token: this request is not the search the token came from: %s, not %s"
                          % (rest, t_search))
        run = dict(t_params)
        if "limit" in params:
            run["limit"] = params["limit"]
        return run, offset

    def issue(self, method, params, offset):
        token = "next:" + secrets.token_hex(6)
        stored = {k: v for k, v in params.items() if k != "token"}
        with self.lock:
            self.tokens[token] = (method, canonical(params), stored, offset)
        return token

    def next_link(self, method, params, token, base, query_string):
        if method == "GET":
            q = [(k, v) for k, v in urllib.parse.parse_qsl(query_string, keep_blank_values=True) if k != "token"]
            q.append(("token", token))
            return {"rel": "next", "type": "application/geo+json", "method": "GET",
                    "href": base + "/search?" + urllib.parse.urlencode(q)}
        link = {"rel": "next", "type": "application/geo+json", "method": "POST", "href": base + "/search"}
        if self.style == "full":
            link["body"] = dict({k: v for k, v in params.items() if k != "token"}, token=token)
        elif self.style == "merge":
            link["body"], link["merge"] = {"token": token}, True
        else:
            link["body"] = {"token": token}
        return link


def search_page(catalog, pager, params, method, base, query_string="", default_limit=10, max_limit=1000):
    """The ItemCollection answering one search request (first page or next)."""
    run, offset = pager.resolve(params, method)
    prepared = prepare(run, method, default_limit, max_limit)
    found = matching(catalog.items, prepared)
    limit = prepared["limit"]
    page = found[offset:offset + limit]
    links = [{"rel": "root", "type": "application/json", "href": base + "/"}]
    if method == "GET":
        links.append({"rel": "self", "type": "application/geo+json", "href": base + "/search" + ("?" + query_string if query_string else "")})
    if offset + limit < len(found):
        token = pager.issue(method, run, offset + limit)
        links.append(pager.next_link(method, run, token, base, query_string))
    return {"type": "FeatureCollection", "features": [catalog.public(it, base) for it in page], "links": links,
            "numberMatched": len(found), "numberReturned": len(page),
            "context": {"returned": len(page), "limit": limit, "matched": len(found)}}


# --------------------------------------------------------------------------------------------
# The catalog: items as loaded (with cached footprint parts), collections given or derived.
# --------------------------------------------------------------------------------------------
class Catalog:
    def __init__(self, items, collections=None, licence="proprietary"):
        self.items = []
        for i, raw in enumerate(items):
            self.items.append(self._load_item(raw, i))
        ids = [(it["collection"], it["id"]) for it in self.items]
        if len(set(ids)) != len(ids):
            raise ValueError("items: an id appears twice in a collection")
        given = {c["id"]: c for c in (collections or [])}
        self.collections = {}
        for cid in sorted({it["collection"] for it in self.items} | set(given)):
            self.collections[cid] = given.get(cid) or self._derive(cid, licence)
        # Which collections' items use each /cog/ file, for the token check.
        self.cog_users = {}
        for it in self.items:
            for a in it["assets"].values():
                if "/cog/" in a["href"]:
                    name = a["href"].split("/cog/", 1)[1].split("?", 1)[0]
                    self.cog_users.setdefault(name, set()).add(it["collection"])

    @staticmethod
    def _load_item(raw, i):
        where = "items[%d]" % i
        if not isinstance(raw, dict):
            raise ValueError(where + ": not an object")
        for k in ("id", "collection", "properties", "assets"):
            if k not in raw:
                raise ValueError("%s: %s is missing" % (where, k))
        it = json.loads(json.dumps(raw))
        it.setdefault("type", "Feature")
        it.setdefault("stac_version", STAC_VERSION)
        it.setdefault("stac_extensions", [])
        it.setdefault("links", [])
        try:
            item_interval(it)
            it["_parts"] = parts(it["geometry"], where + " geometry") if it.get("geometry") else None
        except (Invalid, KeyError) as e:
            raise ValueError("%s: %s" % (where, e))
        if it["_parts"] is not None and "bbox" not in it:
            xs = [p[0] for p in it["_parts"][0]]
            ys = [p[1] for p in it["_parts"][0]]
            it["bbox"] = [min(xs), min(ys), max(xs), max(ys)]
        if "eo:cloud_cover" in it["properties"] and not any("/eo/" in e for e in it["stac_extensions"]):
            it["stac_extensions"].append(EO_EXTENSION)
        for k, a in it["assets"].items():
            if not isinstance(a, dict) or not isinstance(a.get("href"), str):
                raise ValueError("%s: asset %s has no href" % (where, k))
        return it

    def _derive(self, cid, licence):
        mine = [it for it in self.items if it["collection"] == cid]
        boxes = [it["bbox"] for it in mine if "bbox" in it] or [[-180.0, -90.0, 180.0, 90.0]]
        times = [t for it in mine for t in item_interval(it)]
        iso = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ") if t else None
        return {"type": "Collection", "stac_version": STAC_VERSION, "stac_extensions": [], "id": cid,
                "description": "Test collection %s (%d items)" % (cid, len(mine)), "license": licence,
                "extent": {"spatial": {"bbox": [[min(b[0] for b in boxes), min(b[1] for b in boxes),
                                                  max(b[2] for b in boxes), max(b[3] for b in boxes)]]},
                           "temporal": {"interval": [[iso(min(times)) if times else None,
                                                      iso(max(times)) if times else None]]}},
                "links": []}

    def collection(self, cid, base):
        c = json.loads(json.dumps(self.collections[cid]))
        c["links"] = [l for l in c.get("links", []) if l.get("rel") not in ("self", "root", "parent", "items")] + [
            {"rel": "self", "type": "application/json", "href": "%s/collections/%s" % (base, cid)},
            {"rel": "root", "type": "application/json", "href": base + "/"},
            {"rel": "parent", "type": "application/json", "href": base + "/"},
            {"rel": "items", "type": "application/geo+json", "href": "%s/collections/%s/items" % (base, cid)}]
        return c

    @staticmethod
    def public(it, base):
        """The item as served: without private fields, links filled in, {base} resolved."""
        out = {k: v for k, v in it.items() if not k.startswith("_")}
        out = json.loads(json.dumps(out).replace("{base}", base))
        keep = [l for l in out.get("links", []) if l.get("rel") not in ("self", "root", "parent", "collection")]
        coll = "%s/collections/%s" % (base, it["collection"])
        out["links"] = keep + [
            {"rel": "self", "type": "application/geo+json", "href": "%s/items/%s" % (coll, it["id"])},
            {"rel": "parent", "type": "application/json", "href": coll},
            {"rel": "collection", "type": "application/json", "href": coll},
            {"rel": "root", "type": "application/json", "href": base + "/"}]
        return out


# --------------------------------------------------------------------------------------------
# SAS tokens, shaped like Planetary Computer's (st, se, sp, sv, sr, sig; times URL-encoded).
# --------------------------------------------------------------------------------------------
class Tokens:
    def __init__(self, life_s, secret=None, valid_s=None, advertise_s=None):
        self.life_s = life_s
        self.advertise_s = advertise_s  # msft:expiry says this, not the real expiry (a skewed clock's view)
        self.valid_s = valid_s  # tokens die this long after issue, earlier than advertised (a revoked key)
        self.secret = secret
        self.lock = threading.Lock()
        self.by_sig = {}  # sig -> (collection, expiry unix time, issued unix time)

    def issue(self, collection):
        now = time.time()
        # The advertised expiry is whole seconds, never later than the real one: a client that
        # trusts msft:expiry never holds a token this server already refuses.
        expires = int(now + self.life_s)
        if self.secret is not None:
            sig = base64.urlsafe_b64encode(hashlib.md5(("%d %s" % (expires, self.secret)).encode()).digest()).decode().rstrip("=")
        else:
            sig = secrets.token_urlsafe(24)
        with self.lock:
            self.by_sig[sig] = (collection, min(expires, now + self.valid_s) if self.valid_s is not None else expires, now)
        stamp = lambda t: urllib.parse.quote(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t)), safe="")
        token = "st=%s&se=%s&sp=rl&sv=2021-06-08&sr=c&ex=%d&sig=%s" % (stamp(now - 900), stamp(expires), expires, urllib.parse.quote(sig, safe=""))
        advertised = expires if self.advertise_s is None else int(now + self.advertise_s)
        return {"msft:expiry": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(advertised)), "token": token}

    def check(self, query, users):
        """None when the query string carries a valid token for one of `users` (collections;
        empty: any), else (reason, Azure detail)."""
        q = urllib.parse.parse_qs(query)
        sig = q.get("sig", [None])[0]
        if not sig or "se" not in q:
            return "missing", "Signature fields not well formed."
        with self.lock:
            entry = self.by_sig.get(sig)
        if entry is None:
            return "unknown", "Signature did not match. String to sign used was r"
        collection, expires, issued = entry
        now = time.time()
        if now >= expires:
            fmt = lambda t: time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(t))
            return "expired", "Signature not valid in the specified time frame: Start [%s] - Expiry [%s] - Current [%s]" % (
                fmt(issued - 900), fmt(expires), fmt(now))
        if users and collection not in users:
            return "wrong_collection", "Signature did not match. String to sign used was r (token for %s)" % collection
        return None

    def left(self, query):
        sig = urllib.parse.parse_qs(query).get("sig", [None])[0]
        with self.lock:
            entry = self.by_sig.get(sig)
        return (sig, entry[1] - time.time()) if entry else (None, None)


def azure_error(code, message, detail=None):
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")
    body = ('<?xml version="1.0" encoding="utf-8"?><Error><Code>%s</Code><Message>%s\nRequestId:%s\nTime:%s</Message>'
            % (code, message, secrets.token_hex(4) + "-0000-0000-0000-" + secrets.token_hex(6), now))
    if detail:
        body += "<AuthenticationErrorDetail>%s</AuthenticationErrorDetail>" % detail
    return (body + "</Error>").encode()


AZURE_STATUS = {404: ("BlobNotFound", "The specified blob does not exist."),
                500: ("InternalError", "Server encountered an internal error. Please try again after some time."),
                503: ("ServerBusy", "The server is currently unable to receive requests. Please retry your request."),
                403: ("AuthenticationFailed", "Server failed to authenticate the request. Make sure the value of "
                      "Authorization header is formed correctly including the signature.")}


# --------------------------------------------------------------------------------------------
# HTTP ranges (RFC 7233), as GDAL's /vsicurl/ asks for them.
# --------------------------------------------------------------------------------------------
def parse_ranges(header, size):
    """None: serve the whole file (no or malformed Range: RFC 7233 lets a server ignore it);
    []: unsatisfiable (416); else [(first, last), ...] inclusive, clipped to the file."""
    if not header or not header.startswith("bytes="):
        return None
    out = []
    for spec in header[6:].split(","):
        spec = spec.strip()
        m = re.match(r"^(\d*)-(\d*)$", spec)
        if not m or (m.group(1) == "" and m.group(2) == ""):
            return None
        if m.group(1) == "":
            n = int(m.group(2))
            if n == 0:
                continue
            out.append((max(0, size - n), size - 1))
        else:
            first = int(m.group(1))
            last = int(m.group(2)) if m.group(2) else size - 1
            if m.group(2) and last < first:
                return None  # syntactically invalid: the whole header is ignored (RFC 7233 3.1)
            if first < size:
                out.append((first, min(last, size - 1)))
    return out


# --------------------------------------------------------------------------------------------
# The server.
# --------------------------------------------------------------------------------------------
LOCK = threading.Lock()
STATE = {
    "requests": {},            # kind -> count (landing, conformance, collections, search_get, ...)
    "searches": [],            # each search request: {"method", "params", "page": 1|n, "returned"}
    "search_400": [],          # the descriptions of the searches answered 400
    "tokens_issued": 0, "tokens_by_collection": {},
    "token_use": {},           # sig -> {"requests", "min_left_s"} over /cog/ and /api/sas/check
    "cog_requests": 0, "cog_head": 0, "cog_bytes": 0, "cog_whole_file": 0, "cog_ranges": 0,
    "cog_multi_range": 0, "cog_416": 0, "cog_by_name": {},
    "cog_403": {"missing": 0, "unknown": 0, "expired": 0, "wrong_collection": 0},
    "cog_injected": {},        # name -> failures injected by --fail-asset
    "active": 0, "max_active": 0,
}
MAX_SEARCH_LOG = 2000


def count(kind):
    with LOCK:
        STATE["requests"][kind] = STATE["requests"].get(kind, 0) + 1


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # see earthengine_fake_server.py: headers and body in two writes
    args = None
    catalog = None
    pager = None
    tokens = None
    failures = {}  # name -> [status, remaining count or None]

    def log_message(self, *a):
        pass

    def handle(self):
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):
            pass  # GDAL hangs up on a range it no longer wants

    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.server.server_address[1]

    def before_reply(self):
        if getattr(self, "counted", False):
            self.counted = False
            with LOCK:
                STATE["active"] -= 1

    def reply(self, status, ctype, body, extra=None, head=False):
        # HEAD: the headers GET would send (the length of the body it would send), no body.
        send_body(self, status, ctype, b"" if head else body, extra)

    def json(self, status, obj, ctype="application/json"):
        self.reply(status, ctype, json.dumps(obj).encode())

    def error(self, status, code, description):
        self.json(status, {"code": code, "description": description})

    def enter(self):
        with LOCK:
            STATE["active"] += 1
            STATE["max_active"] = max(STATE["max_active"], STATE["active"])
            self.counted = True
        if self.args.latency_ms:
            time.sleep(self.args.latency_ms / 1000.0)

    def do_HEAD(self):
        path, _, query = self.path.partition("?")
        self.enter()
        try:
            if path.startswith("/cog/"):
                return self.cog(path[len("/cog/"):], query, head=True)
            self.reply(404, "text/plain", b"", head=True)
        finally:
            self.before_reply()

    def moved(self):
        """Whether this request was answered with --moved's 301."""
        prefix = self.args.moved
        if not prefix or not self.path.startswith(prefix):
            return False
        count("moved")
        length = int(self.headers.get("Content-Length", "0") or 0)
        if length:
            self.rfile.read(length)
        self.reply(301, "text/plain", b"moved\n", {"Location": self.base + self.path[len(prefix):]})
        return True

    def do_GET(self):
        if self.moved():
            return
        path, _, query = self.path.partition("?")
        if path == "/stats":
            with LOCK:
                STATE["cpu_seconds"] = time.process_time()
                body = json.dumps(STATE).encode()
            return self.reply(200, "application/json", body)
        self.enter()
        try:
            self.route_get(path, query)
        finally:
            self.before_reply()

    def do_POST(self):
        if self.moved():
            return
        path = self.path.partition("?")[0]
        length = int(self.headers.get("Content-Length", "0") or 0)
        body = self.rfile.read(length) if length else b""
        self.enter()
        try:
            if path != "/search":
                return self.error(404, "NotFound", "no such path: " + path)
            if self.args.get_only:
                count("search_post_refused")
                return self.error(405, "MethodNotAllowed", "this server answers GET /search only")
            count("search_post")
            try:
                params = json.loads(body or b"{}")
            except ValueError:
                return self.search_failed("the body is not JSON")
            self.search(params, "POST", "")
        finally:
            self.before_reply()

    def route_get(self, path, query):
        if path in ("/", ""):
            count("landing")
            return self.json(200, self.landing())
        if path == "/conformance":
            count("conformance")
            return self.json(200, {"conformsTo": CONFORMANCE})
        if path == "/collections":
            count("collections")
            cols = [self.catalog.collection(c, self.base) for c in self.catalog.collections]
            return self.json(200, {"collections": cols, "links": [
                {"rel": "self", "type": "application/json", "href": self.base + "/collections"},
                {"rel": "root", "type": "application/json", "href": self.base + "/"}]})
        if path.startswith("/collections/"):
            # /collections/{id}, /collections/{id}/items (a GET search in one collection, so that
            # the collection's items link works) and /collections/{id}/items/{item}.
            bits = [urllib.parse.unquote(b) for b in path[len("/collections/"):].split("/")]
            cid = bits[0]
            if cid not in self.catalog.collections:
                return self.error(404, "NotFound", "no collection " + cid)
            if len(bits) == 1:
                count("collection")
                return self.json(200, self.catalog.collection(cid, self.base))
            if len(bits) == 2 and bits[1] == "items":
                count("items")
                query = "&".join(q for q in (query, urllib.parse.urlencode({"collections": cid})) if q)
                try:
                    params = params_from_query_string(query)
                except Invalid as e:
                    return self.search_failed(str(e))
                return self.search(params, "GET", query)
            if len(bits) == 3 and bits[1] == "items":
                count("item")
                for it in self.catalog.items:
                    if it["collection"] == cid and it["id"] == bits[2]:
                        return self.json(200, self.catalog.public(it, self.base), "application/geo+json")
                return self.error(404, "NotFound", "no item %s in %s" % (bits[2], cid))
            return self.error(404, "NotFound", "no such path: " + path)
        if path == "/search":
            count("search_get")
            try:
                params = params_from_query_string(query)
            except Invalid as e:
                return self.search_failed(str(e))
            return self.search(params, "GET", query)
        if path.startswith("/api/sas/v1/token/"):
            return self.token(urllib.parse.unquote(path[len("/api/sas/v1/token/"):]))
        if path == "/api/sas/check":
            count("sas_check")
            original = self.headers.get("X-Original-URI", "")
            opath, _, oquery = original.partition("?")
            name = urllib.parse.unquote(opath.rsplit("/", 1)[-1])
            problem = self.token_problem(name, oquery)
            if problem:
                return self.reply(403, "application/xml", azure_error("AuthenticationFailed", AZURE_STATUS[403][1], problem[1]),
                                  {"x-ms-error-code": "AuthenticationFailed"})
            return self.reply(204, "text/plain", b"")
        if path.startswith("/cog/"):
            return self.cog(path[len("/cog/"):], query)
        self.error(404, "NotFound", "no such path: " + path)

    def landing(self):
        b = self.base
        links = [{"rel": "self", "type": "application/json", "href": b + "/"},
                 {"rel": "root", "type": "application/json", "href": b + "/"},
                 {"rel": "conformance", "type": "application/json", "href": b + "/conformance"},
                 {"rel": "data", "type": "application/json", "href": b + "/collections"},
                 {"rel": "search", "type": "application/geo+json", "href": b + "/search", "method": "GET"}]
        if not self.args.get_only:
            links.append({"rel": "search", "type": "application/geo+json", "href": b + "/search", "method": "POST"})
        links += [{"rel": "child", "type": "application/json", "href": "%s/collections/%s" % (b, c)}
                  for c in self.catalog.collections]
        return {"type": "Catalog", "stac_version": STAC_VERSION, "id": "skyscript-test-stac",
                "title": "SkyScript loopback STAC API", "description": "A STAC API for tests, on 127.0.0.1",
                "conformsTo": CONFORMANCE, "links": links}

    def search_failed(self, description):
        with LOCK:
            STATE["search_400"].append(description)
        self.error(400, "BadRequest", description)

    def search(self, params, method, query):
        try:
            page = search_page(self.catalog, self.pager, params, method, self.base, query,
                               self.args.default_limit, self.args.max_limit)
        except Invalid as e:
            return self.search_failed(str(e))
        if self.args.detailed_footprints:
            for f in page["features"]:
                f["geometry"] = detailed_rectangle(f["bbox"], self.args.detailed_footprints)
        if self.args.drop_next:
            page["links"] = [l for l in page["links"] if l["rel"] != "next"]
        nexts = [l for l in page["links"] if l["rel"] == "next"]
        if self.args.stuck_next and nexts:
            with LOCK:
                first = STATE.setdefault("first_next", nexts[0])
            page["links"] = [l for l in page["links"] if l["rel"] != "next"] + [first]
        if self.args.relative_links:
            for l in page["links"]:
                if l["rel"] == "next" and l["href"].startswith(self.base + "/search"):
                    l["href"] = l["href"][len(self.base) + 1:]
            for f in page["features"]:
                for a in f.get("assets", {}).values():
                    if a.get("href", "").startswith(self.base + "/cog/"):
                        a["href"] = "../../../cog/" + a["href"][len(self.base + "/cog/"):]
        with LOCK:
            if len(STATE["searches"]) < MAX_SEARCH_LOG:
                STATE["searches"].append({"method": method, "params": params, "next_page": "token" in params,
                                          "returned": page["numberReturned"], "matched": page["numberMatched"]})
        self.json(200, page, "application/geo+json")

    def token(self, collection):
        count("token")
        if collection not in self.catalog.collections:
            return self.error(404, "NotFound", "no collection " + collection)
        answer = self.tokens.issue(collection)
        with LOCK:
            STATE["tokens_issued"] += 1
            by = STATE["tokens_by_collection"]
            by[collection] = by.get(collection, 0) + 1
        self.json(200, answer)

    def token_problem(self, name, query):
        """None, or (reason, Azure detail) when a signed read must be refused."""
        problem = self.tokens.check(query, self.catalog.cog_users.get(name, set()))
        sig, left = self.tokens.left(query)
        with LOCK:
            if problem:
                STATE["cog_403"][problem[0]] += 1
            if sig is not None:
                use = STATE["token_use"].setdefault(sig, {"requests": 0, "min_left_s": left})
                use["requests"] += 1
                use["min_left_s"] = min(use["min_left_s"], left)
        return problem

    def cog(self, name, query, head=False):
        count("cog_head" if head else "cog")
        name = urllib.parse.unquote(name)
        with LOCK:
            STATE["cog_requests"] += 1
            STATE["cog_head"] += head
            per = STATE["cog_by_name"].setdefault(name, {"requests": 0, "bytes": 0})
            per["requests"] += 1
        # Authentication first, then faults and existence: a storage service refuses a bad
        # signature before it looks for the blob, so an unsigned read never learns of a 404.
        if self.args.sign:
            problem = self.token_problem(name, query)
            if problem:
                return self.reply(403, "application/xml", azure_error("AuthenticationFailed", AZURE_STATUS[403][1], problem[1]),
                                  {"x-ms-error-code": "AuthenticationFailed"}, head)
        fail = self.failures.get(name)
        if fail:
            with LOCK:
                status, left = fail
                inject = left is None or left > 0
                if inject and left is not None:
                    fail[1] -= 1
                if inject:
                    STATE["cog_injected"][name] = STATE["cog_injected"].get(name, 0) + 1
            if inject:
                code, message = AZURE_STATUS.get(status, ("ServerBusy", "Injected failure."))
                return self.reply(status, "application/xml", azure_error(code, message), {"x-ms-error-code": code}, head)
        root = os.path.realpath(self.args.cog_dir or ".")
        full = os.path.realpath(os.path.join(root, name))
        if not self.args.cog_dir or not full.startswith(root + os.sep) or not os.path.isfile(full):
            code, message = AZURE_STATUS[404]
            return self.reply(404, "application/xml", azure_error(code, message), {"x-ms-error-code": code}, head)
        size = os.path.getsize(full)
        ranges = parse_ranges(self.headers.get("Range"), size)
        common = {"Accept-Ranges": "bytes"}
        if head:
            return self._head(size, common)
        with open(full, "rb") as f:
            if ranges is None:
                body = f.read()
                with LOCK:
                    STATE["cog_whole_file"] += 1
                status, ctype, extra = 200, "image/tiff", common
            elif not ranges:
                with LOCK:
                    STATE["cog_416"] += 1
                return self.reply(416, "text/plain", b"", {"Content-Range": "bytes */%d" % size})
            elif len(ranges) == 1:
                first, last = ranges[0]
                f.seek(first)
                body = f.read(last - first + 1)
                with LOCK:
                    STATE["cog_ranges"] += 1
                status, ctype = 206, "image/tiff"
                extra = dict(common, **{"Content-Range": "bytes %d-%d/%d" % (first, last, size)})
            else:
                boundary = secrets.token_hex(8)
                chunks = []
                for first, last in ranges:
                    f.seek(first)
                    chunks.append(b"--%s\r\nContent-Type: image/tiff\r\nContent-Range: bytes %d-%d/%d\r\n\r\n"
                                  % (boundary.encode(), first, last, size) + f.read(last - first + 1) + b"\r\n")
                body = b"".join(chunks) + b"--%s--\r\n" % boundary.encode()
                with LOCK:
                    STATE["cog_multi_range"] += 1
                status, ctype, extra = 206, "multipart/byteranges; boundary=" + boundary, common
        with LOCK:
            STATE["cog_bytes"] += len(body)
            per["bytes"] += len(body)
        try:
            self.reply(status, ctype, body, extra)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _head(self, size, common):
        # HEAD carries the real length (GDAL reads the file size from it), and no body.
        self.before_reply()
        self.send_response(200)
        self.send_header("Content-Type", "image/tiff")
        self.send_header("Content-Length", str(size))
        for k, v in common.items():
            self.send_header(k, v)
        self.end_headers()


DETAILED = {}


def detailed_rectangle(bbox, points):
    """A Polygon tracing bbox with `points` positions (a server whose footprints are traced
    from the data's pixels: thousands of points an item)."""
    key = (tuple(bbox), points)
    if key not in DETAILED:
        w, s, e, n = bbox[0], bbox[1], bbox[2], bbox[3]
        side = max(1, points // 4)
        ring = []
        for (x0, y0, x1, y1) in ((w, s, e, s), (e, s, e, n), (e, n, w, n), (w, n, w, s)):
            ring += [[x0 + (x1 - x0) * k / side, y0 + (y1 - y0) * k / side] for k in range(side)]
        ring.append(ring[0])
        DETAILED[key] = {"type": "Polygon", "coordinates": [ring]}
    return DETAILED[key]


def parse_failures(specs):
    out = {}
    for s in specs or []:
        bits = s.rsplit(":", 2)
        try:
            if len(bits) == 3 and bits[2].isdigit() and bits[1].isdigit():
                name, status, n = bits[0], int(bits[1]), int(bits[2])
            else:
                name, status = s.rsplit(":", 1)
                status, n = int(status), None
        except ValueError:
            raise SystemExit("--fail-asset %s: expected NAME:STATUS[:COUNT]" % s)
        if not 400 <= status <= 599:
            raise SystemExit("--fail-asset %s: STATUS must be 4xx or 5xx" % s)
        out[name] = [status, n]
    return out


# --------------------------------------------------------------------------------------------
# Self-test: the search logic on in-memory items, no socket (python3 stac_api_server.py --self-test).
# --------------------------------------------------------------------------------------------
def self_test():
    def square(x, y, d=1.0):
        return {"type": "Polygon", "coordinates": [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]]}

    def item(i, coll, geom, when, cloud, **props):
        p = {"datetime": when, "eo:cloud_cover": cloud}
        p.update(props)
        return {"id": i, "collection": coll, "geometry": geom, "properties": p,
                "assets": {"visual": {"href": "{base}/cog/%s.tif" % i, "type": "image/tiff"}}}

    holed = {"type": "Polygon", "coordinates": [[[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]],
                                                [[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]]]}
    items = [
        item("a", "s2", square(0, 0), "2021-07-01T10:00:00Z", 5.0),
        item("b", "s2", square(0.5, 0.5), "2021-08-01T10:00:00Z", 1.0),
        item("c", "s2", square(5, 5), "2021-06-01T10:00:00Z", 50.0),
        item("d", "naip", square(0, 0, 2), "2020-05-01T00:00:00Z", 0.0),
        item("e", "naip", holed, "2022-01-01T00:00:00+01:00", 0.0),
        item("f", "s2", {"type": "MultiPolygon", "coordinates": [square(20, 20)["coordinates"], square(30, 30)["coordinates"]]},
             "2021-07-15T00:00:00Z", 20.0),
        {"id": "g", "collection": "naip", "geometry": square(100, 0),
         "properties": {"datetime": None, "start_datetime": "2019-01-01T00:00:00Z", "end_datetime": "2019-12-31T23:59:59Z"},
         "assets": {"image": {"href": "http://example.invalid/g.tif"}}},
    ]
    cat = Catalog(items)
    base = "http://127.0.0.1:1"

    def ids(params, method="POST", style="full", limit=100):
        pager = Pager(style)
        return [f["id"] for f in search_page(cat, pager, dict(params, limit=limit) if "limit" not in params else params,
                                             method, base, "", 10, 1000)["features"]]

    def bad(params, method="POST", needle=""):
        try:
            search_page(cat, Pager("full"), params, method, base, "", 10, 1000)
        except Invalid as e:
            assert needle in str(e), (needle, str(e))
            return
        raise AssertionError("expected 400 for %r" % (params,))

    # Geometry primitives: touching counts, holes exclude, multipolygons, degenerate boxes.
    assert geometries_meet(parts(square(0, 0)), parts(square(1, 0)))          # shared edge
    assert geometries_meet(parts(square(0, 0)), parts(square(1, 1)))          # shared corner
    assert not geometries_meet(parts(square(0, 0)), parts(square(1.01, 0)))
    assert not geometries_meet(parts(holed), parts(square(4.5, 4.5, 1)))     # inside the hole
    assert geometries_meet(parts(holed), parts(square(3.5, 3.5, 1)))         # over the hole's edge
    assert geometries_meet(parts(square(-1, -1, 20)), parts(square(2, 2)))   # containment, no edge crossing
    assert geometries_meet(parts({"type": "Point", "coordinates": [0.5, 0.5]}), parts(square(0, 0)))
    assert geometries_meet(bbox_parts([1, 1, 1, 1]), parts(square(0, 0)))   # a point box
    assert geometries_meet(bbox_parts([170, 0, -170, 1]), parts(square(175, 0)))  # across the antimeridian
    assert not geometries_meet(bbox_parts([170, 0, -170, 1]), parts(square(0, 0)))

    # Default order: datetime descending.
    assert ids({}) == ["e", "b", "f", "a", "c", "d", "g"], ids({})
    # bbox and intersects.
    assert ids({"bbox": [0.2, 0.2, 0.3, 0.3]}) == ["e", "a", "d"]                 # e: outside its hole
    assert ids({"bbox": [0.2, 0.2, 0, 0.3, 0.3, 100]}) == ["e", "a", "d"]
    assert ids({"intersects": square(4.5, 4.5, 1)}) == ["c"]                 # e's hole, c's corner
    assert ids({"intersects": square(25, 25)}) == []                         # between f's two parts
    assert ids({"intersects": square(29.5, 29.5)}) == ["f"]
    bad({"bbox": [0, 0, 1, 1], "intersects": square(0, 0)}, needle="exclusive")
    bad({"bbox": [0, 1, 1, 0]}, needle="south")
    # datetime: instant, closed, open either side, the item intervals of g, offsets.
    assert ids({"datetime": "2021-07-01T10:00:00Z"}) == ["a"]
    assert ids({"datetime": "2021-07-01T00:00:00Z/2021-08-01T10:00:00Z"}) == ["b", "f", "a"]
    assert ids({"datetime": "../2020-06-01T00:00:00Z"}) == ["d", "g"]
    assert ids({"datetime": "2021-12-31T23:00:00Z/"}) == ["e"]               # e is 23:00Z, offset +01:00
    assert ids({"datetime": "2019-06-01T00:00:00Z"}) == ["g"]
    bad({"datetime": "../.."}, needle="open")
    bad({"datetime": "2021-07-01"}, needle="RFC 3339")
    # collections, ids, limit.
    assert ids({"collections": ["naip"]}) == ["e", "d", "g"]
    assert ids({"ids": ["a", "c"]}) == ["a", "c"]
    bad({"limit": 0}, needle="limit")
    bad({"fields": {"include": ["id"]}}, needle="fields")
    # query.
    assert ids({"query": {"eo:cloud_cover": {"lt": 5}}}) == ["e", "b", "d"]
    assert ids({"query": {"eo:cloud_cover": {"gte": 5, "lte": 20}}}) == ["f", "a"]
    assert ids({"query": {"eo:cloud_cover": {"eq": 50}}}) == ["c"]
    assert ids({"query": {"id": {"gt": "d"}}, "collections": ["naip"]}) == ["e", "g"]
    bad({"query": {"eo:cloud_cover": {"startsWith": "x"}}}, needle="startsWith")
    # CQL2-JSON filter.
    f = {"op": "and", "args": [{"op": "<=", "args": [{"property": "eo:cloud_cover"}, 5]},
                               {"op": "s_intersects", "args": [{"property": "geometry"}, square(0.2, 0.2, 0.1)]},
                               {"op": "t_intersects", "args": [{"property": "datetime"},
                                                               {"interval": ["2021-01-01T00:00:00Z", ".."]}]}]}
    assert ids({"filter": f, "filter-lang": "cql2-json"}) == ["e", "a"]
    assert ids({"filter": {"op": "anyinteracts", "args": [{"property": "datetime"},
                                                          {"interval": ["2019-01-01", "2019-02-01"]}]}}) == ["g"]
    assert ids({"filter": {"op": ">", "args": [{"property": "datetime"}, {"timestamp": "2021-07-15T00:00:00Z"}]}}) == ["e", "b"]
    assert ids({"filter": {"op": "=", "args": [{"property": "collection"}, "naip"]}}) == ["e", "d", "g"]
    assert ids({"filter": {"op": "not", "args": [{"op": "<", "args": [{"property": "eo:cloud_cover"}, 20]}]}}) == ["f", "c", "g"]
    bad({"filter": {"op": ">", "args": [{"property": "datetime"}, "2021-07-15T00:00:00Z"]}}, needle="timestamp")
    bad({"filter": {"op": "like", "args": [{"property": "id"}, "a%"]}}, needle="like")
    bad({"filter": f, "filter-lang": "cql2-text"}, needle="cql2-json")
    # sortby: the default preset's order (least cloudy, then newest), ties by id.
    least_cloudy = [{"field": "properties.eo:cloud_cover", "direction": "asc"}, {"field": "properties.datetime", "direction": "desc"}]
    assert ids({"sortby": least_cloudy}) == ["e", "d", "b", "a", "f", "c", "g"], ids({"sortby": least_cloudy})
    assert ids({"sortby": [{"field": "id", "direction": "desc"}]}) == ["g", "f", "e", "d", "c", "b", "a"]
    bad({"sortby": "-datetime"}, needle="list")
    # GET forms.
    g = params_from_query_string("bbox=0.2,0.2,0.3,0.3&sortby=%2Beo:cloud_cover,-datetime&collections=s2,naip&limit=5")
    assert ids(g, "GET") == ["e", "d", "a"]
    g = params_from_query_string("filter-lang=cql2-json&filter=" + urllib.parse.quote(json.dumps(
        {"op": "<", "args": [{"property": "eo:cloud_cover"}, 2]})))
    assert ids(g, "GET") == ["e", "b", "d"]
    try:
        params_from_query_string("filter=eo:cloud_cover<2")
        raise AssertionError("cql2-text must be refused")
    except Invalid:
        pass

    # Paging, every style: pages of 3 cover everything once, in order; a changed search is refused.
    everything = ids({})
    for style in ("full", "merge", "token"):
        pager = Pager(style)
        original = {"collections": ["s2", "naip"], "limit": 3, "sortby": [{"field": "id", "direction": "asc"}]}
        body, seen, pages = dict(original), [], 0
        while True:
            page = search_page(cat, pager, body, "POST", base)
            pages += 1
            seen += [f["id"] for f in page["features"]]
            assert page["numberMatched"] == 7 and page["numberReturned"] == len(page["features"])
            nxt = [l for l in page["links"] if l["rel"] == "next"]
            if not nxt:
                break
            link = nxt[0]
            assert link["method"] == "POST" and link["href"] == base + "/search"
            body = dict(original, **link["body"]) if link.get("merge") else dict(link["body"])
        assert seen == sorted(everything) and pages == 3, (style, seen, pages)
        # A client that sends the wrong thing with a token gets a 400.
        page = search_page(cat, pager, dict(original), "POST", base)
        token = [l for l in page["links"] if l["rel"] == "next"][0]["body"]["token"]
        wrong = {"token": token} if style != "token" else dict(original, token=token)
        try:
            search_page(cat, pager, wrong, "POST", base)
            raise AssertionError("style %s: a wrong paging request must be refused" % style)
        except Invalid:
            pass
        try:
            search_page(cat, pager, dict(original, token=token, collections=["s2"]), "POST", base)
            raise AssertionError("style %s: a changed search must be refused" % style)
        except Invalid:
            pass
    # GET paging: the next href repeats the query with a token.
    pager, qs, seen = Pager("full"), "limit=4&sortby=id", []
    while True:
        page = search_page(cat, pager, params_from_query_string(qs), "GET", base, qs)
        seen += [f["id"] for f in page["features"]]
        nxt = [l for l in page["links"] if l["rel"] == "next"]
        if not nxt:
            break
        qs = nxt[0]["href"].split("?", 1)[1]
    assert seen == sorted(everything), seen
    # limit above the maximum is clamped, not refused.
    assert len(search_page(cat, Pager("full"), {"limit": 10 ** 6}, "POST", base, "", 10, 2)["features"]) == 2

    # Served items: links, {base}, the EO extension, no private fields.
    served = Catalog.public(cat.items[0], base)
    assert served["assets"]["visual"]["href"] == base + "/cog/a.tif" and "_parts" not in served
    assert {l["rel"] for l in served["links"]} >= {"self", "collection", "root", "parent"}
    assert EO_EXTENSION in served["stac_extensions"] and served["bbox"] == [0.0, 0.0, 1.0, 1.0]
    assert cat.cog_users == {"a.tif": {"s2"}, "b.tif": {"s2"}, "c.tif": {"s2"}, "d.tif": {"naip"},
                             "e.tif": {"naip"}, "f.tif": {"s2"}}

    # Tokens: valid, wrong collection, unknown, missing, expired.
    tok = Tokens(0.0)
    t = Tokens(60.0)
    answer = t.issue("s2")
    assert set(answer) == {"msft:expiry", "token"} and answer["msft:expiry"].endswith("Z")
    assert t.check(answer["token"], {"s2"}) is None and t.check(answer["token"], set()) is None
    assert t.check(answer["token"], {"naip"})[0] == "wrong_collection"
    assert t.check("se=x&sig=nope", {"s2"})[0] == "unknown"
    assert t.check("", {"s2"})[0] == "missing"
    assert tok.check(tok.issue("s2")["token"], {"s2"})[0] == "expired"
    # The nginx secure_link form: sig = base64url(md5("<ex> secret")), unpadded.
    sl = Tokens(60.0, secret="s3cret").issue("s2")["token"]
    q = urllib.parse.parse_qs(sl)
    want = base64.urlsafe_b64encode(hashlib.md5(("%s s3cret" % q["ex"][0]).encode()).digest()).decode().rstrip("=")
    assert q["sig"][0] == want
    xml = azure_error("AuthenticationFailed", AZURE_STATUS[403][1], "Signature not valid in the specified time frame")
    assert xml.startswith(b'<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code>')

    # Ranges.
    assert parse_ranges(None, 100) is None and parse_ranges("bytes=x", 100) is None
    assert parse_ranges("bytes=0-9", 100) == [(0, 9)]
    assert parse_ranges("bytes=90-200", 100) == [(90, 99)]
    assert parse_ranges("bytes=-10", 100) == [(90, 99)]
    assert parse_ranges("bytes=50-", 100) == [(50, 99)]
    assert parse_ranges("bytes=100-", 100) == []
    assert parse_ranges("bytes=0-1,10-11", 100) == [(0, 1), (10, 11)]
    assert parse_failures(["x.tif:404", "y.tif:500:2"]) == {"x.tif": [404, None], "y.tif": [500, 2]}
    print("self-test passed")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--self-test", action="store_true", help="check the search logic in memory and exit")
    ap.add_argument("--items", help="JSON list of STAC Items")
    ap.add_argument("--collections", help="JSON list of STAC Collections (default: derived from the items)")
    ap.add_argument("--licence", default="proprietary", help="license of derived collections")
    ap.add_argument("--cog-dir", help="where /cog/{name} reads from")
    ap.add_argument("--sign", action="store_true", help="/cog/ needs a valid token from /api/sas/v1/token/")
    ap.add_argument("--token-life-s", type=float, default=3600.0)
    ap.add_argument("--token-valid-s", type=float, help="tokens die this long after issue, earlier than their msft:expiry says")
    ap.add_argument("--advertise-expiry-s", type=float, help="msft:expiry says now + S (S < 0: already past), the token living --token-life-s")
    ap.add_argument("--secure-link-secret", help="make token sigs checkable by nginx secure_link")
    ap.add_argument("--default-limit", type=int, default=10)
    ap.add_argument("--max-limit", type=int, default=1000)
    ap.add_argument("--next-style", choices=("full", "merge", "token"), default="full")
    ap.add_argument("--get-only", action="store_true", help="refuse POST /search (405)")
    ap.add_argument("--without", action="append", choices=("query", "sortby", "filter"), default=[],
                    help="leave an extension out of the conformance classes and answer 400 to its use")
    ap.add_argument("--latency-ms", type=float, default=0.0)
    ap.add_argument("--fail-asset", action="append", metavar="NAME:STATUS[:COUNT]")
    ap.add_argument("--moved", metavar="PREFIX", help="answer PREFIX/... with a 301 to /...")
    ap.add_argument("--relative-links", action="store_true", help="next and asset hrefs relative")
    ap.add_argument("--drop-next", action="store_true", help="no next links (an answer cut short)")
    ap.add_argument("--stuck-next", action="store_true", help="every next link is the first page's")
    ap.add_argument("--detailed-footprints", type=int, default=0, metavar="N",
                    help="serve each item's geometry as its bbox traced with N points")
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    if not args.items:
        ap.error("--items is needed (or --self-test)")
    try:
        items = json.load(open(args.items))
        collections = json.load(open(args.collections)) if args.collections else None
        if not isinstance(items, list):
            raise ValueError("--items: expected a JSON list of items")
        catalog = Catalog(items, collections, args.licence)
    except (OSError, ValueError) as e:
        raise SystemExit("stac_api_server: %s" % e)
    Handler.args = args
    Handler.catalog = catalog
    Handler.pager = Pager(args.next_style)
    WITHOUT.update(args.without)
    suffix = {"query": "#query", "sortby": "#sort", "filter": "#filter"}
    CONFORMANCE[:] = [c for c in CONFORMANCE if not any(c.endswith(suffix[e]) for e in args.without)
                      and not ("filter" in args.without and ("cql2" in c or "features-3" in c))]
    Handler.tokens = Tokens(args.token_life_s, args.secure_link_secret, args.token_valid_s, args.advertise_expiry_s)
    Handler.failures = parse_failures(args.fail_asset)
    serve(Handler)


if __name__ == "__main__":
    main()
