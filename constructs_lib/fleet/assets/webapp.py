#!/usr/bin/env python3
"""The bundled service: answers the health check path and a hello page, nothing else.

A stand-in until a release artifact is configured (`releaseArtifact` in cdk.json).
"""

import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(os.environ["APP_PORT"])
HEALTH_CHECK_PATH = os.environ["HEALTH_CHECK_PATH"]


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"ok\n" if self.path == HEALTH_CHECK_PATH else b"Hello from the web tier\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    ThreadingHTTPServer(("0.0.0.0", PORT), Handler).serve_forever()
