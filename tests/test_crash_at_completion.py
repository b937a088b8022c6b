"""SIGKILL the API after an upload's last byte is committed, while it takes the upload in: the
upload completes on the next HEAD, on a zero-length PATCH, or by the housekeeping sweep, and the
sender gets its ``RW-Submission-Id``. One submission per event all the same."""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from cases.services import Services
from harness.processes import Proc, running, wait_for
from harness.servers import S3Server, free_port
from ingest.db import Submission, Upload, make_engine, make_sessionmaker, now
from ingest.migrate import upgrade
from settings import load_settings
from tests.conftest import DATA_DIR, MODELS_DIR

pytestmark = pytest.mark.integration
PHOTOS = [DATA_DIR / "images" / f"dev_vehicle_00{i}.jpg" for i in (2, 3, 4)]


class FreezingProxy:
    """A loopback TCP proxy to the S3 server that can hold every byte in flight, as a store
    that stops answering does: the API then hangs mid-intake, where the test kills it."""

    def __init__(self, upstream: str) -> None:
        host, port = upstream.rsplit(":", 1)
        self.upstream = (host, int(port))
        self.frozen = threading.Event()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.endpoint = f"127.0.0.1:{self._server.getsockname()[1]}"
        self._closed = threading.Event()

    def serve(self) -> None:
        self._server.settimeout(0.2)
        while not self._closed.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            upstream = socket.create_connection(self.upstream)
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                while self.frozen.is_set() and not self._closed.is_set():
                    time.sleep(0.05)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._closed.set()
        self._server.close()


@contextmanager
def freezing_proxy(upstream: str) -> Iterator[FreezingProxy]:
    proxy = FreezingProxy(upstream)
    thread = threading.Thread(target=proxy.serve, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        proxy.close()
        thread.join(5)


@contextmanager
def api(settings: dict[str, Any], logs: Path, name: str) -> Iterator[tuple[Proc, httpx.Client]]:
    port = free_port()
    args = ["serve", "--host", "127.0.0.1", "--port", str(port)]
    with running(name, args, settings, logs) as proc:
        base = f"http://127.0.0.1:{port}"

        def healthy() -> bool:
            with suppress(httpx.HTTPError):
                return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
            return False

        wait_for(healthy, 60, proc.log)
        with httpx.Client(base_url=base, timeout=60) as client:
            yield proc, client


def _event(photo: Path) -> dict[str, Any]:
    data = photo.read_bytes()
    return {
        "event_id": f"crash-{photo.stem}",
        "media": {
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "filename": photo.name,
        },
    }


def _patch(client: httpx.Client, bearer: dict[str, str], url: str, offset: int, data: bytes) -> Any:
    headers = {
        **bearer,
        "Tus-Resumable": "1.0.0",
        "Upload-Offset": str(offset),
        "Content-Type": "application/offset+octet-stream",
    }
    return client.patch(url, content=data, headers=headers)


def test_completion_cut_by_a_crash_is_finished_later(s3_server: S3Server, tmp_path: Path) -> None:
    with freezing_proxy(s3_server.endpoint) as proxy:
        settings: dict[str, Any] = {
            "data_dir": tmp_path / "var",
            "models_dir": MODELS_DIR,
            "store": "s3",
            "s3_endpoint": proxy.endpoint,
            "s3_access_key": s3_server.access_key,
            "s3_secret_key": s3_server.secret_key,
            "s3_bucket": "crash-at-completion",
        }
        config = load_settings(None, **settings)
        upgrade(config.database_url)
        sessions = make_sessionmaker(make_engine(config.database_url))
        with api(settings, tmp_path, "api-1") as (first, client):
            token = client.post("/v1/reporters", json={}).json()["token"]
            bearer = {"Authorization": f"Bearer {token}"}
            urls = [client.post("/v1/events", json=_event(p), headers=bearer) for p in PHOTOS]
            assert [u.status_code for u in urls] == [201] * 3
            upload_urls = [u.json()["upload_url"] for u in urls]
            proxy.frozen.set()  # the store stops answering: intake hangs after the last byte

            def send(url: str, photo: Path) -> None:
                with suppress(httpx.HTTPError):
                    _patch(client, bearer, url, 0, photo.read_bytes())

            senders = [
                threading.Thread(target=send, args=(u, p), daemon=True)
                for u, p in zip(upload_urls, PHOTOS, strict=True)
            ]
            for sender in senders:
                sender.start()

            def all_bytes_committed() -> bool:
                with sessions() as session:
                    uploads = session.scalars(select(Upload)).all()
                    return len(uploads) == 3 and all(u.offset == u.length for u in uploads)

            wait_for(all_bytes_committed, 60, first.log)
            time.sleep(0.5)
            first.kill()
        proxy.frozen.clear()
        with sessions() as session:
            uploads = session.scalars(select(Upload)).all()
            assert [u.state for u in uploads] == ["open"] * 3
            assert all(u.submission_id is None and u.lease_token for u in uploads)
            assert session.scalar(select(func.count()).select_from(Submission)) == 0

        with api(settings, tmp_path, "api-2") as (second, client):
            # 1. HEAD: once the dead request's lease lapses, HEAD completes the upload
            def head_submission() -> str | None:
                head = client.head(upload_urls[0], headers=bearer)
                assert head.status_code == 200, head.text
                return head.headers.get("RW-Submission-Id")

            first_id = wait_for(head_submission, 90, second.log, interval=1.0)
            # 2. a standard client's zero-length PATCH at the end completes it too
            last = _patch(client, bearer, upload_urls[1], PHOTOS[1].stat().st_size, b"")
            assert last.status_code == 204, last.text
            second_id = last.headers.get("RW-Submission-Id") or wait_for(
                lambda: client.head(upload_urls[1], headers=bearer).headers.get("RW-Submission-Id"),
                30,
                second.log,
            )
            # 3. nobody asks about the third: the housekeeping sweep completes it
            with sessions() as session:
                lapsed = session.get(Upload, upload_urls[2].rsplit("/", 1)[1])
                assert lapsed is not None and lapsed.lease_expires_at is not None
                assert lapsed.lease_expires_at < now()
            services = Services.build(config)
            try:
                assert services.uploads.complete_stalled() == 1
                assert services.uploads.complete_stalled() == 0
            finally:
                services.close()
            third = client.head(upload_urls[2], headers=bearer)
            assert third.status_code == 200 and third.headers.get("RW-Submission-Id")
            mine = client.get("/v1/reports", headers=bearer).json()
            assert sorted(r["id"] for r in mine) == sorted(
                [first_id, second_id, third.headers["RW-Submission-Id"]]
            )
        with sessions() as session:
            assert session.scalar(select(func.count()).select_from(Submission)) == 3
            states = session.scalars(select(Upload.state)).all()
            assert list(states) == ["complete"] * 3
