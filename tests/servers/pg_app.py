"""An application in front of PostgreSQL, for tests/daemons.rs: GET /health answers 200 while
the database accepts connections (pg_isready), 503 while it does not.

Usage: pg_app.py PORT PG_ISREADY PG_PORT
"""

import http.server
import subprocess
import sys

PORT, PG_ISREADY, PG_PORT = int(sys.argv[1]), sys.argv[2], sys.argv[3]


class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        ready = subprocess.run(
            [PG_ISREADY, "-q", "-h", "127.0.0.1", "-p", PG_PORT, "-U", "postgres", "-t", "2"],
            check=False,
        )
        ok = ready.returncode == 0
        self.send_response(200 if ok else 503)
        self.end_headers()
        self.wfile.write(b"ok\n" if ok else b"database down\n")

    def log_message(self, *args):
        pass


http.server.HTTPServer(("127.0.0.1", PORT), Health).serve_forever()
