#!/usr/bin/python3
"""An HTTP endpoint for the channel tests, standing in for a JSON webhook receiver, ntfy, Slack's
incoming webhooks and a Matrix homeserver; standard library only.

    http_sink.py PORT LOG LIFETIME [SCRIPT]

It listens on 127.0.0.1:PORT and appends every request to LOG as one JSON line: method, path,
headers and body. It exits by itself after LIFETIME seconds. SCRIPT says how to answer, per path
prefix: "/hook=503,200;/matrix=400" answers the first request under /hook with 503 and every
later one with 200, and every request under /matrix with 400 (the last status repeats). Any
other path gets 200. An answer's body is JSON naming its status, as Matrix and ntfy answer.
"""

import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
SEEN = {}


def parse_script(text):
    script = []
    for part in filter(None, text.split(";")):
        prefix, statuses = part.split("=", 1)
        script.append((prefix, [int(s) for s in statuses.split(",")]))
    return script


class Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace")
        status = 200
        with LOCK:
            for prefix, statuses in self.server.script:
                if self.path.startswith(prefix):
                    count = SEEN.get(prefix, 0)
                    SEEN[prefix] = count + 1
                    status = statuses[min(count, len(statuses) - 1)]
                    break
            with open(self.server.log, "a") as log:
                log.write(json.dumps({
                    "method": self.command,
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body,
                    "status": status,
                }) + "\n")
        reply = json.dumps({"status": status, "event_id": "$event"}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    do_POST = answer
    do_PUT = answer

    def log_message(self, *args):
        pass


def main():
    port, log, lifetime = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
    server = ThreadingHTTPServer(("127.0.0.1", port), Sink)
    server.log = log
    server.script = parse_script(sys.argv[4] if len(sys.argv) > 4 else "")
    threading.Timer(lifetime, lambda: os._exit(0)).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
