#!/usr/bin/env python3
"""A loopback stand-in for Earth Engine's REST API and Google's OAuth2 token endpoint.

    python3 earthengine_fake_server.py --public-key PEM --client-email E (--raster TIF | --flat-png)
        [--token-expires-in S] [--token-valid-s S] [--max-tokens N] [--latency-ms MS]
        [--max-concurrent N] [--max-per-second R] [--fail-value-compute STATUS] [--footprints JSON]
        [--ignore-dates]

Prints its port, serves 127.0.0.1 only, ends when stdin closes.
  --token-expires-in S   the tokens' advertised life (expires_in; default 3600); a token used
                         after its life is answered 401, as Google does
  --token-valid-s S      tokens die S seconds after they are issued, earlier than advertised
                         (default: when advertised), as a revoked or clock-skewed token does
  --max-tokens N         the N+1th and later token requests are refused (a key revoked mid-run)
  --latency-ms MS        Earth Engine requests wait MS before they are answered
  --max-concurrent N     the project's quota, as Earth Engine's defaults (40 and 100): a request
  --max-per-second R     arriving while N others are in progress, or beyond a token bucket of R
                         a second (bursts of R), is answered 429 and counted (quota_429; those over
                         the rate also in quota_429_rate); 0: no limit
  --flat-png             pixels are one flat colour (no GDAL per request: for benchmarks);
                         without --raster every footprint has an image
  --gray-png             pixels are a flat one-band (gray) PNG, whatever bands were asked (a lying answer)
  --fail-value-compute STATUS   every value:compute is answered STATUS
  --footprints JSON      where collections have images, as the real ones do (SkySat's sparse scenes, a
                         national orthophoto's country): {"COLLECTION": GEOMETRY, ...}, GEOMETRY a GeoJSON
                         Polygon or MultiPolygon, or a list of [west, south, east, north] boxes ([] = nowhere).
                         A footprint meets it when a corner or the centre of the footprint lies in it, or
                         a vertex of it lies in the footprint. Collections not named: as without it.
  POST /token                                   JWT-bearer grant: the assertion's RS256 signature is
                                                verified with PEM (openssl CLI), and iss/aud/scope/
                                                iat/exp are checked; answers an access token.
  POST /v1/projects/{p}/image:computePixels     needs the bearer token; checks the expression graph
                                                node by node, and that the grid (crsCode, affineTransform,
                                                dimensions) covers exactly the footprint the expression
                                                selects over (to a quarter pixel); records each grid in
                                                `grids`; answers a PNG of TIF warped to the grid.
  POST /v1/projects/{p}/value:compute           needs the bearer token; checks the batched graph of
                                                acquisition times node by node (List.map over
                                                footprints) and answers, per footprint, [time_start]
                                                or [] where no image is.
  GET  /stats                                   what it saw; max_active counts Earth Engine
                                                requests only, from arrival until the reply starts;
                                                ee_requests every Earth Engine request that arrived;
                                                cpu_seconds the fake's own CPU time; token_use, per
                                                token, the requests that came with it and the least
                                                life it had left when one arrived (negative: expired).
A footprint has an image when it meets TIF's extent (and the collection is not EMPTY/COLLECTION,
and it meets the collection's --footprints);
that image's time_start is July 1 of the latest year from 2000 to 2021 within the DateRange asked
(none within it: no image), plus round(west * 1e6) mod 86400 seconds (west of the footprint, in
degrees), so each tile has its own time and a mix-up shows. --ignore-dates: 2021's, whatever
the dates (a service that ignores the filter).
Projects named "forbidden" answer 403; "busy" answers 429 (Retry-After: 1) to its first request.
"""
import argparse
import base64
import datetime
import json
import os
import subprocess
import tempfile
import threading
import time
import math
import struct
import urllib.parse
import zlib
from http.server import BaseHTTPRequestHandler

from loopback_server import send_body, serve

LOCK = threading.Lock()
STATE = {"token_requests": 0, "compute_pixels": 0, "value_compute": 0, "footprints": 0, "rejected": [], "tokens": [],
         "collections": [], "busy_hits": 0, "active": 0, "max_active": 0, "ee_requests": 0, "quota_429": 0, "quota_429_rate": 0,
         "expired": 0, "grids": [], "token_use": {}, "user_project_wrong": 0, "user_projects": [],
         "times_by_collection": {}, "no_image_by_collection": {}}
