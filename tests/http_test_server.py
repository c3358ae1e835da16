#!/usr/bin/env python3
"""A loopback HTTP server for the network tests: serves real tiles and injects faults.

    python3 http_test_server.py --root DIR [--latency-ms N]

Prints its port on the first line of stdout, then serves on 127.0.0.1 only.
  GET /xyz/{path}                    the file DIR/{path}, 404 if none; HEAD and Range requests too
  GET /f/{fault}/{n}/{rest}         the first n requests of this exact path get the fault,
                                    later ones are served as /{rest}. Faults:
        503            HTTP 503
        429-S          HTTP 429 with Retry-After: S
        reset          close the connection without a response
        truncate       Content-Length of the whole file, half the body, then close
        html           200 with an HTML page (wrong content type)
        slow-MS        wait MS milliseconds, then serve
        404            HTTP 404 (every time)
  GET /stats                        JSON: hits per path, request times, max concurrency, user agents
"""
import argparse
import json
import os
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler

from loopback_server import send_body, serve

LOCK = threading.Lock()
STATE = {"hits": {}, "times": {}, "active": 0, "max_active": 0, "user_agents": []}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    root = "."
    latency = 0.0

    def log_message(self, *args):
        pass

    def send_bytes(self, status, ctype, body, extra=None):
        send_body(self, status, ctype, body, extra)

    def serve_path(self, path):
        path = path.split("?", 1)[0]
        if path.startswith("/xyz/"):
            rel = path[len("/xyz/"):]
            full = os.path.normpath(os.path.join(self.root, rel))
            if full.startswith(os.path.abspath(self.root)) and os.path.isfile(full):
                with open(full, "rb") as f:
                    data = f.read()
                ctype = "image/tiff" if full.endswith(".tif") else "image/jpeg"
                rng = self.headers.get("Range", "")
                if rng.startswith("bytes="):  # what GDAL's /vsicurl/ reads a COG with
                    first, _, last = rng[6:].partition("-")
                    first = int(first)
                    last = min(int(last) if last else len(data) - 1, len(data) - 1)
                    return self.send_bytes(206, ctype, data[first:last + 1],
                                           {"Content-Range": "bytes %d-%d/%d" % (first, last, len(data)), "Accept-Ranges": "bytes"})
                return self.send_bytes(200, ctype, data, {"Accept-Ranges": "bytes"})
        return self.send_bytes(404, "text/plain", b"not found\n")

    def do_HEAD(self):
        path = self.path.split("?", 1)[0]
        full = os.path.normpath(os.path.join(self.root, path[len("/xyz/"):])) if path.startswith("/xyz/") else ""
        if full.startswith(os.path.abspath(self.root)) and os.path.isfile(full):
            self.send_response(200)
            self.send_header("Content-Length", str(os.path.getsize(full)))
            self.send_header("Accept-Ranges", "bytes")
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
        self.end_headers()

    def before_reply(self):
        # A request is in progress from its arrival until its reply starts (see send_body).
        if getattr(self, "counted", False):
            self.counted = False
            with LOCK:
                STATE["active"] -= 1

    def do_GET(self):
        if self.path == "/stats":  # the test's own question is not one of the requests it counts
            return self.handle_path(self.path, 0)
        with LOCK:
            STATE["active"] += 1
            STATE["max_active"] = max(STATE["max_active"], STATE["active"])
            self.counted = True
            n = STATE["hits"].get(self.path, 0) + 1
            STATE["hits"][self.path] = n
            STATE["times"].setdefault(self.path, []).append(time.monotonic())
            ua = self.headers.get("User-Agent", "")
            if ua not in STATE["user_agents"]:
                STATE["user_agents"].append(ua)
        try:
            if self.latency:
                time.sleep(self.latency)
            self.handle_path(self.path, n)
        finally:
            self.before_reply()

    def handle_path(self, path, n):
        if path == "/stats":
            with LOCK:
                body = json.dumps(STATE).encode()
            return self.send_bytes(200, "application/json", body)
        if path.startswith("/f/"):
            parts = path.split("/", 4)  # '', 'f', fault, n, rest
            fault, count, rest = parts[2], int(parts[3]), "/" + parts[4]
            if fault == "404":
                return self.send_bytes(404, "text/plain", b"no such tile\n")
            if n <= count:
                if fault == "503":
                    return self.send_bytes(503, "text/plain", b"busy\n")
                if fault.startswith("429-"):
                    return self.send_bytes(429, "text/plain", b"slow down\n", {"Retry-After": fault[4:]})
                if fault == "reset":
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    self.close_connection = True
                    self.connection.close()
                    return
                if fault == "truncate":
                    full = os.path.join(self.root, rest.split("?", 1)[0][len("/xyz/"):])
                    with open(full, "rb") as f:
                        body = f.read()
                    self.send_response(200)
                    self.send_header("Content-Type", "image/jpeg")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if fault == "html":
                    return self.send_bytes(200, "text/html", b"<html><body>maintenance</body></html>")
                if fault.startswith("slow-"):
                    time.sleep(int(fault[5:]) / 1000.0)
            return self.serve_path(rest)
        return self.serve_path(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--latency-ms", type=float, default=0)
    args = ap.parse_args()
    Handler.root = os.path.abspath(args.root)
    Handler.latency = args.latency_ms / 1000.0
    serve(Handler)


if __name__ == "__main__":
    main()
