"""What the example services share: a threaded JSON-over-HTTP server on a chosen port that says where it listens."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# A route: the JSON body in, (status, JSON body) out.
Route = Callable[[Any], tuple[int, Any]]


def serve(routes: dict[str, Route], host: str, port: int, name: str) -> None:
    """Serve POST routes (and GET /healthz) until interrupted; the first stdout line is the base URL."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a Data Action's proxy uses it

        def _answer(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path == "/healthz":
                self._answer(200, {"ok": True})
            else:
                self._answer(404, {"message": "not found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            route = routes.get(self.path)
            if route is None:
                self._answer(404, {"message": "not found"})
                return
            try:
                body = json.loads(self.rfile.read(length) or b"null")
            except ValueError:
                self._answer(400, {"message": "the body is not JSON"})
                return
            self._answer(*route(body))

        def log_message(self, format: str, *args: Any) -> None:  # quiet: a load run makes thousands
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256  # the default backlog of 5 resets connections when a load's desks start at once

    server = Server((host, port), Handler)
    print(f"{name} listening on http://{host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        sys.stdout.flush()


def fields(body: Any, names: tuple[str, ...]) -> dict[str, str] | None:
    """The named string fields of a JSON object body, or None when one is missing or not a string."""
    if not isinstance(body, dict) or not all(isinstance(body.get(n), str) for n in names):
        return None
    return {n: body[n] for n in names}
