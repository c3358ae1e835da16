#!/usr/bin/env python3
"""A loopback HTTP server for the network tests: serves real tiles and injects faults.

    python3 http_test_server.py --root DIR [--latency-ms N] [--tls CERT.pem KEY.pem]

Prints its port on the first line of stdout, then serves on 127.0.0.1 only (HTTPS with --tls).
  GET /xyz/{path}                    the file DIR/{path}, 404 if none; HEAD and Range requests too
  GET /f/{fault}/{n}/{rest}         the first n requests of this exact path get the fault,
                                    later ones are served as /{rest} (HEAD: 503 and slow- only). Faults:
        503            HTTP 503
        429-S          HTTP 429 with Retry-After: S
        reset          close the connection without a response
        truncate       Content-Length of the whole file, half the body, then close
        html           200 with an HTML page (wrong content type)
        slow-MS        wait MS milliseconds, then serve
        stall-MS       200 headers (image/png, Content-Length 99999), then nothing for MS milliseconds
        corrupt        the JPEG file's scan cut after 300 bytes, then its end marker (whole to a marker walk: only decoding fails)
        clshort        the file whole, with a Content-Length 100 bytes short (the rest stays on a kept-alive connection)
        404            HTTP 404 (every time)
  GET /big/{n}/{anything}           200 image/jpeg, n bytes with their Content-Length
  GET /big-chunked/{n}/{anything}   200 image/jpeg, n bytes, chunked (no length known in advance)
  GET /gzip-bomb/{n}/{anything}     200 image/jpeg, Content-Encoding: gzip, n zero bytes once decoded
                                    (200 MB are ~200 KB on the wire)
  GET /gzip/{rest}                  /{rest}, gzip-encoded (a body that decodes to a real tile)
  GET /broken-png/{anything}        200 image/png, a whole response holding a PNG cut after its header
                                    (the HTTP is sound; decoding the pixels fails)
  GET /redirect/{n}/{rest}          n redirects (302), then /{rest}
  GET /redirect-loop/{anything}     302 to itself, for ever
  GET /redirect-to/{url}            302 to url (file:///..., ftp://...)
  GET /stats                        JSON: hits per path, request times, max concurrency, user agents
"""
import argparse
import gzip
import json
import os
import socket
import struct
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler

from loopback_server import send_body, serve

