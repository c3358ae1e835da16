"""What the loopback test servers share: answering with a body, and serving on
127.0.0.1 on a free port (printed first) until standard input closes."""
import sys
import threading
from http.server import ThreadingHTTPServer


def send_body(handler, status, ctype, body, extra=None):
    # A server that counts requests in progress stops counting this one here: the client
    # may send its next request as soon as it has the reply, before this thread moves on.
    getattr(handler, "before_reply", lambda: None)()
    handler.send_response(status)
    handler.send_header("Content-Type", ctype)
    handler.send_header("Content-Length", str(len(body)))
    for k, v in (extra or {}).items():
        handler.send_header(k, v)
    handler.end_headers()
    handler.wfile.write(body)


def serve(handler_class, request_queue_size=256):
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.request_queue_size = request_queue_size
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
    print(server.server_address[1], flush=True)
    threading.Thread(target=lambda: (sys.stdin.read(), server.shutdown()), daemon=True).start()
    server.serve_forever()
