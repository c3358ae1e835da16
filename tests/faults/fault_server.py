#!/usr/bin/python3
"""A fault-injecting HTTP server on 127.0.0.1 for tests/faults (python3 stdlib only).

    fault_server.py (--root DIR | --any FILE | --upstream URL) --schedule F1,F2,... [--seed S]
                    [--every K] [--only REGEX] [--min-offset BYTES]

Prints its port on the first line of stdout, then serves until stdin closes.
  --root DIR       GET/HEAD serve DIR's files (Range requests answered 206), 404 when none
  --any FILE       GET/HEAD serve FILE whatever the path (a tile everywhere)
  --upstream URL   every request (GET or POST, with its body and Authorization) is passed to
                   URL and its answer relayed: a fault proxy in front of another server
A request's key is its method and path (query left out), plus its Range for GETs, plus a
digest of its body for POSTs. Each new key eligible for faults (its path matches --only;
a range starting at or past --min-offset) takes the next entry of the schedule (shuffled
once with --seed), so the first keys meet every entry once; after that round only every
Kth new key (--every) takes the next entry, round robin, and the others are served. HEAD
requests are never faulted. An entry is FAULT:N (the
key's first N hits get the fault, later ones are served; N = 0: every hit) or `ok`:
  latency-MS      wait MS milliseconds, then serve
  500, 502, 503   that status
  429-S           429 with Retry-After: S
  reset           the answer's headers and whole Content-Length, half the body, then a TCP reset
  truncate        the answer's headers and whole Content-Length, half the body, then a clean close
  html            200 text/html, a maintenance page
  html-image      200 claiming image/jpeg, an HTML body
  empty           200 claiming image/png, no body
  stall           the answer's headers (a range's 206 too), then nothing until the client leaves
  redirect-loop   302 to the same URL, for ever
  redirect-file   302 to file:// (the file that would be served, else /etc/hostname)
  redirect-ftp    302 to ftp:// on a trap port that counts who connects (ftp_connections)
  huge            200 image/jpeg, 100 MB streamed (a JPEG start, then zeros)
  gzip-bomb       200 image/png, Content-Encoding: gzip, 200 MB of zeros in ~200 KB
GET /stats: JSON with keys (key -> {fault, label, hits, faulted}), hits per fault,
ftp_connections, and the largest number of bytes a client took of a huge body.
A key's label is its path, or for an Earth Engine computePixels body the grid's origin
"x0,y0" (translateX,translateY), so a test can match keys to its jobs.
"""
import argparse
import hashlib
import http.client
import json
import os
import random
import re
import select
import socket
import threading
import time
import urllib.parse
import zlib
import sys
from http.server import BaseHTTPRequestHandler

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from loopback_server import send_body, serve  # noqa: E402 (tests/ shares it)

LOCK = threading.Lock()
STATE = {"keys": {}, "fault_hits": {}, "ftp_connections": 0, "huge_bytes_taken": 0, "requests": 0}
CONFIG = {"schedule": [], "next": 0, "every": 1, "eligible": 0, "only": None, "min_offset": 0, "root": None, "any": None, "upstream": None, "ftp_port": 0}
HUGE_BYTES = 100 * 1024 * 1024
BOMB = {"body": b""}


