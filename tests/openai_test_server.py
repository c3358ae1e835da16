"""A loopback stand-in for an OpenAI-compatible chat-completions API (POST /v1/chat/completions),
with the request and response shapes of the OpenAI API reference: `model` and `messages`
(role, content) in; `id`, `object: chat.completion`, `choices[0].message.content`,
`finish_reason` and `usage` out; errors as {"error": {"message", "type", "code"}}.

It "polishes" deterministically: the answer is built from the `Caption:` line of the first
user message (the built-in prompt's), so temperature 0 and a cache give the same files.
Faults on demand: latency, the first N requests 429 with Retry-After, every K-th request 500
or malformed JSON, an answer that invents a number (then a faithful one when asked again),
an answer that always invents a feature, huge answers, refusing every request (401), failing
every request (500, the key echoed JSON-escaped), answers with bidi controls, an invalid UTF-8
byte and absurd usage counts. Each
request is logged to --log as one JSON line (its number, the Authorization header it carried,
how many messages, the caption), so a test can count what reached the server."""
import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from loopback_server import send_body, serve

parser = argparse.ArgumentParser()
parser.add_argument("--log", required=True)
parser.add_argument("--latency", type=float, default=0.0)
parser.add_argument("--first-429", type=int, default=0, help="the first N requests: 429 with Retry-After: 1")
parser.add_argument("--every-500", type=int, default=0, help="every K-th request: 500 (its body echoes the Authorization header)")
parser.add_argument("--every-malformed", type=int, default=0, help="every K-th request: 200 with a body that is not JSON")
parser.add_argument("--invent-number", default="", help="captions holding this word: first answer invents a number")
parser.add_argument("--invent-feature", default="", help="captions holding this word: every answer invents a feature")
parser.add_argument("--huge", action="store_true", help="every answer is 4 MB")
parser.add_argument("--long", action="store_true", help="every answer is 200 KB of words (within the client's body bound, ignoring max_tokens)")
parser.add_argument("--think", action="store_true", help="answers start with a <think> block, as reasoning models send them")
parser.add_argument("--refuse", action="store_true", help="every request: 401 invalid_api_key")
parser.add_argument("--down-after", type=int, default=0, help="requests after the first N: 503, as a server gone down (0: never)")
parser.add_argument("--fail-all", action="store_true",
                    help="every request: 500 with a JSON error echoing the Authorization header as PHP's json_encode writes it (/ as \\/)")
parser.add_argument("--echo-key-upper", action="store_true", help="every answer ends with the Authorization header upper-cased")
parser.add_argument("--hostile-text", action="store_true",
                    help="answers hold bidi controls (U+202E, U+2066..U+2069), an invalid UTF-8 byte, and usage counts of 2^63-1")
args = parser.parse_args()

lock = threading.Lock()
count = [0]
log = open(args.log, "a", buffering=1)

PREFIX = "a satellite image of "


def error(handler, status, message, kind, extra=None):
    body = json.dumps({"error": {"message": message, "type": kind, "param": None, "code": None}}).encode()
    send_body(handler, status, "application/json", body, extra)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_POST(self):
        received = time.monotonic()  # intervals only: a clock step must not move them
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        with lock:
            count[0] += 1
            n = count[0]
        if not self.path.endswith("/chat/completions"):
            return error(self, 404, "unknown path " + self.path, "invalid_request_error")
        try:
            req = json.loads(raw)
            messages = req["messages"]
            assert isinstance(req["model"], str) and isinstance(messages, list) and messages
            for m in messages:
                assert m["role"] in ("system", "user", "assistant") and isinstance(m["content"], str)
        except Exception as e:  # the shape the reference gives, or a 400 as OpenAI answers
            return error(self, 400, "bad request: %r" % e, "invalid_request_error")
        first = next(m["content"] for m in messages if m["role"] == "user")
        caption = ""
        for line in first.splitlines():
            if line.startswith("Caption: "):
                caption = line[len("Caption: "):]
        auth = self.headers.get("Authorization", "").strip()  # as servers read a field: without the spaces around it (RFC 9110 5.5)
        log.write(json.dumps({"n": n, "t": received, "port": self.client_address[1], "authorization": auth, "messages": len(messages), "caption": caption,
                              "model": req["model"], "temperature": req.get("temperature"),
                              "max_tokens": req.get("max_tokens")}) + "\n")
        if args.latency:
            time.sleep(args.latency)
        if args.refuse:
            return error(self, 401, "Incorrect API key provided.", "invalid_request_error")
        if args.down_after and n > args.down_after:
            return error(self, 503, "The server is overloaded or not ready yet.", "server_error")
        if n <= args.first_429:
            return error(self, 429, "Rate limit reached for requests", "requests", {"Retry-After": "1"})
        if args.fail_all:
            message = "upstream failed for " + auth
            return send_body(self, 500, "application/json",
                             json.dumps({"error": {"message": message, "type": "server_error"}}).replace("/", "\\/").encode())
        if args.every_500 and n % args.every_500 == 0:
            # A proxy's plain-text page: the key echoed, and a terminal escape (a window title) and line breaks in it.
            return send_body(self, 500, "text/plain", ("The server had an error processing your request (%s)\x1b]0;pwned\x07\r\nretry later\n" % auth).encode())
        if args.every_malformed and n % args.every_malformed == 0:
            return send_body(self, 200, "application/json", b'{"id": "chatcmpl-x", "choices": [{"message": {"content": "an aer')
        body = caption[len(PREFIX):] if caption.startswith(PREFIX) else caption
        answer = "An aerial view of " + body + "."
        if args.invent_number and args.invent_number in caption and len(messages) == 1:
            answer = "An aerial view of " + body + " with 9731 storeys."
        if args.invent_feature and args.invent_feature in caption:
            answer = "An aerial view of " + body + " beside a river."
        if args.echo_key_upper:
            answer = answer + " " + auth.upper()
        if args.think:
            answer = "<think>\nThe user wants 3 river words and 12 storeys, then the caption.\n</think>\n\n" + answer
        if args.huge:
            answer = "x" * (4 << 20)
        if args.long:
            answer = "An aerial view " * (200000 // 15)
        reply = {
            "id": "chatcmpl-%d" % n,
            "object": "chat.completion",
            "created": 1733300000,
            "model": req["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}, "logprobs": None,
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": sum(len(m["content"]) for m in messages) // 4,
                      "completion_tokens": len(answer) // 4,
                      "total_tokens": sum(len(m["content"]) for m in messages) // 4 + len(answer) // 4},
        }
        if args.hostile_text:
            reply["choices"][0]["message"]["content"] = "\u2067An aerial view of \u202e" + body + "\u2069 INVALID."
            reply["usage"] = {"prompt_tokens": 2**63 - 1, "completion_tokens": 2**63 - 1, "total_tokens": 2**63 - 1}
            # A raw byte that is no UTF-8, where a word was (json.dumps would have escaped it).
            return send_body(self, 200, "application/json", json.dumps(reply).replace("INVALID", "INV\udcffALID").encode("utf-8", "surrogateescape"))
        send_body(self, 200, "application/json", json.dumps(reply).encode())


# A client that hangs up (the engine cuts off a huge answer) is no error worth a traceback.
ThreadingHTTPServer.handle_error = lambda self, request, address: None
serve(Handler)
