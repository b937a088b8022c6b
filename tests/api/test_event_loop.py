"""One heavy request never stalls the others: while a 5-million-element JSON array and a
30,000-point NMEA track are sent to the real server (``roadwitness serve``), ``/healthz``
polled alongside never waits more than 100 ms."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from pathlib import Path

import httpx
import pytest

from harness.processes import api_server, run_cli
from tests.conftest import MODELS_DIR
from tests.tracks import drive, nmea

pytestmark = pytest.mark.integration
MAX_POLL_S = 0.100


def _track_event(points: int) -> bytes:
    rmc_only = "\r\n".join(
        line for line in nmea(drive(points - 1)).splitlines() if line.startswith("$GNRMC")
    )
    assert rmc_only.count("$GNRMC") == points
    media = {"size": 1000, "sha256": hashlib.sha256(b"clip").hexdigest()}
    body = {"event_id": "evt-long", "media": media, "track": {"format": "nmea", "data": rmc_only}}
    return json.dumps(body).encode()


def _poll(base_url: str, seconds: float | None, stop: threading.Event) -> list[float]:
    """Wait times of ``GET /healthz`` every 10 ms, for ``seconds`` or until ``stop``."""
    waits: list[float] = []
    end = time.monotonic() + (seconds if seconds is not None else 3600)
    with httpx.Client(base_url=base_url, timeout=30) as poller:
        while not stop.is_set() and time.monotonic() < end:
            start = time.perf_counter()
            assert poller.get("/healthz").status_code == 200
            waits.append(time.perf_counter() - start)
            time.sleep(0.01)
    return waits


def test_big_bodies_never_stall_healthz(tmp_path: Path) -> None:
    array = b"[" + b"0," * 4_999_999 + b"0]"  # 5,000,000 elements, 10 MB
    track = _track_event(30_000)
    settings = {"data_dir": tmp_path / "var", "models_dir": MODELS_DIR}
    run_cli(settings, "db", "upgrade")
    with api_server(settings, tmp_path) as api:
        base_url = str(api.base_url)
        token = api.post("/v1/reporters", json={}).json()["token"]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        done = threading.Event()
        loaded: list[float] = []
        poller = threading.Thread(target=lambda: loaded.extend(_poll(base_url, None, done)))
        poller.start()
        began = time.monotonic()
        try:
            time.sleep(0.2)
            big = api.post("/v1/events", content=array, headers=headers)
            long_track = api.post("/v1/events", content=track, headers=headers)
            time.sleep(0.2)
        finally:
            done.set()
            poller.join(60)
        # The same polling without the load, as long: what this machine's noise alone costs.
        idle = _poll(base_url, min(time.monotonic() - began, 10.0), threading.Event())
    assert big.status_code == 413 and big.json()["error"] == "too_large"
    assert long_track.status_code in (201, 422), long_track.text[:300]
    assert len(loaded) > 20 and len(idle) > 20
    # On a quiet machine the idle polls take milliseconds and the bound is ~100 ms; on a
    # loaded one (2 cores shared by many) the scheduler's own delays, seen in the idle polls,
    # are not the server's. Before this was fixed, the track stalled every poll for seconds.
    limit = MAX_POLL_S + max(idle)
    assert max(loaded) <= limit, (sorted(loaded)[-5:], sorted(idle)[-5:])