DEADLINES = {}  # token -> time.monotonic() after which it is refused
TIME_START_MS = 1625097600000  # 2021-07-01
IGNORE_DATES = [False]
BUCKET = {"tokens": 0.0, "last": 0.0}  # the project's requests-per-second quota
EXTENT = None  # TIF's lon/lat bounds (west, south, east, north); None: imagery everywhere
PNGS = {}  # (width, height) -> a flat PNG
FOOTPRINTS = {}  # collection -> list of rings (lists of (lon, lat)), from --footprints


class Invalid(Exception):
    """An expression graph Earth Engine would refuse (HTTP 400 INVALID_ARGUMENT)."""


def time_start_ms(west, dates=None):
    """The time of the most recent image within `dates` ([start, end) in ms, DateRange's), as
    Earth Engine's sort by time descending gives it: a collection has an image on July 1 of
    each year from 2000 to 2021, plus round(west * 1e6) mod 86400 seconds; None when none is
    within the dates. Without `dates` (or with --ignore-dates: a service that ignores the
    filter), 2021's."""
    offset = (math.floor(west * 1e6 + 0.5) % 86400) * 1000
    if dates is None or IGNORE_DATES[0]:
        return TIME_START_MS + offset
    for year in range(2021, 1999, -1):
        t = int(datetime.datetime(year, 7, 1, tzinfo=datetime.timezone.utc).timestamp() * 1000) + offset
        if dates[0] <= t < dates[1]:
            return t
    return None


def date_ms(text):
    """DateRange's start or end ("YYYY-MM-DD", as the client sends them) in ms since 1970 UTC."""
    try:
        d = datetime.datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        raise Invalid("DateRange: `%s` is not a date" % text)
    return int((d - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)).total_seconds() * 1000)


def in_ring(ring, x, y):
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1]):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def meets_footprint(rings, box):
    w, s, e, n = box
    points = [(w, s), (w, n), (e, s), (e, n), ((w + e) / 2, (s + n) / 2)]
    # Even-odd over every ring: a point in a hole is in two rings (outer and hole).
    if any(sum(in_ring(r, x, y) for r in rings) % 2 for x, y in points):
        return True
    return any(w <= x <= e and s <= y <= n for r in rings for x, y in r)


def load_footprints(path):
    for collection, geometry in json.load(open(path)).items():
        rings = []
        if isinstance(geometry, list):
            rings = [[(w, s), (e, s), (e, n), (w, n)] for w, s, e, n in geometry]
        elif geometry["type"] == "Polygon":
            rings = [[tuple(p[:2]) for p in r] for r in geometry["coordinates"]]
        elif geometry["type"] == "MultiPolygon":
            rings = [[tuple(p[:2]) for p in r] for poly in geometry["coordinates"] for r in poly]
        else:
            raise SystemExit(path + ": " + collection + ": expected a Polygon, a MultiPolygon or a list of boxes")
        FOOTPRINTS[collection] = rings


def has_image(collection, box):
    if collection == "EMPTY/COLLECTION":
        return False
    if collection in FOOTPRINTS and not meets_footprint(FOOTPRINTS[collection], box):
        return False
    if EXTENT is None:
        return True
    w, s, e, n = box
    return not (e < EXTENT[0] or w > EXTENT[2] or n < EXTENT[1] or s > EXTENT[3])


def flat_png(w, h, gray=False):
    if (w, h, gray) not in PNGS:
        def chunk(kind, data):
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        rows = (b"\x00" + (bytes((90,)) if gray else bytes((90, 120, 60))) * w) * h
        PNGS[(w, h, gray)] = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0 if gray else 2, 0, 0, 0)) +
                              chunk(b"IDAT", zlib.compress(rows, 1)) + chunk(b"IEND", b""))
    return PNGS[(w, h, gray)]


# The expression graph, checked node by node against the algorithm signatures of Earth
# Engine (github.com/google/earthengine-api python/ee/tests/algorithms.json) and the shapes
# the official client's serializer makes.
def call(node, name, required, optional=()):
    """The arguments of a call of `name`, which must have exactly the `required` ones (and maybe `optional`)."""
    f = node.get("functionInvocationValue") if isinstance(node, dict) else None
    if not f or f.get("functionName") != name:
        raise Invalid("expected %s, got %s" % (name, json.dumps(node)[:120]))
    args = f.get("arguments", {})
    keys = set(args)
    if not set(required) <= keys or not keys <= set(required) | set(optional):
        raise Invalid("%s: arguments %s, expected %s (optional %s)" % (name, sorted(keys), sorted(required), sorted(optional)))
    return args


