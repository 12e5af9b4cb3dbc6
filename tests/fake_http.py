"""A loopback HTTP server for the vendor fakes (tests/fake_zendesk.py, fake_salesforce.py, fake_crm.py),
with the faults every fake can inject: an answer (401, 429 with Retry-After, 5xx) or a stall."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Answer = tuple[int, dict[str, str], Any]
"""Status, headers, JSON body (or None)."""


class FakeServer:
    """Serves `route(method, path, query, headers, body) -> Answer` on 127.0.0.1; `fault` and `stall`
    apply to every request until cleared. Use as a context manager."""

    def __init__(self, route: Callable[[str, str, str, dict[str, str], bytes], Answer]) -> None:
        self.route = route
        self.fault: Answer | None = None
        self.stall = 0.0
        self.requests: list[tuple[str, str]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                path, _, query = self.path.partition("?")
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fake.requests.append((self.command, self.path))
                if fake.stall:
                    time.sleep(fake.stall)
                status, headers, document = fake.fault or fake.route(
                    self.command, path, query, {k.lower(): v for k, v in self.headers.items()}, body
                )
                payload = b"" if document is None else json.dumps(document).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PATCH = do_PUT = _serve

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeServer:
        # A short poll: shutdown() waits up to one poll interval (0.5 s by default) on every test.
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.005}, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()