LOCK = threading.Lock()
BOMBS = {}  # n -> gzip of n zero bytes
STATE = {"hits": {}, "times": {}, "active": 0, "max_active": 0, "user_agents": []}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    root = "."
    latency = 0.0

    def log_message(self, *args):
        pass

    def handle(self):
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):
            pass  # a client that hung up on a body it would not take

    def send_bytes(self, status, ctype, body, extra=None):
        send_body(self, status, ctype, body, extra)

    def tile_bytes(self, rest):
        """The file a /xyz/{path} request names, for the faults that send it altered."""
        with open(os.path.join(self.root, rest.split("?", 1)[0][len("/xyz/"):]), "rb") as f:
            return f.read()

    def send_head(self, ctype, length):
        """A 200's status line and headers alone, with the Content-Length a fault claims."""
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(length))
        self.end_headers()

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
        if path.startswith("/f/slow-"):  # a stalled server stalls every request
            parts = path.split("/", 4)
            time.sleep(int(parts[2][5:]) / 1000.0)
            path = "/" + parts[4]
        elif path.startswith("/f/503/"):  # counted with the path's GETs: the first n requests of either kind
            parts = path.split("/", 4)
            with LOCK:
                n = STATE["hits"].get(self.path, 0) + 1
                STATE["hits"][self.path] = n
            if n <= int(parts[3]):
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            path = "/" + parts[4]
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

    def stream(self, n, chunked, encoded=None):
        """n bytes (or `encoded`, gzip), written until done or until the client hangs up."""
        self.before_reply()
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        if encoded is not None:
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(encoded)))
        elif chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(n))
        self.end_headers()
        try:
            if encoded is not None:
                self.wfile.write(encoded)
                return
            block = b"\xff" * (1 << 20)
            left = n
            while left > 0:
                part = block[:min(left, len(block))]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part) if chunked else part)
                left -= len(part)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading: what a bounded client does
        self.close_connection = True

    def handle_path(self, path, n):
        parts = path.split("/")
        if path.startswith("/broken-png/"):
            def chunk(kind, data):
                return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
            rows = zlib.compress(bytes(256 * (1 + 3 * 256)))  # 256 rows of 256 RGB pixels, filter byte 0
            body = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 256, 256, 8, 2, 0, 0, 0)) + chunk(b"IDAT", rows[: len(rows) // 4])
            return self.send_bytes(200, "image/png", body)
        if path.startswith("/big/") or path.startswith("/big-chunked/"):
            return self.stream(int(parts[2]), parts[1] == "big-chunked")
        if path.startswith("/gzip-bomb/"):
            size = int(parts[2])
            with LOCK:
                if size not in BOMBS:
                    c = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: the gzip format
                    zeros = bytes(1 << 20)
                    chunks = [c.compress(zeros[:min(1 << 20, size - i)]) for i in range(0, size, 1 << 20)]
                    BOMBS[size] = b"".join(chunks) + c.flush()
                bomb = BOMBS[size]
            return self.stream(size, False, bomb)
        if path.startswith("/gzip/"):
            full = os.path.join(self.root, path.split("?", 1)[0][len("/gzip/xyz/"):])
            with open(full, "rb") as f:
                return self.send_bytes(200, "image/jpeg", gzip.compress(f.read()), {"Content-Encoding": "gzip"})
        if path.startswith("/redirect/"):
            left, rest = int(parts[2]), "/".join(parts[3:])
            target = "/redirect/%d/%s" % (left - 1, rest) if left > 1 else "/" + rest
            return self.send_bytes(302, "text/plain", b"moved\n", {"Location": target})
        if path.startswith("/redirect-loop/"):
            return self.send_bytes(302, "text/plain", b"moved\n", {"Location": path})
        if path.startswith("/redirect-to/"):
            return self.send_bytes(302, "text/plain", b"moved\n", {"Location": path[len("/redirect-to/"):]})
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
                    body = self.tile_bytes(rest)
                    self.send_head("image/jpeg", len(body))
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if fault == "corrupt":
                    body = self.tile_bytes(rest)
                    sos = body.find(b"\xff\xda")
                    return self.send_bytes(200, "image/jpeg", body[: sos + 300] + b"\xff\xd9")
                if fault == "clshort":
                    body = self.tile_bytes(rest)
                    self.send_head("image/jpeg", len(body) - 100)
                    self.wfile.write(body)
                    return
                if fault == "html":
                    return self.send_bytes(200, "text/html", b"<html><body>maintenance</body></html>")
                if fault.startswith("slow-"):
                    time.sleep(int(fault[5:]) / 1000.0)
                if fault.startswith("stall-"):  # answers, then sends no byte of its body
                    self.send_head("image/png", 99999)
                    self.wfile.flush()
                    time.sleep(int(fault[6:]) / 1000.0)
                    self.close_connection = True
                    return
            return self.serve_path(rest)
        return self.serve_path(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--latency-ms", type=float, default=0)
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    args = ap.parse_args()
    Handler.root = os.path.abspath(args.root)
    Handler.latency = args.latency_ms / 1000.0
    if args.tls:
        serve_tls(args.tls[0], args.tls[1])
    else:
        serve(Handler)


def serve_tls(cert, key):
    """serve() over TLS, with a certificate no client trusts (self-signed)."""
    import ssl
    import sys
    from http.server import ThreadingHTTPServer
    ThreadingHTTPServer.daemon_threads = True
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    print(server.server_address[1], flush=True)
    threading.Thread(target=lambda: (sys.stdin.read(), server.shutdown()), daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