def const(node, what):
    if not isinstance(node, dict) or "constantValue" not in node:
        raise Invalid(what + ": expected a constant")
    return node["constantValue"]


def box_of(coordinates, what):
    if (not isinstance(coordinates, list) or len(coordinates) != 4 or
            not all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in coordinates)):
        raise Invalid(what + ": expected [west, south, east, north]")
    # Rectangle takes the low corner, then the high one: a west above east is not a box across
    # the antimeridian but the band around the rest of the globe (Google's client sends such a
    # box with east + 360, python/ee/geometry.py BBox).
    if coordinates[0] > coordinates[2]:
        raise Invalid("%s: west %s > east %s would select the rest of the globe; send east + 360" % (what, coordinates[0], coordinates[2]))
    return coordinates


def selection(node, region):
    """The collection id of a sorted image selection over `region(node)`, checked whole:
    load, filter bounds, filter dates, sort by time descending, maybe by cloud ascending."""
    a = call(node, "Collection.limit", ["collection", "key", "ascending"])
    if const(a["key"], "sort key") != "system:time_start":
        if const(a["ascending"], "cloud sort") is not True:
            raise Invalid("the cloud sort must be ascending")
        a = call(a["collection"], "Collection.limit", ["collection", "key", "ascending"])
    if const(a["key"], "sort key") != "system:time_start" or const(a["ascending"], "time sort") is not False:
        raise Invalid("expected the sort by system:time_start, descending")
    a = call(a["collection"], "Collection.filter", ["collection", "filter"])
    f = call(a["filter"], "Filter.dateRangeContains", ["leftValue", "rightField"])
    if const(f["rightField"], "date field") != "system:time_start":
        raise Invalid("dates must filter system:time_start")
    d = call(f["leftValue"], "DateRange", ["start", "end"])
    for k in ("start", "end"):
        if not isinstance(const(d[k], "date"), str):
            raise Invalid("DateRange: %s must be a date string" % k)
    dates = (date_ms(const(d["start"], "date")), date_ms(const(d["end"], "date")))
    a = call(a["collection"], "Collection.filter", ["collection", "filter"])
    f = call(a["filter"], "Filter.intersects", ["leftField", "rightValue"])
    if const(f["leftField"], "bounds field") != ".all":
        raise Invalid("Filter.intersects: leftField must be .all")
    g = call(call(f["rightValue"], "Feature", ["geometry"])["geometry"], "GeometryConstructors.Rectangle", ["coordinates", "geodesic"])
    if const(g["geodesic"], "geodesic") is not False:
        raise Invalid("Rectangle: geodesic must be false")
    region(g["coordinates"])
    collection = const(call(a["collection"], "ImageCollection.load", ["id"])["id"], "collection id")
    if not isinstance(collection, str):
        raise Invalid("ImageCollection.load: id must be a string")
    return collection, dates


def pixels_request(expr):
    """(collection, footprint) of a computePixels expression: visualize(first(selection over a constant rectangle))."""
    values = expr.get("values", {})
    v = call(values.get(expr.get("result")), "Image.visualize", ["image", "bands"], ["min", "max"])
    bands = const(v["bands"], "bands")
    if not isinstance(bands, list) or len(bands) != 3:
        raise Invalid("Image.visualize: expected 3 bands")
    box = []
    collection, dates = selection(call(v["image"], "Collection.first", ["collection"])["collection"],
                                  lambda c: box.extend(box_of(const(c, "Rectangle coordinates"), "Rectangle")))
    return collection, box, dates


