"""A worker's own small HTTP server: ``/metrics``, ``/healthz`` (alive) and ``/readyz``
(ready only once its models are loaded), for Prometheus and the orchestrator's probes."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from telemetry.metrics import exposition


class WorkerProbe:
    """Serves on ``port`` (0 picks a free one: see :attr:`port`) in a daemon thread."""

    def __init__(
        self,
        port: int,
        host: str = "0.0.0.0",
        collectors: tuple[Collector, ...] = (),
        ready: Callable[[], bool] | None = None,
    ) -> None:
        self.ready_flag = threading.Event()
        self._ready = ready
        probe = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/metrics":
                    self._answer(200, exposition(*collectors), CONTENT_TYPE_LATEST)
                elif path == "/healthz":
                    self._json(200, {"status": "ok"})
                elif path == "/readyz":
                    ready = probe.is_ready()
                    missing = [] if ready else ["models"]
                    body = {"status": "ready" if ready else "not_ready", "missing": missing}
                    self._json(200 if ready else 503, body)
                else:
                    self._json(404, {"error": "not_found", "detail": f"no {path} here"})

            def _json(self, status: int, body: Mapping[str, object]) -> None:
                self._answer(status, json.dumps(body).encode(), "application/json")

            def _answer(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return None  # a scrape every few seconds is not worth a log line

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self._thread = threading.Thread(
            target=self.server.serve_forever, name="worker-probe", daemon=True
        )
        self._thread.start()

    def is_ready(self) -> bool:
        return self.ready_flag.is_set() and (self._ready is None or self._ready())

    def set_ready(self) -> None:
        self.ready_flag.set()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
