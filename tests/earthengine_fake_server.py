#!/usr/bin/env python3
"""A loopback stand-in for Earth Engine's REST API and Google's OAuth2 token endpoint.

    python3 earthengine_fake_server.py --public-key PEM --client-email E --raster TIF
        [--token-expires-in S] [--token-valid-s S] [--max-tokens N] [--latency-ms MS]

Prints its port, serves 127.0.0.1 only, ends when stdin closes.
  --token-expires-in S   the tokens' advertised life (expires_in; default 3600); a token used
                         after its life is answered 401, as Google does
  --token-valid-s S      tokens die S seconds after they are issued, earlier than advertised
                         (default: when advertised), as a revoked or clock-skewed token does
  --max-tokens N         the N+1th and later token requests are refused (a key revoked mid-run)
  --latency-ms MS        Earth Engine requests wait MS before they are answered
  POST /token                                   JWT-bearer grant: the assertion's RS256 signature is
                                                verified with PEM (openssl CLI), and iss/aud/scope/
                                                iat/exp are checked; answers an access token.
  POST /v1/projects/{p}/image:computePixels     needs the bearer token; checks the expression graph
                                                and the grid; answers a PNG of TIF warped to the grid.
  POST /v1/projects/{p}/value:compute           needs the bearer token; answers a fixed time_start.
  GET  /stats                                   what it saw; max_active counts Earth Engine
                                                requests only, from arrival until the reply starts.
Projects named "forbidden" answer 403; "busy" answers 429 (Retry-After: 1) to its first request.
"""
import argparse
import base64
import json
import os
import subprocess
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

from loopback_server import send_body, serve

LOCK = threading.Lock()
STATE = {"token_requests": 0, "compute_pixels": 0, "value_compute": 0, "rejected": [], "tokens": [],
         "collections": [], "busy_hits": 0, "active": 0, "max_active": 0,
         "expired": 0}
DEADLINES = {}  # token -> time.monotonic() after which it is refused
TIME_START_MS = 1625097600000  # 2021-07-01


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def find_collection(node):
    """The id argument of the ImageCollection.load call in an expression graph."""
    if isinstance(node, dict):
        call = node.get("functionInvocationValue")
        if call and call.get("functionName") == "ImageCollection.load":
            return call["arguments"]["id"]["constantValue"]
        for v in node.values():
            found = find_collection(v)
            if found:
                return found
    elif isinstance(node, list):
        for v in node:
            found = find_collection(v)
            if found:
                return found
    return None


def ee_error(code, status, message):
    return json.dumps({"error": {"code": code, "message": message, "status": status}}).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
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
                return self.reply(200, "application/json", json.dumps(STATE).encode())
        self.reply(404, "application/json", ee_error(404, "NOT_FOUND", "no such path"))

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        if self.path == "/token":
            return self.token(body)
        with LOCK:
            STATE["active"] += 1
            STATE["max_active"] = max(STATE["max_active"], STATE["active"])
            self.counted = True
        try:
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
        self.reply(200, "application/json", json.dumps({"access_token": token, "expires_in": expires_in, "token_type": "Bearer"}).encode())

    def earthengine(self, project, op, body):
        auth = self.headers.get("Authorization", "")
        with LOCK:
            known = auth.startswith("Bearer ") and auth[7:] in STATE["tokens"]
            expired = known and time.monotonic() > DEADLINES[auth[7:]]
            if expired:
                STATE["expired"] += 1
        if expired:
            return self.reply(401, "application/json", ee_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials. "
                                                                "Expected OAuth 2 access token."))
        if not known:
            return self.reply(401, "application/json", ee_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials."))
        if project == "forbidden":
            return self.reply(403, "application/json", ee_error(403, "PERMISSION_DENIED", "Permission denied."))
        if project == "busy":
            with LOCK:
                STATE["busy_hits"] += 1
                first = STATE["busy_hits"] == 1
            if first:
                return self.reply(429, "application/json", ee_error(429, "RESOURCE_EXHAUSTED", "Too many requests."), {"Retry-After": "1"})
        req = json.loads(body)
        expr = json.dumps(req.get("expression", {}))
        for needed in ("ImageCollection.load", "Filter.intersects", "Filter.dateRangeContains", "Collection.first"):
            if needed not in expr:
                return self.reply(400, "application/json", ee_error(400, "INVALID_ARGUMENT", "expression lacks " + needed))
        collection = find_collection(req.get("expression", {}))
        with LOCK:
            STATE["collections"].append(collection)
        if collection == "EMPTY/COLLECTION":
            return self.reply(400, "application/json", ee_error(400, "INVALID_ARGUMENT", "Image.visualize: Parameter 'image' is required."))
        if op == "value:compute":
            with LOCK:
                STATE["value_compute"] += 1
            if "Element.get" not in expr or "system:time_start" not in expr:
                return self.reply(400, "application/json", ee_error(400, "INVALID_ARGUMENT", "expected Element.get(system:time_start)"))
            return self.reply(200, "application/json", json.dumps({"result": TIME_START_MS}).encode())
        if op != "image:computePixels":
            return self.reply(404, "application/json", ee_error(404, "NOT_FOUND", "unknown method"))
        with LOCK:
            STATE["compute_pixels"] += 1
        if "Image.visualize" not in expr:
            return self.reply(400, "application/json", ee_error(400, "INVALID_ARGUMENT", "expected Image.visualize"))
        g = req["grid"]
        w, h = g["dimensions"]["width"], g["dimensions"]["height"]
        if w * h * 3 > 50331648:
            return self.reply(400, "application/json", ee_error(400, "INVALID_ARGUMENT", "Total request size must be less than or equal to 50331648 bytes."))
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
    ap = argparse.ArgumentParser()
    ap.add_argument("--public-key", required=True)
    ap.add_argument("--client-email", required=True)
    ap.add_argument("--raster", required=True)
    ap.add_argument("--token-expires-in", type=int, default=3600)
    ap.add_argument("--token-valid-s", type=float)
    ap.add_argument("--max-tokens", type=int)
    ap.add_argument("--latency-ms", type=float, default=0)
    Handler.args = ap.parse_args()
    serve(Handler)


if __name__ == "__main__":
    main()