def times_request(expr):
    """(collection, footprints) of the batched acquisition-time expression:
    List.map(footprints, f) with f(c) = aggregate_array(limit(selection over Rectangle(c), 1), system:time_start)."""
    values = expr.get("values", {})
    m = call(values.get(expr.get("result")), "List.map", ["list", "baseAlgorithm"], ["dropNulls"])
    footprints = const(m["list"], "List.map list")
    if not isinstance(footprints, list) or not footprints:
        raise Invalid("List.map: expected a list of footprints")
    footprints = [box_of(b, "footprint") for b in footprints]
    if "dropNulls" in m and const(m["dropNulls"], "dropNulls") is not False:
        raise Invalid("List.map: dropNulls would drop tiles and shift the times")
    fn = m["baseAlgorithm"].get("functionDefinitionValue") if isinstance(m["baseAlgorithm"], dict) else None
    if not fn or not isinstance(fn.get("argumentNames"), list) or len(fn["argumentNames"]) != 1 or fn.get("body") not in values:
        raise Invalid("List.map: baseAlgorithm must be a function of one argument whose body is in values")
    var = fn["argumentNames"][0]
    a = call(values[fn["body"]], "AggregateFeatureCollection.array", ["collection", "property"])
    if const(a["property"], "property") != "system:time_start":
        raise Invalid("AggregateFeatureCollection.array: expected system:time_start")
    limit = call(a["collection"], "Collection.limit", ["collection", "limit"])
    if const(limit["limit"], "limit") != 1:
        raise Invalid("Collection.limit: expected the first image only (limit 1)")

    def region(c):
        if c != {"argumentReference": var}:
            raise Invalid("Rectangle: coordinates must be the mapped argument " + var)
    collection, dates = selection(limit["collection"], region)
    return collection, footprints, dates


def utm_to_lonlat(epsg, x, y):
    """EPSG 326zz/327zz (UTM on WGS84) to lon/lat in degrees: the inverse transverse Mercator
    series (Snyder, Map Projections, USGS 1987, eq. 8-12 to 8-18), millimetres within a zone."""
    zone, south = epsg % 100, epsg // 100 == 327
    a, f, k0 = 6378137.0, 1 / 298.257223563, 0.9996
    e2 = f * (2 - f)
    ep2 = e2 / (1 - e2)
    x -= 500000.0
    if south:
        y -= 10000000.0
    mu = y / k0 / (a * (1 - e2 / 4 - 3 * e2 ** 2 / 64 - 5 * e2 ** 3 / 256))
    e1 = (1 - math.sqrt(1 - e2)) / (1 + math.sqrt(1 - e2))
    phi = (mu + (3 * e1 / 2 - 27 * e1 ** 3 / 32) * math.sin(2 * mu) + (21 * e1 ** 2 / 16 - 55 * e1 ** 4 / 32) * math.sin(4 * mu) +
           151 * e1 ** 3 / 96 * math.sin(6 * mu) + 1097 * e1 ** 4 / 512 * math.sin(8 * mu))
    s, c, t = math.sin(phi), math.cos(phi), math.tan(phi)
    c1, t1 = ep2 * c * c, t * t
    n1 = a / math.sqrt(1 - e2 * s * s)
    r1 = a * (1 - e2) / (1 - e2 * s * s) ** 1.5
    d = x / (n1 * k0)
    lat = phi - n1 * t / r1 * (d ** 2 / 2 - (5 + 3 * t1 + 10 * c1 - 4 * c1 ** 2 - 9 * ep2) * d ** 4 / 24 +
                               (61 + 90 * t1 + 298 * c1 + 45 * t1 ** 2 - 252 * ep2 - 3 * c1 ** 2) * d ** 6 / 720)
    lon = (d - (1 + 2 * t1 + c1) * d ** 3 / 6 + (5 - 2 * c1 + 28 * t1 - 3 * c1 ** 2 + 8 * ep2 + 24 * t1 ** 2) * d ** 5 / 120) / c
    return zone * 6 - 183 + math.degrees(lon), math.degrees(lat)


