"""A worker's probe port: alive at once, ready only once told its models are loaded."""

from __future__ import annotations

import httpx

from telemetry.metrics import metrics
from telemetry.serve import WorkerProbe


def test_probe_is_alive_at_once_and_ready_only_when_set() -> None:
    probe = WorkerProbe(0, host="127.0.0.1")
    base = f"http://127.0.0.1:{probe.port}"
    try:
        assert httpx.get(f"{base}/healthz").status_code == 200
        waiting = httpx.get(f"{base}/readyz")
        assert waiting.status_code == 503 and waiting.json()["missing"] == ["models"]
        probe.set_ready()
        assert httpx.get(f"{base}/readyz").json() == {"status": "ready", "missing": []}
        metrics().jobs.labels("done").inc()
        page = httpx.get(f"{base}/metrics")
        assert page.headers["content-type"].startswith("text/plain")
        assert 'roadwitness_jobs_total{outcome="done"}' in page.text
        assert httpx.get(f"{base}/nothing").status_code == 404
    finally:
        probe.close()
