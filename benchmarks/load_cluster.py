"""The processes of a load run: the machine's PostgreSQL (a fresh database), a SeaweedFS S3
server, the API (uvicorn, 2 processes) and N workers, each in its own process group so that it
can be SIGKILLed whole and restarted; and a sampler of every process's CPU time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

from harness.processes import env_for, wait_for
from harness.servers import free_port

CLI = [sys.executable, "-m", "roadwitness.cli"]


class Member:
    """One roadwitness process (API or worker) that can be killed and started again."""

    def __init__(
        self,
        role: str,
        args: list[str],
        settings: dict[str, Any],
        logs: Path,
        extra_env: dict[str, str],
    ) -> None:
        self.role, self.args, self.settings, self.logs = role, args, settings, logs
        self.extra_env = extra_env
        self.starts = 0
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.starts += 1
        log = (self.logs / f"{self.role}.{self.starts}.log").open("wb")
        self.popen = subprocess.Popen(
            [*CLI, *self.args],
            env={**env_for(self.settings), **self.extra_env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def signal(self, sig: int) -> None:
        if self.popen is not None and self.popen.poll() is None:
            os.killpg(self.popen.pid, sig)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        if self.popen is not None:
            self.popen.wait(30)

    def stop(self) -> None:
        self.signal(signal.SIGTERM)
        if self.popen is not None:
            try:
                self.popen.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()

    def pids(self) -> list[int]:
        if self.popen is None or self.popen.poll() is not None:
            return []
        try:
            parent = psutil.Process(self.popen.pid)
            return [parent.pid, *(c.pid for c in parent.children(recursive=True))]
        except psutil.NoSuchProcess:
            return []


def ready(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@dataclass
class CpuSampler:
    """CPU seconds per role, summed over every process that ever held the role (a killed
    process keeps what it used up to the last sample, every ``interval_s``)."""

    roles: dict[str, list[int]] = field(default_factory=dict)
    interval_s: float = 1.0
    _last: dict[tuple[str, int], float] = field(default_factory=dict)
    _base: dict[tuple[str, int], float] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def sample(self, role_pids: dict[str, list[int]]) -> None:
        for role, pids in role_pids.items():
            for pid in pids:
                try:
                    t = psutil.Process(pid).cpu_times()
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
                self._last[(role, pid)] = t.user + t.system

    def start(self, source: Any) -> None:
        """Count from now: what the processes used starting up (model loads) is left out."""
        self.sample(source())
        self._base = dict(self._last)

        def loop() -> None:
            while not self._stop.wait(self.interval_s):
                self.sample(source())

        self._thread = threading.Thread(target=loop, name="cpu-sampler", daemon=True)
        self._thread.start()

    def stop(self, source: Any) -> dict[str, float]:
        self.sample(source())
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        seconds: dict[str, float] = {}
        for (role, pid), used in self._last.items():
            used -= self._base.get((role, pid), 0.0)
            seconds[role] = seconds.get(role, 0.0) + used
        return seconds


def postgres_pids() -> list[int]:
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        name = proc.info["name"] or ""
        if name.startswith("postgres") or name == "postmaster":
            found.append(proc.pid)
    return found


class Cluster:
    """API + N workers against one database and bucket."""

    def __init__(self, settings: dict[str, Any], workers: int, logs: Path) -> None:
        self.settings = settings
        self.logs = logs
        self.api_port = free_port()
        metrics_dir = logs / "api-metrics"
        metrics_dir.mkdir(parents=True, exist_ok=True)
        # A fixed multiprocess folder: the API's counters survive its restart under chaos.
        self.api = Member(
            "api",
            ["serve", "--host", "127.0.0.1", "--port", str(self.api_port), "--workers", "2"],
            settings,
            logs,
            {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)},
        )
        self.probe_ports = [free_port() for _ in range(workers)]
        self.workers = [
            Member(f"worker{i}", ["worker"], {**settings, "worker_metrics_port": port}, logs, {})
            for i, port in enumerate(self.probe_ports)
        ]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def start(self) -> None:
        self.api.start()
        for worker in self.workers:
            worker.start()
        self.wait_api()
        for port in self.probe_ports:
            wait_for(lambda p=port: ready(f"http://127.0.0.1:{p}/readyz"), 300, self.tail)  # type: ignore[misc]

    def wait_api(self) -> None:
        wait_for(lambda: ready(f"{self.base_url}/readyz"), 120, self.tail)

    def tail(self) -> str:
        logs = sorted(self.logs.glob("*.log"), key=lambda p: p.stat().st_mtime)
        return "\n".join(p.read_text(errors="replace")[-1500:] for p in logs[-3:])

    def role_pids(self) -> dict[str, list[int]]:
        pids = {"api": self.api.pids(), "workers": [p for w in self.workers for p in w.pids()]}
        pids["postgres"] = postgres_pids()
        return pids

    def scrape_workers(self) -> list[str]:
        pages = []
        for port in self.probe_ports:
            try:
                pages.append(httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text)
            except httpx.HTTPError:
                continue
        return pages

    def scrape_api(self) -> str:
        try:
            return httpx.get(f"{self.base_url}/metrics", timeout=10).text
        except httpx.HTTPError:
            return ""

    def stop(self) -> None:
        for member in [*self.workers, self.api]:
            member.stop()


class Chaos:
    """SIGKILL a random worker every ``every_s`` (and start it again), and the API once."""

    def __init__(
        self,
        cluster: Cluster,
        every_s: float = 15.0,
        api_after_s: float = 20.0,
        for_s: float | None = None,
    ) -> None:
        import random

        self.cluster, self.every_s, self.api_after_s = cluster, every_s, api_after_s
        self.for_s = for_s
        self.random = random.Random(18)
        self.kills: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="chaos", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        started, api_killed = time.monotonic(), False
        while not self._stop.wait(self.every_s):
            if self.for_s is not None and time.monotonic() - started > self.for_s:
                return  # the faults end; the system must now finish every report
            victim = self.random.choice(self.cluster.workers)
            victim.kill()
            victim.start()
            self.kills.append(victim.role)
            if not api_killed and time.monotonic() - started >= self.api_after_s:
                self.cluster.api.kill()
                self.cluster.api.start()
                self.kills.append("api")
                api_killed = True

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