def check_grid(grid, box):
    """The grid must be the tile whose footprint the expression selects over: a north-up UTM
    grid of square pixels whose outline, in lon/lat, has `box` for bounds (a quarter pixel)."""
    try:
        crs, a, dims = grid["crsCode"], grid["affineTransform"], grid["dimensions"]
        w, h = dims["width"], dims["height"]
        sx, sy, x0, y0 = a["scaleX"], a["scaleY"], a["translateX"], a["translateY"]
        shear = a.get("shearX", 0), a.get("shearY", 0)
    except (KeyError, TypeError):
        raise Invalid("grid: expected crsCode, affineTransform and dimensions")
    if not (isinstance(crs, str) and crs.startswith("EPSG:") and crs[5:].isdigit() and int(crs[5:]) // 100 in (326, 327)):
        raise Invalid("grid: the fake knows UTM grids (EPSG:326zz/327zz) only, got %s" % crs)
    if shear != (0, 0) or not (sx > 0 and sy == -sx) or not (w > 0 and h > 0):
        raise Invalid("grid: expected a north-up grid of square pixels")
    epsg = int(crs[5:])
    x1, y1 = x0 + w * sx, y0 + h * sy
    outline = [utm_to_lonlat(epsg, x0 + (x1 - x0) * i / 4, y) for i in range(5) for y in (y0, y1)]
    outline += [utm_to_lonlat(epsg, x, y0 + (y1 - y0) * i / 4) for i in range(1, 4) for x in (x0, x1)]
    lons, lats = [p[0] for p in outline], [p[1] for p in outline]
    west, south, east, north = box
    tol_lat = sx / 4 / 111320.0
    tol_lon = tol_lat / max(0.01, math.cos(math.radians((south + north) / 2)))
    wrap = lambda d: (d + 180) % 360 - 180
    if (abs(wrap(min(lons) - west)) > tol_lon or abs(wrap(max(lons) - east)) > tol_lon or
            abs(min(lats) - south) > tol_lat or abs(max(lats) - north) > tol_lat):
        raise Invalid("grid %s %dx%d at (%.3f, %.3f) covers lon %.7f..%.7f lat %.7f..%.7f, not the footprint %s" %
                      (crs, w, h, x0, y0, min(lons), max(lons), min(lats), max(lats), box))


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def ee_error(code, status, message):
    return json.dumps({"error": {"code": code, "message": message, "status": status}}).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # A reply's headers and body leave in two writes; with Nagle's algorithm the body would
    # wait for the client's delayed ACK of the headers (40 ms on Linux), on every request.
    disable_nagle_algorithm = True
    args = None

    def log_message(self, *a):
        pass

    def reply(self, status, ctype, body, extra=None):
        send_body(self, status, ctype, body, extra)

    def before_reply(self):
        # An Earth Engine request is in progress from its arrival until its reply starts (see send_body).
        if getattr(self, "counted", False):
            self.counted = False
            with LOCK:
                STATE["active"] -= 1

    def do_GET(self):
        if self.path == "/stats":
            with LOCK:
                STATE["cpu_seconds"] = time.process_time()
                return self.reply(200, "application/json", json.dumps(STATE).encode())
        self.reply(404, "application/json", ee_error(404, "NOT_FOUND", "no such path"))

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        if self.path == "/token":
            return self.token(body)
        with LOCK:
            STATE["ee_requests"] += 1
            STATE["active"] += 1
            STATE["max_active"] = max(STATE["max_active"], STATE["active"])
            self.counted = True
            over = bool(self.args.max_concurrent) and STATE["active"] > self.args.max_concurrent
            if self.args.max_per_second and not over:
                now = time.monotonic()
                BUCKET["tokens"] = min(self.args.max_per_second, BUCKET["tokens"] + (now - BUCKET["last"]) * self.args.max_per_second)
                BUCKET["last"] = now
                over = BUCKET["tokens"] < 1
                if over:
                    STATE["quota_429_rate"] += 1
                else:
                    BUCKET["tokens"] -= 1
            if over:
                STATE["quota_429"] += 1
        try:
            if over:
                return self.reply(429, "application/json", ee_error(429, "RESOURCE_EXHAUSTED", "Too many concurrent requests or requests per second."))
            if self.args.latency_ms:
                time.sleep(self.args.latency_ms / 1000.0)
            parts = self.path.split("/")  # '', v1, projects, p, op
            if len(parts) != 5 or parts[1] != "v1" or parts[2] != "projects":
                return self.reply(404, "application/json", ee_error(404, "NOT_FOUND", "no such path"))
            return self.earthengine(parts[3], parts[4], body)
        finally:
            self.before_reply()

    def token(self, body):
        with LOCK:
            STATE["token_requests"] += 1
        form = urllib.parse.parse_qs(body.decode())
        if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"]:
            return self.reply(400, "application/json", b'{"error":"unsupported_grant_type"}')
        jwt = form.get("assertion", [""])[0]
        try:
            h, c, sig = jwt.split(".")
            header, claims = json.loads(b64url_decode(h)), json.loads(b64url_decode(c))
        except Exception:
            return self.reply(400, "application/json", b'{"error":"invalid_grant","error_description":"malformed JWT"}')
        with tempfile.TemporaryDirectory() as d:
            open(os.path.join(d, "in"), "wb").write((h + "." + c).encode())
            open(os.path.join(d, "sig"), "wb").write(b64url_decode(sig))
            ok = subprocess.run(["openssl", "dgst", "-sha256", "-verify", self.args.public_key, "-signature",
                                 os.path.join(d, "sig"), os.path.join(d, "in")], capture_output=True).returncode == 0
        now = time.time()
        problems = []
        if not ok:
            problems.append("Invalid JWT Signature.")
        if header.get("alg") != "RS256":
            problems.append("alg must be RS256")
        if claims.get("iss") != self.args.client_email:
            problems.append("wrong iss")
        if claims.get("aud") != "http://127.0.0.1:%d/token" % self.server.server_address[1]:
            problems.append("wrong aud")
        if "earthengine" not in claims.get("scope", "") and "cloud-platform" not in claims.get("scope", ""):
            problems.append("scope")
        if not (claims.get("iat", 0) - 300 <= now <= claims.get("exp", 0)) or claims.get("exp", 0) - claims.get("iat", 0) > 3600:
            problems.append("bad iat/exp")
        if not problems and self.args.max_tokens is not None and len(STATE["tokens"]) >= self.args.max_tokens:
            problems.append("Invalid JWT Signature.")  # what Google says for a deleted key
        if problems:
            with LOCK:
                STATE["rejected"].append(problems)
            return self.reply(400, "application/json",
                              json.dumps({"error": "invalid_grant", "error_description": " ".join(problems)}).encode())
        expires_in = self.args.token_expires_in
        valid_s = self.args.token_valid_s if self.args.token_valid_s is not None else expires_in
        with LOCK:
            token = "ya29.fake-%d" % STATE["token_requests"]
            STATE["tokens"].append(token)
            DEADLINES[token] = time.monotonic() + valid_s
        # --expires-in-as-string: "3599", as some OAuth servers send it (RFC 6749 says a number)
        expires = str(expires_in) if self.args.expires_in_as_string else expires_in
        self.reply(200, "application/json", json.dumps({"access_token": token, "expires_in": expires, "token_type": "Bearer"}).encode())

    def earthengine(self, project, op, body):
        auth = self.headers.get("Authorization", "")
        # Google's client names the project to bill and check on every call (X-Goog-User-Project);
        # without it the key's own project is used, whatever the URL says.
        user_project = self.headers.get("X-Goog-User-Project")
        with LOCK:
            if user_project != project:
                STATE["user_project_wrong"] += 1
            if user_project not in STATE["user_projects"]:
                STATE["user_projects"].append(user_project)
            known = auth.startswith("Bearer ") and auth[7:] in STATE["tokens"]
            left = DEADLINES[auth[7:]] - time.monotonic() if known else None
            expired = known and left < 0
            if expired:
                STATE["expired"] += 1
            if known:
                use = STATE["token_use"].setdefault(auth[7:], {"requests": 0, "min_left_s": left})
                use["requests"] += 1
                use["min_left_s"] = min(use["min_left_s"], left)
        if expired:
            return self.reply(401, "application/json", ee_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials. "
                                                                "Expected OAuth 2 access token."))
        if not known:
            return self.reply(401, "application/json", ee_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials."))
        if project == "forbidden":
            return self.reply(403, "application/json", ee_error(403, "PERMISSION_DENIED", "Permission denied."))
        if project == "echo":  # a server that echoes the credentials it was sent in its message
            return self.reply(403, "application/json", ee_error(403, "PERMISSION_DENIED", "Permission denied for %s (header '%s')" % (auth[7:], auth)))
        if project == "busy":
            with LOCK:
                STATE["busy_hits"] += 1
                first = STATE["busy_hits"] == 1
            if first:
                return self.reply(429, "application/json", ee_error(429, "RESOURCE_EXHAUSTED", "Too many requests."), {"Retry-After": "1"})
        req = json.loads(body)
        expr = req.get("expression", {})
        if op == "value:compute":
            with LOCK:
                STATE["value_compute"] += 1
            if self.args.fail_value_compute:
                code = self.args.fail_value_compute
                return self.reply(code, "application/json", ee_error(code, "INTERNAL", "Computation timed out."))
            try:
                collection, footprints, dates = times_request(expr)
            except Invalid as e:
                return self.reply(400, "application/json", ee_error(400, "INVALID_ARGUMENT", str(e)))
            with LOCK:
                STATE["collections"].append(collection)
                STATE["footprints"] += len(footprints)
            times = [[t] if has_image(collection, b) and (t := time_start_ms(b[0], dates)) is not None else [] for b in footprints]
            with LOCK:
                by = STATE["times_by_collection"]
                by[collection] = by.get(collection, 0) + len(footprints)
                none = STATE["no_image_by_collection"]
                none[collection] = none.get(collection, 0) + sum(1 for t in times if not t)
            return self.reply(200, "application/json", json.dumps({"result": times}).encode())
        if op != "image:computePixels":
            return self.reply(404, "application/json", ee_error(404, "NOT_FOUND", "unknown method"))
        with LOCK:
            STATE["compute_pixels"] += 1
        try:
            collection, box, dates = pixels_request(expr)
            check_grid(req.get("grid"), box)
        except Invalid as e:
            with LOCK:
                STATE["rejected"].append([str(e)])
            return self.reply(400, "application/json", ee_error(400, "INVALID_ARGUMENT", str(e)))
        g = req["grid"]
        with LOCK:
            STATE["collections"].append(collection)
            a = g["affineTransform"]
            STATE["grids"].append([g["crsCode"], a["translateX"], a["translateY"], a["scaleX"], g["dimensions"]["width"],
                                   g["dimensions"]["height"]])
        if not has_image(collection, box) or time_start_ms(box[0], dates) is None:
            return self.reply(400, "application/json", ee_error(400, "INVALID_ARGUMENT", "Image.visualize: Parameter 'image' is required."))
        w, h = g["dimensions"]["width"], g["dimensions"]["height"]
        if w * h * 3 > 50331648:
            return self.reply(400, "application/json", ee_error(400, "INVALID_ARGUMENT", "Total request size must be less than or equal to 50331648 bytes."))
        if self.args.gray_png:
            return self.reply(200, "image/png", flat_png(w, h, True))
        if self.args.flat_png:
            return self.reply(200, "image/png", flat_png(w, h))
        a = g["affineTransform"]
        x0, y1 = a["translateX"], a["translateY"]
        x1, y0 = x0 + w * a["scaleX"], y1 + h * a["scaleY"]
        with tempfile.TemporaryDirectory() as d:
            tif, png = os.path.join(d, "t.tif"), os.path.join(d, "t.png")
            subprocess.run(["gdalwarp", "-q", "-t_srs", g["crsCode"], "-te", str(x0), str(y0), str(x1), str(y1), "-ts", str(w), str(h),
                            "-r", "bilinear", "-dstalpha", self.args.raster, tif], check=True)
            subprocess.run(["gdal_translate", "-q", "-of", "PNG", tif, png], check=True)
            data = open(png, "rb").read()
        self.reply(200, "image/png", data)


def main():
    global EXTENT
    ap = argparse.ArgumentParser()
    ap.add_argument("--public-key", required=True)
    ap.add_argument("--client-email", required=True)
    ap.add_argument("--raster")
    ap.add_argument("--flat-png", action="store_true")
    ap.add_argument("--gray-png", action="store_true")
    ap.add_argument("--token-expires-in", type=int, default=3600)
    ap.add_argument("--token-valid-s", type=float)
    ap.add_argument("--expires-in-as-string", action="store_true")
    ap.add_argument("--max-tokens", type=int)
    ap.add_argument("--latency-ms", type=float, default=0)
    ap.add_argument("--max-concurrent", type=int, default=40)
    ap.add_argument("--max-per-second", type=float, default=100)
    ap.add_argument("--fail-value-compute", type=int)
    ap.add_argument("--imagery-everywhere", action="store_true", help="every collection has an image everywhere (not only over --raster)")
    ap.add_argument("--footprints", help="JSON: where each named collection has images")
    ap.add_argument("--ignore-dates", action="store_true", help="answer 2021's image whatever dates are asked (a service that ignores the filter)")
    args = ap.parse_args()
    IGNORE_DATES[0] = args.ignore_dates
    if args.footprints:
        load_footprints(args.footprints)
    if not args.raster and not args.flat_png:
        ap.error("--raster TIF or --flat-png is needed")
    if args.raster and not args.imagery_everywhere:
        ring = json.loads(subprocess.run(["gdalinfo", "-json", args.raster], check=True, capture_output=True).stdout)["wgs84Extent"]["coordinates"][0]
        EXTENT = (min(p[0] for p in ring), min(p[1] for p in ring), max(p[0] for p in ring), max(p[1] for p in ring))
    BUCKET["tokens"], BUCKET["last"] = args.max_per_second, time.monotonic()
    Handler.args = args
    serve(Handler)


if __name__ == "__main__":
    main()
