"""Running roadwitness commands as separate processes, as they run in production."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from harness.servers import free_port

CLI = [sys.executable, "-m", "roadwitness.cli"]


def env_for(settings: dict[str, Any]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROADWITNESS_")}
    env.update({f"ROADWITNESS_{k.upper()}": str(v) for k, v in settings.items()})
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_cli(settings: dict[str, Any], *args: str, check: bool = True) -> str:
    """Run ``roadwitness ARGS`` with these settings; its output (stdout and stderr)."""
    done = subprocess.run(
        [*CLI, *args],
        env=env_for(settings),
        check=check,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=300,
    )
    return done.stdout.decode(errors="replace")


class Proc:
    def __init__(self, name: str, args: list[str], settings: dict[str, Any], logs: Path) -> None:
        self.log_path = logs / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.popen = subprocess.Popen(
            [*CLI, *args],
            env=env_for(settings),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(30)

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


@contextmanager
def running(name: str, args: list[str], settings: dict[str, Any], logs: Path) -> Iterator[Proc]:
    proc = Proc(name, args, settings, logs)
    try:
        yield proc
    finally:
        proc.stop()


@contextmanager
def api_server(settings: dict[str, Any], logs: Path, workers: int = 1) -> Iterator[httpx.Client]:
    port = free_port()
    args = ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    with running("api", args, settings, logs) as proc:
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: _healthy(base), 60, lambda: proc.log())
        with httpx.Client(base_url=base, timeout=30) as client:
            client.port = port  # type: ignore[attr-defined]
            client.pgid = proc.popen.pid  # type: ignore[attr-defined]
            yield client


def group_cpu_seconds(pgid: int) -> float:
    """CPU seconds used so far by the live processes of a process group (Linux ``/proc``)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """CPU seconds used so far by one process (all its threads; Linux ``/proc``)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # gone
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def settle(pgid: int, busy: float = 0.05, interval: float = 0.5, timeout: float = 30) -> None:
    """Wait until a process group (a server and its helpers, still starting a worker pool or
    importing) uses less than ``busy`` of a core, or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    before = group_cpu_seconds(pgid)
    while time.monotonic() < deadline:
        time.sleep(interval)
        now = group_cpu_seconds(pgid)
        if now - before < busy * interval:
            return
        before = now


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def wait_for(
    check: Callable[[], Any],
    timeout: float,
    context: Callable[[], str] = str,
    interval: float = 0.2,
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"gave up after {timeout} s\n{context()}")