def make_bomb(size=200 * 1024 * 1024):
    # Compressed a megabyte at a time: the server never holds the expanded 200 MB.
    c = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: the gzip format
    zeros = bytes(1024 * 1024)
    parts = [c.compress(zeros) for _ in range(size // len(zeros))]
    parts.append(c.flush())
    return b"".join(parts)


def ftp_trap(sock):
    # Counts connections; says hello as an FTP server would, then hangs up.
    while True:
        conn, _ = sock.accept()
        with LOCK:
            STATE["ftp_connections"] += 1
        try:
            conn.sendall(b"220 trap\r\n")
            conn.settimeout(1)
            conn.recv(100)
        except OSError:
            pass
        conn.close()


def label_of(path, body):
    if body and path.endswith("image:computePixels"):
        try:
            a = json.loads(body)["grid"]["affineTransform"]
            return "%.3f,%.3f" % (a["translateX"], a["translateY"])
        except (ValueError, KeyError, TypeError):
            pass
    return path


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    # --- the answer without a fault -------------------------------------------------
    def file_answer(self, path):
        rel = urllib.parse.unquote(path)[1:]
        root = CONFIG["root"]
        full = CONFIG["any"] or os.path.normpath(os.path.join(root, rel))
        if not CONFIG["any"] and (not full.startswith(root + os.sep) or not os.path.isfile(full)):
            return 404, {"Content-Type": "text/plain"}, b"not found\n"
        with open(full, "rb") as f:
            data = f.read()
        ctype = {".tif": "image/tiff", ".png": "image/png", ".jpg": "image/jpeg"}.get(os.path.splitext(full)[1], "application/octet-stream")
        rng = self.headers.get("Range", "")
        m = re.fullmatch(r"bytes=(\d+)-(\d*)", rng)
        if m:
            first = int(m.group(1))
            last = min(int(m.group(2)) if m.group(2) else len(data) - 1, len(data) - 1)
            if first >= len(data):
                return 416, {"Content-Type": "text/plain", "Content-Range": "bytes */%d" % len(data)}, b""
            return 206, {"Content-Type": ctype, "Content-Range": "bytes %d-%d/%d" % (first, last, len(data)),
                         "Accept-Ranges": "bytes"}, data[first:last + 1]
        return 200, {"Content-Type": ctype, "Accept-Ranges": "bytes"}, data

    def upstream_answer(self, body):
        u = urllib.parse.urlsplit(CONFIG["upstream"])
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
        headers = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "content-type", "range", "user-agent")}
        conn.request(self.command, self.path, body=body if self.command == "POST" else None, headers=headers)
        r = conn.getresponse()
        data = r.read()
        out = {k: v for k, v in r.getheaders() if k.lower() in ("content-type", "retry-after", "content-range", "accept-ranges")}
        conn.close()
        return r.status, out, data

    def answer(self, body):
        if CONFIG["upstream"]:
            return self.upstream_answer(body)
        return self.file_answer(self.path.split("?", 1)[0])

    def send(self, status, headers, body):
        extra = {k: v for k, v in headers.items() if k != "Content-Type"}
        send_body(self, status, headers.get("Content-Type", "application/octet-stream"), body, extra)

    # --- faults ---------------------------------------------------------------------
    def eligible(self, path):
        if CONFIG["only"] and not re.search(CONFIG["only"], path):
            return False
        m = re.fullmatch(r"bytes=(\d+)-\d*", self.headers.get("Range", ""))
        return not (m and int(m.group(1)) < CONFIG["min_offset"])

    def fault_for(self, body):
        path = self.path.split("?", 1)[0]
        key = self.command + " " + path
        if self.command == "GET" and self.headers.get("Range"):
            key += " " + self.headers["Range"]
        if self.command == "POST":
            key += " " + hashlib.sha1(body).hexdigest()[:16]
        with LOCK:
            STATE["requests"] += 1
            k = STATE["keys"].get(key)
            if k is None:
                fault = "ok:0"
                if self.eligible(path) and CONFIG["schedule"]:
                    n, every = CONFIG["eligible"], CONFIG["every"]
                    if n < len(CONFIG["schedule"]) or (n - len(CONFIG["schedule"])) % every == 0:
                        fault = CONFIG["schedule"][CONFIG["next"] % len(CONFIG["schedule"])]
                        CONFIG["next"] += 1
                    CONFIG["eligible"] += 1
                k = STATE["keys"][key] = {"fault": fault, "label": label_of(path, body), "hits": 0, "faulted": 0}
            k["hits"] += 1
            name, _, n = k["fault"].partition(":")
            if name == "ok" or (int(n or 0) and k["hits"] > int(n)):
                return None
            k["faulted"] += 1
            STATE["fault_hits"][name] = STATE["fault_hits"].get(name, 0) + 1
            return name

    def real_headers(self, body):
        """Sends the headers of the real answer (a range's 206 and Content-Range too); returns its body."""
        status, headers, data = self.answer(body)
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        return data

    def half_then(self, body, how):
        data = self.real_headers(body)
        self.wfile.write(data[: len(data) // 2])
        self.wfile.flush()
        self.close_connection = True
        if how == "reset":  # SO_LINGER 0: close sends RST
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.connection.close()
        else:
            self.connection.shutdown(socket.SHUT_RDWR)

    def stall(self, body):
        # The headers of the real answer, then no body.
        self.real_headers(body)
        self.wfile.flush()
        self.close_connection = True
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:  # until the client gives up (reads EOF)
            readable, _, _ = select.select([self.connection], [], [], 0.2)
            if readable:
                try:
                    if not self.connection.recv(4096):
                        return
                except OSError:
                    return

    def huge(self):
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(HUGE_BYTES))
        self.end_headers()
        self.close_connection = True
        chunk = bytes(1024 * 1024)
        sent = 0
        try:
            self.wfile.write(b"\xff\xd8\xff\xe0" + chunk[4:])
            sent = len(chunk)
            while sent < HUGE_BYTES:
                self.wfile.write(chunk)
                sent += len(chunk)
        except OSError:
            pass
        with LOCK:
            STATE["huge_bytes_taken"] = max(STATE["huge_bytes_taken"], sent)

    def redirect(self, location):
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def apply(self, fault, body):
        if fault.startswith("latency-"):
            time.sleep(int(fault[8:]) / 1000.0)
            return self.send(*self.answer(body))
        if fault in ("500", "502", "503"):
            return self.send(int(fault), {"Content-Type": "text/plain"}, b"server trouble\n")
        if fault.startswith("429-"):
            return self.send(429, {"Content-Type": "text/plain", "Retry-After": fault[4:]}, b"slow down\n")
        if fault in ("reset", "truncate"):
            return self.half_then(body, fault)
        if fault == "html":
            return self.send(200, {"Content-Type": "text/html"}, b"<html><body>down for maintenance</body></html>")
        if fault == "html-image":
            return self.send(200, {"Content-Type": "image/jpeg"}, b"<html><body>down for maintenance</body></html>")
        if fault == "empty":
            return self.send(200, {"Content-Type": "image/png"}, b"")
        if fault == "stall":
            return self.stall(body)
        if fault == "redirect-loop":
            return self.redirect(self.path)
        if fault == "redirect-file":
            target = CONFIG["any"] or (os.path.join(CONFIG["root"], self.path.split("?", 1)[0][1:]) if CONFIG["root"] else "/etc/hostname")
            return self.redirect("file://" + target)
        if fault == "redirect-ftp":
            return self.redirect("ftp://127.0.0.1:%d%s" % (CONFIG["ftp_port"], self.path))
        if fault == "huge":
            return self.huge()
        if fault == "gzip-bomb":
            return self.send(200, {"Content-Type": "image/png", "Content-Encoding": "gzip"}, BOMB["body"])
        raise ValueError("unknown fault " + fault)

    def handle_request(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path == "/stats":
            with LOCK:
                return self.send(200, {"Content-Type": "application/json"}, json.dumps(STATE).encode())
        fault = self.fault_for(body)
        if fault:
            return self.apply(fault, body)
        return self.send(*self.answer(body))

    do_GET = do_POST = handle_request

    def do_HEAD(self):
        status, headers, data = self.answer(b"")
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()


def main():
    ap = argparse.ArgumentParser()
    source = ap.add_mutually_exclusive_group(required=True)
    source.add_argument("--root")
    source.add_argument("--any")
    source.add_argument("--upstream")
    ap.add_argument("--schedule", default="")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--every", type=int, default=1)
    ap.add_argument("--only")
    ap.add_argument("--min-offset", type=int, default=0)
    args = ap.parse_args()
    schedule = [f if ":" in f else f + ":0" for f in args.schedule.split(",") if f]
    random.Random(args.seed).shuffle(schedule)
    CONFIG.update(schedule=schedule, every=max(1, args.every), only=args.only, min_offset=args.min_offset,
                  root=os.path.abspath(args.root) if args.root else None, any=os.path.abspath(args.any) if args.any else None,
                  upstream=args.upstream)
    if any(f.startswith("gzip-bomb") for f in schedule):
        BOMB["body"] = make_bomb()
    trap = socket.socket()
    trap.bind(("127.0.0.1", 0))
    trap.listen(16)
    CONFIG["ftp_port"] = trap.getsockname()[1]
    threading.Thread(target=ftp_trap, args=(trap,), daemon=True).start()
    serve(Handler)


if __name__ == "__main__":
    main()
